"""``python -m bench``: mongomotor against the raw driver, MongoEngine and mongomotor 0.17.3.

Two servers: ``--server fake`` (the default) is a wire server in its own
process that answers from pre-encoded replies and stores nothing, so the
numbers are the clients' own cost; ``--server nx`` starts an nx-27017 server
(or uses ``MONGOMOTOR_BENCH_URI``) and seeds it. Every round runs every
workload on every contestant, in a rotating order; the tables show medians and
paired ratios (per-round ratios: median and min–max). Nothing about time is
asserted; each run's document count is.

    python -m bench                    # fake server, 9 rounds (about 2 minutes)
    python -m bench --server nx        # nx-27017, 5 rounds
    python -m bench --rounds 3 --no-legacy
    python -m bench --smoke            # tiny sizes, 1 round (the test uses it)
    python -m bench --loop uvloop      # async contestants on uvloop
    python -m bench --icount           # instructions per op under valgrind (bench.icount)
    python -m bench --latency          # 1 ms per reply: concurrent gets (bench.latency)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from bench import models
from bench.contestants import WORKLOADS, Contestant, local_contestants
from bench.fakeserver import round_trip
from bench.harness import LOOPS, SMOKE, Run, Sizes, expected, make_loop
from bench.latency import BATCHES as LATENCY_BATCHES

URI_ENV = "MONGOMOTOR_BENCH_URI"
REFERENCE = "ME sync"
LEGACY = "mm 0.17.3"
OURS = ("mm/pymongo", "mm/stock", "mm/motor")
CLOCKS = ("wall", "cpu")
FAKE_SERVER_LIMIT = 3600.0  # seconds: the fake server stops by itself after this


@dataclass
class Results:
    rounds: int
    sizes: Sizes
    server: str
    contestants: list[Contestant]
    clock: str = "wall"  # which time the tables show: "wall" or "cpu" (the client process's)
    # (contestant key, method) -> {round: its run}
    runs: dict[tuple[str, str], dict[int, Run]] = field(default_factory=dict)
    # contestant key -> {round: stall figures}
    stalls: dict[str, dict[int, dict[str, float]]] = field(default_factory=dict)
    errors: dict[tuple[str, str], str] = field(default_factory=dict)
    # round -> seconds of a bare round trip to the fake server (no client library)
    floor: dict[int, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def keys(self) -> list[str]:
        return [c.key for c in self.contestants]

    def times(self, key: str, method: str, clock: str | None = None) -> dict[int, float]:
        clock = clock or self.clock
        return {n: getattr(run, clock) for n, run in self.runs.get((key, method), {}).items()}

    def median(self, key: str, method: str, clock: str | None = None) -> float | None:
        samples = self.times(key, method, clock)
        return statistics.median(samples.values()) if samples else None

    def ratios(self, top: str, bottom: str, method: str, clock: str | None = None) -> list[float]:
        """Per-round ratios top/bottom over the rounds where both ran."""
        a, b = self.times(top, method, clock), self.times(bottom, method, clock)
        return [a[n] / b[n] for n in sorted(a) if n in b and b[n] > 0]


# ---------------------------------------------------------------- servers


@contextlib.contextmanager
def fake_server(sizes: Sizes, delay_ms: float = 0.0) -> Iterator[str]:
    command = [
        sys.executable, "-m", "bench.fakeserver", "--posts", str(sizes.posts),
        "--big", str(sizes.big), "--time-limit", str(FAKE_SERVER_LIMIT),
        "--delay-ms", str(delay_ms),
    ]  # fmt: skip
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line.startswith("port "):
            raise RuntimeError(f"the fake server did not start (exit {process.wait()})")
        yield f"mongodb://127.0.0.1:{int(line.split()[1])}"
    finally:
        if process.stdin:
            process.stdin.close()  # EOF on its stdin stops it
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def nx_server(sizes: Sizes) -> Iterator[str]:
    uri = os.environ.get(URI_ENV)
    with contextlib.ExitStack() as stack:
        if not uri:
            from tests.support.server import start_wire_server

            print("starting an nx-27017 server ...", flush=True)
            uri = stack.enter_context(start_wire_server()).uri
        print(f"seeding {sizes.posts} posts and {sizes.big} big posts on {uri} ...", flush=True)
        models.seed(uri, sizes.posts, sizes.big)
        try:
            yield uri
        finally:
            models.drop(uri)


# ---------------------------------------------------------------- running


def run(
    uri: str, sizes: Sizes, rounds: int, server: str, legacy: bool, warmup: bool, clock: str,
    loop_kind: str = "asyncio",
) -> Results:
    loop = make_loop(loop_kind)
    asyncio.set_event_loop(loop)
    contestants = local_contestants(uri, sizes, loop)
    notes: list[str] = [f"async contestants run on the {loop_kind} loop"]
    if legacy:
        from bench.legacy import legacy_contestant

        extra, note = legacy_contestant(uri, sizes, build=True)
        if extra is not None:
            contestants.append(extra)
        if note:
            notes.append(note)
    else:
        notes.append("mongomotor 0.17.3: left out (--no-legacy)")
    started = []
    for contestant in contestants:
        try:
            contestant.start()
            started.append(contestant)
        except Exception as exc:
            notes.append(f"{contestant.name}: could not start: {type(exc).__name__}: {exc}")
    results = Results(rounds, sizes, server, started, clock, notes=notes)
    empty_entries = entries_dropper(uri) if server == "nx" else None
    try:
        if warmup:
            print("warm-up round ...", flush=True)
            play_round(results, -1, empty_entries)
        for number in range(rounds):
            print(f"round {number + 1}/{rounds} ...", flush=True)
            play_round(results, number, empty_entries)
            if server == "fake":
                port = int(uri.rsplit(":", 1)[1])
                results.floor[number] = round_trip(port, max(100, sizes.get))
    finally:
        for contestant in started:
            with contextlib.suppress(Exception):
                contestant.stop()
        if empty_entries:
            empty_entries(close=True)
        loop.close()
    return results


def entries_dropper(uri: str) -> Any:
    import pymongo

    client: pymongo.MongoClient = pymongo.MongoClient(uri)

    def empty(close: bool = False) -> None:
        if close:
            client.close()
        else:
            client[models.DB_NAME][models.ENTRIES].drop()

    return empty


def play_round(results: Results, number: int, empty_entries: Any) -> None:
    """Every workload on every contestant; the order of contestants rotates per round."""
    contestants = results.contestants
    shift = number % len(contestants) if contestants else 0
    order = contestants[shift:] + contestants[:shift]
    for method, *_ in WORKLOADS:
        for contestant in order:
            if method == "loop_stall" and not contestant.has_loop:
                continue
            if (contestant.key, method) in results.errors:
                continue
            if method == "insert" and empty_entries:
                empty_entries()
            try:
                run = contestant.run(method)
                want = expected(method, results.sizes)
                if run.result != want:
                    raise RuntimeError(f"got {run.result} results instead of {want}")
            except Exception as exc:  # a broken contestant must not hide the others
                results.errors[contestant.key, method] = f"{type(exc).__name__}: {exc}"
                continue
            if number < 0:
                continue  # warm-up: connections made, replies cached, nothing recorded
            results.runs.setdefault((contestant.key, method), {})[number] = run
            if run.stall is not None:
                results.stalls.setdefault(contestant.key, {})[number] = run.stall


# ---------------------------------------------------------------- reporting


def label(method: str, sizes: Sizes) -> tuple[str, str, int]:
    """(row label, unit, divisor) of a workload."""
    for name, text, unit, per in WORKLOADS:
        if name == method:
            divisor = getattr(sizes, per) if per else 1
            return text.format(**sizes.as_dict()), unit, divisor
    raise KeyError(method)


def scaled(seconds: float, unit: str, divisor: int) -> float:
    return seconds / divisor * (1e6 if unit.startswith("µs") else 1e3)


def spread(values: list[float], digits: int = 2) -> str:
    if not values:
        return "-"
    med = statistics.median(values)
    return f"{med:.{digits}f} ({min(values):.{digits}f}–{max(values):.{digits}f})"


def ratio_blocks(keys: list[str]) -> list[tuple[str, list[str]]]:
    """(reference, contestants compared with it), for the references that ran."""
    blocks = [
        (REFERENCE, [k for k in keys if k != REFERENCE]),
        (LEGACY, [k for k in OURS if k in keys]),
        ("raw async", [k for k in OURS if k in keys]),
    ]
    return [(bottom, tops) for bottom, tops in blocks if bottom in keys and tops]


def ratio_pairs(keys: list[str]) -> list[tuple[str, str]]:
    return [(top, bottom) for bottom, tops in ratio_blocks(keys) for top in tops]


def report(results: Results) -> str:
    sizes, keys = results.sizes, results.keys
    out: list[str] = []
    server = {
        "fake": "fake server (pre-encoded replies, own process): the clients' own cost",
        "nx": "nx-27017 server: clients plus a real (Python) server",
    }[results.server]
    clock = {"wall": "wall-clock time", "cpu": "CPU time of the client's process"}[results.clock]
    out.append(f"\n{server}; {results.rounds} rounds, contestants in rotating order; {clock}")
    for contestant in results.contestants:
        out.append(f"  {contestant.key:11} {contestant.name}")

    out.append("\nmedians")
    head = f"{'workload':32}{'unit':>7}" + "".join(f"{k:>12}" for k in keys)
    out += [head, "-" * len(head)]
    for method, *_ in WORKLOADS:
        text, unit, divisor = label(method, sizes)
        cells = []
        for key in keys:
            value = results.median(key, method)
            text_value = "-" if value is None else f"{scaled(value, unit, divisor):.1f}"
            cells.append(f"{text_value:>12}")
        out.append(f"{text:32}{unit:>7}" + "".join(cells))
    out.append("* sync contestants (ME sync, raw sync) do these reads one after the other")
    if results.floor:
        floor = [seconds * 1e6 for seconds in results.floor.values()]
        out.append(
            f"a bare find-by-id round trip to the fake server (no client library) costs "
            f"{spread(floor, 1)} µs: part of every per-op figure"
        )

    out.append("\npaired ratios: median (min–max) of the per-round ratios; < 1 = faster")
    methods = [m for m, *_ in WORKLOADS]
    for bottom, tops in ratio_blocks(keys):
        head = f"{'÷ ' + bottom:32}" + "".join(f"{top:>21}" for top in tops)
        out += ["", head, "-" * len(head)]
        for method in methods:
            cells = [spread(results.ratios(top, bottom, method)) for top in tops]
            if set(cells) == {"-"}:
                continue
            out.append(f"{label(method, sizes)[0]:32}" + "".join(f"{c:>21}" for c in cells))

    if results.stalls:
        out.append(
            f"\nloop gaps while iterating {sizes.big} docs: a task sleeping 1 ms, "
            "its wake-up gaps in ms (median (min–max) over rounds)"
        )
        head = f"{'':14}{'p99 gap':>26}{'max gap':>26}{'wake-ups':>10}"
        out += [head, "-" * len(head)]
        for key in keys:
            rounds = results.stalls.get(key)
            if not rounds:
                continue
            p99 = [s["p99_ms"] for s in rounds.values()]
            top = [s["max_ms"] for s in rounds.values()]
            wakeups = statistics.median(s["wakeups"] for s in rounds.values())
            out.append(f"{key:14}{spread(p99, 1):>26}{spread(top, 1):>26}{wakeups:>10.0f}")

    out += headline(results)
    for note in results.notes:
        out.append(f"note: {note}")
    for (key, method), error in results.errors.items():
        out.append(f"error: {key} / {method}: {error}")
    return "\n".join(out)


def headline(results: Results) -> list[str]:
    """The issue's table: this mongomotor on the pymongo driver against ME and 0.17.3."""
    ours, keys, sizes = "mm/pymongo", results.keys, results.sizes
    if ours not in keys:
        return []
    rows: list[tuple[str, str, str]] = []

    def compare(text: str, bottom: str, method: str) -> None:
        wall, cpu = (spread(results.ratios(ours, bottom, method, c)) for c in ("wall", "cpu"))
        rows.append((text, wall, cpu))

    if REFERENCE in keys:
        compare(f"iterate {sizes.posts} ÷ ME sync", REFERENCE, "iterate")
        compare("get by id ÷ ME sync", REFERENCE, "get_by_id")
        compare("insert ÷ ME sync", REFERENCE, "insert")
        compare(f"{sizes.concurrent} concurrent gets ÷ ME serial", REFERENCE, "concurrent_get")
        compare(f"{sizes.with_authors} posts + authors ÷ ME sync", REFERENCE, "with_authors")
    if LEGACY in keys:
        for method, *_ in WORKLOADS:
            compare(f"{label(method, sizes)[0].rstrip('*')} ÷ 0.17.3", LEGACY, method)
    for key in (ours, LEGACY):
        rounds = results.stalls.get(key)
        if rounds:
            p99 = spread([s["p99_ms"] for s in rounds.values()], 1)
            top = spread([s["max_ms"] for s in rounds.values()], 1)
            rows.append((f"loop gap (ms), {key}: p99 / max", f"{p99} / {top}", ""))
    width = max(len(text) for text, _, _ in rows) + 2
    lines = [
        "\nheadline: mongomotor on the pymongo driver, median (min–max) of per-round ratios",
        f"  {'':{width}}{'wall clock':<21}client CPU",
    ]
    lines += [f"  {text:{width}}{wall:<21}{cpu}" for text, wall, cpu in rows]
    return lines


