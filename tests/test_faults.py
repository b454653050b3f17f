"""What mongomotor survives: outages, resets, stalls and cancellations, on the wire lanes.

Faults come from ``tests/support/faults.py``: a loopback proxy between the
driver and the server, and a private nx-27017 process for the destructive
scenarios. Each scenario prints its figures (``pytest -s``, lines "FIGURE").
"""

from __future__ import annotations

import asyncio
import gc
import random
import subprocess
import sys
import time
import warnings

import mongoengine
import mongoengine.connection
import pytest
from bson import ObjectId
from pymongo.errors import PyMongoError

import mongomotor
from mongomotor import Document
from mongomotor.drivers import pymongo_async
from mongomotor.fields import FileField, IntField, ReferenceField, StringField
from mongomotor.runtime import bridge
from tests.conftest import WIRE_LANES
from tests.support.faults import FaultProxy, PrivateServer

wire_only = pytest.mark.parametrize("lane", WIRE_LANES, indirect=True)

SELECTION_MS = 500  # serverSelectionTimeoutMS for the fault scenarios
# A failing call must end within its selection timeout plus the driver's
# unwinding: far from PyMongo's 30 s default, whatever the machine's load.
FAIL_BOUND = SELECTION_MS / 1000 + 5
# What a user can catch: PyMongo's errors, and MongoEngine's wrapping of them.
USER_ERRORS = (PyMongoError, mongoengine.OperationError)


def figure(name: str, **values: object) -> None:
    print(f"FIGURE {name}: " + ", ".join(f"{k}={v}" for k, v in values.items()))


class FaultItem(Document):
    tag = StringField()
    n = IntField(default=0)
    meta = {"db_alias": "faulty"}


class FaultOwner(Document):
    name = StringField()
    meta = {"db_alias": "faulty"}


class FaultPet(Document):
    name = StringField()
    owner = ReferenceField(FaultOwner)
    meta = {"db_alias": "faulty"}


class FaultFile(Document):
    file = FileField(db_alias="faulty")
    meta = {"db_alias": "faulty"}


def connect_faulty(
    lane, host: str | None = None, private: bool = False, **options: object
) -> None:
    """Connect the ``faulty`` alias through ``host`` (a proxy, a private server)."""
    db = f"{lane.db_name}_faulty"
    if not private:
        lane.databases.append(db)  # on the session's server: dropped after the test
    options.setdefault("uuidRepresentation", "standard")
    mongomotor.connect(db, alias="faulty", host=host or lane.host, driver=lane.driver, **options)


def busy_bridge_workers() -> int:
    """Bridge greenlets still running a job (suspended at I/O), not idle in the pool."""
    idle = set(map(id, getattr(bridge._idle, "workers", [])))
    return sum(
        1
        for obj in gc.get_objects()
        if type(obj) is bridge._BridgeGreenlet and obj and id(obj) not in idle
    )


