"""PyMongo's sync API over an async driver: what MongoEngine talks to.

MongoEngine holds one :class:`SyncClient` per alias. It is tied to no event
loop: each I/O call finds the real async client of the running loop, starts
the driver's coroutine and waits for it with :func:`~mongomotor.bridge.await_`.
Databases, collections and cursors are lazy descriptions until they do I/O,
so building a QuerySet or defining a Document never touches the network.

Facade clients, databases and collections answer ``isinstance`` checks for
PyMongo's sync ``MongoClient``, ``Database`` and ``Collection`` (code ported from
MongoEngine, and sync ``gridfs.GridFS``, test for them); ``type()`` still names
the facade class.
"""

from __future__ import annotations

import asyncio
import collections
import functools
import inspect
import re
import threading
import types
from collections.abc import Generator
from typing import Any, ClassVar

from pymongo import MongoClient
from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.errors import InvalidOperation

from mongomotor import sessions
from mongomotor.bridge import await_, in_bridge
from mongomotor.drivers import memory_changes
from mongomotor.monitoring import record_operation

_MISSING = object()
_COROUTINE = types.CoroutineType


class _YieldOnce:
    """An awaitable that gives the event loop one turn (as ``asyncio.sleep(0)``, cheaper)."""

    __slots__ = ()

    def __await__(self) -> Generator[None, None, None]:
        yield


YIELD = _YieldOnce()


class Backend:
    """What the facade needs from one async driver; subclass it to add a driver.

        class LoggingBackend(PyMongoAsyncBackend): ...
        mongomotor.drivers.register_driver("logged", LoggingBackend)

    A backend is made once per registered name and shared by every alias and
    event loop: keep per-client state on the client, not on the backend.
    Built-in ones: ``pymongo_async.PyMongoAsyncBackend``,
    ``motor.MotorBackend``, ``memory.MemoryBackend``.
    """

    name: ClassVar[str] = ""
    #: A ``find`` with no ``batch_size`` of its own asks for batches this large, so
    #: that decoding one batch (which the driver does in one go) never holds the
    #: event loop for long: a 16 MiB batch of small documents takes ~100 ms to
    #: decode, a batch of 1000 about 2 ms. None leaves the server's default.
    default_batch_size: ClassVar[int | None] = 1000

    def create_client(self, settings: dict[str, Any]) -> Any:
        """A new driver client for the running loop; ``settings`` are MongoEngine's (host, ...).

        The client must offer PyMongo's async API: ``client[db][coll].insert_one(...)``
        returning an awaitable (or a plain value, as mongomock does).
        """
        raise NotImplementedError

    async def close_client(self, client: Any) -> None:
        """Close a client made by :meth:`create_client` (on the loop it was made on)."""
        raise NotImplementedError

    def is_cursor(self, value: Any) -> bool:
        """Whether an operation's result is a driver cursor (``find``, ``aggregate``)."""
        raise NotImplementedError

    def apply_cursor_option(self, cursor: Any, name: str, args: tuple, kwargs: dict) -> None:
        """Apply a chained cursor call (``sort``, ``limit``, ``comment``...) to ``cursor``."""
        getattr(cursor, name)(*args, **kwargs)

    async def fetch_batch(self, cursor: Any) -> list[Any]:
        """The documents the next round trip gives, empty when exhausted.

        A driver without I/O (mongomock) may return the list instead of a coroutine.
        """
        raise NotImplementedError

    def explain(self, cursor: Any) -> Any:
        """The server's plan for the driver cursor ``cursor`` (an awaitable, or the value)."""
        return cursor.explain()


def unwrap(value: Any) -> Any:
    """The driver object behind a facade object (facades handed back into the driver)."""
    target = getattr(value, "_facade_target", None)
    return target() if target is not None else value


