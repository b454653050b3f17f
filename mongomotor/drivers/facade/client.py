"""The client facade: one per alias, a driver client per event loop, closed cleanly.

    client = SyncClient(host="mongodb://localhost:27017")   # no I/O
    client["blog"]["post"].find_one()                        # in the bridge
"""

from __future__ import annotations

import asyncio
import inspect
import re
import threading
from typing import Any, ClassVar

from pymongo import MongoClient
from pymongo.errors import InvalidOperation

from mongomotor.drivers.backend import Backend
from mongomotor.drivers.facade.collection import SyncCollection
from mongomotor.drivers.facade.cursor import SyncCursor
from mongomotor.drivers.facade.database import SyncDatabase
from mongomotor.drivers.facade.dispatch import _COROUTINE, _Facade
from mongomotor.drivers.facade.sessions import session_for
from mongomotor.runtime.aio import keep_alive
from mongomotor.runtime.bridge import await_, in_bridge
from mongomotor.runtime.observers import record_operation
from mongomotor.runtime.task_state import sessions

_get_running_loop = asyncio._get_running_loop  # None outside a loop: no exception raised


class SyncClient(_Facade):
    """A loop-independent stand-in for ``pymongo.MongoClient``.

    ``SyncClient(host=..., **options)`` is what ``mongo_client_class`` builds;
    the driver's own client is created lazily, once per running event loop.
    """

    #: The driver: every hook the facade calls (:class:`~mongomotor.drivers.backend.Backend`).
    backend: ClassVar[Backend]

    @property  # type: ignore[misc]
    def __class__(self) -> type:  # isinstance(client, pymongo.MongoClient)
        return MongoClient

    def __init__(self, *args: Any, **settings: Any) -> None:
        if args:
            settings["host"] = args[0]
        self._client = self
        self._settings = settings
        self._per_loop: dict[asyncio.AbstractEventLoop, Any] = {}
        self._closers: dict[asyncio.AbstractEventLoop, Any] = {}
        self._lock = threading.Lock()

    # -- per-loop clients -------------------------------------------------
    def for_running_loop(self) -> Any:
        """The driver's client for the running event loop, created on first use."""
        loop = _get_running_loop()
        client = self._per_loop.get(loop)
        if client is not None:
            return client
        if not self.backend.loop_bound:
            self._refuse_if_closed()
            return self.backend.shared_client(self)
        if loop is None:
            raise RuntimeError(
                "mongomotor: database access needs a running event loop; "
                "await the call inside a coroutine"
            )
        return self._create_for(loop)

    _facade_target = for_running_loop

    def _create_for(self, loop: asyncio.AbstractEventLoop) -> Any:
        self._refuse_if_closed()
        with self._lock:
            for old in [lp for lp in self._per_loop if lp.is_closed()]:
                self._per_loop.pop(old, None)
                self._closers.pop(old, None)
            client = self._per_loop.get(loop)
            if client is None:
                client = self.backend.create_client(dict(self._settings))
                self._per_loop[loop] = client
                self._closers[loop] = _close_at_loop_shutdown(self.backend, client)
        return client

    _closed = False

    def _refuse_if_closed(self) -> None:
        if self._closed:  # as PyMongo's MongoClient after close()
            raise InvalidOperation(
                "mongomotor: this client was closed (disconnect() closes it): "
                "connect() the alias again and use its new client"
            )

    def close(self) -> Closing | None:
        """Close every per-loop client without creating or blocking any loop.

        Inside the bridge, and for loops that do not run, the clients are
        closed when this returns (None). In a coroutine the running loop's
        client closes in a task, started at once; the :class:`Closing`
        returned waits for it (``await client.close()``).
        """
        self._closed = True
        shared = self.__dict__.pop("_shared", None)
        if shared is not None:
            self.backend.discard_shared_client(shared)
        with self._lock:
            items = list(self._per_loop.items())
            self._per_loop.clear()
            closers = dict(self._closers)
            self._closers.clear()
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        pending = None
        for loop, client in items:
            closer = closers.get(loop)
            if loop.is_closed():
                continue
            if loop is running and not in_bridge():
                pending = keep_alive(loop.create_task(_close_client(self.backend, client, closer)))
                continue
            if closer is not None:
                closer.cancel_shutdown_close()
            coro = self.backend.close_client(client)
            if loop is running:
                await_(coro)
            elif loop.is_running():
                asyncio.run_coroutine_threadsafe(coro, loop)
            else:
                loop.run_until_complete(coro)
        return None if pending is None else Closing(pending)

    # -- facade -----------------------------------------------------------
    def __getitem__(self, name: str) -> SyncDatabase:
        return SyncDatabase(self, name)

    def get_database(self, name: str | None = None, **options: Any) -> SyncDatabase:
        return SyncDatabase(self, name, options)

    def server_info(self) -> dict[str, Any]:
        """The server's ``buildInfo`` reply, as ``MongoClient.server_info()`` (in the bridge)."""
        record_operation("command")
        return self.adapt(self.backend.server_info(self.for_running_loop()))

    def _missing_attribute(self, name: str) -> Any:
        if hasattr(MongoClient, name):  # a client attribute this driver's client lacks
            raise AttributeError(
                f"the {self.backend.name} driver's client has no {name}: "
                "connect to a server with the pymongo or motor driver to read it"
            )
        return self[name]  # as in PyMongo: ``client.admin`` is a database

    def __getattr__(self, name: str) -> Any:
        if name == "_options":  # PyMongo's private name for options (MongoEngine's tests read it)
            name = "options"
        return _Facade.__getattr__(self, name)

    def adapt(self, value: Any, owner: Any = None) -> Any:
        """Await driver awaitables (inside the bridge) and wrap driver cursors.

        ``owner`` is the facade whose operation returned ``value``: a command
        cursor (``aggregate``) of a collection knows that collection.
        """
        if type(value) is _COROUTINE:  # what async drivers' operations return, mostly
            backend = self.backend
            if backend.guards_operations:
                value = backend.guard_operation(self, value)
            return self.adapt(await_(value), owner)
        if self.backend.is_cursor(value):
            collection = owner if type(owner) is SyncCollection else None
            return SyncCursor(self, collection=collection, real=value)
        if inspect.isawaitable(value):
            return self.adapt(await_(value), owner)
        return value

    def add_session(self, kwargs: dict[str, Any]) -> None:
        """Operations join the task's current session (emulated sessions are never sent)."""
        if sessions.get() and "session" not in kwargs and not self.backend.emulates_transactions:
            session = session_for(self)
            if session is not None:
                kwargs["session"] = session

    def __repr__(self) -> str:
        return f"<mongomotor {self.backend.name} client {redact(self._settings.get('host'))!r}>"


