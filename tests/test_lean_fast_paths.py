"""The lean transport's fast paths equal the PyMongo code they skip.

* the pool's checkout and checkin of an idle connection without locks
  (``LeanPool``) against PyMongo's own methods on a twin pool brought to the
  same state: same connection, counters, CMAP events and errors;
* ``QuickLock``/``QuickCondition`` against PyMongo's lock and condition under
  any interleaving of tasks, cancellations included: same order of events;
* the one-turn read (``OneTurnProtocol``) against replies cut at any bytes.
"""

from __future__ import annotations

import asyncio
import collections
import functools
import struct
from typing import Any

import bson
import pymongo.lock
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pymongo.asynchronous.pool import Pool
from pymongo.network_layer import PyMongoProtocol
from pymongo.pool_shared import PoolState

from mongomotor.drivers import lean_reading
from mongomotor.drivers.lean_locks import READY, QuickCondition, QuickLock
from tests.test_lean_transport import Recorder, client_for

FAST = settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


# -- the pool -----------------------------------------------------------------------------

STATES = st.fixed_dictionaries(
    {
        "idle": st.integers(0, 3),  # idle connections in the pool
        "in_use": st.integers(0, 2),  # connections checked out meanwhile
        "max_pool": st.sampled_from([0, 1, 2, 3, 5]),  # 0: no limit
        "paused": st.booleans(),
        "stale": st.booleans(),  # the pool's generation moved on (a cleared pool)
        "idle_too_long": st.booleans(),  # the most recent idle connection passed maxIdleTimeMS
        "closed_socket": st.booleans(),  # its socket was closed by the peer, checked >1 s later
        "waiter": st.sampled_from([None, "lock", "size_cond", "max_connecting_cond"]),
    }
)


async def pool_in_state(uri: str, state: dict, recorder: Recorder) -> tuple[Any, Pool, list]:
    """A lean client's pool brought to ``state``; the connections it holds out."""
    options: dict[str, Any] = {"maxPoolSize": state["max_pool"], "waitQueueTimeoutMS": 100}
    if state["idle_too_long"]:
        options["maxIdleTimeMS"] = 60_000
    client = client_for("lean", uri, recorder, **options)
    await client.admin.command("ping")
    (server,) = client._topology._servers.values()
    pool = server.pool
    while pool.conns:  # the ping's connection: the state says how many are idle
        await pool.conns.pop().close_conn(None)
    wanted = state["idle"] + state["in_use"]
    if state["max_pool"]:
        wanted = min(wanted, state["max_pool"])
    held = [await pool.checkout().__aenter__() for _ in range(wanted)]
    for conn in held[state["in_use"] :]:
        await pool.checkin(conn)
    held = held[: state["in_use"]]
    if pool.conns:
        if state["idle_too_long"]:
            pool.conns[0].last_checkin_time -= 120
        if state["closed_socket"]:
            pool.conns[0].conn.get_conn.transport.abort()
            pool.conns[0].last_checkin_time -= 2
    if state["stale"]:
        pool.gen.inc(None)
    if state["paused"]:
        pool.state = PoolState.PAUSED
    recorder.pool_events.clear()
    return client, pool, held


def pool_view(pool: Pool) -> dict:
    return {
        "requests": pool.requests,
        "active_sockets": pool.active_sockets,
        "operation_count": pool.operation_count,
        "idle": [conn.id for conn in pool.conns],
        "pending": pool._pending,
        "contexts": len(pool.active_contexts),
    }


