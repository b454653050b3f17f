"""PyMongo-compatible facades for code ported from MongoEngine, on every lane.

Each test pins one behaviour MongoEngine's own suite relies on: isinstance
checks against PyMongo's sync classes, sync ``gridfs.GridFS`` over a facade
database, ``db.things`` / ``client.admin``, ``client._options``,
``QuerySet.using``, aggregate with a read preference, the checks PyMongo's
cursor makes when an option is chained, and a closed client refusing work.
"""

from __future__ import annotations

import gridfs
import mongoengine
import mongoengine.connection as me_connection
import pytest
from pymongo import MongoClient, ReadPreference
from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.errors import InvalidOperation, OperationFailure

import mongomotor
from mongomotor import Document, run_sync
from mongomotor.drivers import SyncClient, SyncCollection, SyncDatabase
from mongomotor.fields import IntField, StringField


class FixNumber(Document):
    n = IntField()


class PlainNumber(mongoengine.Document):
    """A plain MongoEngine document, run through ``run_sync`` as a ported app does."""

    n = mongoengine.IntField()


class PlainFile(mongoengine.Document):
    name = mongoengine.StringField()
    attachment = mongoengine.FileField()


class FixTagged(Document):
    tag = StringField()


# -- isinstance against PyMongo's sync classes -----------------------------------


async def test_facades_pass_isinstance_checks_for_pymongos_sync_classes(lane):
    client = me_connection.get_connection()
    db = FixNumber._get_db()
    collection = await run_sync(FixNumber._get_collection)  # MongoEngine's, in the bridge
    assert isinstance(client, MongoClient)
    assert isinstance(db, Database)
    assert isinstance(collection, Collection)
    assert isinstance(FixNumber.objects._collection, Collection)
    # type() still names the facade, whose methods are the ones that run.
    assert isinstance(client, SyncClient) and type(client) is not MongoClient
    assert type(db) is SyncDatabase and type(collection) is SyncCollection
    assert not isinstance(db, MongoClient) and not isinstance(collection, Database)


async def test_connect_returns_a_client_that_passes_as_a_mongoclient(lane):
    client = lane.connect("fix_other")
    assert isinstance(client, MongoClient)
    assert isinstance(me_connection.get_db("fix_other"), Database)


# -- sync GridFS over a facade database ------------------------------------------


@pytest.mark.requires("gridfs")
async def test_sync_gridfs_works_over_a_facade_database_inside_the_bridge(lane):
    def store_and_read() -> tuple[bytes, int]:
        fs = gridfs.GridFS(me_connection.get_db(), "fixfs")
        file_id = fs.put(b"x" * 600_000, filename="big.bin")  # several chunks
        data = fs.get(file_id).read()
        fs.delete(file_id)
        return data, fs.exists(file_id)

    data, still_there = await run_sync(store_and_read)
    assert data == b"x" * 600_000
    assert not still_there


@pytest.mark.requires("gridfs")
async def test_plain_mongoengine_file_field_runs_through_run_sync(lane):
    def scenario() -> tuple[bytes, str, bool]:
        doc = PlainFile(name="a")
        doc.attachment.put(b"hello", filename="hello.txt")
        doc.save()
        loaded = PlainFile.objects.get(id=doc.id)
        content = loaded.attachment.read()
        filename = loaded.attachment.filename
        file_id = loaded.attachment.grid_id
        loaded.delete()  # removes the stored file too
        return content, filename, gridfs.GridFS(me_connection.get_db()).exists(file_id)

    content, filename, still_stored = await run_sync(scenario)
    assert content == b"hello"
    assert filename == "hello.txt"
    assert not still_stored


# -- attribute access: client.admin, db.things ------------------------------------


async def test_database_attribute_gives_a_collection_facade(lane):
    await FixNumber(n=7).save()

    def read() -> dict:
        db = me_connection.get_db()
        assert isinstance(db.fix_number, Collection)
        return db.fix_number.find_one({}, {"_id": 0})

    assert await run_sync(read) == {"n": 7}


async def test_client_attribute_gives_a_database_facade(lane):
    def ping() -> dict:
        client = me_connection.get_connection()
        assert isinstance(client.admin, Database)
        assert client.admin.name == "admin"
        return client.admin.command("ping")

    assert (await run_sync(ping))["ok"] == 1


async def test_private_names_are_still_missing_attributes(lane):
    db = me_connection.get_db()
    with pytest.raises(AttributeError):
        db._no_such_thing  # noqa: B018
    assert not hasattr(db, "__iter_things__")


# -- client options ---------------------------------------------------------------


async def test_client_options_reflect_connect_keywords(lane):
    if not lane.is_wire:
        client = me_connection.get_connection()
        with pytest.raises(AttributeError, match="memory driver.s client has no"):
            client._options  # noqa: B018
        return
    # No I/O: the replica set need not exist.
    client = lane.connect("fix_rs", replicaset="fix-rs", serverSelectionTimeoutMS=100)
    assert client._options.replica_set_name == "fix-rs"
    assert client.options.replica_set_name == "fix-rs"


# -- QuerySet.using and doc.switch_db ------------------------------------------------


async def test_using_reads_the_aliass_database(lane):
    lane.connect("fix_using")
    for n in range(3):
        doc = FixNumber(n=n)
        doc.switch_db("fix_using")
        await doc.save()
    await FixNumber(n=99).save()
    assert await FixNumber.objects.using("fix_using").count() == 3
    assert [d.n for d in await FixNumber.objects.using("fix_using").order_by("n").to_list()] == [
        0, 1, 2
    ]
    assert await FixNumber.objects.count() == 1