# -- the server stops during a mixed load, and comes back ---------------------------
@wire_only
async def test_server_restart_during_mixed_load(lane):
    with PrivateServer() as server:
        connect_faulty(lane, server.uri, private=True, serverSelectionTimeoutMS=SELECTION_MS)
        await FaultItem(tag="seed").save()
        saved: list[str] = []
        outcomes: list[tuple[float, str, float, BaseException | None]] = []
        stop_load = asyncio.Event()
        rng = random.Random(3)

        async def worker(w: int) -> None:
            i = 0
            while not stop_load.is_set():
                i += 1
                kind = rng.choice(["save", "update", "get", "iterate"])
                started = time.monotonic()
                error: BaseException | None = None
                try:
                    if kind == "save":
                        tag = f"w{w}-{i}"
                        await FaultItem(tag=tag).save()
                        saved.append(tag)
                    elif kind == "update":
                        await FaultItem.objects(tag="seed").update(inc__n=1)
                    elif kind == "get":
                        await FaultItem.objects.get(tag="seed")
                    else:
                        async for _ in FaultItem.objects.limit(20):
                            pass
                except Exception as exc:  # noqa: BLE001 - classified below
                    error = exc
                outcomes.append((started, kind, time.monotonic() - started, error))
                await asyncio.sleep(0.01)

        workers = [asyncio.create_task(worker(w)) for w in range(8)]
        await asyncio.sleep(0.3)
        stopped_at = time.monotonic()
        server.stop()
        await asyncio.sleep(1.5)
        server.start()
        restarted_at = time.monotonic()
        # Load goes on until every worker has succeeded again after the restart.
        deadline = restarted_at + 30
        while time.monotonic() < deadline:
            recovered = [o for o in outcomes if o[0] > restarted_at and o[3] is None]
            if len(recovered) >= 16:
                break
            await asyncio.sleep(0.05)
        stop_load.set()
        done, pending = await asyncio.wait(workers, timeout=FAIL_BOUND * 2)
        assert not pending, "workers stuck after the outage"

        failures = [o for o in outcomes if o[3] is not None]
        wrong = [repr(o[3]) for o in failures if not isinstance(o[3], USER_ERRORS)]
        assert not wrong, f"errors that are not PyMongo's: {wrong[:3]}"
        slow = [o for o in failures if o[2] > FAIL_BOUND]
        assert not slow, f"{len(slow)} calls took over {FAIL_BOUND}s to fail"
        recovered = [o for o in outcomes if o[0] > restarted_at and o[3] is None]
        assert recovered, "no call succeeded after the restart"
        first_ok = min(o[0] + o[2] for o in recovered)

        # Every save that returned is stored, once.
        stored = [i.tag async for i in FaultItem.objects.only("tag")]
        missing = set(saved) - set(stored)
        assert not missing, f"{len(missing)} returned saves are not stored"
        assert len(stored) == len(set(stored)), "a save was stored twice"
        # The pools are healthy: concurrent calls work, no bridge worker is stuck.
        await asyncio.gather(*(FaultItem.objects.get(tag="seed") for _ in range(50)))
        assert busy_bridge_workers() == 0
        figure(
            f"outage[{lane.name}]",
            calls=len(outcomes),
            failed=len(failures),
            succeeded=len(outcomes) - len(failures),
            saves_returned=len(saved),
            stored=len(stored) - 1,
            max_time_to_error_s=round(max((o[2] for o in failures), default=0), 3),
            time_to_recover_s=round(first_ok - restarted_at, 3),
            down_s=round(restarted_at - stopped_at, 3),
            error_types=sorted({type(o[3]).__name__ for o in failures}),
        )


# -- a connection reset in the middle of async for ----------------------------------
@wire_only
async def test_reset_during_iteration_is_an_error_never_a_short_result(lane):
    with FaultProxy(lane.server_uri, lifetime=60) as proxy:
        connect_faulty(lane, proxy.uri, serverSelectionTimeoutMS=2000)
        await FaultItem.objects.insert([FaultItem(tag="t", n=i) for i in range(300)])
        got: list[int] = []
        error: BaseException | None = None
        try:
            async for item in FaultItem.objects.order_by("n").batch_size(50):
                got.append(item.n)
                if len(got) == 60:  # inside the second batch: the next read is a getMore
                    proxy.reset()
        except Exception as exc:  # noqa: BLE001 - checked below
            error = exc
        if error is None:
            assert got == list(range(300)), "the reset silently shortened the result"
        else:
            assert isinstance(error, USER_ERRORS), repr(error)
            assert got == list(range(len(got)))
        # The next query works, on a fresh connection.
        assert await FaultItem.objects.count() == 300
        assert [i.n async for i in FaultItem.objects.order_by("n")] == list(range(300))
        figure(
            f"reset_mid_iteration[{lane.name}]",
            read_before_error=len(got),
            error=type(error).__name__ if error else None,
            resets=proxy.resets,
        )


