"""``python -m bench --latency``: concurrent gets when every reply takes 1 ms.

The fake server waits 1 ms before each reply (per connection, as a network
would). Async contestants run the gets at once on one loop
(``asyncio.gather``); the sync ones serve the same gets from a pool of 8
threads, as a threaded web server would. Each round runs every contestant's
batches in a row (:data:`BATCHES`, ``--latency-batches``); wall-clock time per
batch, median (min–max) over rounds, and paired ratios.

    python -m bench --latency [--rounds N] [--loop uvloop]
"""

from __future__ import annotations

import asyncio
import statistics
from concurrent.futures import ThreadPoolExecutor

from bench.contestants import AsyncContestant, Contestant, local_contestants
from bench.harness import Sizes, make_loop, measure_async, measure_sync

DELAY_MS = 1.0
THREADS = 8
# Batches in a row per contestant and round: a server under load runs its code
# warm; a single batch right after another contestant's also times its caches
# refilling (one batch per round read 1.08-1.15x raw async where 5 read 1.03-1.05x).
BATCHES = 5
REFERENCES = ("raw async", "ME sync")


def batch(contestant: Contestant, pool: ThreadPoolExecutor, batches: int) -> float:
    """Seconds per batch of concurrent gets, over ``batches`` in a row (every document found)."""
    concurrent = contestant.sizes.concurrent
    if isinstance(contestant, AsyncContestant):
        loop = contestant.loop

        async def run_batches() -> int:
            return sum([await contestant.concurrent_get() for _ in range(batches)])

        run = loop.run_until_complete(measure_async(run_batches))
    else:
        ids = contestant.post_ids[:concurrent]
        get_one = contestant.get_one  # type: ignore[attr-defined]
        run = measure_sync(lambda: sum(
            sum(doc is not None for doc in pool.map(get_one, ids)) for _ in range(batches)
        ))  # fmt: skip
    if run.result != concurrent * batches:
        raise RuntimeError(f"{contestant.key}: {run.result} of {concurrent * batches} found")
    return run.wall / batches


def run_latency(
    uri: str, sizes: Sizes, rounds: int, loop_kind: str, batches: int = BATCHES
) -> dict[str, list[float]]:
    """{contestant: [seconds per batch, one per round]}, after one uncounted warm-up round."""
    loop = make_loop(loop_kind)
    asyncio.set_event_loop(loop)
    contestants = local_contestants(uri, sizes, loop)
    for contestant in contestants:
        contestant.start()
    times: dict[str, list[float]] = {c.key: [] for c in contestants}
    try:
        with ThreadPoolExecutor(THREADS) as pool:
            for number in range(-1, rounds):
                shift = number % len(contestants)
                for contestant in contestants[shift:] + contestants[:shift]:
                    seconds = batch(contestant, pool, batches)
                    if number >= 0:
                        times[contestant.key].append(seconds)
    finally:
        for contestant in contestants:
            contestant.stop()
        loop.close()
    return times


def latency_report(
    times: dict[str, list[float]], sizes: Sizes, loop_kind: str, batches: int = BATCHES
) -> str:
    def spread(values: list[float]) -> str:
        return f"{statistics.median(values):.2f} ({min(values):.2f}–{max(values):.2f})"

    out = [
        f"\n{sizes.concurrent} concurrent gets, each reply delayed {DELAY_MS:g} ms by the server; "
        f"async contestants on one {loop_kind} loop, sync ones on {THREADS} threads; "
        f"{len(next(iter(times.values())))} rounds of {batches} batches in a row",
        f"{'contestant':14}{'ms per batch':>26}"
        + "".join(f"{'÷ ' + ref:>22}" for ref in REFERENCES if ref in times),
    ]
    for key, values in times.items():
        cells = [spread([v * 1000 for v in values])]
        for ref in REFERENCES:
            if ref in times:
                cells.append(spread([a / b for a, b in zip(values, times[ref])]))
        out.append(f"{key:14}{cells[0]:>26}" + "".join(f"{c:>22}" for c in cells[1:]))
    return "\n".join(out)