async def test_plain_documents_switch_db_and_using_inside_run_sync(lane):
    lane.connect("fix_using")

    def scenario() -> tuple[int, int]:
        for n in range(4):
            doc = PlainNumber(n=n)
            doc.switch_db("fix_using")
            doc.save()
        return len(PlainNumber.objects.using("fix_using")), PlainNumber.objects.count()

    assert await run_sync(scenario) == (4, 0)


# -- aggregate with a read preference ---------------------------------------------


async def test_aggregate_cursor_knows_its_collection_and_read_preference(lane):
    await FixTagged(tag="a").save()

    def aggregate() -> tuple:
        qs = FixTagged.objects.read_preference(ReadPreference.SECONDARY_PREFERRED)
        cursor = qs.aggregate([{"$project": {"_id": 0, "tag": 1}}])
        return cursor._collection.read_preference, cursor.collection.name, list(cursor)

    read_preference, name, rows = await run_sync(aggregate)
    assert read_preference == ReadPreference.SECONDARY_PREFERRED
    assert name == "fix_tagged"
    assert rows == [{"tag": "a"}]


async def test_aggregate_with_read_preference_from_user_code(lane):
    await FixTagged(tag="b").save()
    qs = FixTagged.objects.read_preference(ReadPreference.SECONDARY_PREFERRED)
    cursor = await qs.aggregate([{"$project": {"_id": 0, "tag": 1}}])
    assert await cursor.to_list(None) == [{"tag": "b"}]


# -- cursor options are checked when chained, as PyMongo's cursor does -------------


async def test_max_time_ms_refuses_a_non_integer_at_once(lane):
    with pytest.raises(TypeError, match="max_time_ms must be an integer or None"):
        FixNumber.objects(n=1).max_time_ms("not a number")
    assert await FixNumber.objects.max_time_ms(5000).count() == 0  # a valid value still works


async def test_negative_skip_is_refused_on_every_lane(lane):
    await FixNumber.objects.insert([FixNumber(n=n) for n in range(3)])
    with pytest.raises(ValueError, match="skip must be >= 0"):
        await FixNumber.objects.skip(-1).to_list()
    with pytest.raises(TypeError, match="skip must be an integer"):
        await FixNumber.objects.skip("1").to_list()
    # a find with a negative skip option reaches the server, which refuses it
    with pytest.raises(OperationFailure):
        await run_sync(lambda: list(FixNumber._get_collection().find({}, skip=-1)))


async def test_negative_limit_is_a_single_batch_limit_on_every_lane(lane):
    await FixNumber.objects.insert([FixNumber(n=n) for n in range(5)])
    rows = await FixNumber.objects.order_by("n").limit(-2).to_list(None)
    assert [r.n for r in rows] == [0, 1]


async def test_negative_limit_in_a_count_or_pipeline_is_refused_on_every_lane(lane):
    await FixNumber.objects.insert([FixNumber(n=n) for n in range(3)])
    with pytest.raises(OperationFailure):
        await FixNumber.objects.limit(-2).count(with_limit_and_skip=True)
    with pytest.raises(OperationFailure):
        cursor = await FixNumber.objects.aggregate([{"$limit": -1}])
        await cursor.to_list(None)


# -- a closed client ------------------------------------------------------------------


async def test_a_disconnected_client_refuses_work_while_a_sharing_alias_keeps_it(lane):
    # Settings of their own, so the default alias does not share the client.
    first = lane.connect("fix_shared_1", db=lane.db_name, maxPoolSize=7)
    second = lane.connect("fix_shared_2", db=lane.db_name, maxPoolSize=7)
    assert first is second  # MongoEngine shares one client between identical settings

    def ping(client: object) -> object:
        return client.admin.command("ping")  # type: ignore[attr-defined]

    mongomotor.disconnect("fix_shared_1")
    assert (await run_sync(ping, second))["ok"] == 1  # still used by the other alias
    mongomotor.disconnect("fix_shared_2")
    with pytest.raises(InvalidOperation, match="client was closed"):
        await run_sync(ping, second)


# -- operations that take a ``name`` keyword ----------------------------------------


async def test_create_index_with_a_name_keyword_goes_through_the_facade(lane):
    def create() -> str:
        return FixNumber._get_collection().create_index([("n", -1)], name="by_n_desc")

    assert await run_sync(create) == "by_n_desc"


async def test_a_misspelled_method_says_so(lane):
    collection = FixNumber._get_collection()
    with pytest.raises(TypeError, match="'fnd' was meant as a method"):
        collection.fnd({})


async def test_collection_settings_follow_each_facades_options(lane):
    from pymongo import WriteConcern

    await FixNumber(n=1).save()
    collection = FixNumber._get_collection()
    base = collection.write_concern
    acknowledged = collection.with_options(write_concern=WriteConcern(w=1, wtimeout=500))
    assert acknowledged.write_concern.document == {"w": 1, "wtimeout": 500}
    assert collection.write_concern == base != acknowledged.write_concern
    secondary = collection.with_options(read_preference=ReadPreference.SECONDARY_PREFERRED)
    assert secondary.read_preference == ReadPreference.SECONDARY_PREFERRED
    assert collection.read_preference == ReadPreference.PRIMARY
    # A save with its own write concern still goes through, and the default stays.
    await FixNumber(n=2).save(write_concern={"w": 1})
    assert collection.write_concern == base
    assert await FixNumber.objects.count() == 2