class _Facade:
    """Dispatch of any other driver attribute: awaitables are awaited in the bridge."""

    _client: SyncClient

    def _facade_target(self) -> Any:
        raise NotImplementedError

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        target = self._facade_target()
        kind = _attribute_kind(type(target), name)
        if kind is _METHOD:
            # Kept on the facade: a driver's method stays a method, and the next
            # ``collection.insert_one`` is a plain attribute read.
            operation = self.__dict__[name] = functools.partial(self._call, name)
            return operation
        if kind is _MISSING:
            return self._missing_attribute(name)
        return self._client.adapt(getattr(target, name))

    def _missing_attribute(self, name: str) -> Any:
        # As in PyMongo: ``client.admin`` is a database, ``db.things`` a collection.
        return self[name]  # type: ignore[index]

    def _call(self, name: str, /, *args: Any, **kwargs: Any) -> Any:
        # ``name`` is positional-only: operations take a ``name=`` keyword too
        # (``create_index(keys, name="by_date")``).
        if args:
            args = tuple(unwrap(a) for a in args)
        if kwargs:
            kwargs = {k: unwrap(v) for k, v in kwargs.items()}
        target = self._facade_target()
        if sessions.active():
            name, args = sessions.prepare_call(self._client, target, name, args, kwargs)
        record_operation(name)
        method = getattr(target, name)
        client = self._client
        if client.checks_calls:
            client.before_call(name, args, kwargs)
        if memory_changes.WATCHING:  # an in-memory change stream is open
            return client.adapt(memory_changes.observe(target, name, method, args, kwargs), self)
        return client.adapt(method(*args, **kwargs), self)


_METHOD = object()
_VALUE = object()


@functools.lru_cache(maxsize=1024)
def _attribute_kind(driver_class: type, name: str) -> object:
    """Whether ``name`` is an operation, a plain value, or absent on a driver class.

    Collections and databases answer any name with a sub-object (and define
    ``__call__``), so only what the class itself defines counts, and a
    property is a value even when what it returns is callable.
    """
    attribute = getattr(driver_class, name, _MISSING)
    if attribute is _MISSING:
        return _MISSING
    if isinstance(attribute, property) or not callable(attribute):
        return _VALUE
    return _METHOD


class SyncClient(_Facade):
    """A loop-independent stand-in for ``pymongo.MongoClient``.

    ``SyncClient(host=..., **options)`` is what ``mongo_client_class`` builds;
    the driver's own client is created lazily, once per running event loop.
    """

    backend: ClassVar[Backend]
    # Drivers whose calls never leave the thread (the in-memory one) set this and
    # ``before_call`` to yield to the loop and refuse what a server refuses.
    checks_calls: ClassVar[bool] = False

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
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            raise RuntimeError(
                "mongomotor: database access needs a running event loop; "
                "await the call inside a coroutine"
            ) from None
        client = self._per_loop.get(loop)
        if client is None:
            client = self._create_for(loop)
        return client

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
                pending = loop.create_task(_close_client(self.backend, client, closer))
                _keep_until_done(pending)
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

    def before_call(self, name: str, args: tuple, kwargs: dict) -> None:
        """Hook run before each operation when ``checks_calls`` is set."""

    @property
    def _options(self) -> Any:
        # PyMongo's private name for ``options``; MongoEngine's tests read it.
        return self.options

    def adapt(self, value: Any, owner: Any = None) -> Any:
        """Await driver awaitables (inside the bridge) and wrap driver cursors.

        ``owner`` is the facade whose operation returned ``value``: a command
        cursor (``aggregate``) of a collection knows that collection.
        """
        if type(value) is _COROUTINE:  # what async drivers' operations return, mostly
            return self.adapt(await_(value), owner)
        if self.backend.is_cursor(value):
            collection = owner if type(owner) is SyncCollection else None
            return SyncCursor(self, collection=collection, real=value)
        if inspect.isawaitable(value):
            return self.adapt(await_(value), owner)
        return value

    def add_session(self, kwargs: dict[str, Any]) -> None:
        """Hook: operations join the task's current session (see ``sessions``)."""
        if sessions.active() and "session" not in kwargs:
            session = sessions.session_for(self)
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


