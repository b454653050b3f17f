"""The lean transport keeps PyMongo's contract: same replies, same events, same failures.

Every test runs one scenario through PyMongo's own async connection
("stock") and through :mod:`mongomotor.drivers.lean_transport` ("lean"), on
the wire server of the session (faults through ``tests/support/faults.py``'s
proxy), and compares what a user can see: results, command monitoring events
in order, exception types, and that a connection whose read did not finish is
closed, never handed to the next operation.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import ssl
import struct
import subprocess
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import bson
import mongoengine.connection
import pymongo
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pymongo import AsyncMongoClient, DeleteOne, InsertOne, UpdateOne, monitoring
from pymongo.asynchronous.pool import AsyncConnection
from pymongo.errors import OperationFailure, PyMongoError
from pymongo.network_layer import PyMongoProtocol

from mongomotor.drivers import lean_reading, lean_transport
from mongomotor.drivers.lean_locks import QuickLock
from mongomotor.drivers.lean_transport import LeanConnection, LeanPool
from tests.support.faults import FaultProxy

TRANSPORTS = {"stock": {}, "lean": {"_pool_class": LeanPool}}
DB = "mm_lean_transport"
# (endSessions lists the random ids of the sessions a closing client ends)
VOLATILE = {"lsid", "$clusterTime", "operationTime", "signature", "localTime", "endSessions"}
CURSOR_IDS = {"id", "getMore", "cursors", "cursorsKilled", "cursorsNotFound", "cursorsAlive",
              "cursorsUnknown"}  # fmt: skip


def normalized(value: Any, key: str = "") -> Any:
    """A command or reply without what differs between two identical runs (ids, clocks)."""
    if isinstance(value, dict) or hasattr(value, "items"):
        return [(k, normalized(v, k)) for k, v in value.items() if k not in VOLATILE]
    if isinstance(value, list):
        return [normalized(v, key) for v in value]
    if key in CURSOR_IDS and isinstance(value, int):
        return "<cursor id>" if value else 0
    return value


class Recorder(monitoring.CommandListener, monitoring.ConnectionPoolListener):
    """Command events as comparable tuples, and the pool's connection events."""

    def __init__(self) -> None:
        self.commands: list[tuple[Any, ...]] = []
        self.closed_reasons: list[str] = []
        self.pool_events: list[tuple[Any, ...]] = []  # CMAP events in order
        self.out = self.most_out = self.created = 0

    def publish(self, event: Any) -> None:
        self.pool_events.append((type(event).__name__, getattr(event, "connection_id", None),
                                 getattr(event, "reason", None)))  # fmt: skip

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        self.commands.append(("started", event.command_name, event.database_name,
                              normalized(event.command)))  # fmt: skip

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        self.commands.append(("succeeded", event.command_name, normalized(event.reply)))

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        self.commands.append(("failed", event.command_name, type(event.failure).__name__
                              if not isinstance(event.failure, dict) else
                              event.failure.get("code")))  # fmt: skip

    def connection_created(self, event: Any) -> None:
        self.publish(event)
        self.created += 1

    def connection_checked_out(self, event: Any) -> None:
        self.publish(event)
        self.out += 1
        self.most_out = max(self.most_out, self.out)

    def connection_checked_in(self, event: Any) -> None:
        self.publish(event)
        self.out -= 1

    def connection_closed(self, event: Any) -> None:
        self.publish(event)
        self.closed_reasons.append(event.reason)

    # The other pool events are only recorded.
    pool_created = pool_ready = pool_cleared = pool_closed = publish
    connection_ready = connection_check_out_started = connection_check_out_failed = publish



def client_for(transport: str, uri: str, recorder: Recorder, **options: Any) -> AsyncMongoClient:
    options.setdefault("serverSelectionTimeoutMS", 5000)
    client = AsyncMongoClient(uri, event_listeners=[recorder], **options, **TRANSPORTS[transport])
    return lean_transport.adopt(client)  # the lean client's topology takes quick locks


def driver_client(alias: str) -> AsyncMongoClient:
    """The ``AsyncMongoClient`` mongomotor made for ``alias`` on the running loop."""
    facade = mongoengine.connection.get_connection(alias)
    return facade._per_loop.get(asyncio.get_running_loop()) or facade.for_running_loop()


async def connection_type(client: AsyncMongoClient) -> type:
    (server,) = client._topology._servers.values()
    async with server.pool.checkout() as conn:
        return type(conn)


# -- the same operations, the same results and events --------------------------------


