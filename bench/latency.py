"""``python -m bench --latency``: concurrent gets when every reply takes 1 ms.

The fake server waits 1 ms before each reply (per connection, as a network
would). Async contestants run the gets at once on one loop
(``asyncio.gather``); the sync ones serve the same gets from a pool of 8
threads, as a threaded web server would. Wall-clock time per batch of gets,
median (min–max) over rounds, and paired ratios.

    python -m bench --latency [--rounds N] [--loop uvloop]
"""

from __future__ import annotations

import asyncio
import statistics
from concurrent.futures import ThreadPoolExecutor

from bench.contestants import AsyncContestant, Contestant, local_contestants
from bench.harness import Sizes, make_loop, measure_sync

DELAY_MS = 1.0
THREADS = 8
REFERENCES = ("raw async", "ME sync")


def batch(contestant: Contestant, pool: ThreadPoolExecutor) -> float:
    """Seconds for one batch of concurrent gets (checked: every document found)."""
    if isinstance(contestant, AsyncContestant):
        run = contestant.run("concurrent_get")
    else:
        ids = contestant.post_ids[: contestant.sizes.concurrent]
        get_one = contestant.get_one  # type: ignore[attr-defined]
        run = measure_sync(lambda: sum(doc is not None for doc in pool.map(get_one, ids)))
    if run.result != contestant.sizes.concurrent:
        raise RuntimeError(f"{contestant.key}: {run.result} of {contestant.sizes.concurrent} found")
    return run.wall


def run_latency(uri: str, sizes: Sizes, rounds: int, loop_kind: str) -> dict[str, list[float]]:
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
                    seconds = batch(contestant, pool)
                    if number >= 0:
                        times[contestant.key].append(seconds)
    finally:
        for contestant in contestants:
            contestant.stop()
        loop.close()
    return times


def latency_report(times: dict[str, list[float]], sizes: Sizes, loop_kind: str) -> str:
    def spread(values: list[float]) -> str:
        return f"{statistics.median(values):.2f} ({min(values):.2f}–{max(values):.2f})"

    out = [
        f"\n{sizes.concurrent} concurrent gets, each reply delayed {DELAY_MS:g} ms by the server; "
        f"async contestants on one {loop_kind} loop, sync ones on {THREADS} threads; "
        f"{len(next(iter(times.values())))} rounds",
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
