"""Reading results: async for, to_list, fetch_next, aggregate cursors; one batch per switch."""

from __future__ import annotations

import asyncio

import pytest

import mongomotor.drivers.facade.client
import mongomotor.odm.querying.cursor
from mongomotor import Document
from mongomotor.context_managers import query_counter
from mongomotor.fields import IntField, StringField


class IterRow(Document):
    n = IntField()
    label = StringField()


async def make_rows(count: int) -> None:
    await IterRow.objects.insert([IterRow(n=i, label=f"r{i}") for i in range(count)])


@pytest.fixture
def switches(monkeypatch):
    """Count greenlet switches to the loop (await_) and bridge entries (run_sync)."""
    counts = {"await_": 0, "run_sync": 0}
    real_await = mongomotor.drivers.facade.client.await_
    real_run_sync = mongomotor.odm.querying.cursor.run_sync

    def counting_await(awaitable):
        counts["await_"] += 1
        return real_await(awaitable)

    def counting_run_sync(fn, *args, **kwargs):
        counts["run_sync"] += 1
        return real_run_sync(fn, *args, **kwargs)

    monkeypatch.setattr(mongomotor.drivers.facade.client, "await_", counting_await)
    monkeypatch.setattr(mongomotor.odm.querying.cursor, "run_sync", counting_run_sync)
    return counts


async def test_async_for_reads_one_server_batch_per_switch(lane, switches):
    await make_rows(10)
    await IterRow.objects.count()  # prepare the collection outside the measurement
    switches.update(await_=0, run_sync=0)
    with query_counter() as q:
        seen = [row.n async for row in IterRow.objects.order_by("n").batch_size(3)]
    assert seen == list(range(10))
    assert q.operations.count("find") == 1
    if lane.is_wire:
        assert q.operations.count("getMore") in (3, 4)
    else:  # mongomock answers in one batch
        assert q.operations.count("getMore") <= 1
    # one switch per round trip (the in-memory driver yields once per batch)
    assert switches["await_"] == len(q.operations)
    assert set(q.operations) <= {"find", "getMore"}
    # one bridge call per batch, plus the one that finds the cursor exhausted
    assert switches["run_sync"] <= len(q.operations) + 1
    assert switches["run_sync"] < 10  # never one bridge call per document


async def test_to_list_reads_one_server_batch_per_switch(lane, switches):
    await make_rows(10)
    await IterRow.objects.count()
    switches.update(await_=0, run_sync=0)
    with query_counter() as q:
        rows = await IterRow.objects.order_by("n").batch_size(4).to_list(None)
    assert [r.n for r in rows] == list(range(10))
    if lane.is_wire:
        assert q.operations.count("getMore") in (2, 3)
    assert switches["run_sync"] <= len(q.operations) + 1 < 10


async def _turns_of_another_task_while(read) -> tuple[int, int]:
    """(items read, turns another task got on the loop meanwhile)."""
    turns = 0
    reading = True

    async def other() -> None:
        nonlocal turns
        while reading:
            await asyncio.sleep(0)
            turns += 1

    task = asyncio.create_task(other())
    await asyncio.sleep(0)
    turns = 0
    count = await read()
    reading = False
    await task
    return count, turns


@pytest.mark.parametrize("how", ["async for", "to_list"])
async def test_a_long_read_lets_other_tasks_run_between_chunks(lane, how):
    await make_rows(3000)
    await IterRow.objects.count()

    async def read() -> int:
        if how == "to_list":
            return len(await IterRow.objects.to_list(None))
        return sum([1 async for _ in IterRow.objects])

    count, turns = await _turns_of_another_task_while(read)
    assert count == 3000
    # Documents are built a small chunk per bridge call, and the loop runs other
    # tasks between calls even when no round trip is needed.
    assert turns >= 3000 // mongomotor.odm.querying.cursor.MAX_CHUNK // 2


async def test_a_find_asks_for_bounded_batches(lane):
    await make_rows(2500)
    with query_counter() as q:
        assert len(await IterRow.objects.to_list(None)) == 2500
    if lane.is_wire:
        # Without a batch size the server would send one 16 MiB batch, decoded in one go.
        assert q.operations.count("getMore") >= 2
        with query_counter() as q:
            assert len(await IterRow.objects.batch_size(2500).to_list(None)) == 2500
        assert q.operations.count("getMore") <= 1  # a batch size of the user's own wins


async def test_to_list_with_a_length_stops_early(lane):
    await make_rows(10)
    with query_counter() as q:
        rows = await IterRow.objects.order_by("n").batch_size(3).to_list(3)
    assert [r.n for r in rows] == [0, 1, 2]
    assert q.operations.count("getMore") == 0


async def test_fetch_next_and_next_object(lane):
    await make_rows(5)
    qs = IterRow.objects.order_by("n").batch_size(2)
    seen = []
    while await qs.fetch_next:
        seen.append(qs.next_object().n)
    assert seen == [0, 1, 2, 3, 4]
    assert qs.next_object() is None


async def test_async_for_over_transformed_querysets(lane):
    await make_rows(4)
    assert [r["n"] async for r in IterRow.objects.order_by("n").as_pymongo()] == [0, 1, 2, 3]
    assert [n async for n in IterRow.objects.order_by("-n").scalar("n")] == [3, 2, 1, 0]
    assert [r async for r in IterRow.objects(n__gte=2).order_by("n").values_list("n", "label")] \
        == [(2, "r2"), (3, "r3")]
    assert [r async for r in IterRow.objects(n=42)] == []


async def test_leaving_a_loop_early_leaves_the_queryset_usable(lane):
    await make_rows(10)
    qs = IterRow.objects.order_by("n").batch_size(2)
    async for row in qs:
        if row.n == 3:
            break
    # each async for is a fresh query
    assert [r.n async for r in qs] == list(range(10))
    assert await qs.count() == 10


async def test_concurrent_iterations_of_one_queryset_are_independent(lane):
    import asyncio

    await make_rows(6)
    qs = IterRow.objects.order_by("n").batch_size(2)

    async def read():
        return [r.n async for r in qs]

    first, second = await asyncio.gather(read(), read())
    assert first == second == list(range(6))


async def test_aggregate_cursor_fetch_next_and_close(lane):
    await make_rows(5)
    cursor = await IterRow.objects.aggregate(
        [{"$match": {"n": {"$gte": 1}}}, {"$sort": {"n": 1}}, {"$project": {"_id": 0, "n": 1}}],
        batchSize=2,
    )
    assert await cursor.fetch_next
    assert cursor.next_object() == {"n": 1}
    assert [row["n"] async for row in cursor] == [2, 3, 4]
    await cursor.close()
    assert not cursor.alive
    async with await IterRow.objects.aggregate([{"$count": "total"}]) as counted:
        assert await counted.to_list(None) == [{"total": 5}]
