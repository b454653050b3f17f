"""A driver's GridFS writer, wrapped so each writing call goes through one method.

    class Yielding(GridWriter):
        async def _run(self, name, *args): await YIELD; return getattr(self._grid_in, name)(*args)

``write``, ``writelines``, ``close`` and ``abort`` return awaitables made by
``_run``; every other attribute (``_id``, ``filename``, ...) is the wrapped writer's.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

__all__ = ["GridWriter"]


class GridWriter:
    """Base of a wrapped GridFS writer: subclasses say how a writing call runs (``_run``)."""

    def __init__(self, grid_in: Any) -> None:
        self._grid_in = grid_in

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name == "_grid_in":
            raise AttributeError(name)
        return getattr(self._grid_in, name)

    async def _run(self, name: str, *args: Any) -> Any:
        raise NotImplementedError

    def write(self, data: Any) -> Awaitable[None]:
        return self._run("write", data)

    def writelines(self, sequence: Any) -> Awaitable[None]:
        return self._run("writelines", sequence)

    def close(self) -> Awaitable[None]:
        return self._run("close")

    def abort(self) -> Awaitable[None]:
        return self._run("abort")
