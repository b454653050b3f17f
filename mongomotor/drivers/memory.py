"""The in-memory driver: ``connect(host='mongomock://localhost/db')``.

mongomock does no I/O, so nothing switches to the loop; it still goes through
the facade, so query counting and collection preparation behave as on a
server. One mongomock client per alias serves every event loop (its data
outlives ``asyncio.run``).
"""

from __future__ import annotations

import itertools
from typing import Any

from mongomotor.drivers import memory_changes
from mongomotor.drivers.facade import Backend, SyncClient

SCHEME = "mongomock://"
BATCH = 1000
_RESULT_NEUTRAL_OPTIONS = frozenset({"comment", "max_await_time_ms", "max_scan"})


def is_memory_host(host: Any) -> bool:
    hosts = host if isinstance(host, (list, tuple)) else [host]
    return any(isinstance(h, str) and h.startswith(SCHEME) for h in hosts)


def as_mongodb_uri(host: Any) -> Any:
    """mongomock parses ``mongodb://`` URIs: translate our scheme for it."""
    if isinstance(host, (list, tuple)):
        return [as_mongodb_uri(h) for h in host]
    if isinstance(host, str) and host.startswith(SCHEME):
        return "mongodb://" + host[len(SCHEME):]
    return host


def _mongomock() -> Any:
    try:
        import mongomock
    except ImportError:  # pragma: no cover - depends on the install
        raise ImportError(
            "the in-memory driver needs mongomock: pip install 'mongomotor[mock]'"
        ) from None
    return mongomock


class MemoryBackend(Backend):
    name = "memory"

    def __init__(self) -> None:
        mongomock = _mongomock()
        from mongomock.command_cursor import CommandCursor

        self._client_class = mongomock.MongoClient
        self._cursor_types = (mongomock.collection.Cursor, CommandCursor)

    def create_client(self, settings: dict[str, Any]) -> Any:
        settings.pop("driver", None)
        return self._client_class(**settings)

    async def close_client(self, client: Any) -> None:
        client.close()

    def is_cursor(self, value: Any) -> bool:
        return isinstance(value, self._cursor_types)

    def apply_cursor_option(self, cursor: Any, name: str, args: tuple, kwargs: dict) -> None:
        # Annotations and server tuning change no result; mongomock lacks some.
        if name in _RESULT_NEUTRAL_OPTIONS and not hasattr(cursor, name):
            return
        super().apply_cursor_option(cursor, name, args, kwargs)

    def fetch_batch(self, cursor: Any) -> list[Any]:  # type: ignore[override]
        return list(itertools.islice(cursor, BATCH))


_BACKEND: MemoryBackend | None = None


class MemoryClient(SyncClient):
    """MongoEngine's client for a ``mongomock://`` host."""

    @property
    def backend(self) -> Backend:  # type: ignore[override]
        global _BACKEND
        if _BACKEND is None:
            _BACKEND = MemoryBackend()
        return _BACKEND

    def for_running_loop(self) -> Any:
        client = self.__dict__.get("_shared")
        if client is None:
            client = self._shared = self.backend.create_client(dict(self._settings))
        return client

    _facade_target = for_running_loop

    def close(self) -> None:
        client = self.__dict__.pop("_shared", None)
        if client is not None:
            memory_changes.forget(client)
            client.close()
