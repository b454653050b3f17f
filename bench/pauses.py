"""``python -m bench.pauses``: loop gaps and garbage collections while iterating 100k documents.

Starts the bench's fake server, then iterates its 100,000 big posts with
``async for`` through mongomotor (pymongo driver) while a second task sleeps
1 ms at a time (the bench's loop-stall probe, ``bench.harness.watch_loop``),
with the collector on. For each run it prints the loop gaps (p99, max) and
what the collector did meanwhile: collections per generation (one full
collection is the probe's own ``gc.collect()`` before each run), the longest
pause of each in wall and CPU time, and how many objects a loaded document
leaves tracked.

The pymongo driver keeps each server batch as bytes and decodes it a chunk
at a time (``mongomotor.drivers.chunked_batches``); ``--whole-batches`` reads
as PyMongo does, a whole batch decoded at once, to compare.

    python -m bench.pauses              # 5 runs
    python -m bench.pauses --runs 3 --docs 20000 --batch-size 100
    python -m bench.pauses --whole-batches
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import time
from typing import Any

import mongomotor
from bench import models
from bench.__main__ import fake_server
from bench.harness import Sizes, watch_loop


class CollectorLog:
    """Every collection's generation and duration (wall and thread CPU), from ``gc.callbacks``.

    CPU time is what the collection cost; wall time adds whatever else the
    machine ran meanwhile (on a shared machine, often more than the cost).
    """

    def __init__(self) -> None:
        self.pauses: list[tuple[int, float, float]] = []
        self._wall = self._cpu = 0.0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._wall, self._cpu = time.perf_counter(), time.thread_time()
        else:
            wall = (time.perf_counter() - self._wall) * 1e3
            cpu = (time.thread_time() - self._cpu) * 1e3
            self.pauses.append((info["generation"], wall, cpu))

    def summary(self) -> str:
        parts = []
        for generation in (0, 1, 2):
            pauses = [(wall, cpu) for g, wall, cpu in self.pauses if g == generation]
            if pauses:
                wall = max(w for w, _ in pauses)
                cpu = max(c for _, c in pauses)
                longest = f"longest {wall:.1f} ms, CPU {cpu:.1f}"
                parts.append(f"gen{generation} {len(pauses)}x ({longest})")
        return ", ".join(parts)


def tracked_per_document(model: Any, n: int = 1000) -> float:
    """Objects the collector tracks per loaded document (kept alive)."""
    son = models.big_posts(1)[0]
    gc.collect()
    before = len(gc.get_objects())
    kept = [model._from_son(dict(son)) for _ in range(n)]
    after = len(gc.get_objects())
    del kept
    return (after - before) / n


async def main(
    runs: int, docs: int, batch_size: int | None, freeze: bool, whole_batches: bool = False
) -> None:
    from mongomotor.drivers import chunked_batches

    if whole_batches:
        chunked_batches.enabled = False
    if batch_size:
        from mongomotor.drivers.pymongo_async import PyMongoAsyncBackend

        PyMongoAsyncBackend.default_batch_size = batch_size
    sizes = Sizes(big=docs)
    with fake_server(sizes) as uri:
        mm = models.make_models(mongomotor.Document, mongomotor.fields, "pauses", "Pauses")
        mongomotor.connect(models.DB_NAME, alias="pauses", host=uri)
        print(f"tracked objects per loaded post: {tracked_per_document(mm.BigPost):.1f}")
        print(f"gc thresholds {gc.get_threshold()}, tracked objects {len(gc.get_objects())}")
        decoding = "a chunk at a time" if chunked_batches.enabled else "whole, as PyMongo does"
        print(f"server batches decoded {decoding}")

        async def iterate() -> int:
            n = 0
            async for _ in mm.BigPost.objects:
                n += 1
            return n

        await iterate()  # warm-up: connection, plans
        if freeze:
            gc.collect()
            gc.freeze()  # what an application may do once started: collections skip it all
        p99s, maxes = [], []
        for number in range(runs):
            log = CollectorLog()
            gc.callbacks.append(log)
            try:
                run = await watch_loop(iterate)
            finally:
                gc.callbacks.remove(log)
            assert run.result == docs and run.stall is not None
            p99s.append(run.stall["p99_ms"])
            maxes.append(run.stall["max_ms"])
            print(
                f"run {number + 1}: p99 {run.stall['p99_ms']:.2f} ms, max {run.stall['max_ms']:.2f}"
                f" ms, {run.cpu / docs * 1e6:.1f} µs/doc CPU; collections: {log.summary()}"
            )
        print(
            f"p99 median {statistics.median(p99s):.2f} ms ({min(p99s):.2f}-{max(p99s):.2f}),"
            f" max median {statistics.median(maxes):.2f} ms ({min(maxes):.2f}-{max(maxes):.2f})"
        )
        mongomotor.disconnect("pauses")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.pauses")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--docs", type=int, default=models.N_BIG)
    parser.add_argument(
        "--batch-size", type=int, help="documents per server batch (the driver's default otherwise)"
    )
    parser.add_argument("--freeze", action="store_true", help="gc.freeze() after the warm-up")
    parser.add_argument(
        "--whole-batches", action="store_true",
        help="decode each server batch at once (MONGOMOTOR_CHUNKED_BATCHES=0)",
    )  # fmt: skip
    args = parser.parse_args()
    asyncio.run(main(args.runs, args.docs, args.batch_size, args.freeze, args.whole_batches))
