"""``python -m bench`` keeps working: one tiny round on the fake server yields every ratio.

The bench runs in a child process, as ``make bench`` runs it, with the fake
wire server it starts itself; mongomotor 0.17.3 is left out (its venv needs
the network). Nothing about time is asserted, only that every contestant did
every workload, got the documents it asked for, and was compared.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_bench_smoke_run_compares_every_contestant(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--no-legacy", "--json", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    results = json.loads(out.read_text())
    assert results["errors"] == {}
    assert results["contestants"] == [
        "raw async", "raw sync", "ME sync", "mm/pymongo", "mm/stock", "mm/motor"
    ]  # fmt: skip

    workloads = ["get_by_id", "iterate", "insert", "concurrent_get", "with_authors"]
    for clock in ("wall", "cpu"):
        for ours in ("mm/pymongo", "mm/stock", "mm/motor", "raw async", "raw sync"):
            for workload in workloads:
                ratios = results["ratios"][clock][f"{ours} ÷ ME sync | {workload}"]
                assert len(ratios) == 1 and ratios[0] > 0
    for ours in ("mm/pymongo", "mm/stock", "mm/motor"):
        assert results["ratios"]["wall"][f"{ours} ÷ raw async | loop_stall"][0] > 0
        (stall,) = results["stalls"][ours].values()
        assert stall["wakeups"] >= 1 and stall["max_ms"] >= stall["p99_ms"] > 0
    assert set(results["stalls"]) == {"raw async", "mm/pymongo", "mm/stock", "mm/motor"}

    assert "headline: mongomotor on the pymongo driver" in done.stdout
    assert "mongomotor 0.17.3: left out (--no-legacy)" in done.stdout


def test_bench_latency_mode_on_uvloop_compares_every_contestant(tmp_path: Path) -> None:
    """``--latency`` (each reply delayed 1 ms) and ``--loop uvloop`` in one tiny run."""
    out = tmp_path / "latency.json"
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--latency", "--smoke", "--loop", "uvloop",
         "--json", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    results = json.loads(out.read_text())
    assert results["loop"] == "uvloop"
    assert set(results["latency"]) == {
        "raw async", "raw sync", "ME sync", "mm/pymongo", "mm/stock", "mm/motor"
    }  # fmt: skip
    for seconds in results["latency"].values():
        # 10 gets, 1 ms each: never faster than one delayed reply
        assert len(seconds) == 2 and all(s >= 0.001 for s in seconds)


COUNTED = """
import operator, threading

def work(n):
    total = 0
    for i in range(n):
        total += i
    return total

def in_a_thread(n):
    thread = threading.Thread(target=work, args=(n,))
    thread.start()
    thread.join()

work(1000)
operator.call(in_a_thread, 20_000)
operator.call(in_a_thread, 60_000)
"""


def test_icount_counts_only_the_calls_and_every_thread(tmp_path: Path) -> None:
    """The mechanics of ``--icount``: two dumps, the second three times the first's loop."""
    if not shutil.which("valgrind"):
        pytest.skip("valgrind is not installed (the --icount mode needs it)")
    from bench.icount import callgrind_command, dumped_counts

    out_file = tmp_path / "cg.out"
    script = tmp_path / "counted.py"
    script.write_text(COUNTED)
    done = subprocess.run(
        callgrind_command(out_file) + [sys.executable, str(script)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    short, long = dumped_counts(out_file)
    per_iteration = (long - short) / 40_000
    # a few dozen instructions per loop turn, counted in the thread that ran it
    assert 10 < per_iteration < 2000
    assert 2.5 < long / short < 3.1
