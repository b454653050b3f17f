"""``python -m bench --icount``: instructions per operation, counted by valgrind.

Each (contestant, workload) runs in a child process under
``valgrind --tool=callgrind``. The child connects, runs the workload once
uncounted (connections made, caches filled), then runs it ``k`` times and
``3k`` times, each inside ``operator.call``: callgrind dumps its counters as
that C function starts and as it returns, so the dump taken at the return
holds exactly what the call ran, in every thread of the process (Motor's
executor, PyMongo's monitors), and imports and start-up are never counted.
Per operation: ``(I(3k) - I(k)) / (2k * ops per run)``.

Counts do not depend on what else the machine does, unlike times on a shared
machine; they repeat to within a fraction of a percent (see ``--icount-repeat``).

    python -m bench --icount                   # every contestant, asyncio loop
    python -m bench --icount --loop uvloop     # async contestants on uvloop
    python -m bench.icount --child KEY WORKLOAD K URI LOOP   # one child, under valgrind
"""

from __future__ import annotations

import asyncio
import gc
import operator
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.harness import Sizes, make_loop

# Small enough that a child finishes in seconds under callgrind.
ICOUNT_SIZES = Sizes(posts=2000, big=1000, get=100, inserts=100, concurrent=100, with_authors=100)
REPEAT = 1  # k: the short run repeats the workload k times, the long one 3k times

# (workload, row label, the Sizes field that says how many operations one run does)
ICOUNT_WORKLOADS = [
    ("get_by_id", "get by id", "get"),
    ("insert", "insert one", "inserts"),
    ("iterate", "iterate {posts}, per document", "posts"),
    ("concurrent_get", "{concurrent} concurrent gets, per get", "concurrent"),
]


@dataclass(frozen=True)
class Spec:
    """A column of the table: a bench contestant, maybe with its own environment."""

    column: str
    key: str
    env: tuple[tuple[str, str], ...] = ()
    is_async: bool = True


SPECS = [
    Spec("raw sync", "raw sync", is_async=False),
    Spec("raw async", "raw async"),
    Spec("raw lean", "raw lean"),
    Spec("ME sync", "ME sync", is_async=False),
    Spec("mm/pymongo", "mm/pymongo"),
    Spec("mm/stock", "mm/pymongo", (("MONGOMOTOR_TRANSPORT", "pymongo"),)),
    Spec("mm/motor", "mm/motor"),
]

SUMMARY = re.compile(rb"^(?:summary|totals):\s*(\d+)", re.M)


def callgrind_command(out_file: Path) -> list[str]:
    # Collection stays on in every thread (Motor's and PyMongo's threads count too);
    # a dump as each ``operator.call`` starts and ends cuts out what it ran.
    return [
        "valgrind", "--tool=callgrind",
        "--dump-before=_operator_call", "--dump-after=_operator_call",
        "--dump-instr=no", "--compress-strings=no", f"--callgrind-out-file={out_file}",
    ]  # fmt: skip


def dumped_counts(out_file: Path) -> list[int]:
    """Instructions of each counted call, in order (the dumps taken as a call returns)."""
    counts = []
    parts = sorted(
        out_file.parent.glob(out_file.name + ".*"), key=lambda p: int(p.suffix.lstrip("."))
    )
    for part in parts:
        text = part.read_bytes()
        if b"--dump-after=" not in text.split(b"\nevents:", 1)[0]:
            continue  # the dump taken as a call starts: what ran before it
        match = SUMMARY.search(text)
        counts.append(int(match.group(1)) if match else 0)
    return counts


def count_one(spec: Spec, method: str, uri: str, loop: str, workdir: Path) -> float:
    """Instructions per operation of one workload of one contestant."""
    out_file = workdir / f"cg-{abs(hash((spec, method)))}.out"
    env = dict(os.environ, **dict(spec.env))
    command = callgrind_command(out_file) + [
        sys.executable, "-m", "bench.icount", "--child",
        spec.key, method, str(REPEAT), uri, loop,
    ]  # fmt: skip
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=1800)
    if done.returncode != 0:
        raise RuntimeError(f"{spec.column} / {method}: exit {done.returncode}: "
                           f"{done.stderr[-800:]}")
    counts = dumped_counts(out_file)
    if len(counts) != 2:
        raise RuntimeError(f"{spec.column} / {method}: expected 2 counted calls, got {counts}")
    short, long = counts
    return (long - short) / (2 * REPEAT * ops_per_run(method, ICOUNT_SIZES))


