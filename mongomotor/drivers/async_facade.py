"""PyMongo's async API over the sync facade: one raw API on every driver.

    db = mongomotor.get_db()                          # an AsyncDatabaseFacade
    n = await db["post"].count_documents({})          # pymongo, motor and in memory alike
    async for row in db["post"].find({}).sort("n"): ...

What ``get_connection()``, ``get_db()`` and ``Document._get_collection()`` give
in user code. Each operation runs the sync facade's own call under
:func:`~mongomotor.runtime.bridge.run_sync`, so whatever the facade does for an
operation happens here too, on every driver: the task's session joins it,
counters see it, the in-memory driver yields and refuses what a server
refuses. Building these objects does no I/O. A method is an operation when
the driver's class defines it as one; any other name is a sub-database or
sub-collection, as in PyMongo. ``delegate`` is the driver's own object for
the running loop. They answer ``isinstance`` checks for PyMongo's async
classes (``AsyncDatabase``...); ``type()`` names the facade.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable
from typing import Any

from pymongo import AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.cursor import AsyncCursor
from pymongo.asynchronous.database import AsyncDatabase

from mongomotor.drivers.facade.client import SyncClient
from mongomotor.drivers.facade.collection import SyncCollection
from mongomotor.drivers.facade.cursor import _CHAINABLE, SyncCursor
from mongomotor.drivers.facade.database import SyncDatabase
from mongomotor.drivers.facade.dispatch import _METHOD, _MISSING, _attribute_kind
from mongomotor.runtime.bridge import coroutine_function, in_bridge, named, run_sync
from mongomotor.runtime.observers import record_operation

__all__ = [
    "AsyncClientFacade",
    "AsyncCollectionFacade",
    "AsyncCursorFacade",
    "AsyncDatabaseFacade",
    "async_facade",
    "sync_facade",
]


def async_facade(sync: Any) -> Any:
    """The async facade of a sync facade object (the same one each time); others as they are.

        collection = async_facade(Post._get_db()["post"])
    """
    kind = _ASYNC_OF.get(type(sync))
    if kind is None:
        if isinstance(sync, SyncClient):  # a driver's subclass of SyncClient
            kind = AsyncClientFacade
        else:
            return sync
    if kind is AsyncCursorFacade:
        return AsyncCursorFacade(sync)  # a cursor is read once: no sharing
    facade = sync.__dict__.get("_async_facade")
    if facade is None:
        facade = sync._async_facade = kind(sync)
    return facade


def sync_facade(value: Any) -> Any:
    """The sync facade behind an async facade object; anything else as it is.

        QuerySet(Post, sync_facade(Post._get_collection()))
    """
    return value._sync if isinstance(value, _AsyncFacade) else value


class _AsyncFacade:
    """Attribute dispatch: operations become coroutine functions, values pass through."""

    _sync: Any

    def __init__(self, sync: Any) -> None:
        self._sync = sync

    @property
    def delegate(self) -> Any:
        """The driver's own object for the running loop (``AsyncMongoClient``, ...)."""
        return self._sync._facade_target()

    # Handed back into the driver (``client.drop_database(db)``), it is unwrapped.
    def _facade_target(self) -> Any:
        return self._sync._facade_target()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        kind = _attribute_kind(type(self._sync._facade_target()), name)
        if kind is _METHOD:
            operation = self.__dict__[name] = _operation(self, name)
            return operation
        if kind is _MISSING:
            return self[name]  # type: ignore[index]  # as in PyMongo: ``db.things``
        return getattr(self._sync._facade_target(), name)

    def __getitem__(self, name: str) -> Any:
        return async_facade(self._sync[name])

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        # ``coll.fnd({})``: the sync facade's error says the method does not exist.
        return self._sync(*args, **kwargs)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other._sync == self._sync  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash(self._sync)

    def __repr__(self) -> str:
        return repr(self._sync).replace("<mongomotor ", "<mongomotor async ", 1)


def _operation(facade: _AsyncFacade, name: str) -> Callable[..., Any]:
    method = getattr(facade._sync, name)
    # A forgotten await warns "coroutine 'AsyncCollectionFacade.insert_one' was never awaited".
    qualname = f"{type(facade).__name__}.{name}"

    def operation(*args: Any, **kwargs: Any) -> Any:
        if in_bridge():  # sync code given this object (run_sync(coll.bulk_write, ...)): as sync
            return method(*args, **kwargs)
        return named(_awaited(method, args, kwargs), qualname)

    operation.__name__ = name
    operation.__qualname__ = qualname
    return coroutine_function(operation)


async def _awaited(method: Callable[..., Any], args: tuple, kwargs: dict) -> Any:
    return async_facade(await run_sync(method, *args, **kwargs))