async def mixed_operations(client: AsyncMongoClient, name: str) -> list[Any]:
    """Finds and getMores, writes, a failing command, a write error, a session, a killed cursor."""
    db = client[DB]
    coll = db[name]
    out: list[Any] = []
    await coll.drop()
    await coll.insert_many([{"_id": i, "n": i % 7, "s": "x" * i} for i in range(250)])
    out.append([doc async for doc in coll.find({"n": {"$lt": 5}}, batch_size=40).sort("_id")])
    out.append(await coll.find_one({"_id": 17}))
    out.append((await coll.update_many({"n": 3}, {"$set": {"t": 1}})).modified_count)
    out.append(await coll.count_documents({"t": 1}))
    out.append(await (await coll.aggregate([{"$match": {"n": 2}}, {"$limit": 5}])).to_list(None))
    out.append((await coll.delete_one({"_id": 3})).deleted_count)
    try:
        await coll.aggregate([{"$noSuchStage": {}}])  # a command the server fails
    except OperationFailure as exc:
        out.append(("failed", type(exc).__name__))
    try:
        await coll.insert_one({"_id": 1})  # a write error
    except OperationFailure as exc:
        out.append(("failed", type(exc).__name__))
    async with client.start_session() as session:
        out.append(await coll.find_one({"_id": 5}, session=session))
        out.append(len(await coll.find({}, batch_size=10, session=session).limit(25).to_list(None)))
    cursor = coll.find({}, batch_size=5)
    out.append(await cursor.next())
    await cursor.close()  # killCursors
    bulk = [InsertOne({"_id": 1000}), UpdateOne({"_id": 1000}, {"$set": {"a": 1}}),
            DeleteOne({"_id": 1000})]  # fmt: skip
    out.append((await coll.bulk_write(bulk)).bulk_api_result)
    await coll.drop()
    return out


async def run_both(uri: str, scenario: Any, **options: Any) -> dict[str, tuple[Any, Recorder]]:
    seen = {}
    for transport in TRANSPORTS:
        recorder = Recorder()
        client = client_for(transport, uri, recorder, **options)
        try:
            await client.admin.command("ping")
            recorder.commands.clear()
            result = await scenario(client)
            assert await connection_type(client) is (
                LeanConnection if transport == "lean" else AsyncConnection
            )
        finally:
            await client.close()
        seen[transport] = (result, recorder)
    return seen


async def test_same_results_and_monitoring_events_in_the_same_order(server_uri):
    seen = await run_both(server_uri, lambda client: mixed_operations(client, "mixed"))
    (stock, stock_events), (lean, lean_events) = seen["stock"], seen["lean"]
    assert lean == stock
    assert lean_events.commands == stock_events.commands
    assert lean_events.pool_events == stock_events.pool_events
    assert ("ConnectionCheckedInEvent", 1, None) in lean_events.pool_events
    names = [e[1] for e in lean_events.commands if e[0] == "started"]
    assert {"insert", "find", "getMore", "update", "aggregate", "delete", "killCursors"} <= set(
        names
    )
    assert ("failed", "OperationFailure") in lean and ("failed", "DuplicateKeyError") in lean
    assert [e[0] for e in lean_events.commands].count("failed") == 1  # the failed aggregate


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    sizes=st.lists(st.integers(0, 3000), min_size=0, max_size=60),
    batch=st.integers(1, 25),
    limit=st.integers(0, 70),
    below=st.integers(0, 7),
)
def test_reads_equal_pymongos_own_path_for_any_documents_and_batches(
    server_uri, sizes, batch, limit, below
):
    async def scenario(client: AsyncMongoClient) -> list[Any]:
        coll = client[DB]["prop"]
        await coll.drop()
        if sizes:
            docs = [{"_id": i, "n": i % 7, "s": "y" * n} for i, n in enumerate(sizes)]
            await coll.insert_many(docs)
        query = coll.find({"n": {"$lt": below}}, batch_size=batch).sort("_id").limit(limit)
        found = [doc async for doc in query]
        await coll.drop()
        return found

    seen = asyncio.run(run_both(server_uri, scenario))
    assert seen["lean"][0] == seen["stock"][0]
    assert seen["lean"][1].commands == seen["stock"][1].commands
    assert seen["lean"][1].pool_events == seen["stock"][1].pool_events