@wire_only
async def test_reset_during_an_in_flight_getmore_raises(lane):
    with FaultProxy(lane.server_uri, lifetime=60) as proxy:
        connect_faulty(lane, proxy.uri, serverSelectionTimeoutMS=2000)
        await FaultItem.objects.insert([FaultItem(tag="t", n=i) for i in range(200)])
        cursor = FaultItem.objects.order_by("n").batch_size(50).__aiter__()
        first = [(await cursor.__anext__()).n for _ in range(50)]
        proxy.stall()

        async def rest() -> list[int]:
            return [item.n async for item in cursor]

        reading = asyncio.create_task(rest())
        for _ in range(500):  # until the getMore's reply is held (or it is done)
            if proxy.held or reading.done():
                break
            await asyncio.sleep(0.01)
        proxy.reset()
        proxy.resume()
        try:
            tail = await asyncio.wait_for(reading, 30)
        except USER_ERRORS as exc:
            outcome = type(exc).__name__
        else:
            assert first + tail == list(range(200)), "silently short"
            outcome = "complete"
        assert await FaultItem.objects.count() == 200
        figure(f"reset_in_flight_getmore[{lane.name}]", outcome=outcome)


# -- stalled replies: asyncio.wait_for cancels cleanly ------------------------------
@wire_only
@pytest.mark.requires("gridfs")
async def test_stalled_replies_time_out_cleanly(lane):
    with FaultProxy(lane.server_uri, lifetime=60) as proxy:
        connect_faulty(lane, proxy.uri, serverSelectionTimeoutMS=2000)
        owner = await FaultOwner(name="ann").save()
        await FaultPet(name="rex", owner=owner).save()
        attached = FaultFile()
        await attached.file.put(b"x" * 300_000)
        await attached.save()

        calls = {
            "read": lambda: FaultOwner.objects.get(name="ann"),
            "write": lambda: FaultOwner(name="bob").save(),
            "select_related": lambda: FaultPet.objects.select_related(),
            "gridfs_read": lambda: attached.file.read(),  # the proxy's first read
        }
        timings = {}
        for name, call in calls.items():
            proxy.stall()
            started = time.monotonic()
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(call(), 0.3)
            timings[name] = round(time.monotonic() - started, 3)
            proxy.resume()
            # Later calls succeed, with their own answers (no half-read socket reused).
            assert (await FaultOwner.objects.get(name="ann")).id == owner.id
            pets = await FaultPet.objects.select_related()
            assert [(p.name, p.owner.name) for p in pets] == [("rex", "ann")]
            fresh = await FaultFile.objects.get(id=attached.id)
            assert await fresh.file.read() == b"x" * 300_000
        assert busy_bridge_workers() == 0
        figure(f"stall_wait_for_0.3s[{lane.name}]", **timings)


# -- the cold-topology cancellation hang ---------------------------------------------
BURST_TASKS, BURST_PER_TICK, BURST_TICKS, BURST_SEED = 300, 8, 40, 2

RAW_BURST = """
import asyncio, random, sys
from pymongo import AsyncMongoClient

async def main(uri):
    client = AsyncMongoClient(uri, serverSelectionTimeoutMS=5000)
    coll = client.mm_faults_raw.burst
    tasks = [asyncio.ensure_future(coll.insert_one({{"i": i}})) for i in range({n})]
    rng, cancelled = random.Random({seed}), set()
    for _ in range({ticks}):
        for task in rng.sample(tasks, {per_tick}):
            task.cancel()
            cancelled.add(task)
        await asyncio.sleep(0)
    done, pending = await asyncio.wait(tasks, timeout=5)
    print(len([t for t in pending if t not in cancelled]), flush=True)
    sys.stdout.flush()
    import os; os._exit(0)

asyncio.run(main(sys.argv[1]))
"""


