"""The one contract a driver fulfils: :class:`Backend`, every hook with its default.

    class LoggingBackend(PyMongoAsyncBackend): ...
    mongomotor.drivers.register_driver("logged", LoggingBackend)
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

from gridfs.asynchronous import AsyncGridFS

__all__ = ["Backend"]

Args = tuple[Any, ...]
Kwargs = dict[str, Any]


class Backend:
    """What mongomotor needs from one async driver; subclass it to add a driver.

        class LoggingBackend(PyMongoAsyncBackend): ...
        mongomotor.drivers.register_driver("logged", LoggingBackend)

    A backend is made once per driver name and shared by every alias and
    event loop: keep per-client state on the client (or on the facade passed
    to a hook), not on the backend. The facade (:mod:`mongomotor.drivers.facade`)
    calls these hooks and nothing above the drivers knows which driver runs.
    The defaults suit a driver with PyMongo's async API (``AsyncMongoClient``).
    Built-in ones: ``pymongo_async.PyMongoAsyncBackend``,
    ``motor.MotorBackend``, ``memory.MemoryBackend``.
    """

    name: ClassVar[str] = ""
    #: A ``find`` with no ``batch_size`` of its own asks for batches this large, so
    #: that decoding one batch (which the driver does in one go) never holds the
    #: event loop for long: a 16 MiB batch of small documents takes ~100 ms to
    #: decode, a batch of 1000 about 2 ms. None leaves the server's default.
    default_batch_size: ClassVar[int | None] = 1000

    # -- clients ----------------------------------------------------------------------
    #: True: a driver client belongs to the event loop it was made on, so each
    #: loop gets its own (:meth:`create_client`). False: one client serves every
    #: loop (:meth:`shared_client`), as mongomock's does.
    loop_bound: ClassVar[bool] = True

    def create_client(self, settings: dict[str, Any]) -> Any:
        """A new driver client for the running loop; ``settings`` are MongoEngine's (host, ...).

        The client must offer PyMongo's async API: ``client[db][coll].insert_one(...)``
        returning an awaitable (or a plain value, as mongomock does).
        """
        raise NotImplementedError

    async def close_client(self, client: Any) -> None:
        """Close a client made by :meth:`create_client` (on the loop it was made on)."""
        raise NotImplementedError

    def shared_client(self, facade: Any) -> Any:
        """The one client of ``facade`` for every loop (used when ``loop_bound`` is False)."""
        client = facade.__dict__.get("_shared")
        if client is None:
            client = facade._shared = self.create_client(dict(facade._settings))
        return client

    def discard_shared_client(self, client: Any) -> None:
        """Close the client :meth:`shared_client` made (``disconnect``, in sync code)."""
        client.close()

    # -- operations -------------------------------------------------------------------
    #: True: :meth:`before_call` runs before each operation (a driver whose calls
    #: never leave the thread yields to the loop there and refuses what a server refuses).
    checks_calls: ClassVar[bool] = False

    def before_call(self, facade: Any, name: str, args: Args, kwargs: Kwargs) -> None:
        """Hook run before each operation ``name`` of ``facade``'s client, when ``checks_calls``."""

    #: True: each operation's coroutine goes through :meth:`guard_operation` first.
    guards_operations: ClassVar[bool] = False

    def guard_operation(self, facade: Any, coroutine: Any) -> Any:
        """The awaitable the bridge waits for in place of an operation's ``coroutine``."""
        return coroutine

    #: True while :meth:`observe_write` must see every operation (a class
    #: attribute, or a property that is cheap: it is read for every operation).
    observes_writes: ClassVar[bool] = False

    def observe_write(
        self, target: Any, name: str, method: Callable[..., Any], args: Args, kwargs: Kwargs
    ) -> Any:
        """Run ``method(*args, **kwargs)`` (operation ``name`` of ``target``), seeing its writes."""
        return method(*args, **kwargs)

    # -- cursors ----------------------------------------------------------------------
    def is_cursor(self, value: Any) -> bool:
        """Whether an operation's result is a driver cursor (``find``, ``aggregate``)."""
        raise NotImplementedError

    def apply_cursor_option(self, cursor: Any, name: str, args: Args, kwargs: Kwargs) -> None:
        """Apply a chained cursor call (``sort``, ``limit``, ``comment``...) to ``cursor``."""
        getattr(cursor, name)(*args, **kwargs)

    def open_find_cursor(self, collection: Any, args: Args, kwargs: Kwargs, limit: int = 0) -> Any:
        """The driver cursor of ``collection.find(*args, **kwargs)``, before any chained call.

        ``limit`` is the limit the cursor will have once the chained calls are
        applied (0: none), for a driver that reads small results another way.

        A driver may give a cursor of its own here whose :meth:`fetch_batch` returns a
        :class:`~mongomotor.drivers.chunked_batches.DocumentBatch`: the facade then
        decodes the batch a chunk at a time, as the reader reaches it.
        """
        return collection.find(*args, **kwargs)

    async def fetch_batch(self, cursor: Any) -> list[Any]:
        """The documents the next round trip gives, empty when exhausted.

        A driver without I/O (mongomock) may return the list instead of a coroutine.
        """
        raise NotImplementedError

    def explain(self, cursor: Any) -> Any:
        """The server's plan for the driver cursor ``cursor`` (an awaitable, or the value)."""
        return cursor.explain()

    # -- sessions and transactions ----------------------------------------------------
    #: True: the driver runs sessions and transactions itself, never sent to a
    #: server (the in-memory driver); :meth:`start_emulated_session` opens one.
    emulates_transactions: ClassVar[bool] = False

    def start_emulated_session(self, facade: Any, client: Any) -> Any:
        """A session of the driver ``client`` whose transactions this backend emulates."""
        raise NotImplementedError(f"the {self.name!r} driver does not emulate transactions")

    def start_driver_session(self, client: Any, options: dict[str, Any]) -> Any:
        """A driver session of ``client`` for ``async with`` (the raw API's ``start_session``)."""
        return client.start_session(**options)

    # -- server facts -----------------------------------------------------------------
    def server_info(self, client: Any) -> Awaitable[dict[str, Any]] | dict[str, Any]:
        """The server's ``buildInfo`` reply (versions) for the driver ``client``."""
        return client["admin"].command("buildInfo")

    # -- change streams ---------------------------------------------------------------
    async def open_change_stream(self, collection: Any, pipeline: list, options: dict) -> Any:
        """An open change stream of the driver ``collection``: an async iterator of events.

        A server that cannot stream changes raises its ``OperationFailure`` here.
        """
        return await collection.watch(pipeline, **options)

    # -- GridFS -----------------------------------------------------------------------
    def new_grid_file(self, db: Any, collection: str, **kwargs: Any) -> Any:
        """A GridFS writer (async ``write``, ``close``, ``abort``) in the bucket ``collection``."""
        return AsyncGridFS(db, collection).new_file(**kwargs)

    def delete_grid_file(self, db: Any, collection: str, file_id: Any) -> Awaitable[None]:
        """Delete a GridFS file and its chunks; deleting a missing file succeeds."""
        return AsyncGridFS(db, collection).delete(file_id)
