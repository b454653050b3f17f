"""The ``mongomotor.testing`` pytest plugin, run the way a user's project runs it.

Each test runs pytest in a child process on a small project of its own (strict
pytest-asyncio mode, function-scoped loops), pointed at the lane's server.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from mongomotor.testing import database_name, without_database

ROOT = Path(__file__).resolve().parents[1]

USER_TESTS = """
import json, os
import pytest
from mongomotor import Document
from mongomotor.fields import StringField


class Note(Document):
    text = StringField()


def record(db):
    with open(os.environ["PLUGIN_OUT"], "a") as out:
        out.write(json.dumps({"db": db.name}) + "\\n")


@pytest.mark.asyncio
async def test_first(mongomotor_db, mongomotor_queries):
    assert await Note.objects.count() == 0
    with mongomotor_queries() as queries:
        await Note(text="a").save()
        assert (await Note.objects.first()).text == "a"
    assert queries == 2, queries.operations
    record(mongomotor_db)


@pytest.mark.asyncio
async def test_second_starts_empty(mongomotor_db):
    assert await Note.objects.count() == 0
    await Note(text="b").save()
    record(mongomotor_db)


@pytest.mark.asyncio
async def test_failing_test_still_drops_its_database(mongomotor_db):
    await Note(text="c").save()
    record(mongomotor_db)
    raise AssertionError("on purpose")
"""


def run_user_project(
    tmp_path: Path, args: list[str], env_extra: dict[str, str]
) -> tuple[str, list[str]]:
    (tmp_path / "conftest.py").write_text('pytest_plugins = ["mongomotor.testing"]\n')
    (tmp_path / "test_notes.py").write_text(USER_TESTS)
    (tmp_path / "pytest.ini").write_text(
        "[pytest]\nasyncio_default_fixture_loop_scope = function\n"
    )
    out = tmp_path / "out.jsonl"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MONGOMOTOR_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["PLUGIN_OUT"] = str(out)
    env.update(env_extra)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    names = [json.loads(line)["db"] for line in out.read_text().splitlines()]
    return done.stdout + done.stderr, names


async def test_each_test_gets_a_fresh_database_dropped_afterwards(lane, tmp_path, request):
    args: list[str] = []
    env: dict[str, str] = {}
    if lane.name == "pymongo":
        args = [
            f"--mongomotor-uri={lane.server_uri.rstrip('/')}/ignored_db",
            "--mongomotor-driver=pymongo",
        ]
    elif lane.name == "motor":
        env = {"MONGOMOTOR_TEST_URI": lane.server_uri, "MONGOMOTOR_TEST_DRIVER": "motor"}
    output, names = run_user_project(tmp_path, args, env)
    assert "1 failed, 2 passed" in output, output
    assert "AssertionError: on purpose" in output
    assert len(set(names)) == 3 and all(n.startswith("mm_test_") for n in names)
    assert "ignored_db" not in names
    if lane.is_wire:
        left = set(request.getfixturevalue("wire_admin").list_database_names())
        assert not left & set(names)


def test_database_names_are_unique_valid_and_short():
    names = {database_name("test_x[pymongo-param/with.dots and spaces]") for _ in range(50)}
    assert len(names) == 50
    assert all(len(n) <= 52 and n.replace("_", "").isalnum() for n in names)


def test_the_uri_database_is_dropped_but_options_kept():
    assert (
        without_database("mongodb://a:b@h1,h2/app?replicaSet=rs")
        == "mongodb://a:b@h1,h2/?replicaSet=rs"
    )
    assert without_database("mongodb://localhost:27017") == "mongodb://localhost:27017/"