async def test_compressed_replies_read_the_same(server_uri):
    recorder = Recorder()
    probe = client_for("lean", server_uri, recorder, compressors="zlib")
    try:
        await probe.admin.command("ping")
        (server,) = probe._topology._servers.values()
        async with server.pool.checkout() as conn:
            negotiated = conn.compression_context is not None
    finally:
        await probe.close()
    if not negotiated:
        pytest.skip("the server does not negotiate wire compression (probed with zlib)")
    seen = await run_both(
        server_uri, lambda client: mixed_operations(client, "zlib"), compressors="zlib"
    )
    assert seen["lean"][0] == seen["stock"][0]
    assert seen["lean"][1].commands == seen["stock"][1].commands


class TlsFront:
    """A TLS-terminating proxy on loopback in front of the wire server (self-signed cert)."""

    def __init__(self, target_uri: str, workdir: Path) -> None:
        parts = urlsplit(target_uri)
        self.target = (parts.hostname or "127.0.0.1", parts.port or 27017)
        self.cert, self.key = workdir / "cert.pem", workdir / "key.pem"
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
             "-subj", "/CN=localhost", "-keyout", str(self.key), "-out", str(self.cert)],
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip
        self.server: asyncio.AbstractServer | None = None

    async def __aenter__(self) -> str:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        self.server = await asyncio.start_server(self.relay, "127.0.0.1", 0, ssl=context)
        port = self.server.sockets[0].getsockname()[1]
        return f"mongodb://localhost:{port}/?tls=true&tlsCAFile={self.cert}"

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()

    async def relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)

        async def pump(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            try:
                while data := await source.read(1 << 16):
                    sink.write(data)
                    await sink.drain()
            except (ConnectionError, ssl.SSLError):
                pass
            finally:
                sink.close()

        await asyncio.gather(pump(reader, upstream_writer), pump(upstream_reader, writer))


async def test_tls_connections_read_the_same(server_uri, tmp_path):
    if not shutil.which("openssl"):
        pytest.skip("openssl is not installed (it makes the TLS proxy's certificate)")
    async with TlsFront(server_uri, tmp_path) as tls_uri:
        seen = await run_both(tls_uri, lambda client: mixed_operations(client, "tls"))
    assert seen["lean"][0] == seen["stock"][0]
    assert seen["lean"][1].commands == seen["stock"][1].commands
    assert len(seen["lean"][1].commands) > 30


# -- faults: timeouts, cancellation, interrupted connections, pool limits -----------------


async def seeded(client: AsyncMongoClient, name: str) -> Any:
    coll = client[DB][name]
    await coll.drop()
    await coll.insert_many([{"_id": 1, "v": "one"}, {"_id": 2, "v": "two"}])
    return coll


async def stalled_read(uri: str, transport: str, make_failure: Any, **options: Any) -> dict:
    """Stall the replies, let ``make_failure`` fail one read, resume, read again."""
    recorder = Recorder()
    with FaultProxy(uri, lifetime=60) as proxy:
        client = client_for(transport, proxy.uri, recorder, **options)
        try:
            coll = await seeded(client, f"stall_{transport}")
            closed_before = len(recorder.closed_reasons)
            proxy.stall()
            started = time.monotonic()
            try:
                await make_failure(coll)
                error = None
            except BaseException as exc:  # CancelledError too: it is what we compare
                error = type(exc)
            elapsed = time.monotonic() - started
            proxy.resume()
            again = await coll.find_one({"_id": 2})  # its own reply, not the stalled one's
            await coll.drop()
        finally:
            await client.close()
    return {
        "error": error,
        "elapsed": elapsed,
        "again": again,
        "closed": recorder.closed_reasons[closed_before:],
        "commands": [e[:2] for e in recorder.commands if e[1] == "find"],
    }


async def compare_stalled(uri: str, make_failure: Any, **options: Any) -> dict:
    stock = await stalled_read(uri, "stock", make_failure, **options)
    lean = await stalled_read(uri, "lean", make_failure, **options)
    assert lean["error"] is stock["error"] and lean["error"] is not None
    assert lean["again"] == stock["again"] == {"_id": 2, "v": "two"}
    assert "error" in lean["closed"] and lean["closed"] == stock["closed"]
    assert lean["commands"] == stock["commands"]
    return lean


async def test_socket_timeout_ms_times_out_and_closes_the_connection(server_uri):
    lean = await compare_stalled(
        server_uri, lambda coll: coll.find_one({"_id": 1}), socketTimeoutMS=300, retryReads=False
    )
    assert issubclass(lean["error"], pymongo.errors.NetworkTimeout)
    assert 0.25 <= lean["elapsed"] < 3


async def test_pymongo_timeout_applies_to_the_read(server_uri):
    async def within_timeout(coll: Any) -> Any:
        with pymongo.timeout(0.3):
            return await coll.find_one({"_id": 1})

    lean = await compare_stalled(server_uri, within_timeout)
    assert issubclass(lean["error"], PyMongoError)
    assert 0.25 <= lean["elapsed"] < 3


async def test_timeout_ms_applies_to_the_read(server_uri):
    lean = await compare_stalled(server_uri, lambda coll: coll.find_one({"_id": 1}), timeoutMS=300)
    assert issubclass(lean["error"], PyMongoError)
    assert 0.25 <= lean["elapsed"] < 3


async def test_cancelled_read_closes_the_connection_and_leaves_no_reply_behind(server_uri):
    async def cancelled(coll: Any) -> Any:
        task = asyncio.ensure_future(coll.find_one({"_id": 1}))
        await asyncio.sleep(0.2)
        task.cancel()
        return await task

    lean = await compare_stalled(server_uri, cancelled)
    assert lean["error"] is asyncio.CancelledError


async def test_an_interrupted_connection_fails_its_read_as_pymongo_does(server_uri):
    """A pool reset cancels in-use connections' contexts; the read notices within 0.5 s."""

    async def interrupted(coll: Any) -> Any:
        task = asyncio.ensure_future(coll.find_one({"_id": 1}))
        await asyncio.sleep(0.2)
        (server,) = coll.database.client._topology._servers.values()
        for context in list(server.pool.active_contexts):
            context.cancel()
        return await task

    lean = await compare_stalled(server_uri, interrupted, retryReads=False)
    assert issubclass(lean["error"], pymongo.errors.AutoReconnect)
    assert lean["elapsed"] < 2


@pytest.mark.parametrize("transport", list(TRANSPORTS))
async def test_pool_limits_hold(server_uri, transport):
    recorder = Recorder()
    with FaultProxy(server_uri, lifetime=60) as proxy:
        client = client_for(transport, proxy.uri, recorder, maxPoolSize=2)
        try:
            coll = await seeded(client, f"pool_{transport}")
            proxy.delay(0.02)
            found = await asyncio.gather(*(coll.find_one({"_id": 1 + i % 2}) for i in range(20)))
            assert [doc["_id"] for doc in found] == [1 + i % 2 for i in range(20)]
            assert recorder.most_out <= 2 and recorder.created <= 2
            proxy.passthrough()
            await coll.drop()
        finally:
            await client.close()


async def test_wait_queue_timeout_is_kept(server_uri):
    async def second_waits(coll: Any) -> Any:
        first = asyncio.ensure_future(coll.find_one({"_id": 1}))
        await asyncio.sleep(0.1)
        try:
            return await coll.find_one({"_id": 2})
        finally:
            first.cancel()
            await asyncio.gather(first, return_exceptions=True)

    stock = await stalled_read(server_uri, "stock", second_waits, maxPoolSize=1,
                               waitQueueTimeoutMS=200)  # fmt: skip
    lean = await stalled_read(server_uri, "lean", second_waits, maxPoolSize=1,
                              waitQueueTimeoutMS=200)  # fmt: skip
    assert lean["error"] is stock["error"]
    assert issubclass(lean["error"], pymongo.errors.WaitQueueTimeoutError)
    assert lean["again"] == {"_id": 2, "v": "two"}


# -- the switch ------------------------------------------------------------------------


@pytest.mark.parametrize("lane", ["pymongo"], indirect=True)
async def test_the_pymongo_driver_runs_on_the_lean_transport(lane):
    """So every wire test of the pymongo lane (tests/test_faults.py too) runs on it."""
    client = driver_client("default")
    await client.admin.command("ping")
    assert await connection_type(client) is LeanConnection
    assert type(client._topology._lock) is QuickLock
    (server,) = client._topology._servers.values()
    async with server.pool.checkout() as conn:
        assert type(conn.conn.get_conn) is lean_reading.OneTurnProtocol


@pytest.mark.parametrize("lane", ["pymongo"], indirect=True)
async def test_mongomotor_transport_pymongo_switches_it_off(lane, monkeypatch):
    monkeypatch.setenv(lean_transport.ENV, "pymongo")
    lane.connect("stock_transport")
    client = driver_client("stock_transport")
    await client.admin.command("ping")
    assert await connection_type(client) is AsyncConnection
    assert type(client._topology._lock) is pymongo.lock.Lock


def test_an_unknown_setting_says_what_to_write(monkeypatch):
    monkeypatch.setenv(lean_transport.ENV, "fast")
    with pytest.raises(ValueError, match="'lean' .*or 'pymongo'"):
        lean_transport.client_options()


def test_an_unproven_pymongo_uses_the_stock_path_and_says_so_once(monkeypatch, caplog):
    monkeypatch.delenv(lean_transport.ENV, raising=False)
    monkeypatch.setattr(pymongo, "version", "99.0.0")
    monkeypatch.setattr(lean_transport, "_warned", [])
    with caplog.at_level(logging.INFO, logger="mongomotor.transport"):
        assert lean_transport.client_options() == {}
        assert lean_transport.client_options() == {}
    assert len([r for r in caplog.records if "99.0.0" in r.getMessage()]) == 1
    monkeypatch.undo()
    assert lean_transport.client_options() == {"_pool_class": LeanPool}


# -- reading pauses for a reply nobody waits for, as PyMongo's does ----------------------


def op_msg(request_id: int, document: dict) -> bytes:
    body = b"\0\0\0\0" + b"\0" + bson.encode(document)  # flagBits, section kind 0
    return struct.pack("<iiii", 16 + len(body), request_id, 0, 2013) + body


async def test_a_reply_nobody_waits_for_is_held_and_reading_paused():
    """Three replies sent unasked (an exhaust stream): one is held, reading pauses.

    With nobody waiting, PyMongo's framing reads and the rest waits in the
    socket. A waiting reader's read may bring more of the stream with its
    reply (one scratch read, 16 KiB at most); what it brought beyond is held
    in order and reading pauses again.
    """
    replies = b"".join(op_msg(n, {"ok": 1, "n": n}) for n in (1, 2, 3))
    served = asyncio.Event()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(replies)
        await writer.drain()
        await served.wait()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.create_connection(lambda: PyMongoProtocol(), "127.0.0.1", port)
    try:
        protocol = lean_reading.adopt_protocol(transport, protocol)
        assert type(protocol) is lean_reading.OneTurnProtocol
        for _ in range(50):
            if protocol._done_messages:
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)
        assert len(protocol._done_messages) == 1 and not transport.is_reading()
        # A reader waiting when its reply completes: no pause.
        waiter = loop.create_future()
        protocol._pending_messages.append(waiter)
        first, _ = await protocol.read(None, 1 << 20)  # the held one; resumes reading
        assert bson.decode(bytes(first)[5:])["n"] == 1
        await asyncio.wait_for(waiter, 5)
        protocol._done_messages.remove(waiter)  # as the lean reader does
        assert bson.decode(bytes(waiter.result()[3])[5:])["n"] == 2
        # The third reply came in the same read: held, and reading paused for it.
        assert len(protocol._done_messages) == 1 and not transport.is_reading()
        third, _ = await protocol.read(None, 1 << 20)
        assert bson.decode(bytes(third)[5:])["n"] == 3
    finally:
        served.set()
        transport.close()
        server.close()
        await server.wait_closed()


