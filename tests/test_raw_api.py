"""One raw API on every driver: get_connection(), get_db() and _get_collection().

In user code they give PyMongo's async API on each lane, the in-memory one
included, so one piece of code runs everywhere; inside ``run_sync`` they are
MongoEngine's sync facades. Operations sent through them are counted as the
ODM's are, and join the task's session.
"""

from __future__ import annotations

import gc
import warnings

import mongoengine.connection as me_connection
import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.cursor import AsyncCursor
from pymongo.asynchronous.database import AsyncDatabase

import mongomotor
from mongomotor import Document, query_counter, run_sync
from mongomotor.fields import IntField, StringField


class RawNote(Document):
    n = IntField()
    text = StringField()


async def test_the_same_code_runs_on_every_lane(lane):
    db = mongomotor.get_db()
    notes = db["raw_note"]
    await notes.insert_one({"n": 1, "text": "a"})
    await notes.insert_many([{"n": 2, "text": "b"}, {"n": 3, "text": "c"}])
    assert await notes.count_documents({}) == 3
    assert (await notes.find_one({"n": 2}))["text"] == "b"
    assert [d["n"] async for d in notes.find({}).sort("n", -1).limit(2)] == [3, 2]
    assert [d["n"] for d in await notes.find({"n": {"$gte": 2}}).sort("n").to_list()] == [2, 3]
    cursor = await notes.aggregate([{"$match": {"n": {"$lt": 3}}}, {"$project": {"n": 1}}])
    assert sorted(d["n"] for d in await cursor.to_list()) == [1, 2]
    result = await notes.update_one({"n": 1}, {"$set": {"text": "z"}})
    assert result.modified_count == 1
    assert (await notes.delete_many({"n": {"$gte": 2}})).deleted_count == 2
    assert "raw_note" in await db.list_collection_names()
    assert db.name == lane.db_name and notes.full_name == f"{lane.db_name}.raw_note"
    assert db.raw_note == notes and notes.database == db


async def test_the_documents_collection_is_awaitable_in_a_coroutine(lane):
    await RawNote(n=1).save()
    collection = RawNote._get_collection()
    assert await collection.count_documents({}) == 1
    await collection.insert_one({"n": 2})
    assert await RawNote.objects.count() == 2  # the ODM sees raw writes, and the reverse
    assert [doc["n"] async for doc in collection.find({}).sort("n")] == [1, 2]
    assert collection.name == "raw_note"
    assert isinstance(collection, AsyncCollection) and isinstance(collection.find(), AsyncCursor)
    assert isinstance(mongomotor.get_db(), AsyncDatabase)
    assert isinstance(mongomotor.get_connection(), AsyncMongoClient)


async def test_get_connection_gives_the_client_with_the_async_api(lane):
    await RawNote(n=1).save()
    client = mongomotor.get_connection()
    assert client is mongomotor.get_connection()
    assert lane.db_name in await client.list_database_names()
    assert client[lane.db_name] == mongomotor.get_db()
    assert mongomotor.get_db().client is client
    await client.drop_database(mongomotor.get_db())  # facades handed back are unwrapped
    assert await RawNote.objects.count() == 0


async def test_inside_run_sync_they_are_mongoengines_sync_facades(lane):
    await RawNote(n=1).save()

    def sync_code():
        db, client = mongomotor.get_db(), mongomotor.get_connection()
        assert db is me_connection.get_db()
        assert client is me_connection.get_connection()
        assert RawNote._get_collection().count_documents({}) == 1
        client.drop_database(db.name)  # a sync call: done on return
        return db["raw_note"].count_documents({})

    assert await run_sync(sync_code) == 0
    assert await RawNote.objects.count() == 0


async def test_mongoengines_facade_still_refuses_sync_io_in_a_coroutine(lane):
    with pytest.raises(RuntimeError, match="must be awaited from a coroutine"):
        me_connection.get_db()["raw_note"].count_documents({})


async def test_a_forgotten_await_names_the_operation(lane):
    notes = mongomotor.get_db()["raw_note"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        notes.count_documents({})
        gc.collect()
    messages = [str(w.message) for w in caught if w.category is RuntimeWarning]
    assert messages == ["coroutine 'AsyncCollectionFacade.count_documents' was never awaited"]


async def test_a_switched_document_saves_where_it_was_switched_to(lane):
    lane.connect("raw_other")
    note = RawNote(n=7).switch_db("raw_other")
    await note.save()
    assert await RawNote._get_collection().count_documents({}) == 0
    other = mongomotor.get_db("raw_other")["raw_note"]
    assert await other.count_documents({"n": 7}) == 1
    assert await note._get_collection().count_documents({}) == 1


# -- counters --------------------------------------------------------------------------


async def test_query_counter_counts_raw_operations_too(lane):
    notes = mongomotor.get_db()["raw_note"]
    await notes.insert_one({"n": 1})
    with query_counter() as counter:
        await notes.count_documents({})
        await RawNote._get_collection().find_one({})
        assert [d async for d in notes.find({})]
        await RawNote.objects.count()
    assert counter.operations == ["count_documents", "find_one", "find", "estimated_document_count"]


async def test_the_queries_fixture_counts_raw_operations(lane, mongomotor_queries):
    with mongomotor_queries() as queries:
        await mongomotor.get_db()["raw_note"].insert_one({"n": 1})
        await mongomotor.get_connection().list_database_names()
    assert queries == 2


async def test_other_tasks_raw_operations_are_not_counted(lane):
    import asyncio

    started = asyncio.Event()

    async def other():
        await started.wait()
        await mongomotor.get_db()["raw_note"].count_documents({})

    task = asyncio.create_task(other())
    with query_counter() as counter:
        started.set()
        await task
        await mongomotor.get_db()["raw_note"].count_documents({})
    assert counter == 1


# -- sessions --------------------------------------------------------------------------


async def test_raw_operations_join_the_tasks_transaction(lane):
    if lane.is_wire:
        lane.require("transactions", "replica_set")
    notes = mongomotor.get_db()["raw_note"]
    with pytest.raises(ZeroDivisionError):
        async with mongomotor.run_in_transaction():
            await notes.insert_one({"n": 1})
            assert await notes.count_documents({}) == 1  # seen inside the transaction
            raise ZeroDivisionError
    assert await notes.count_documents({}) == 0  # rolled back with the block


async def test_a_driver_session_where_the_driver_has_them(lane):
    client = mongomotor.get_connection()
    notes = mongomotor.get_db()["raw_note"]
    if not lane.is_wire:
        with pytest.raises(NotImplementedError, match="mongomotor.start_session"):
            client.start_session()
        return
    lane.require("sessions")
    async with client.start_session() as session:
        await notes.insert_one({"n": 1}, session=session)
        assert await notes.count_documents({}, session=session) == 1


def test_outside_a_loop_the_wire_lanes_say_to_run_one(lane):
    if lane.is_wire:
        with pytest.raises(RuntimeError, match="running event loop"):
            mongomotor.get_db()
    else:
        assert mongomotor.get_db().name == lane.db_name


async def test_handed_to_sync_code_the_async_objects_act_sync(lane):
    # The collection is read in user code, its method runs under run_sync.
    collection = RawNote._get_collection()
    result = await run_sync(collection.insert_one, {"n": 4})
    assert result.inserted_id is not None
    assert await run_sync(lambda: [d["n"] for d in collection.find({})]) == [4]
