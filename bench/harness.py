"""Timing and loop-stall measurement, shared by the bench and the 0.17.3 runner.

Standard library only: the mongomotor 0.17.3 runner loads this file by path
from its own venv.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from typing import Any

TICK = 0.001  # the watcher task sleeps 1 ms at a time


@dataclass
class Sizes:
    """How much work each workload does (smaller for the smoke run)."""

    posts: int = 10_000
    big: int = 100_000
    get: int = 1000
    inserts: int = 1000
    concurrent: int = 100
    with_authors: int = 1000

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass
class Run:
    """One timed workload: wall-clock and process CPU seconds, its count, loop gaps."""

    wall: float
    cpu: float
    result: int
    stall: dict[str, float] | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


LOOPS = ("asyncio", "uvloop")


def make_loop(kind: str = "asyncio") -> asyncio.AbstractEventLoop:
    """A new event loop: asyncio's default, or ``uvloop`` (as ``uvicorn --loop uvloop`` runs)."""
    if kind == "uvloop":
        try:
            import uvloop  # optional: in the bench and test extras
        except ImportError:
            raise SystemExit("--loop uvloop needs uvloop: pip install uvloop") from None
        return uvloop.new_event_loop()
    return asyncio.new_event_loop()


SMOKE = Sizes(posts=300, big=1000, get=10, inserts=10, concurrent=10, with_authors=100)


def expected(method: str, sizes: Sizes) -> int:
    """What a workload must return (documents seen, writes done, pairs built)."""
    return {
        "get_by_id": sizes.get,
        "iterate": sizes.posts,
        "insert": sizes.inserts,
        "concurrent_get": sizes.concurrent,
        "with_authors": min(sizes.with_authors, sizes.posts),
        "loop_stall": sizes.big,
    }[method]


def measure_sync(fn: Callable[[], int]) -> Run:
    gc.collect()
    cpu, wall = time.process_time(), time.perf_counter()
    result = fn()
    return Run(time.perf_counter() - wall, time.process_time() - cpu, result)


async def measure_async(fn: Callable[[], Awaitable[int]]) -> Run:
    gc.collect()
    cpu, wall = time.process_time(), time.perf_counter()
    result = await fn()
    return Run(time.perf_counter() - wall, time.process_time() - cpu, result)


async def watch_loop(work: Callable[[], Awaitable[int]]) -> Run:
    """Run ``work`` while a second task sleeps 1 ms in a loop; its wake-up gaps (ms).

    A gap is the time from one ``sleep(0.001)`` call to the task running again:
    1 ms plus however long the loop was held by someone else.
    """
    gaps: list[float] = []
    done = False

    async def ticker() -> None:
        clock = time.perf_counter
        while not done:
            start = clock()
            await asyncio.sleep(TICK)
            gaps.append(clock() - start)

    gc.collect()
    watcher = asyncio.ensure_future(ticker())
    await asyncio.sleep(0)  # the watcher is asleep before the work starts
    cpu, wall = time.process_time(), time.perf_counter()
    try:
        result = await work()
    finally:
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        done = True
        await watcher
    gaps.sort()
    stall: dict[str, float] = {
        "p99_ms": gaps[min(len(gaps) - 1, int(len(gaps) * 0.99))] * 1000 if gaps else 0.0,
        "max_ms": gaps[-1] * 1000 if gaps else 0.0,
        "wakeups": len(gaps),
    }
    return Run(wall, cpu, result, stall)
