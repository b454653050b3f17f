"""Heavy concurrency and cancellation: many tasks, threads and loops at once.

Each test drives hundreds of operations through the bridge at the same time
and then checks what a user would see: the database is exactly what a serial
run predicts, every task gets its own outcome, cancellation leaves nothing
broken behind (worker greenlets, server cursors, class preparation).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import gc
import random
import threading
import traceback
import weakref

import greenlet
import mongoengine
import pytest
from mongoengine.errors import NotUniqueError, ValidationError
from pymongo import monitoring
from pymongo.errors import InvalidOperation

import mongomotor
from mongomotor import Document, run_sync
from mongomotor.context_managers import query_counter
from mongomotor.fields import IntField, StringField
from mongomotor.runtime import aio, bridge


class StressItem(Document):
    owner = IntField(required=True)
    n = IntField(default=0)
    meta = {"indexes": ["owner"]}


class StressCounter(Document):
    slot = IntField(required=True)
    total = IntField(default=0)


class StressAccount(Document):
    email = StringField(required=True, max_length=40)
    team = IntField(required=True)
    number = IntField(required=True)
    meta = {
        "indexes": [
            {"fields": ["email"], "unique": True},
            {"fields": ["team", "number"], "unique": True},
        ]
    }


class StressWatched(Document):
    """On an alias whose client reports every command to a listener (wire lanes)."""

    n = IntField()
    meta = {"db_alias": "stress_watched"}


class StressPlain(mongoengine.Document):
    """A plain MongoEngine model bound to an alias connected through mongomotor."""

    owner = mongoengine.IntField()
    n = mongoengine.IntField()
    meta = {"db_alias": "stress_plain"}


def _thread_root(glet: greenlet.greenlet) -> greenlet.greenlet:
    while glet.parent is not None:
        glet = glet.parent
    return glet


def _workers_of_this_thread() -> list[bridge._BridgeGreenlet]:
    gc.collect()
    root = _thread_root(greenlet.getcurrent())
    return [
        obj
        for obj in gc.get_objects()
        if type(obj) is bridge._BridgeGreenlet and not obj.dead and _thread_root(obj) is root
    ]


def assert_bridge_pool_is_healthy() -> None:
    """Every live worker of this thread is idle in the pool and holds nothing of a job."""
    idle = list(getattr(bridge._idle, "workers", []))
    assert len(idle) <= bridge._MAX_IDLE_WORKERS
    live = _workers_of_this_thread()
    assert {id(w) for w in live} == {id(w) for w in idle}, "a worker is suspended outside the pool"
    for worker in idle:
        assert worker.outcome is None and worker.job is None
        assert worker.gr_context is bridge._EMPTY_CONTEXT
        frame_locals = worker.gr_frame.f_locals
        assert frame_locals["fn"] is None and frame_locals["args"] is None


# -- 1. mixed workload -------------------------------------------------------------------


@pytest.mark.requires("concurrent_updates")
async def test_300_mixed_tasks_leave_exactly_what_a_serial_run_predicts(lane):
    # Seeds: documents some tasks read, count, iterate or delete; shared counters.
    seeds = []
    for i in range(300):
        kind = i % 5
        if kind in (1, 2, 3, 4):
            seeds += [StressItem(owner=i, n=k) for k in range(i % 4 + 2)]
    await StressItem.objects.insert(seeds)
    await StressCounter.objects.insert([StressCounter(slot=s) for s in range(10)])

    async def task(i: int):
        await StressCounter.objects(slot=i % 10).update_one(inc__total=i)
        kind = i % 5
        if kind == 0:  # saves, then an update of one of them
            docs = [await StressItem(owner=i, n=k).save() for k in range(3)]
            docs[1].n = 100
            await docs[1].save()
            return [d.n for d in docs]
        if kind == 1:  # atomic increments on its own documents
            await StressItem.objects(owner=i).update(inc__n=10)
            await StressItem.objects(owner=i, n=10).update_one(inc__n=5)
            return await StressItem.objects(owner=i).count()
        if kind == 2:  # gets
            doc = await StressItem.objects.get(owner=i, n=1)
            return (doc.owner, doc.n)
        if kind == 3:  # deletes
            first = await StressItem.objects(owner=i).order_by("n").first()
            await first.delete()
            return await StressItem.objects(owner=i).delete()
        # kind 4: iteration, two documents per round trip
        return [d.n async for d in StressItem.objects(owner=i).order_by("n").batch_size(2)]

    results = await asyncio.gather(*(task(i) for i in range(300)))

    expected_rows: dict[int, list[int]] = {}
    for i, result in enumerate(results):
        size = i % 4 + 2
        kind = i % 5
        if kind == 0:
            assert result == [0, 100, 2]
            expected_rows[i] = [0, 2, 100]
        elif kind == 1:
            assert result == size
            expected_rows[i] = sorted([15] + [10 + k for k in range(1, size)])
        elif kind == 2:
            assert result == (i, 1)
            expected_rows[i] = list(range(size))
        elif kind == 3:
            assert result == size - 1
        else:
            assert result == list(range(size))
            expected_rows[i] = list(range(size))
    rows: dict[int, list[int]] = {}
    for owner, n in await StressItem.objects.values_list("owner", "n").to_list(None):
        rows.setdefault(owner, []).append(n)
    assert {owner: sorted(ns) for owner, ns in rows.items()} == expected_rows
    totals = {c.slot: c.total async for c in StressCounter.objects}
    assert totals == {s: sum(range(s, 300, 10)) for s in range(10)}
    assert_bridge_pool_is_healthy()


# -- 2. cancellation storms ----------------------------------------------------------------


class CursorWatcher(monitoring.CommandListener):
    """Follows server cursors: opened by find/getMore, closed by exhaustion or killCursors."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.opened: set[int] = set()
        self.closed: set[int] = set()
        self.kill_commands = 0

        self._get_mores: dict[int, int] = {}  # request id -> cursor id

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        with self.lock:
            if event.command_name == "killCursors":
                self.kill_commands += 1
                self.closed.update(event.command["cursors"])
            elif event.command_name == "getMore":
                self._get_mores[event.request_id] = event.command["getMore"]

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        if event.command_name not in ("find", "getMore"):
            return
        cursor_id = event.reply.get("cursor", {}).get("id", 0)
        with self.lock:
            if cursor_id:
                self.opened.add(cursor_id)
            elif event.command_name == "getMore":
                self.closed.add(self._get_mores.pop(event.request_id, 0))

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass

    def still_open(self) -> set[int]:
        with self.lock:
            return self.opened - self.closed