_USERINFO_PASSWORD = re.compile(r"(://[^:@/]*):[^@/]*@")


def redact(host: Any) -> Any:
    """``host`` (a URI, or a list of them) with any password replaced by ``***``."""
    if isinstance(host, str):
        return _USERINFO_PASSWORD.sub(r"\1:***@", host)
    if isinstance(host, (list, tuple)):
        return type(host)(redact(h) for h in host)
    return host


class _ShutdownCloser:
    """Closes a loop's client when the loop shuts down its async generators.

    ``asyncio.run`` (and pytest-asyncio's runner) finalize every live async
    generator while the loop still runs: the one place a client bound to that
    loop can still be closed properly.
    """

    def __init__(self, backend: Backend, client: Any) -> None:
        self._active = True
        self._agen = self._wait_for_shutdown(backend, client)
        try:
            self._agen.asend(None).send(None)
        except StopIteration:
            pass

    async def _wait_for_shutdown(self, backend: Backend, client: Any):  # type: ignore[no-untyped-def]
        try:
            yield
        finally:
            if self._active:
                await backend.close_client(client)

    def cancel_shutdown_close(self) -> None:
        self._active = False


def _close_at_loop_shutdown(backend: Backend, client: Any) -> _ShutdownCloser:
    return _ShutdownCloser(backend, client)


async def _close_client(backend: Backend, client: Any, closer: _ShutdownCloser | None) -> None:
    # The loop-shutdown closer stays armed until the close is done: a close
    # task cancelled by asyncio.run's shutdown still ends with a closed client.
    await backend.close_client(client)
    if closer is not None:
        closer.cancel_shutdown_close()


class Closing:
    """Awaitable: the close of a client, running as a task of the loop.

        await client.close()   # returns once the driver's client is closed

    Not awaited, the close still runs. Cancelling the awaiting task does not
    cancel the close.
    """

    __slots__ = ("_task",)

    def __init__(self, task: asyncio.Task) -> None:
        self._task = task

    def __await__(self) -> Any:
        return asyncio.shield(self._task).__await__()