def as_json(results: Results) -> dict[str, Any]:
    methods = [m for m, *_ in WORKLOADS]
    return {
        "server": results.server,
        "rounds": results.rounds,
        "sizes": results.sizes.as_dict(),
        "contestants": results.keys,
        "runs": {
            f"{k} | {m}": {n: run.as_dict() for n, run in runs.items()}
            for (k, m), runs in results.runs.items()
        },
        "medians": {
            clock: {
                f"{k} | {m}": results.median(k, m, clock)
                for k in results.keys
                for m in methods
                if results.median(k, m, clock) is not None
            }
            for clock in CLOCKS
        },
        "ratios": {
            clock: {
                f"{a} ÷ {b} | {m}": results.ratios(a, b, m, clock)
                for a, b in ratio_pairs(results.keys)
                for m in methods
                if results.ratios(a, b, m, clock)
            }
            for clock in CLOCKS
        },
        "stalls": results.stalls,
        "floor_seconds": results.floor,
        "errors": {f"{k} | {m}": e for (k, m), e in results.errors.items()},
        "notes": results.notes,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--server", choices=["fake", "nx"], default="fake",
                        help="fake: pre-encoded replies, the clients' own cost (default); "
                             "nx: an nx-27017 server")  # fmt: skip
    parser.add_argument("--rounds", "--repeats", type=int,
                        help="timed rounds (default 9 fake, 5 nx)")  # fmt: skip
    parser.add_argument("--quick", action="store_true", help="2 rounds")
    parser.add_argument("--smoke", action="store_true",
                        help="tiny sizes, 1 round, no warm-up, no 0.17.3 unless asked")  # fmt: skip
    parser.add_argument("--legacy", action=argparse.BooleanOptionalAction, default=None,
                        help="mongomotor 0.17.3 (its venv is made on first use)")  # fmt: skip
    parser.add_argument("--clock", choices=CLOCKS, default="wall",
                        help="what the tables show: wall-clock time (default) or the CPU "
                             "time of the client's process")  # fmt: skip
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    parser.add_argument("--loop", choices=LOOPS, default="asyncio",
                        help="the async contestants' event loop (default asyncio)")  # fmt: skip
    parser.add_argument("--icount", action="store_true",
                        help="instructions per operation under valgrind, not times")  # fmt: skip
    parser.add_argument("--icount-repeat", type=int, default=1, metavar="N",
                        help="count each figure N times (shows the counts' noise)")  # fmt: skip
    parser.add_argument("--only", metavar="KEYS",
                        help="--icount: these columns only, comma-separated")  # fmt: skip
    parser.add_argument("--latency", action="store_true",
                        help="1 ms per reply: concurrent gets, async vs 8 threads")  # fmt: skip
    parser.add_argument("--latency-batches", type=int, default=LATENCY_BATCHES, metavar="N",
                        help="--latency: batches in a row per contestant and round "
                             f"(default {LATENCY_BATCHES})")  # fmt: skip
    args = parser.parse_args(argv)
    if args.icount:
        return main_icount(args)
    if args.latency:
        return main_latency(args)
    sizes = SMOKE if args.smoke else Sizes()
    rounds = args.rounds or (1 if args.smoke else 2 if args.quick else
                             9 if args.server == "fake" else 5)  # fmt: skip
    legacy = (not args.smoke) if args.legacy is None else args.legacy
    start = time.perf_counter()
    server = fake_server if args.server == "fake" else nx_server
    with server(sizes) as uri:
        results = run(
            uri, sizes, rounds, args.server, legacy, not args.smoke, args.clock, args.loop
        )
    print(report(results))
    print(f"\n({time.perf_counter() - start:.0f} s)")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(as_json(results), fh, indent=1)
    return 1 if results.errors else 0


