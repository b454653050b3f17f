"""A lean send/receive path for PyMongo's async connections (the pymongo driver).

    client = lean_transport.adopt(AsyncMongoClient(uri, **lean_transport.client_options()))
    # its pooled connections now wake the loop once per reply

PyMongo's async client receives each reply through two new tasks (one reads,
one polls the connection's cancellation flag every 0.5 s) joined by
``asyncio.wait``, and sends through ``asyncio.wait_for``, which runs a task of
its own when a socket timeout is set. Per round trip that is about eight
turns of the loop and half the instructions the async client spends above
the sync one. Here the operation's own task waits on the protocol's reply
future directly: a timer fails it when a timeout is set, and the connection's
cancellation context fails it when the pool interrupts the connection, so the
loop wakes the task once, when the reply is complete.

The pool checks an idle connection out and in without PyMongo's asyncio
locks when nobody holds or waits for them; the locks themselves are entered
without a coroutine when free (:mod:`.lean_locks`); a reply is read in one turn
of the loop (:mod:`.lean_reading`).

What stays PyMongo's: the protocol's framing, message encoding and reply
decoding, the pool's limits and waiting, handshake, authentication,
monitoring, retries and sessions. Every path that is not the common one
(a reply read ahead of time, an oversized document, a busy pool) goes to
PyMongo's own method. A failed, timed-out or cancelled read closes the connection exactly
as PyMongo does, so no half-read reply stays on a pooled connection.

It is on only for the PyMongo versions in :data:`PROVEN_ON` (others use the
stock path and say so once in the log); ``MONGOMOTOR_TRANSPORT=pymongo`` in
the environment switches it off.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from typing import Any

import pymongo
import pymongo.lock
from pymongo import _csot
from pymongo.asynchronous.pool import AsyncConnection, Pool
from pymongo.compression_support import decompress
from pymongo.errors import ProtocolError, _OperationCancelled
from pymongo.logger import _CONNECTION_LOGGER, _is_debug_enabled
from pymongo.message import _UNPACK_REPLY
from pymongo.monitoring import ConnectionClosedReason
from pymongo.pool_shared import PoolState, _CancellationContext

from mongomotor.drivers import lean_reading
from mongomotor.drivers.lean_locks import QuickCondition, QuickLock, quicken_topology

log = logging.getLogger("mongomotor.transport")

#: PyMongo releases whose async connection, pool and locks this module and its
#: siblings were proven against (tests/test_lean_transport.py,
#: tests/test_lean_fast_paths.py and tests/test_faults.py on every wire lane).
PROVEN_ON = frozenset({"4.20.1"})
ENV = "MONGOMOTOR_TRANSPORT"
_warned: list[str] = []


def wanted() -> bool:
    """True when the lean path should serve new clients (environment and PyMongo version)."""
    choice = os.environ.get(ENV, "lean").strip().lower()
    if choice == "pymongo":
        return False
    if choice not in ("lean", ""):
        raise ValueError(f"{ENV}={choice!r}: use 'lean' (the default) or 'pymongo'")
    if pymongo.version not in PROVEN_ON:
        if pymongo.version not in _warned:
            _warned.append(pymongo.version)
            log.info(
                "mongomotor: PyMongo %s is not one the lean transport was proven on (%s); "
                "using PyMongo's own async transport",
                pymongo.version, ", ".join(sorted(PROVEN_ON)),
            )  # fmt: skip
        return False
    return True


def client_options() -> dict[str, Any]:
    """Extra ``AsyncMongoClient`` keyword arguments: the lean pool, when it is wanted."""
    return {"_pool_class": LeanPool} if wanted() else {}


def adopt(client: Any) -> Any:
    """Finish a client made with :func:`client_options`: its topology's lock becomes a quick one.

    A client without the lean pool is returned as it is.
    """
    settings = getattr(getattr(client, "_topology", None), "_settings", None)
    if settings is not None and issubclass(settings.pool_class, LeanPool):
        quicken_topology(client)
    return client


class LeanPool(Pool):
    """PyMongo's pool whose application connections use :class:`LeanConnection`.

    Monitoring pools (``is_sdam``) keep PyMongo's connections: their streaming
    checks are cancelled through the poll this module replaces.

    Checking an idle connection out and back in is PyMongo's accounting without
    its locks when nobody holds them or waits (for the lock, a pool slot or a
    connection): PyMongo takes its lock five times to check out and once to
    check in, and none of those suspends when nobody waits, so doing the same
    steps without them is the same thing. Anything else (a full pool, a
    connection to make or to close as perished, a paused or closed pool, a
    fork) is PyMongo's own method. CMAP events are emitted by PyMongo's code
    around these methods, in the same order.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if type(self.lock) is pymongo.lock.Lock:  # nobody has used them yet
            self.lock = QuickLock()
            self.size_cond = QuickCondition(self.lock)
            self._max_connecting_cond = QuickCondition(self.lock)

    def _nobody_waits(self) -> bool:
        lock = self.lock
        return not (
            lock._locked
            or lock._waiters
            or self.size_cond._waiters
            or self._max_connecting_cond._waiters
        )

    async def _get_conn(self, checkout_started_time: float, handler: Any = None) -> AsyncConnection:
        conn = self._check_out_idle()
        if conn is None:
            return await super()._get_conn(checkout_started_time, handler)
        return conn

    def _check_out_idle(self) -> AsyncConnection | None:
        """The most recently used idle connection, checked out; None for PyMongo's path."""
        if not (
            self.conns
            and self._nobody_waits()
            and self.state == PoolState.READY
            and not self.closed
            and self.requests < self.max_pool_size
            and self.pid == os.getpid()
        ):
            return None
        conn = self.conns[0]
        # PyMongo's _perished tests, without acting: a connection it would close
        # goes to PyMongo's path, which closes it and emits the event.
        idle = conn.idle_time_seconds()
        max_idle = self.opts.max_idle_time_seconds
        if max_idle is not None and idle > max_idle:
            return None
        interval = self._check_interval_seconds
        if interval is not None and (interval == 0 or idle > interval) and conn.conn_closed():
            return None
        if self.stale_generation(conn.generation, conn.service_id):
            return None
        self.conns.popleft()
        self.operation_count += 1
        self.requests += 1
        self.active_sockets += 1
        conn.active = True
        self.active_contexts.add(conn.cancel_context)
        return conn

    async def checkin(self, conn: AsyncConnection) -> None:
        if not self._nobody_waits() or self.pid != os.getpid():
            return await super().checkin(conn)
        txn, cursor = conn.pinned_txn, conn.pinned_cursor
        conn.active = conn.pinned_txn = conn.pinned_cursor = False
        self._pinned_sockets.discard(conn)
        # PyMongo's own accounting; its notifications would find nobody to wake.
        reason, emit_closed, _ = self._checkin_apply(conn, txn, cursor, False)
        telemetry = self._telemetry
        if telemetry._should_publish or (telemetry._log and _is_debug_enabled(_CONNECTION_LOGGER)):
            telemetry.checked_in(conn.id)
        if emit_closed:
            telemetry.connection_closed(conn.id, ConnectionClosedReason.ERROR)
        if reason is not None:
            await conn.close_conn(reason)

    async def connect(self, handler: Any = None) -> AsyncConnection:
        conn = await super().connect(handler)
        if (
            not self.is_sdam
            and type(conn) is AsyncConnection
            and type(conn.cancel_context) is _CancellationContext
        ):
            # New objects holding the same state (see lean_reading.moved_into).
            conn = lean_reading.moved_into(LeanConnection, conn)
            context = _WakingContext()
            if conn.cancel_context.cancelled:
                context.cancel()
            if conn.cancel_context in self.active_contexts:
                self.active_contexts.discard(conn.cancel_context)
                self.active_contexts.add(context)
            conn.cancel_context = context
            lean_reading.adopt(conn)
        return conn