async def reset_in_flight(uri: str, transport: str, operation: str) -> Any:
    """Reset the connection under an operation in flight; what the user gets."""
    recorder = Recorder()
    with FaultProxy(uri, lifetime=60) as proxy:
        client = client_for(transport, proxy.uri, recorder)
        try:
            coll = await seeded(client, f"reset_{transport}")
            proxy.stall()
            call = coll.find_one({"_id": 1}) if operation == "read" else coll.insert_one({"_id": 3})
            task = asyncio.ensure_future(call)
            await asyncio.sleep(0.2)
            proxy.reset()
            proxy.resume()
            try:
                outcome: Any = await asyncio.wait_for(task, 10)
                outcome = outcome if operation == "read" else outcome.inserted_id
            except PyMongoError as exc:
                outcome = type(exc)
            stored = await coll.count_documents({})
            await coll.drop()
        finally:
            await client.close()
    return outcome, stored, [e[:2] for e in recorder.commands if e[1] in ("find", "insert")]


@pytest.mark.parametrize("operation", ["read", "write"])
async def test_a_reset_under_an_operation_retries_as_pymongo_does(server_uri, operation):
    stock = await reset_in_flight(server_uri, "stock", operation)
    lean = await reset_in_flight(server_uri, "lean", operation)
    assert lean == stock
    if operation == "read":
        assert lean[0] == {"_id": 1, "v": "one"}  # retried on a new connection
