"""GridFS of the in-memory driver: sync ``gridfs`` over mongomock, yielding as a server would.

    writer = MemoryGridFS().new_file(db, "fs", filename="a.txt")
    await writer.write(b"..."); await writer.close()
"""

from __future__ import annotations

from typing import Any

import gridfs

from mongomotor.drivers.grid_writer import GridWriter
from mongomotor.runtime.aio import YIELD

__all__ = ["MemoryGridFS"]

_memory_gridfs_enabled = False


class MemoryGridFS:
    """Sync ``gridfs`` over mongomock; writes and deletes yield to the loop first."""

    def _gridfs(self, db: Any, collection: str) -> Any:
        global _memory_gridfs_enabled
        if not _memory_gridfs_enabled:
            # gridfs checks isinstance(db, pymongo Database); this widens the
            # check to mongomock's classes (process-wide, harmless for PyMongo).
            import mongomock.gridfs  # optional: imported by the in-memory driver's first GridFS use

            mongomock.gridfs.enable_gridfs_integration()
            _memory_gridfs_enabled = True
        return gridfs.GridFS(db, collection)

    def new_file(self, db: Any, collection: str, **kwargs: Any) -> Any:
        return _YieldingGridIn(self._gridfs(db, collection).new_file(**kwargs))

    async def delete(self, db: Any, collection: str, file_id: Any) -> None:
        await YIELD  # as a server round trip would: other tasks run first
        self._gridfs(db, collection).delete(file_id)


class _YieldingGridIn(GridWriter):
    """mongomock's sync GridIn, yielding to the loop before each write as the wire drivers do."""

    async def _run(self, name: str, *args: Any) -> Any:
        await YIELD
        return getattr(self._grid_in, name)(*args)