class LeanConnection(AsyncConnection):
    """An ``AsyncConnection`` that sends and receives without tasks of its own."""

    async def send_message(self, message: bytes, max_doc_size: int) -> None:
        if self.max_bson_size is not None and max_doc_size > self.max_bson_size:
            return await super().send_message(message, max_doc_size)  # PyMongo's error
        try:
            protocol = self.conn.get_conn
            timeout = protocol.gettimeout
            if timeout is not None and timeout <= 0:
                raise TimeoutError("timed out")  # what wait_for gives a spent timeout
            # The protocol's write never waits (its buffer limit is the largest
            # message), so PyMongo's wait_for around it can only time out when spent.
            await protocol.write(message)
        except BaseException as error:
            await self._raise_connection_failure(error)

    async def receive_message(self, request_id: int | None) -> Any:
        protocol = self.conn.get_conn
        if protocol._done_messages or protocol.transport is None:
            return await super().receive_message(request_id)  # a reply read ahead: rare
        try:
            return await self._receive(protocol, request_id)
        except BaseException as error:
            await self._raise_connection_failure(error)

    async def _receive(self, protocol: Any, request_id: int | None) -> Any:
        transport = protocol.transport
        try:
            transport.resume_reading()
        except AttributeError:  # an SSL transport already closed (Python < 3.11)
            raise OSError("connection is already closed") from None
        protocol._max_message_size = max_size = self.max_message_size
        if transport.is_closing():
            raise OSError("connection is already closed")
        context = self.cancel_context
        if context.cancelled:
            raise _OperationCancelled("operation cancelled")
        loop = asyncio.get_running_loop()
        waiter = loop.create_future()
        protocol._pending_messages.append(waiter)
        deadline = _deadline(protocol)
        timer = None
        if deadline is not None:
            timer = loop.call_later(max(deadline - time.monotonic(), 0.0), _time_out, waiter)
        context.waiter = waiter
        try:
            message = await waiter
        finally:
            context.waiter = None
            if timer is not None:
                timer.cancel()
            if waiter in protocol._done_messages:
                protocol._done_messages.remove(waiter)
        if not message:
            raise OSError("connection closed")
        op_code, compressor_id, response_to, data = message
        if request_id is not None and request_id != response_to:
            raise ProtocolError(f"reply to request {response_to!r}, expected {request_id!r}")
        if compressor_id is not None:
            data = decompress(data, compressor_id, max_size - 16)
        unpack = _UNPACK_REPLY.get(op_code)
        if unpack is None:
            raise ProtocolError(f"reply with opcode {op_code!r}, expected {list(_UNPACK_REPLY)}")
        return unpack(data)