class AsyncClientFacade(_AsyncFacade):
    """``get_connection()`` in user code: the async API of ``AsyncMongoClient``.

        names = await get_connection().list_database_names()
    """

    _sync: SyncClient

    @property  # type: ignore[misc]
    def __class__(self) -> type:  # isinstance(x, AsyncMongoClient), on every driver
        return AsyncMongoClient

    def get_database(self, name: str | None = None, **options: Any) -> AsyncDatabaseFacade:
        return async_facade(self._sync.get_database(name, **options))

    def start_session(self, **options: Any) -> Any:
        """A driver session, for ``async with client.start_session() as s`` (``session=s``).

        mongomotor's own ``start_session()`` / ``run_in_transaction()`` blocks
        work on every driver and need no ``session=`` argument.
        """
        backend = self._sync.backend
        return backend.start_driver_session(self._sync.for_running_loop(), options)

    async def server_info(self) -> dict[str, Any]:
        return await run_sync(self._sync.server_info)


class AsyncDatabaseFacade(_AsyncFacade):
    """``get_db()`` in user code: the async API of PyMongo's ``AsyncDatabase``.

        await get_db().command("ping")
    """

    _sync: SyncDatabase

    @property  # type: ignore[misc]
    def __class__(self) -> type:  # isinstance(x, AsyncDatabase), on every driver
        return AsyncDatabase

    @property
    def name(self) -> str | None:
        return self._sync.name

    @property
    def client(self) -> AsyncClientFacade:
        return async_facade(self._sync.client)

    def get_collection(self, name: str, **options: Any) -> AsyncCollectionFacade:
        return async_facade(self._sync.get_collection(name, **options))

    def with_options(self, **options: Any) -> AsyncDatabaseFacade:
        return async_facade(self._sync.with_options(**options))


class AsyncCollectionFacade(_AsyncFacade):
    """``Document._get_collection()`` in user code: PyMongo's ``AsyncCollection`` API.

        await Post._get_collection().count_documents({"published": True})
    """

    _sync: SyncCollection

    @property  # type: ignore[misc]
    def __class__(self) -> type:  # isinstance(x, AsyncCollection), on every driver
        return AsyncCollection

    @property
    def name(self) -> str:
        return self._sync.name

    @property
    def full_name(self) -> str:
        return self._sync.full_name

    @property
    def database(self) -> AsyncDatabaseFacade:
        return async_facade(self._sync.database)

    def with_options(self, **options: Any) -> AsyncCollectionFacade:
        return async_facade(self._sync.with_options(**options))

    def find(self, *args: Any, **kwargs: Any) -> AsyncCursorFacade:
        """A cursor (no I/O until read), as ``AsyncCollection.find``."""
        cursor = self._sync.find(*args, **kwargs)
        return cursor if in_bridge() else AsyncCursorFacade(cursor)

    async def watch(self, pipeline: list | None = None, **options: Any) -> Any:
        """An open change stream of this collection (``async for change in stream``)."""
        record_operation("aggregate")
        backend = self._sync._client.backend
        target = self._sync._facade_target()
        return await backend.open_change_stream(target, pipeline or [], options)


class AsyncCursorFacade:
    """A cursor with the API of PyMongo's ``AsyncCursor``: chain, then ``async for``.

        rows = await coll.find({}).sort("n").limit(10).to_list()
    """

    def __init__(self, sync: SyncCursor) -> None:
        self._sync = sync

    @property  # type: ignore[misc]
    def __class__(self) -> type:  # isinstance(cursor, AsyncCursor), on every driver
        return AsyncCursor

    def __getattr__(self, name: str) -> Any:
        if name in _CHAINABLE:
            return functools.partial(self._chain, name)
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._sync, name)

    def _chain(self, name: str, *args: Any, **kwargs: Any) -> AsyncCursorFacade:
        getattr(self._sync, name)(*args, **kwargs)
        return self

    def clone(self) -> AsyncCursorFacade:
        return AsyncCursorFacade(self._sync.clone())

    def rewind(self) -> AsyncCursorFacade:
        self._sync.rewind()
        return self

    @property
    def collection(self) -> Any:
        return async_facade(self._sync.collection)

    def __aiter__(self) -> AsyncCursorFacade:
        return self

    async def __anext__(self) -> Any:
        sync = self._sync
        if sync.buffered:  # read with the last batch: no round trip
            return next(sync)
        rows = await run_sync(_read, sync, 1)
        if not rows:
            raise StopAsyncIteration
        return rows[0]

    next = __anext__

    async def to_list(self, length: int | None = None) -> list[Any]:
        """The next ``length`` documents (every one left when None)."""
        if length is not None and (not isinstance(length, int) or length < 1):
            raise ValueError(f"to_list() length must be a positive integer or None, got {length!r}")
        return await run_sync(_read, self._sync, length)

    async def explain(self) -> Any:
        return await run_sync(self._sync.explain)

    async def distinct(self, key: str) -> list[Any]:
        return await run_sync(self._sync.distinct, key)

    async def close(self) -> None:
        await run_sync(self._sync.close)

    async def __aenter__(self) -> AsyncCursorFacade:
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.close()

    def __repr__(self) -> str:
        return repr(self._sync).replace("<mongomotor ", "<mongomotor async ", 1)


def _read(cursor: SyncCursor, length: int | None) -> list[Any]:
    # In the bridge: one switch per server batch, however many batches.
    return list(itertools.islice(cursor, length))


_ASYNC_OF: dict[type, type] = {
    SyncDatabase: AsyncDatabaseFacade,
    SyncCollection: AsyncCollectionFacade,
    SyncCursor: AsyncCursorFacade,
}
