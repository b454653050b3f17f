"""The Motor driver (``AsyncIOMotorClient``), for ``connect(driver='motor')``.

    connect("blog", host="mongodb://localhost:27017", driver="motor")
"""

from __future__ import annotations

import asyncio
from typing import Any

from gridfs.errors import NoFile

from mongomotor.drivers.backend import Backend
from mongomotor.drivers.grid_writer import GridWriter
from mongomotor.runtime.aio import YIELD
from mongomotor.runtime.bridge import await_, in_bridge
from mongomotor.runtime.optional import require


class MotorBackend(Backend):
    """``connect(driver='motor')``: Motor's ``AsyncIOMotorClient``."""

    name = "motor"
    # Motor starts an operation when its method is called (in a thread), not
    # when it is awaited: outside the bridge, refuse before calling it.
    checks_calls = True

    def __init__(self) -> None:
        motor_asyncio = require("motor.motor_asyncio", "driver='motor'", "motor")
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

    def before_call(self, facade: Any, name: str, args: tuple, kwargs: dict) -> None:
        if not in_bridge():
            await_(YIELD)  # raises the error every driver gives I/O outside the bridge

    def start_driver_session(self, client: Any, options: dict[str, Any]) -> Any:
        return _AwaitedSession(client.start_session(**options))

    async def open_change_stream(self, collection: Any, pipeline: list, options: dict) -> Any:
        stream = collection.watch(pipeline, **options)
        await stream.__aenter__()  # Motor opens its cursor on first use: errors surface here
        return stream

    def new_grid_file(self, db: Any, collection: str, **kwargs: Any) -> Any:
        return _SettlingGridIn(self._motor.AsyncIOMotorGridIn(db[collection], **kwargs))

    async def delete_grid_file(self, db: Any, collection: str, file_id: Any) -> None:
        try:
            await self._motor.AsyncIOMotorGridFSBucket(db, bucket_name=collection).delete(file_id)
        except NoFile:
            pass  # as gridfs.GridFS.delete: deleting a missing file succeeds


class _SettlingGridIn(GridWriter):
    """Motor's GridIn: a cancelled write or close waits for Motor's worker thread first.

    Motor runs them in a thread that a cancellation does not stop. Without the
    wait, the cleanup of the unfinished file would run while the thread still
    writes, and leave chunks (or a whole file) behind. The wait is bounded, so
    a timeout still ends against a server that stopped answering (whatever
    the stuck thread writes later is then left behind); a second cancellation
    ends it at once.
    """

    settle_seconds = 10.0

    async def _run(self, name: str, *args: Any) -> Any:
        operation = asyncio.ensure_future(getattr(self._grid_in, name)(*args))
        try:
            return await asyncio.shield(operation)
        except asyncio.CancelledError:
            await asyncio.wait([operation], timeout=self.settle_seconds)
            raise


class _AwaitedSession:
    """Motor's ``start_session()`` is a coroutine: this lets ``async with`` await it first.

        async with client.start_session() as session: ...   # as with PyMongo's async client
    """

    def __init__(self, starting: Any) -> None:
        self._starting = starting
        self._session: Any = None

    def __await__(self) -> Any:  # ``session = await client.start_session()`` works too
        return self._starting.__await__()

    async def __aenter__(self) -> Any:
        self._session = await self._starting
        return await self._session.__aenter__()

    async def __aexit__(self, *exc_info: Any) -> Any:
        return await self._session.__aexit__(*exc_info)
