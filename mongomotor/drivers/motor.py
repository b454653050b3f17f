"""The Motor driver (``AsyncIOMotorClient``), for ``connect(driver='motor')``."""

from __future__ import annotations

from typing import Any

from mongomotor.bridge import await_, in_bridge
from mongomotor.drivers.facade import YIELD, Backend, SyncClient


class MotorBackend(Backend):
    name = "motor"

    def __init__(self) -> None:
        from motor import motor_asyncio

        self._motor = motor_asyncio
        self._cursor_types = (
            motor_asyncio.AsyncIOMotorCursor,
            motor_asyncio.AsyncIOMotorCommandCursor,
            motor_asyncio.AsyncIOMotorLatentCommandCursor,
        )

    def create_client(self, settings: dict[str, Any]) -> Any:
        # Motor announces itself to the server; a second DriverInfo is refused.
        settings.pop("driver", None)
        return self._motor.AsyncIOMotorClient(**settings)

    async def close_client(self, client: Any) -> None:
        client.close()

    def is_cursor(self, value: Any) -> bool:
        return isinstance(value, self._cursor_types)

    async def fetch_batch(self, cursor: Any) -> list[Any]:
        if not cursor.alive:
            return []
        if not cursor._buffer_size() and not await cursor._get_more():
            return []
        delegate = cursor.delegate
        return [next(delegate) for _ in range(cursor._buffer_size())]


class MotorClient(SyncClient):
    """MongoEngine's client for ``connect(driver='motor')``."""

    # Motor starts an operation when its method is called (in a thread), not
    # when it is awaited: outside the bridge, refuse before calling it.
    checks_calls = True

    def before_call(self, name: str, args: tuple, kwargs: dict) -> None:
        if not in_bridge():
            await_(YIELD)  # raises the error every driver gives I/O outside the bridge

    @property
    def backend(self) -> Backend:  # type: ignore[override]
        return _backend()


_BACKEND: MotorBackend | None = None


def _backend() -> MotorBackend:
    global _BACKEND
    if _BACKEND is None:
        _BACKEND = MotorBackend()
    return _BACKEND