def _deadline(protocol: Any) -> float | None:
    """When the read must give up (``time.monotonic()``), as PyMongo computes it."""
    if _csot.get_timeout():
        return _csot.get_deadline()
    timeout = protocol.gettimeout
    if timeout:
        return time.monotonic() + timeout
    return None


def _time_out(waiter: asyncio.Future) -> None:
    if not waiter.done():
        waiter.set_exception(TimeoutError("timed out"))


def _interrupt(waiter: asyncio.Future) -> None:
    if not waiter.done():
        waiter.set_exception(_OperationCancelled("operation cancelled"))


class _WakingContext(_CancellationContext):
    """PyMongo's cancellation flag of a connection, which also fails the read waiting on it.

    The pool cancels the contexts of the connections in use when it is reset
    (``interrupt_connections``); PyMongo's reader polls the flag every 0.5 s,
    this one is told at once.
    """

    def __init__(self) -> None:
        super().__init__()
        self.waiter: asyncio.Future | None = None

    def cancel(self) -> None:
        super().cancel()
        waiter = self.waiter
        if waiter is None or waiter.done():
            return
        loop = waiter.get_loop()
        if asyncio._get_running_loop() is loop:
            _interrupt(waiter)
        else:  # cancelled from another thread: the future belongs to its loop
            loop.call_soon_threadsafe(_interrupt, waiter)