def ops_per_run(method: str, sizes: Sizes) -> int:
    for name, _, per in ICOUNT_WORKLOADS:
        if name == method:
            return getattr(sizes, per)
    raise KeyError(method)


def run_icount(uri: str, loop: str, repeat: int, specs: list[Spec] | None = None) -> dict:
    """{column: {workload: [instructions per op, one per repeat]}}; two children at a time."""
    if not shutil.which("valgrind"):
        raise SystemExit("--icount needs valgrind (apt-get install valgrind)")
    specs = specs or SPECS
    jobs = [(s, m) for s in specs for m, _, _ in ICOUNT_WORKLOADS for _ in range(repeat)]
    if loop == "uvloop":
        jobs = [(s, m) for s, m in jobs if s.is_async] + [(s, m) for s, m in jobs if not s.is_async]
    table: dict[str, dict[str, list[float]]] = {s.column: {} for s in specs}
    errors: list[str] = []
    with tempfile.TemporaryDirectory(prefix="mm-icount-") as tmp, ThreadPoolExecutor(2) as pool:
        workdirs = [Path(tmp) / str(i) for i in range(len(jobs))]
        for path in workdirs:
            path.mkdir()
        futures = [
            (spec, method, pool.submit(count_one, spec, method, uri, loop, path))
            for (spec, method), path in zip(jobs, workdirs)
        ]
        for spec, method, future in futures:
            try:
                table[spec.column].setdefault(method, []).append(future.result())
            except Exception as exc:  # one broken contestant must not hide the others
                errors.append(str(exc))
            print(f"  counted {spec.column} / {method}", flush=True)
    return {"table": table, "errors": errors}


def icount_report(result: dict, loop: str) -> str:
    table: dict[str, dict[str, list[float]]] = result["table"]
    columns = list(table)
    out = [
        f"\ninstructions per operation of the client process (callgrind; (I(3k) - I(k)) / 2k; "
        f"{loop} loop for async contestants), in thousands",
    ]
    head = f"{'workload':34}" + "".join(f"{c:>14}" for c in columns)
    out += [head, "-" * len(head)]
    for method, text, _ in ICOUNT_WORKLOADS:
        cells = []
        for column in columns:
            values = table[column].get(method)
            if not values:
                cells.append(f"{'-':>14}")
                continue
            mid = sorted(values)[len(values) // 2] / 1000
            noise = (max(values) - min(values)) / 1000
            cell = f"{mid:.1f}" + (f" ±{noise / 2:.1f}" if len(values) > 1 else "")
            cells.append(f"{cell:>14}")
        out.append(f"{text.format(**ICOUNT_SIZES.as_dict()):34}" + "".join(cells))
    for bottom in ("ME sync", "raw sync"):
        if bottom not in table:
            continue
        out.append(f"\nratios ÷ {bottom}")
        for method, text, _ in ICOUNT_WORKLOADS:
            base = table[bottom].get(method)
            if not base:
                continue
            cells = []
            for column in columns:
                values = table[column].get(method)
                ratio = f"{sorted(values)[len(values) // 2] / sorted(base)[len(base) // 2]:.2f}" \
                    if values else "-"
                cells.append(f"{ratio:>14}")
            out.append(f"{text.format(**ICOUNT_SIZES.as_dict()):34}" + "".join(cells))
    for error in result["errors"]:
        out.append(f"error: {error}")
    return "\n".join(out)


# ---------------------------------------------------------------- the child


def repeat(fn: Callable[[], Any], times: int) -> None:
    for _ in range(times):
        fn()


def child(key: str, method: str, k: int, uri: str, loop_kind: str) -> None:
    from bench.contestants import AsyncContestant, every_contestant

    loop = make_loop(loop_kind)
    asyncio.set_event_loop(loop)
    (contestant,) = [c for c in every_contestant(uri, ICOUNT_SIZES, loop) if c.key == key]
    contestant.start()
    workload = getattr(contestant, method)
    if isinstance(contestant, AsyncContestant):
        def fn() -> Any:
            return loop.run_until_complete(workload())
    else:
        fn = workload
    fn()  # uncounted: connections made, caches filled
    for times in (k, 3 * k):
        gc.collect()
        operator.call(repeat, fn, times)  # counted (and dumped) by callgrind
    contestant.stop()
    loop.close()


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        key, method, k, uri, loop_kind = sys.argv[2:7]
        child(key, method, int(k), uri, loop_kind)
    else:
        raise SystemExit(__doc__)
