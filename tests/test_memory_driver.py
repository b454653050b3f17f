"""The in-memory driver behaves like a server wherever a test could depend on it.

It yields to the event loop on every operation (other tasks run, timeouts
fire), refuses plain MongoEngine I/O outside ``run_sync`` as the wire drivers
do, refuses what a server refuses, and answers ``explain()``. The tests that
compare behaviours run on every lane, so the memory lane is held to the wire
lanes' answers.
"""

from __future__ import annotations

import asyncio

import mongoengine
import pytest
from pymongo.errors import OperationFailure

from mongomotor import Document, run_sync
from mongomotor.fields import IntField, StringField
from mongomotor.odm.files.gridfs import GridFS


class MemRow(Document):
    n = IntField()
    label = StringField()


class PlainRow(mongoengine.Document):
    """Plain MongoEngine, as in an app being ported."""

    n = mongoengine.IntField()


async def make_rows(count: int) -> None:
    await MemRow.objects.insert([MemRow(n=i) for i in range(count)], load_bulk=False)


# -- yielding to the loop ------------------------------------------------------------


async def test_a_task_looping_on_queries_does_not_starve_other_tasks(lane):
    await make_rows(1)
    other_ran_at: list[int] = []
    queries = 0

    async def other() -> None:
        await asyncio.sleep(0)
        other_ran_at.append(queries)

    task = asyncio.create_task(other())
    for _ in range(50):
        await MemRow.objects.first()
        queries += 1
    await task
    # The other task ran while the loop was still querying, not after it.
    assert other_ran_at and other_ran_at[0] < 50


@pytest.mark.requires("gridfs")
async def test_storing_and_deleting_a_file_lets_other_tasks_run(lane):
    fs = GridFS()
    for step in ("put", "delete"):
        ran: list[str] = []

        async def other(step: str = step, ran: list[str] = ran) -> None:
            ran.append(step)

        task = asyncio.create_task(other())
        if step == "put":
            file_id = await fs.put(b"data", filename="a.txt")
        else:
            await fs.delete(file_id)
        assert ran == [step]  # ran while the operation was under way
        await task


async def test_a_deadline_already_passed_times_a_long_query_out(lane):
    await make_rows(1200)
    loop = asyncio.get_running_loop()
    with pytest.raises(TimeoutError):
        async with asyncio.timeout_at(loop.time()):
            await MemRow.objects.order_by("n").to_list(None)
    # Nothing is left half-read: the next query sees every row.
    rows = await MemRow.objects.order_by("n").to_list(None)
    assert [r.n for r in rows] == list(range(1200))


async def test_wait_for_times_out_a_loop_of_operations(lane):
    async def many_saves() -> None:
        for i in range(10_000):
            await MemRow(n=i).save()

    with pytest.raises(TimeoutError):
        await asyncio.wait_for(many_saves(), timeout=0.001)
    # A write the driver had already started may still land (Motor runs it in
    # a thread): let it, then look.
    await asyncio.sleep(0.05)
    stored = sorted(await MemRow.objects.distinct("n"))
    # The loop stopped between whole operations: rows 0..k-1, each once, nothing else.
    assert stored == list(range(len(stored)))
    assert await MemRow.objects.count() == len(stored) < 10_000


memory_only = pytest.mark.parametrize("lane", ["memory"], indirect=True)


@memory_only
async def test_a_write_timed_out_before_it_ran_leaves_no_trace(lane):
    # Over the wire a cancelled write may already be on its way to the server;
    # in memory the operation runs only after its yield, so it did not happen.
    await MemRow.objects.count()  # collection prepared: save is one operation
    loop = asyncio.get_running_loop()
    row = MemRow(n=1, label="late")
    with pytest.raises(TimeoutError):
        async with asyncio.timeout_at(loop.time()):
            await row.save()
    assert row.pk is None
    assert await MemRow.objects.count() == 0
    await row.save()  # the document is still usable
    assert await MemRow.objects(label="late").count() == 1


# -- plain MongoEngine I/O outside run_sync ------------------------------------------


async def test_plain_mongoengine_io_in_a_coroutine_is_refused_on_every_lane(lane):
    with pytest.raises(RuntimeError, match="must be awaited from a coroutine"):
        PlainRow(n=1).save()
    with pytest.raises(RuntimeError, match="must be awaited from a coroutine"):
        PlainRow.objects.count()
    with pytest.raises(RuntimeError, match="must be awaited from a coroutine"):
        list(PlainRow.objects.all())
    # Through run_sync the same code works, and nothing was written before.
    assert await run_sync(PlainRow.objects.count) == 0
    await run_sync(PlainRow(n=2).save)
    assert await run_sync(lambda: [r.n for r in PlainRow.objects]) == [2]


# -- what a server refuses -------------------------------------------------------------


@memory_only
async def test_negative_skip_in_a_count_or_pipeline_is_refused_in_memory(lane):
    # MongoDB refuses both; nx-27017 accepts them (docs/notes-nx-27017.md).
    await make_rows(3)
    with pytest.raises(OperationFailure, match="non-negative"):
        await run_sync(lambda: MemRow._get_collection().count_documents({}, skip=-1))
    with pytest.raises(OperationFailure, match="non-negative"):
        cursor = await MemRow.objects.aggregate([{"$skip": -1}])
        await cursor.to_list(None)
    assert await MemRow.objects.skip(1).count(with_limit_and_skip=True) == 2


# -- explain --------------------------------------------------------------------------


@memory_only
async def test_explain_answers_a_collection_scan_in_memory(lane):
    # The wire lanes' plans are the server's (tests/test_queryset.py).
    await make_rows(5)
    plan = await MemRow.objects(n__gte=3).explain()
    assert plan["queryPlanner"]["winningPlan"]["stage"] == "COLLSCAN"
    assert plan["queryPlanner"]["parsedQuery"] == {"n": {"$gte": 3}}
    assert plan["queryPlanner"]["namespace"].endswith(".mem_row")
    assert plan["executionStats"]["nReturned"] == 2
    assert plan["executionStats"]["totalDocsExamined"] == 5


# -- mongo_client_class=mongomock.MongoClient, as MongoEngine asks for mongomock --------


class MockedRow(Document):
    n = IntField()
    meta = {"db_alias": "mocked"}


@memory_only
async def test_mongomock_client_class_gets_the_in_memory_driver(lane):
    import mongomock
    from mongoengine.connection import get_connection

    import mongomotor

    mongomotor.connect(
        "mocked_db", alias="mocked", mongo_client_class=mongomock.MongoClient,
        uuidRepresentation="standard",
    )
    client = get_connection("mocked")
    assert isinstance(client, mongomock.MongoClient)  # what MongoEngine's docs promise
    await MockedRow(n=1).save()
    assert [r.n for r in await MockedRow.objects.to_list()] == [1]
    assert mongomotor.get_db("mocked").name == "mocked_db"
    # ...and it behaves as the in-memory driver: it yields and refuses sync I/O.
    ran: list[bool] = []

    async def other() -> None:
        ran.append(True)

    task = asyncio.create_task(other())
    await MockedRow.objects.count()
    assert ran == [True]
    await task
    with pytest.raises(RuntimeError, match="must be awaited from a coroutine"):
        client["mocked_db"]["mocked_row"].count_documents({})