async def check_out_and_in(uri: str, state: dict, stock: bool) -> dict:
    recorder = Recorder()
    client, pool, held = await pool_in_state(uri, state, recorder)
    if stock:  # PyMongo's own methods on this pool
        pool._get_conn = functools.partial(Pool._get_conn, pool)
        pool.checkin = functools.partial(Pool.checkin, pool)
    waiter = None
    if state["waiter"]:
        waiter = asyncio.get_running_loop().create_future()
        target = getattr(pool, state["waiter"].replace("max_", "_max_"))
        if target._waiters is None:
            target._waiters = collections.deque()
        target._waiters.append(waiter)  # someone else waits (never woken into the pool)
    seen: dict[str, Any] = {}
    try:
        if state["waiter"] == "lock":
            # PyMongo queues behind the waiter; let it through after a moment.
            asyncio.get_running_loop().call_later(0.05, _release_waiter, pool.lock, waiter)
        try:
            async with pool.checkout() as conn:
                seen["during"] = pool_view(pool)
                seen["conn"] = conn.id
                seen["alive"] = not conn.closed
        except Exception as exc:  # what PyMongo raises, the lean path must raise
            seen["error"] = type(exc).__name__
        seen["after"] = pool_view(pool)
        seen["events"] = list(recorder.pool_events)
        seen["woken"] = waiter.done() if waiter is not None else None
    finally:
        if waiter is not None:
            for target in (pool.lock, pool.size_cond, pool._max_connecting_cond):
                if target._waiters and waiter in target._waiters:
                    target._waiters.remove(waiter)
        for conn in held:
            await pool.checkin(conn)
        pool.state = PoolState.READY
        await client.close()
    return seen


def _release_waiter(lock: Any, waiter: asyncio.Future) -> None:
    lock._waiters.remove(waiter)
    if not lock._locked and lock._waiters:
        lock._waiters[0].set_result(True)


@FAST
@given(state=STATES)
def test_checkout_and_checkin_equal_pymongos_in_any_pool_state(server_uri, state):
    async def both() -> tuple[dict, dict]:
        return (
            await check_out_and_in(server_uri, state, stock=True),
            await check_out_and_in(server_uri, state, stock=False),
        )

    stock, lean = asyncio.run(both())
    assert lean == stock


async def test_the_fast_path_serves_an_idle_connection_and_steps_aside_otherwise(server_uri):
    """So the property above compares both paths, not PyMongo's with itself."""
    idle = dict(idle=1, in_use=0, max_pool=0, paused=False, stale=False, idle_too_long=False,
                closed_socket=False, waiter=None)  # fmt: skip
    recorder = Recorder()
    client, pool, _ = await pool_in_state(server_uri, idle, recorder)
    try:
        assert pool._check_out_idle() is not None
    finally:
        await client.close()
    for change in ({"paused": True}, {"stale": True}, {"idle_too_long": True}, {"idle": 0},
                   {"closed_socket": True}, {"max_pool": 1, "in_use": 1}):  # fmt: skip
        client, pool, held = await pool_in_state(server_uri, {**idle, **change}, Recorder())
        try:
            assert pool._check_out_idle() is None, change
        finally:
            for conn in held:
                await pool.checkin(conn)
            pool.state = PoolState.READY
            await client.close()


# -- the locks ----------------------------------------------------------------------------

TASKS = st.lists(
    st.tuples(
        st.integers(0, 3),  # loop turns before it asks
        st.integers(0, 3),  # turns it holds the lock
        st.one_of(st.none(), st.integers(0, 6)),  # cancelled after this many turns
        st.booleans(),  # waits on the condition while holding
    ),
    min_size=1,
    max_size=6,
)


async def contend(lock_class: type, condition_class: type, tasks: list) -> list:
    lock = lock_class()
    condition = condition_class(lock)
    log: list[Any] = []

    async def worker(i: int, delay: int, hold: int, waits: bool) -> None:
        for _ in range(delay):
            await asyncio.sleep(0)
        try:
            async with condition if waits else lock:
                log.append(("in", i, lock.locked()))
                if waits:
                    await condition.wait()
                for _ in range(hold):
                    await asyncio.sleep(0)
                if waits:
                    condition.notify()
                log.append(("out", i))
        except asyncio.CancelledError:
            log.append(("cancelled", i, lock.locked()))
            raise

    running = [
        asyncio.ensure_future(worker(i, delay, hold, waits))
        for i, (delay, hold, _, waits) in enumerate(tasks)
    ]
    for turn in range(8):
        for task, (_, _, cancel_at, _) in zip(running, tasks):
            if cancel_at == turn:
                task.cancel()
        await asyncio.sleep(0)
    for _ in range(100):  # wake whoever still waits on the condition, a turn at a time
        if all(task.done() for task in running):
            break
        async with condition:
            condition.notify_all()
        await asyncio.sleep(0)
    await asyncio.gather(*running, return_exceptions=True)
    log.append(("end", lock.locked(), bool(lock._waiters), bool(condition._waiters)))
    return log