def main_icount(args: argparse.Namespace) -> int:
    from bench.icount import ICOUNT_SIZES, SPECS, icount_report, run_icount

    specs = SPECS
    if args.only:
        wanted = [key.strip() for key in args.only.split(",")]
        specs = [spec for spec in SPECS if spec.column in wanted]
        if len(specs) != len(wanted):
            raise SystemExit(f"--only: choose among {', '.join(s.column for s in SPECS)}")

    start = time.perf_counter()
    with fake_server(ICOUNT_SIZES) as uri:
        result = run_icount(uri, args.loop, args.icount_repeat, specs)
    print(icount_report(result, args.loop))
    print(f"\n({time.perf_counter() - start:.0f} s)")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"icount": result, "loop": args.loop}, fh, indent=1)
    return 1 if result["errors"] else 0


def main_latency(args: argparse.Namespace) -> int:
    from bench.latency import DELAY_MS, latency_report, run_latency

    sizes = SMOKE if args.smoke else Sizes()
    # A batch takes tens of milliseconds and its paired ratio moves by half its
    # value between rounds on a shared 2-core machine: many rounds are cheap.
    rounds = args.rounds or (2 if args.smoke or args.quick else 40)
    batches = 1 if args.smoke else args.latency_batches
    start = time.perf_counter()
    with fake_server(sizes, DELAY_MS) as uri:
        times = run_latency(uri, sizes, rounds, args.loop, batches)
    print(latency_report(times, sizes, args.loop, batches))
    print(f"\n({time.perf_counter() - start:.0f} s)")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"latency": times, "loop": args.loop}, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