async def _wait_until_closed(watcher: CursorWatcher) -> set[int]:
    """The cursors still open once the drivers' kill-cursor rounds (every second) had time."""
    for _ in range(100):
        gc.collect()
        if not watcher.still_open():
            break
        await asyncio.sleep(0.1)
    return watcher.still_open()


async def test_cancellation_storm_leaves_pool_cursors_and_data_sound(lane):
    watcher = CursorWatcher()
    if lane.is_wire:
        lane.connect("stress_watched", event_listeners=[watcher])
    else:
        lane.connect("stress_watched")
    await StressWatched.objects.insert([StressWatched(n=k) for k in range(50)])
    rng = random.Random(20240601)

    async def reader(slow: bool) -> list[int]:
        seen = []
        async for doc in StressWatched.objects(n__lt=50).order_by("n").batch_size(5):
            seen.append(doc.n)
            if slow:
                await asyncio.sleep(0)  # cancellation may also land between batches
        return seen

    async def writer(i: int) -> int:
        for k in range(3):
            await StressWatched(n=1000 + 10 * i + k).save()
        return 3

    tasks = [
        asyncio.create_task(reader(i % 4 == 0) if i % 2 == 0 else writer(i)) for i in range(100)
    ]
    cancel_at = {i: rng.randint(0, 12) for i in range(100)}
    for tick in range(13):
        for i, task in enumerate(tasks):
            if cancel_at[i] == tick:
                task.cancel()
        await asyncio.sleep(0)
    results = await asyncio.gather(*tasks, return_exceptions=True)

    leaked = [r for r in results if isinstance(r, BaseException)]
    assert all(isinstance(r, asyncio.CancelledError) for r in leaked), leaked[:3]
    for i, result in enumerate(results):
        if not isinstance(result, BaseException):
            assert result == (list(range(50)) if i % 2 == 0 else 3)
    if lane.is_wire:
        assert leaked, "no task was cancelled"
    assert len(results) == len(tasks) == 100
    del results, leaked, tasks  # a kept CancelledError keeps its frames, and their cursors

    # The pool is healthy and everything still works.
    assert_bridge_pool_is_healthy()
    assert [d.n async for d in StressWatched.objects(n__lt=50).order_by("n").batch_size(7)] == (
        list(range(50))
    )
    written = [d.n async for d in StressWatched.objects(n__gte=1000)]
    assert len(written) == len(set(written))  # no save ran twice
    assert all((n - 1000) // 10 % 2 == 1 for n in written)
    await StressWatched(n=-1).save()
    assert await StressWatched.objects(n=-1).count() == 1
    if lane.is_wire:
        # Every server cursor a cancelled task abandoned was closed or killed.
        assert watcher.opened, "no getMore cursor was seen"
        assert await _wait_until_closed(watcher) == set()


async def test_a_timed_out_to_list_leaves_the_class_usable(lane):
    await StressItem.objects.insert([StressItem(owner=7, n=k) for k in range(200)])
    outcomes = []
    for timeout in (0.0001, 0.001, 0.01):
        try:
            rows = await asyncio.wait_for(
                StressItem.objects(owner=7).batch_size(2).to_list(None), timeout=timeout
            )
        except TimeoutError:
            outcomes.append("timeout")
        else:
            assert len(rows) == 200
            outcomes.append("done")
    assert await StressItem.objects(owner=7).count() == 200
    assert len(await StressItem.objects(owner=7).batch_size(3).to_list(None)) == 200
    await StressItem(owner=8).save()
    assert await StressItem.objects(owner=8).count() == 1
    assert_bridge_pool_is_healthy()


async def test_reading_on_after_a_cancelled_batch_says_so_instead_of_ending_early(lane):
    watcher = CursorWatcher()
    if lane.is_wire:
        mongomotor.disconnect()
        lane.connect(event_listeners=[watcher])
    await StressItem.objects.insert([StressItem(owner=9, n=k) for k in range(50)])
    cursor = StressItem.objects(owner=9).order_by("n").batch_size(5).__aiter__()
    first = [(await cursor.__anext__()).n for _ in range(5)]
    assert first == list(range(5))
    fetch = asyncio.create_task(cursor.__anext__())  # needs the next batch
    await asyncio.sleep(0)
    fetch.cancel()
    await asyncio.wait([fetch])
    if not fetch.cancelled():  # the in-memory driver reads without waiting: nothing to cancel
        assert not lane.is_wire
        assert [fetch.result().n] + [d.n async for d in cursor] == list(range(5, 50))
    else:
        # The batch being read is lost: going on must not look like the end.
        with pytest.raises(InvalidOperation, match="run the query again"):
            await cursor.__anext__()
        with pytest.raises(InvalidOperation, match="run the query again"):
            await cursor.to_list(None)
        # The server cursor is released while the user still holds ours.
        del fetch  # (its CancelledError holds the frames that read the batch)
        assert await _wait_until_closed(watcher) == set()
    assert len(await StressItem.objects(owner=9).to_list(None)) == 50


# -- 3. exceptions inside the bridge, under concurrency --------------------------------------


async def test_each_of_50_concurrent_saves_gets_its_own_outcome(lane):
    await StressAccount.objects.insert(
        [StressAccount(email=f"taken{i}@x.org", team=1, number=i) for i in range(50)]
    )

    async def save_one(i: int) -> StressAccount:
        if i % 4 == 0:  # too long: fails validation before any I/O
            return await StressAccount(email="x" * 41 + str(i), team=2, number=i).save()
        if i % 4 == 1:  # the email of a seeded account: the server refuses it
            return await StressAccount(email=f"taken{i}@x.org", team=2, number=i).save()
        return await StressAccount(email=f"new{i}@x.org", team=2, number=i).save()

    outcomes = await asyncio.gather(*(save_one(i) for i in range(50)), return_exceptions=True)
    for i, outcome in enumerate(outcomes):
        if i % 4 == 0:
            assert isinstance(outcome, ValidationError), (i, outcome)
            assert "email" in outcome.errors
            frames = traceback.extract_tb(outcome.__traceback__)
            assert frames[0].name == "save_one"
            assert frames[-1].name == "validate"
        elif i % 4 == 1:
            assert isinstance(outcome, NotUniqueError), (i, outcome)
            frames = traceback.extract_tb(outcome.__traceback__)
            assert frames[0].name == "save_one"
            assert (frames[-1].name, frames[-1].filename) == (
                "save",
                mongoengine.document.__file__,
            )
        else:
            assert isinstance(outcome, StressAccount) and outcome.number == i
            assert outcome.email == f"new{i}@x.org" and outcome.id is not None
    # Nothing half-written: exactly the successful saves, complete.
    rows = await StressAccount.objects(team=2).order_by("number").to_list(None)
    assert [(r.number, r.email) for r in rows] == [
        (i, f"new{i}@x.org") for i in range(50) if i % 4 > 1
    ]
    assert await StressAccount.objects(team=1).count() == 50


# -- 4. many event loops ---------------------------------------------------------------------


async def test_four_threads_with_their_own_loops_share_one_alias(lane, monkeypatch):
    def in_thread(t: int) -> list:
        async def main() -> list:
            async def op(k: int):
                doc = await StressItem(owner=100 + t, n=k).save()
                await StressItem.objects(id=doc.id).update_one(inc__n=1000)
                return (await StressItem.objects.get(id=doc.id)).n

            values = await asyncio.gather(*(op(k) for k in range(50)))
            count = await StressItem.objects(owner=100 + t).count()
            return [values, count, mongomotor.get_connection().delegate]

        return asyncio.run(main())

    loop = asyncio.get_running_loop()
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        results = await asyncio.gather(
            *(loop.run_in_executor(pool, in_thread, t) for t in range(4))
        )
    for values, count, _ in results:
        assert values == [1000 + k for k in range(50)] and count == 50
    assert await StressItem.objects(owner__gte=100).count() == 200
    real_clients = [real for _, _, real in results] + [mongomotor.get_connection().delegate]
    assert len({id(real) for real in real_clients}) == (5 if lane.is_wire else 1)

    def no_new_loop(*args, **kwargs):
        raise AssertionError("disconnect_all created an event loop")

    monkeypatch.setattr(asyncio, "new_event_loop", no_new_loop)
    monkeypatch.setattr(asyncio.events, "new_event_loop", no_new_loop)
    sync_client = mongoengine.connection.get_connection()
    mongomotor.disconnect_all()
    await asyncio.gather(*aio._running)  # our loop's client closes in a task of this loop
    assert sync_client._per_loop == {}
    if lane.is_wire:
        # the threads' clients closed when their loops shut down, ours just now
        drivers = [real.delegate if lane.driver == "motor" else real for real in real_clients]
        assert [driver._closed for driver in drivers] == [True] * 5


# -- 5. concurrent first use -----------------------------------------------------------------


async def test_50_tasks_on_a_new_class_create_its_indexes_once(lane):
    with query_counter() as q:
        outcomes = await asyncio.gather(
            *(
                StressAccount(email=f"u{i % 25}@x.org", team=i % 5, number=i).save()
                for i in range(50)
            ),
            return_exceptions=True,
        )
    assert q.operations.count("create_index") == 2  # the unique and the compound index
    saved = [o for o in outcomes if isinstance(o, StressAccount)]
    refused = [o for o in outcomes if not isinstance(o, StressAccount)]
    assert len(saved) == 25 and all(isinstance(o, NotUniqueError) for o in refused)
    assert sorted(a.email for a in saved) == sorted(f"u{k}@x.org" for k in range(25))
    # the compound index holds too, for every task at once
    again = await asyncio.gather(
        *(StressAccount(email=f"v{i}@x.org", team=i % 5, number=i).save() for i in range(50)),
        return_exceptions=True,
    )
    taken = {(a.team, a.number) for a in saved}
    for i, outcome in enumerate(again):
        assert isinstance(outcome, NotUniqueError) == ((i % 5, i) in taken), (i, outcome)


async def test_cancelling_the_task_that_prepares_a_class_lets_one_other_finish_it(lane):
    with query_counter() as first:
        owner = asyncio.create_task(StressAccount(email="o@x.org", team=0, number=0).save())
        await asyncio.sleep(0)  # it starts creating the indexes (over the wire: waits)
    with query_counter() as rest:
        others = [
            asyncio.create_task(StressAccount(email=f"w{i}@x.org", team=1, number=i).save())
            for i in range(1, 30)
        ]
        await asyncio.sleep(0)  # they wait for the preparation the owner runs
        owner.cancel()
        outcomes = await asyncio.gather(owner, *others, return_exceptions=True)
    if lane.is_wire:
        assert isinstance(outcomes[0], asyncio.CancelledError)
        assert first.operations.count("create_index") >= 1
    assert all(isinstance(o, StressAccount) for o in outcomes[1:])
    # the waiters took over the preparation once between them, not each on its own
    assert rest.operations.count("create_index") <= 2
    with pytest.raises(NotUniqueError):
        await StressAccount(email="w1@x.org", team=9, number=9).save()


# -- 6. a long sync function in run_sync -------------------------------------------------------


async def test_a_long_run_sync_job_lets_other_tasks_progress(lane):
    lane.connect("stress_plain")
    done = asyncio.Event()
    seen_counts: list[int] = []
    ticks = 0

    def long_job() -> int:
        for k in range(200):
            StressPlain(owner=1, n=k).save()
        return StressPlain.objects(owner=1).count()

    async def ticker() -> None:
        nonlocal ticks
        while not done.is_set():
            ticks += 1
            await asyncio.sleep(0)

    async def reader() -> None:
        while not done.is_set():
            seen_counts.append(await StressItem.objects(owner=1).count())
            await StressItem(owner=1).save()

    async def job() -> int:
        try:
            return await run_sync(long_job)
        finally:
            done.set()

    total, _, _ = await asyncio.gather(job(), ticker(), reader())
    assert total == 200
    assert [d.n for d in await run_sync(lambda: list(StressPlain.objects.order_by("n")))] == (
        list(range(200))
    )
    assert seen_counts == list(range(len(seen_counts)))
    if lane.is_wire:  # (mongomock never waits: its job runs in one go)
        # every round trip of the job went through the loop, which ran the others
        assert ticks >= 200
        assert len(seen_counts) > 10


# -- 7. memory and context hygiene ----------------------------------------------------------------


async def test_idle_workers_keep_no_documents_or_results_alive(lane):
    kept = await StressItem(owner=5, n=0).save()
    ref = weakref.ref(kept)
    loaded = weakref.ref(await StressItem.objects.get(id=kept.id))
    for k in range(250):  # 1000 awaited operations, many at once
        doc = StressItem(owner=6, n=k)
        await asyncio.gather(
            doc.save(),
            StressItem.objects(owner=5).count(),
            StressItem.objects(owner=5).first(),
            kept.reload(),
        )
    del kept, doc
    await asyncio.sleep(0)  # (the loop's handle that resumed us holds the last gather)
    gc.collect()
    assert ref() is None and loaded() is None
    assert_bridge_pool_is_healthy()
    assert await StressItem.objects(owner=6).count() == 250


request_tag: contextvars.ContextVar[str] = contextvars.ContextVar("stress_tag", default="unset")


async def test_a_reused_worker_does_not_carry_contextvars_to_the_next_job(lane):
    seen = []

    def set_inside() -> greenlet.greenlet:
        request_tag.set("from the first job")  # set inside the bridge, never reset
        return greenlet.getcurrent()

    def read_inside() -> greenlet.greenlet:
        seen.append(request_tag.get())
        return greenlet.getcurrent()

    first = await run_sync(set_inside)
    second = await run_sync(read_inside)
    assert first is second  # the same pooled worker served both
    assert seen == ["unset"]
    assert request_tag.get() == "unset"
    request_tag.set("caller")
    await run_sync(read_inside)
    assert seen == ["unset", "caller"]