async def cancel_burst(tasks: list[asyncio.Task], rng: random.Random) -> set[asyncio.Task]:
    """Cancel random tasks, a few per loop tick (a task may be cancelled twice)."""
    cancelled: set[asyncio.Task] = set()
    for _ in range(BURST_TICKS):
        for task in rng.sample(tasks, BURST_PER_TICK):
            task.cancel()
            cancelled.add(task)
        await asyncio.sleep(0)
    return cancelled


async def test_cold_client_cancellation_burst_hangs_raw_pymongo_not_mongomotor(lane):
    if lane.name == "pymongo":
        script = RAW_BURST.format(
            n=BURST_TASKS, seed=BURST_SEED, ticks=BURST_TICKS, per_tick=BURST_PER_TICK
        )
        run = subprocess.run(
            [sys.executable, "-c", script, lane.server_uri],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        raw_stuck = int(run.stdout.split()[0])
        figure("cold_burst_raw_pymongo", never_cancelled_stuck=raw_stuck, of=BURST_TASKS)
        if raw_stuck == 0:
            warnings.warn(
                "raw PyMongo did not hang in the cancellation burst: if it no longer "
                "does, the guard in mongomotor/drivers/pymongo_async.py can go",
                stacklevel=1,
            )

    lane.connect("cold", **({"serverSelectionTimeoutMS": 5000} if lane.is_wire else {}))
    Cold = type("FaultCold", (Document,), {"n": IntField(), "meta": {"db_alias": "cold"}})
    tasks = [asyncio.ensure_future(Cold(n=i).save()) for i in range(BURST_TASKS)]
    cancelled = await cancel_burst(tasks, random.Random(BURST_SEED))
    started = time.monotonic()
    done, pending = await asyncio.wait(tasks, timeout=20)
    stuck = [t for t in pending if t not in cancelled]
    for task in pending:
        task.cancel()
    assert not stuck, f"{len(stuck)} saves that were never cancelled did not finish"
    completed = [t for t in tasks if not t.cancelled() and t.exception() is None]
    stored = await Cold.objects.count()
    assert stored >= len(completed)
    figure(
        f"cold_burst_mongomotor[{lane.name}]",
        cancelled=len(cancelled),
        completed=len(completed),
        stored=stored,
        settle_s=round(time.monotonic() - started, 3),
    )


async def test_guard_lets_a_second_cancellation_wait_for_the_driver_to_unwind():
    """What the guard promises: the driver sees one cancellation and unwinds fully."""
    seen: list[str] = []
    release = asyncio.Event()

    async def driver_call() -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            seen.append("cancelled")
            await release.wait()  # unwinding takes a while (re-taking a lock)
            seen.append("unwound")
            raise

    caller = asyncio.ensure_future(pymongo_async.cancel_once(driver_call()))
    await asyncio.sleep(0)
    caller.cancel()
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    caller.cancel()  # a second cancellation while the driver unwinds
    await asyncio.sleep(0)
    assert not caller.done() and seen == ["cancelled"]
    release.set()
    with pytest.raises(asyncio.CancelledError):
        await caller
    assert seen == ["cancelled", "unwound"]


# -- a cancellation storm on saves ---------------------------------------------------
@wire_only
async def test_cancellation_storm_leaves_consistent_documents(lane):
    connect_faulty(lane)
    await FaultItem(tag="warm").save()
    rng = random.Random(11)
    docs = [FaultItem(id=ObjectId(), tag=f"s{i}", n=i) for i in range(1000)]
    tasks = [asyncio.ensure_future(doc.save()) for doc in docs]
    loop = asyncio.get_running_loop()
    for task in tasks:
        loop.call_later(rng.uniform(0, 1.5), task.cancel)
    await asyncio.wait(tasks, timeout=60)
    returned = [d for d, t in zip(docs, tasks) if not t.cancelled() and t.exception() is None]
    cancelled = [d for d, t in zip(docs, tasks) if t.cancelled()]
    errors = [t.exception() for t in tasks if not t.cancelled() and t.exception()]
    assert not errors, f"errors other than cancellation: {errors[:3]}"

    stored = [i.tag async for i in FaultItem.objects(tag__ne="warm").only("tag")]
    assert len(stored) == len(set(stored)), "a document was stored twice"
    assert {d.tag for d in returned} <= set(stored), "a save that returned is not stored"
    cancelled_stored = len({d.tag for d in cancelled} & set(stored))
    # Each cancelled document can be saved again as it is.
    await asyncio.gather(*(d.save() for d in cancelled))
    stored = [i.tag async for i in FaultItem.objects(tag__ne="warm").only("tag")]
    assert sorted(stored) == sorted(d.tag for d in docs)
    assert busy_bridge_workers() == 0
    figure(
        f"cancel_storm[{lane.name}]",
        saves=len(docs),
        returned=len(returned),
        cancelled=len(cancelled),
        cancelled_but_stored=cancelled_stored,
        retried_ok=len(cancelled),
    )


# -- GridFS: cancelled uploads re-raise CancelledError and leave no chunks ----------
async def orphan_chunks() -> int:
    db = mongoengine.connection.get_db("faulty")

    def count() -> int:
        file_ids = {f["_id"] for f in db["fs.files"].find({}, {"_id": 1})}
        chunk_ids = {c["files_id"] for c in db["fs.chunks"].find({}, {"files_id": 1})}
        return len(chunk_ids - file_ids)

    return await mongomotor.run_sync(count)


@pytest.mark.requires("gridfs")
@pytest.mark.parametrize("how", ["put", "write", "async_with_write", "async_with_close"])
async def test_cancelled_upload_reraises_and_leaves_no_chunks(lane, how):
    connect_faulty(lane)
    data = b"z" * (255 * 1024 * 6)  # six chunks
    doc = FaultFile()

    async def upload() -> None:
        if how == "put":
            await doc.file.put(data)
        elif how == "write":
            await doc.file.write(data)
        elif how == "async_with_write":
            async with doc.file as f:
                await f.write(data)
        else:
            async with doc.file as f:
                await f.write(data[:100])
                await asyncio.sleep(0)  # the cancellation lands in close()

    outcomes = {"cancelled": 0, "finished": 0}
    for delay_ticks in range(0, 12, 2):
        doc = FaultFile()
        task = asyncio.ensure_future(upload())
        for _ in range(delay_ticks):
            await asyncio.sleep(0)
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            outcomes["cancelled"] += 1
            # Nothing half-written is kept: no id, or the whole file (put's last step).
            assert doc.file.newfile is None
            assert doc.file.grid_id is None or await doc.file.read() == data
        else:
            outcomes["finished"] += 1
            if doc.file.newfile is not None:
                await doc.file.close()
    assert await orphan_chunks() == 0
    figure(f"gridfs_cancel[{lane.name},{how}]", **outcomes)


@pytest.mark.parametrize("lane", ["motor", "ferretdb-motor"], indirect=True)
@pytest.mark.requires("gridfs")
async def test_a_cancelled_close_waits_for_motor_before_cleaning_up(lane, monkeypatch):
    # Motor closes a file in a worker thread that a cancellation does not stop:
    # a cleanup that did not wait for it would run first and leave the file
    # the thread then stores, referenced by nothing.
    import gridfs

    real_flush = gridfs.GridIn._flush
    closing = asyncio.Event()
    loop = asyncio.get_running_loop()

    def slow_flush(self):  # noqa: ANN001 - runs in Motor's worker thread, inside close()
        loop.call_soon_threadsafe(closing.set)
        time.sleep(0.3)
        return real_flush(self)

    monkeypatch.setattr(gridfs.GridIn, "_flush", slow_flush)
    connect_faulty(lane)
    doc = FaultFile()

    async def upload() -> None:
        async with doc.file as f:
            await f.write(b"z" * 100)

    task = asyncio.ensure_future(upload())
    await asyncio.wait_for(closing.wait(), 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.sleep(0.5)  # the worker thread, had it been left behind, is done by now
    assert doc.file.grid_id is None
    db = mongoengine.connection.get_db("faulty")
    left = await mongomotor.run_sync(lambda: list(db["fs.files"].find()))
    assert left == [] and await orphan_chunks() == 0


async def test_a_cancelled_motor_write_waits_for_its_thread_only_so_long(monkeypatch):
    # A worker thread stuck on a server that stopped answering is not waited
    # for past settle_seconds: the caller's timeout still ends.
    from mongomotor.drivers import motor

    monkeypatch.setattr(motor._SettlingGridIn, "settle_seconds", 0.2)
    never = asyncio.get_running_loop().create_future()

    class StuckGridIn:
        def close(self) -> asyncio.Future:
            return never

    task = asyncio.ensure_future(motor._SettlingGridIn(StuckGridIn()).close())
    await asyncio.sleep(0.01)
    started = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    waited = time.monotonic() - started
    never.cancel()
    assert 0.15 < waited < 3, f"the cancellation ended after {waited:.2f} s"


@pytest.mark.requires("gridfs")
async def test_cleanup_failure_is_chained_not_raised_instead(lane, monkeypatch):
    connect_faulty(lane)
    doc = FaultFile()

    def broken_delete(self, file_id):  # noqa: ANN001
        raise PyMongoError("cleanup failed")

    from mongomotor.odm.files import gridfs as gridfs_backends

    monkeypatch.setattr(gridfs_backends.GridFS, "_facade_collection", broken_delete)
    with pytest.raises(asyncio.CancelledError) as raised:
        async with doc.file as f:
            await f.write(b"partial")
            raise asyncio.CancelledError()
    assert isinstance(raised.value.__context__, PyMongoError)
    assert doc.file.grid_id is None and doc.file.newfile is None



# -- a dropped connection during a transaction's commit ------------------------------
@wire_only
@pytest.mark.requires("transactions")
async def test_connection_dropped_during_commit_keeps_retry_behaviour(lane, monkeypatch):
    # nx-27017 runs transactions but says it is standalone: let mongomotor start
    # them, as tests/test_transactions.py does for its injected errors.
    async def allowed(alias: str = "default") -> None:
        return None

    monkeypatch.setattr(mongomotor.odm.transactions, "require_transactions", allowed)
    with FaultProxy(lane.server_uri, lifetime=60) as proxy:
        connect_faulty(lane, proxy.uri, serverSelectionTimeoutMS=2000)
        await FaultItem(tag="seed").save()
        commits: list[str] = []

        outcome = "committed"
        try:
            async with mongomotor.run_in_transaction(alias="faulty") as session:
                real_commit = session.commit_transaction

                async def commit() -> None:
                    if commits:
                        commits.append("again")
                        return await real_commit()
                    commits.append("dropped")
                    proxy.stall()
                    sending = asyncio.ensure_future(real_commit())
                    for _ in range(500):  # until the commit's reply is held
                        if proxy.held or sending.done():
                            break
                        await asyncio.sleep(0.01)
                    proxy.reset()
                    proxy.resume()
                    return await sending

                session.commit_transaction = commit
                await FaultItem(tag="in-txn").save()
        except PyMongoError as exc:
            # A server that keeps transactions per connection (nx-27017) cannot
            # finish the retried commit; MongoDB finds it by its session id.
            outcome = f"{type(exc).__name__}: {exc}"[:80]
        tags = [i.tag async for i in FaultItem.objects.only("tag")]
        assert tags.count("seed") == 1
        if outcome == "committed":
            assert tags.count("in-txn") == 1, "a committed write is not stored exactly once"
        else:
            assert tags.count("in-txn") <= 1, "a write was stored twice"
        figure(
            f"commit_dropped[{lane.name}]",
            commit_calls=commits,
            outcome=outcome,
            stored=tags.count("in-txn"),
        )
