"""``python -m bench``: mongomotor against the raw driver and sync MongoEngine.

Starts its own nx-27017 server (or uses ``MONGOMOTOR_BENCH_URI``), seeds it,
and times every workload on every contestant against the same server in one
run. Prints medians and ratios; it asserts nothing about time.

    python -m bench            # 5 repeats (about two minutes)
    python -m bench --quick    # 2 repeats
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import os
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import pymongo

from bench.contestants import (
    WORKLOADS,
    Contestant,
    MongoMotor,
    RawPyMongo,
    SyncMongoEngine,
)
from bench.models import ENTRIES, N_POSTS, drop, seed

URI_ENV = "MONGOMOTOR_BENCH_URI"
DB_NAME = "mongomotor_bench"


class Runner:
    """Runs sync and async callables on one event loop, timing each call."""

    def __init__(self, uri: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.admin: pymongo.MongoClient = pymongo.MongoClient(uri)

    def call(self, fn: Callable[[], Any]) -> Any:
        result = fn()
        if inspect.isawaitable(result):
            result = self.loop.run_until_complete(result)
        return result

    def timed(self, fn: Callable[[], Any]) -> tuple[float, Any]:
        start = time.perf_counter()
        result = self.call(fn)
        return time.perf_counter() - start, result

    def empty_entries(self) -> None:
        self.admin[DB_NAME][ENTRIES].drop()

    def close(self) -> None:
        self.admin.close()
        self.loop.close()


def run(uri: str, repeats: int) -> None:
    print(f"seeding {N_POSTS} posts on {uri} ...", flush=True)
    post_ids = seed(uri, DB_NAME)
    contestants: list[Contestant] = [
        RawPyMongo(uri, DB_NAME, post_ids),
        MongoMotor("pymongo", uri, DB_NAME, post_ids),
        MongoMotor("motor", uri, DB_NAME, post_ids),
        SyncMongoEngine(uri, DB_NAME, post_ids),
    ]
    runner = Runner(uri)
    times: dict[tuple[str, str], float] = {}
    errors: dict[tuple[str, str], str] = {}
    try:
        for contestant in contestants:
            runner.call(contestant.open)
        for method, label, expected, needs_empty in WORKLOADS:
            print(f"  {label} ...", flush=True)
            samples: dict[str, list[float]] = {c.name: [] for c in contestants}
            # Round-robin, so a server that drifts slower affects everyone alike.
            for _ in range(repeats):
                for contestant in contestants:
                    if (contestant.name, label) in errors:
                        continue
                    if needs_empty:
                        runner.empty_entries()
                    try:
                        elapsed, result = runner.timed(getattr(contestant, method))
                        want = N_POSTS if expected is None else expected
                        if result != want:
                            raise RuntimeError(f"did {result} instead of {want}")
                    except Exception as exc:  # a broken contestant must not hide the others
                        errors[contestant.name, label] = f"{type(exc).__name__}: {exc}"
                        continue
                    samples[contestant.name].append(elapsed)
            for name, values in samples.items():
                if values and (name, label) not in errors:
                    times[name, label] = statistics.median(values)
        for contestant in contestants:
            runner.call(contestant.close)
    finally:
        runner.close()
        drop(uri, DB_NAME)
    print_table(contestants, times, repeats)
    for (name, label), error in errors.items():
        print(f"error: {name} / {label}: {error}")


def print_table(
    contestants: list[Contestant], times: dict[tuple[str, str], float], repeats: int
) -> None:
    raw, mm_pymongo, mm_motor, sync = (c.name for c in contestants)
    columns = [
        ("raw", lambda w: times.get((raw, w))),
        ("mm/pymongo", lambda w: times.get((mm_pymongo, w))),
        ("mm/motor", lambda w: times.get((mm_motor, w))),
        ("ME sync", lambda w: times.get((sync, w))),
        ("pymongo÷raw", lambda w: ratio(times, (mm_pymongo, w), (raw, w))),
        ("motor÷raw", lambda w: ratio(times, (mm_motor, w), (raw, w))),
        ("pymongo÷ME", lambda w: ratio(times, (mm_pymongo, w), (sync, w))),
        ("motor÷ME", lambda w: ratio(times, (mm_motor, w), (sync, w))),
    ]
    print(f"\nmedian of {repeats} runs, seconds; ratios > 1 mean mongomotor is slower")
    header = f"{'workload':34}" + "".join(f"{name:>12}" for name, _ in columns)
    print(header)
    print("-" * len(header))
    for _, label, _, _ in WORKLOADS:
        cells = []
        for name, value in columns:
            number = value(label)
            if number is None:
                cells.append(f"{'-':>12}")
            elif "÷" in name:
                cells.append(f"{number:>11.2f}x")
            else:
                cells.append(f"{number:>12.3f}")
        print(f"{label:34}" + "".join(cells))
    print(
        "\nraw = PyMongo AsyncMongoClient; mm = mongomotor; ME sync = MongoEngine over a sync "
        "pymongo.MongoClient\n* MongoEngine (sync) runs the 100 reads one after the other"
    )


def ratio(times: dict, top: tuple[str, str], bottom: tuple[str, str]) -> float | None:
    if top not in times or bottom not in times:
        return None
    return times[top] / times[bottom]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 repeats instead of 5")
    parser.add_argument("--repeats", type=int, help="repeats per workload (median is shown)")
    args = parser.parse_args(argv)
    repeats = args.repeats or (2 if args.quick else 5)
    uri = os.environ.get(URI_ENV)
    if uri:
        run(uri, repeats)
        return 0
    from tests.support.server import start_wire_server

    print("starting an nx-27017 server ...", flush=True)
    with start_wire_server() as server:
        run(server.uri, repeats)
    return 0


if __name__ == "__main__":
    sys.exit(main())
