"""The port tool on a whole app: examples/port_sample's sync MongoEngine blog, run as
it is on MongoEngine and, ported by ``mongomotor port --write``, on mongomotor, leaves
the same data on every lane; the port type-checks under mypy --strict and a second
run changes nothing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mongomotor.port.cli import main as port_main
from mongomotor.port.engine import port_paths
from mongomotor.port.report import REVIEW

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "examples" / "port_sample"
RUNNER = ROOT / "tests" / "support" / "port_runner.py"

pytestmark = pytest.mark.requires("gridfs")


@pytest.fixture(scope="module")
def ported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the sample app, ported in place by the command line."""
    target = tmp_path_factory.mktemp("port_sample")
    shutil.copytree(SAMPLE / "blog", target / "blog")
    assert port_main(["port", "--write", "--quiet", str(target / "blog")]) == 0
    return target


def run_side(side: str, app_dir: Path, lane, db: str) -> dict:
    lane.databases.append(db)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run(
        [sys.executable, str(RUNNER), side, str(app_dir), lane.driver or lane.name,
         lane.server_uri or "-", db],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_the_ported_app_leaves_the_same_data_as_the_original(lane, ported):
    original = run_side("original", SAMPLE, lane, f"{lane.db_name}_original")
    port = run_side("ported", ported, lane, f"{lane.db_name}_ported")
    assert port == original
    summary = original["result"]["summary"]
    # MongoEngine's meanings kept: count() ignores limit, len() does not.
    assert (summary["top_two_len"], summary["top_two_count"]) == (2, 3)
    if lane.supports("reference_queries"):  # nx-27017 cannot match an ObjectId outside _id
        assert [row["signed"] for row in original["result"]["thread"]] == [False, True]
        assert summary["authors"] == ["ann:Hello", "bob:Async", "cyd:Final"]
    assert original["result"]["detail"][0]["attachment"] == "await everything"
    # User.save() lowercases the email, also when QuerySet.create saves (in the bridge).
    assert [row["email"] for row in original["stored"]["user"]] == [
        "ann@example.com",
        "bob@example.com",
        "cid@example.com",
    ]
    assert len(original["stored"]["post"]) == 3
    assert original["result"]["shouted"] == ["ASYNC", "FINAL", "HELLO"]


def test_the_port_needs_no_review_and_a_second_run_changes_nothing(ported):
    first = port_paths([SAMPLE / "blog"])
    reviews = [f for f in first.findings if f.action == REVIEW]
    # The scenario is what the runner (outside the app) calls.
    assert [(f.rule, f.path.name, f.line) for f in reviews] == [("entry", "app.py", 18)]
    assert len(first.changed) == 7
    again = port_paths([ported / "blog"])
    assert again.changed == {}
    assert again.findings == []


def test_check_fails_on_the_original_and_passes_on_the_port(ported, capsys):
    assert port_main(["port", "--check", str(SAMPLE / "blog")]) == 1
    listing = capsys.readouterr().out
    assert "services/users.py:11: sync I/O [await] document.save() is I/O: await" in listing
    assert port_main(["port", "--check", str(ported / "blog")]) == 0


def strict_mypy(package: Path) -> subprocess.CompletedProcess[str]:
    """mypy with the project's strict typing settings on ``package``, run beside it."""
    command = [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "tests/typing/mypy.ini")]
    return subprocess.run(
        [*command, "--no-incremental", str(package)],
        cwd=package.parent,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_port_type_checks_strictly(ported):
    done = strict_mypy(ported / "blog")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "unused-coroutine" not in done.stdout


def test_mypy_sees_an_await_the_port_would_have_added(ported, tmp_path):
    # The check above can fail: drop one await the tool wrote and mypy reports it.
    broken = tmp_path / "blog"
    shutil.copytree(ported / "blog", broken)
    users = broken / "services" / "users.py"
    users.write_text(users.read_text().replace("    await user.save()", "    user.save()"))
    done = strict_mypy(broken)
    assert done.returncode == 1
    assert "unused-coroutine" in done.stdout