class _Nested(_Facade):
    """A database or collection: its driver object is built from its parent's, per loop."""

    _cache: tuple[Any, Any] | None = None
    name: str | None

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        # ``coll.fnd({})`` reaches here: ``coll.fnd`` is a sub-collection.
        name = self.name or ""
        raise TypeError(
            f"{type(self).__name__} {name!r} is not callable: if {name.rpartition('.')[2]!r} "
            "was meant as a method, the driver has no method of that name"
        )

    def _build(self, parent: Any) -> Any:
        raise NotImplementedError

    def _driver_object_under(self, parent: Any) -> Any:
        # The parent changes only when another loop's client is in use.
        cache = self._cache
        if cache is not None and cache[0] is parent:
            return cache[1]
        real = self._build(parent)
        self._cache = (parent, real)
        return real


class SyncDatabase(_Nested):
    """A lazy stand-in for ``pymongo.database.Database``."""

    def __init__(self, client: SyncClient, name: str | None, options: dict | None = None):
        self._client = client
        self.name = name
        self._options = options or {}
        # One facade per name, so its per-loop driver collection is built once.
        self._collections: dict[str, SyncCollection] = {}

    @property  # type: ignore[misc]
    def __class__(self) -> type:  # isinstance(db, pymongo.database.Database)
        return Database

    def _facade_target(self) -> Any:
        return self._driver_object_under(self._client.for_running_loop())

    def _build(self, real_client: Any) -> Any:
        return real_client.get_database(self.name, **self._options)

    @property
    def client(self) -> SyncClient:
        return self._client

    def __getitem__(self, name: str) -> SyncCollection:
        collection = self._collections.get(name)
        if collection is None:
            collection = self._collections[name] = SyncCollection(self, name)
        return collection

    def get_collection(self, name: str, **options: Any) -> SyncCollection:
        return SyncCollection(self, name, {k: v for k, v in options.items() if v is not None})

    def with_options(self, **options: Any) -> SyncDatabase:
        """This database with other codec options, read preference or concerns (no I/O)."""
        merged = {**self._options, **{k: v for k, v in options.items() if v is not None}}
        return SyncDatabase(self._client, self.name, merged)

    def create_collection(self, name: str, **kwargs: Any) -> SyncCollection:
        self._call("create_collection", name, **kwargs)
        return SyncCollection(self, name)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, SyncDatabase)
            and other._client is self._client
            and other.name == self.name
        )

    def __hash__(self) -> int:
        return hash((id(self._client), self.name))

    def __repr__(self) -> str:
        return f"<mongomotor database {self.name!r} of {self._client!r}>"


class SyncCollection(_Nested):
    """A lazy stand-in for ``pymongo.collection.Collection``."""

    def __init__(self, database: SyncDatabase, name: str, options: dict | None = None):
        self._database = database
        self._client = database._client
        self.name = name
        self._options = options or {}
        self._derived: list[tuple[dict[str, Any], SyncCollection]] = []

    @property  # type: ignore[misc]
    def __class__(self) -> type:  # isinstance(coll, pymongo.collection.Collection)
        return Collection

    def _facade_target(self) -> Any:
        return self._driver_object_under(self._database._facade_target())

    def _build(self, real_db: Any) -> Any:
        return real_db.get_collection(self.name, **self._options)

    @property
    def database(self) -> SyncDatabase:
        return self._database

    @property
    def full_name(self) -> str:
        return f"{self._database.name}.{self.name}"

    def __getitem__(self, name: str) -> SyncCollection:
        return SyncCollection(self._database, f"{self.name}.{name}", self._options)

    def with_options(self, **options: Any) -> SyncCollection:
        merged = {**self._options, **{k: v for k, v in options.items() if v is not None}}
        # MongoEngine asks for the same options on every save: reuse the facade
        # (and the driver collection it caches) instead of rebuilding both.
        # Options (WriteConcern, ReadPreference) are unhashable but compare equal.
        for known, derived in self._derived:
            if known == merged:
                return derived
        if len(self._derived) >= 32:
            self._derived.clear()
        derived = SyncCollection(self._database, self.name, merged)
        self._derived.append((merged, derived))
        return derived

    def find(self, *args: Any, **kwargs: Any) -> SyncCursor:
        return SyncCursor(self._client, collection=self, args=args, kwargs=kwargs)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, SyncCollection)
            and other._database == self._database
            and other.name == self.name
        )

    def __hash__(self) -> int:
        return hash((self._database, self.name))

    def __repr__(self) -> str:
        return f"<mongomotor collection {self.full_name!r}>"


