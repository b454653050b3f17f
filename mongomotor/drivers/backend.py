"""What a driver implements for the facade (:class:`Backend`), and the in-memory yield.

    class LoggingBackend(PyMongoAsyncBackend): ...
    mongomotor.drivers.register_driver("logged", LoggingBackend)
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any, ClassVar


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