@settings(max_examples=200, deadline=None)
@given(tasks=TASKS)
def test_quick_locks_behave_as_pymongos_under_any_interleaving(tasks):
    stock = asyncio.run(contend(pymongo.lock.Lock, pymongo.lock.Condition, tasks))
    quick = asyncio.run(contend(QuickLock, QuickCondition, tasks))
    assert quick == stock


def test_ready_is_done_at_once():
    async def main() -> Any:
        return await READY

    assert asyncio.run(main()) is None


# -- the one-turn read --------------------------------------------------------------------


def op_msg(request_id: int, document: dict) -> bytes:
    body = b"\0\0\0\0" + b"\0" + bson.encode(document)  # flagBits, section kind 0
    return struct.pack("<iiii", 16 + len(body), 0, request_id, 2013) + body


def new_loop(kind: str) -> asyncio.AbstractEventLoop:
    if kind == "uvloop":
        uvloop = pytest.importorskip("uvloop", reason="uvloop is not installed (the bench extra)")
        return uvloop.new_event_loop()
    return asyncio.new_event_loop()


@pytest.mark.parametrize("loop_kind", ["asyncio", "uvloop"])
@settings(max_examples=40, deadline=None)
@given(
    sizes=st.lists(st.integers(0, 40_000), min_size=1, max_size=5),
    cuts=st.lists(st.integers(1, 50_000), max_size=8),
)
def test_replies_cut_anywhere_read_as_pymongo_frames_them(loop_kind, sizes, cuts):
    """Replies sent in any pieces, each read by a waiting reader, arrive whole and in order."""
    wire = b"".join(op_msg(n, {"n": n, "s": "z" * size}) for n, size in enumerate(sizes, 1))
    points = sorted({min(cut, len(wire)) for cut in cuts} | {len(wire)})

    async def main() -> list:
        handlers = []

        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            handlers.append(asyncio.current_task())
            start = 0
            for end in points:
                writer.write(wire[start:end])
                await writer.drain()
                await asyncio.sleep(0.001)
                start = end
            await reader.read()  # until the client closes
            writer.close()

        server = await asyncio.start_server(serve, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        loop = asyncio.get_running_loop()
        transport, protocol = await loop.create_connection(PyMongoProtocol, "127.0.0.1", port)
        protocol = lean_reading.adopt_protocol(transport, protocol)
        assert type(protocol) is lean_reading.OneTurnProtocol
        got = []
        try:
            for n in range(1, len(sizes) + 1):
                data, op_code = await asyncio.wait_for(protocol.read(n, 1 << 24), 5)
                got.append((op_code, bson.decode(bytes(data)[5:])["n"], len(data)))
        finally:
            transport.close()
            await asyncio.wait_for(asyncio.gather(*handlers, return_exceptions=True), 5)
            server.close()
            await server.wait_closed()
        return got

    loop = new_loop(loop_kind)
    try:
        got = loop.run_until_complete(main())
    finally:
        loop.close()
    assert [(op, n) for op, n, _ in got] == [(2013, n) for n in range(1, len(sizes) + 1)]
    assert [size for _, _, size in got] == [len(op_msg(n, {"n": n, "s": "z" * s})) - 16
                                            for n, s in enumerate(sizes, 1)]  # fmt: skip