def _check_count(what: str) -> Any:
    def check(value: Any) -> None:
        if not isinstance(value, int):
            raise TypeError(f"{what} must be an integer, not {type(value)}")
        if what != "limit" and value < 0:
            raise ValueError(f"{what} must be >= 0")

    return check


def _check_milliseconds(what: str) -> Any:
    def check(value: Any) -> None:
        if value is not None and not isinstance(value, int):
            raise TypeError(f"{what} must be an integer or None, not {type(value)}")

    return check


# Checks PyMongo's sync cursor makes when an option is chained (a negative
# limit is allowed: it asks for a single batch).
_CHAIN_CHECKS = {
    "skip": _check_count("skip"),
    "limit": _check_count("limit"),
    "batch_size": _check_count("batch_size"),
    "max_time_ms": _check_milliseconds("max_time_ms"),
    "max_await_time_ms": _check_milliseconds("max_await_time_ms"),
}

_CHAINABLE = frozenset(
    {
        "sort", "limit", "skip", "hint", "collation", "batch_size", "comment",
        "where", "max_time_ms", "max_await_time_ms", "allow_disk_use", "max_scan",
        "max", "min", "remove_option",
    }
)


class SyncCursor:
    """A sync cursor that reads one server batch per greenlet switch.

    A ``find`` cursor is only a description (filter, options, chained calls)
    until the first document is asked for; ``clone``, slicing and indexing work
    on that description, as PyMongo's sync cursor does.
    """

    def __init__(
        self,
        client: SyncClient,
        collection: SyncCollection | None = None,
        args: tuple = (),
        kwargs: dict | None = None,
        real: Any = None,
    ) -> None:
        self._client = client
        self._collection = collection
        # A command cursor (aggregate, list_indexes) exists only as the driver's.
        self._command = real is not None
        self._args = args
        self._kwargs = kwargs or {}
        self._ops: list[tuple[str, tuple, dict]] = []
        self._real = real
        self._buffer: collections.deque = collections.deque()
        self._exhausted = False
        self._empty = False
        self._interrupted = False
        self._skip = self._kwargs.get("skip", 0) or 0
        self._limit = self._kwargs.get("limit", 0) or 0

    # -- description ----------------------------------------------------------
    def __getattr__(self, name: str) -> Any:
        if name in _CHAINABLE:
            return functools.partial(self._chain, name)
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._materialize(), name)

    def _chain(self, name: str, *args: Any, **kwargs: Any) -> SyncCursor:
        if self._real is not None:
            if self._command and name == "batch_size":
                return self
            raise InvalidOperation("cannot set options after executing query")
        check = _CHAIN_CHECKS.get(name)
        if check is not None and args:
            # PyMongo's sync cursor refuses a bad value here, when it is given.
            check(args[0])
        if name == "skip":
            self._skip = args[0]
        elif name == "limit":
            self._limit = args[0]
        self._ops.append((name, args, kwargs))
        return self

    def clone(self) -> SyncCursor:
        if self._command:
            raise InvalidOperation("a command cursor cannot be cloned")
        twin = SyncCursor(self._client, self._collection, self._args, dict(self._kwargs))
        twin._ops = list(self._ops)
        twin._skip, twin._limit, twin._empty = self._skip, self._limit, self._empty
        return twin

    __copy__ = clone

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            if index.step is not None:
                raise IndexError("cursors do not support slice steps")
            start = index.start or 0
            if start < 0 or (index.stop is not None and index.stop < start):
                raise IndexError("cursors do not support negative or reversed slices")
            self._chain("skip", start)
            self._chain("limit", 0 if index.stop is None else index.stop - start)
            self._empty = index.stop is not None and index.stop == start
            return self
        if isinstance(index, int):
            if index < 0:
                raise IndexError("cursors do not support negative indices")
            one = self.clone()
            one._chain("skip", self._skip + index)
            one._chain("limit", -1)
            for doc in one:
                return doc
            raise IndexError("no such item for cursor instance")
        raise TypeError(f"index {index!r} cannot be applied to a cursor")

    def _materialize(self) -> Any:
        if self._real is None:
            assert self._collection is not None
            kwargs = dict(self._kwargs)
            self._client.add_session(kwargs)
            real = self._collection._facade_target().find(*self._args, **kwargs)
            backend = self._client.backend
            batch_size = backend.default_batch_size
            for name, op_args, op_kwargs in self._ops:
                backend.apply_cursor_option(real, name, op_args, op_kwargs)
                if name == "batch_size":
                    batch_size = None
            if batch_size and "batch_size" not in kwargs:
                backend.apply_cursor_option(real, "batch_size", (batch_size,), {})
            self._real = real
        return self._real

    # -- reading --------------------------------------------------------------
    def __iter__(self) -> SyncCursor:
        return self

    def __next__(self) -> Any:
        if self._buffer:
            return self._buffer.popleft()
        if self._interrupted:
            raise InvalidOperation(
                "this cursor was interrupted (its task was cancelled or timed out) while "
                "reading a batch, which is lost: run the query again"
            )
        if self._exhausted or self._empty:
            raise StopIteration
        first = self._real is None
        real = self._materialize()
        if not first and not real.alive:
            # The server closed the cursor with the last batch: no round trip left.
            self._exhausted = True
            raise StopIteration
        record_operation("find" if first else "getMore")
        try:
            batch = self._client.adapt(self._client.backend.fetch_batch(real))
        except BaseException as exc:
            if not isinstance(exc, Exception):  # cancelled mid-read, not a server error
                self._interrupt()
            raise
        if not batch:
            self._exhausted = True
            raise StopIteration
        self._buffer.extend(batch)
        return self._buffer.popleft()

    next = __next__

    def _interrupt(self) -> None:
        # Reading on would silently skip the lost batch, or end early. Dropping
        # the driver's cursor lets the driver kill it on the server.
        self._interrupted = True
        self._real = None
        self._buffer.clear()

    @property
    def buffered(self) -> int:
        """Documents already received: readable without a round trip."""
        return len(self._buffer)

    @property
    def alive(self) -> bool:
        return bool(self._buffer) or not (self._exhausted or self._empty or self._interrupted)

    @property
    def collection(self) -> SyncCollection | None:
        return self._collection

    def rewind(self) -> SyncCursor:
        if self._command:
            raise InvalidOperation("a command cursor cannot be rewound")
        self._real = None
        self._buffer.clear()
        self._exhausted = self._interrupted = False
        return self

    def explain(self) -> Any:
        record_operation("explain")
        real = self.clone()._materialize()
        if self._client.checks_calls:
            self._client.before_call("explain", (), {})
        return self._client.adapt(self._client.backend.explain(real))

    def distinct(self, key: str) -> Any:
        record_operation("distinct")
        real = self.clone()._materialize()
        if self._client.checks_calls:
            self._client.before_call("distinct", (key,), {})
        return self._client.adapt(real.distinct(key))

    def close(self) -> None:
        real, self._real = self._real, None
        self._buffer.clear()
        self._exhausted = True
        if real is not None:
            self._client.adapt(real.close())

    def __repr__(self) -> str:
        return f"<mongomotor cursor on {self._collection!r}>"


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


_PENDING: set[asyncio.Task] = set()


def _keep_until_done(task: asyncio.Task) -> None:
    _PENDING.add(task)
    task.add_done_callback(_PENDING.discard)
