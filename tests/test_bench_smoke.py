"""``python -m bench`` keeps working: one tiny round on the fake server yields every ratio.

The bench runs in a child process, as ``make bench`` runs it, with the fake
wire server it starts itself; mongomotor 0.17.3 is left out (its venv needs
the network). Nothing about time is asserted, only that every contestant did
every workload, got the documents it asked for, and was compared.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

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
    assert results["contestants"] == ["raw async", "raw sync", "ME sync", "mm/pymongo", "mm/motor"]

    workloads = ["get_by_id", "iterate", "insert", "concurrent_get", "with_authors"]
    for clock in ("wall", "cpu"):
        for ours in ("mm/pymongo", "mm/motor", "raw async", "raw sync"):
            for workload in workloads:
                ratios = results["ratios"][clock][f"{ours} ÷ ME sync | {workload}"]
                assert len(ratios) == 1 and ratios[0] > 0
    for ours in ("mm/pymongo", "mm/motor"):
        assert results["ratios"]["wall"][f"{ours} ÷ raw async | loop_stall"][0] > 0
        (stall,) = results["stalls"][ours].values()
        assert stall["wakeups"] >= 1 and stall["max_ms"] >= stall["p99_ms"] > 0
    assert set(results["stalls"]) == {"raw async", "mm/pymongo", "mm/motor"}  # the loop owners

    assert "headline: mongomotor on the pymongo driver" in done.stdout
    assert "mongomotor 0.17.3: left out (--no-legacy)" in done.stdout
