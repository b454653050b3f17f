"""Small asyncio helpers shared by every layer.

    await YIELD                      # give the loop one turn
    value = await maybe_await(x)     # a driver's result: awaitable or plain
    keep_alive(task)                 # a fire-and-forget task is not garbage-collected
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Generator
from typing import Any

__all__ = ["YIELD", "keep_alive", "maybe_await", "wake"]


class _YieldOnce:
    """An awaitable that gives the event loop one turn (as ``asyncio.sleep(0)``, cheaper)."""

    __slots__ = ()

    def __await__(self) -> Generator[None, None, None]:
        yield


YIELD = _YieldOnce()


async def maybe_await(value: Any) -> Any:
    """``value`` awaited if it is awaitable (async drivers), else as it is (mongomock)."""
    return await value if inspect.isawaitable(value) else value


def wake(waiter: asyncio.Future) -> None:
    """Resolve ``waiter`` unless it is already done (for ``call_soon_threadsafe``)."""
    if not waiter.done():
        waiter.set_result(None)


# The loop keeps only weak references to tasks: one nobody awaits must be held here.
_running: set[asyncio.Future] = set()


def keep_alive(task: asyncio.Future, quiet: bool = False) -> asyncio.Future:
    """Hold ``task`` until it is done; ``quiet``: its failure is retrieved, never warned about."""
    _running.add(task)
    task.add_done_callback(_forget_quietly if quiet else _running.discard)
    return task


def _forget_quietly(task: asyncio.Future) -> None:
    _running.discard(task)
    if not task.cancelled():
        task.exception()
