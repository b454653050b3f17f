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
    tmp_path: Path,
    args: list[str],
    env_extra: dict[str, str],
    files: dict[str, str] | None = None,
) -> tuple[str, list[str]]:
    files = files or {"test_notes.py": USER_TESTS}
    (tmp_path / "conftest.py").write_text('pytest_plugins = ["mongomotor.testing"]\n')
    for name, text in files.items():
        (tmp_path / name).write_text(text)
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
    lines = out.read_text().splitlines() if out.exists() else []
    names = [json.loads(line)["db"] for line in lines]
    return done.stdout + done.stderr, names


def lane_options(lane) -> tuple[list[str], dict[str, str]]:
    """The command line or environment that points the user's project at ``lane``."""
    if lane.driver == "pymongo":
        args = [
            f"--mongomotor-uri={lane.server_uri.rstrip('/')}/ignored_db",
            "--mongomotor-driver=pymongo",
        ]
        return args, {}
    if lane.driver == "motor":
        return [], {"MONGOMOTOR_TEST_URI": lane.server_uri, "MONGOMOTOR_TEST_DRIVER": "motor"}
    return [], {}


async def test_each_test_gets_a_fresh_database_dropped_afterwards(lane, tmp_path):
    args, env = lane_options(lane)
    output, names = run_user_project(tmp_path, args, env)
    assert "1 failed, 2 passed" in output, output
    assert "AssertionError: on purpose" in output
    assert len(set(names)) == 3 and all(n.startswith("mm_test_") for n in names)
    assert "ignored_db" not in names
    if lane.is_wire:
        left = set(lane.admin.list_database_names())
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


SHARED_MODELS = """
import json, os
from mongomotor import Document
from mongomotor.fields import StringField


class Tag(Document):
    name = StringField()


class Archived(Document):
    text = StringField()
    meta = {"db_alias": "archive"}


def record(what, db):
    with open(os.environ["PLUGIN_OUT"], "a") as out:
        out.write(json.dumps({"db": f"{what}:{db.name}"}) + "\\n")
"""

SHARED_CONFTEST = """
pytest_plugins = ["mongomotor.testing"]
import pytest_asyncio
from models import Tag, record


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def session_tags(mongomotor_session_db):
    record("session", mongomotor_session_db)
    return [await Tag(name=n).save() for n in ("s1", "s2")]
"""

SHARED_MODULE = """
import mongomotor
import pytest
import pytest_asyncio
from models import Archived, Tag, record


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def tags(mongomotor_module_db):
    record("module", mongomotor_module_db)
    return [await Tag(name=n).save() for n in "abc"]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def archive(mongomotor_module_db, mongomotor_shared_settings):
    # The project's own alias, connected for the module: no test's fixture closes it.
    name = mongomotor_module_db.name + "_archive"
    mongomotor.connect(name, alias="archive", **mongomotor_shared_settings)
    yield
    await mongomotor.disconnect("archive")


@pytest.mark.asyncio
async def test_reads_module_data_on_its_own_loop(tags):
    assert sorted(t.name for t in await Tag.objects.to_list()) == ["a", "b", "c"]


@pytest.mark.asyncio(loop_scope="module")
async def test_reads_module_data_on_the_module_loop(tags, archive):
    assert await Tag.objects.count() == 3
    await Archived(text="kept").save()


@pytest.mark.asyncio
async def test_a_test_database_inside_the_module(tags, archive, mongomotor_db):
    record("test", mongomotor_db)
    assert await Tag.objects.count() == 0
    await Tag(name="only here").save()
    assert await Archived.objects.count() == 1  # the module's alias, untouched


class TestSettingsThatCannotConnect:
    @pytest.fixture
    def mongomotor_settings(self):
        return {"host": "mongodb://localhost", "driver": "no_such_driver"}

    @pytest.mark.asyncio
    async def test_fails_to_set_up(self, tags, mongomotor_db):
        pass


@pytest.mark.asyncio
async def test_the_module_data_is_back_after_it(tags, archive):
    assert sorted(t.name for t in await Tag.objects.to_list()) == ["a", "b", "c"]
    assert await Archived.objects.count() == 1


@pytest.mark.asyncio(loop_scope="module")
async def test_a_changed_document_is_seen_by_later_tests(tags):
    await Tag.objects(name="a").update(set__name="a2")


@pytest.mark.asyncio
async def test_sees_the_change(tags):
    assert await Tag.objects(name="a2").count() == 1
"""

SESSION_MODULE = """
import pytest
from models import Tag, record


@pytest.mark.asyncio
async def test_reads_session_data(session_tags):
    assert sorted(t.name for t in await Tag.objects.to_list()) == ["s1", "s2"]


@pytest.mark.asyncio
async def test_a_test_database_hides_it_for_one_test(session_tags, mongomotor_db):
    assert await Tag.objects.count() == 0


@pytest.mark.asyncio(loop_scope="session")
async def test_reads_it_again_on_the_session_loop(session_tags):
    assert await Tag.objects.count() == 2
"""


async def test_module_and_session_databases_share_data_and_keep_other_aliases(lane, tmp_path):
    args, env = lane_options(lane)
    files = {
        "models.py": SHARED_MODELS,
        "test_shared.py": SHARED_MODULE,
        "test_session_a.py": SESSION_MODULE,
        "test_session_b.py": SESSION_MODULE,
    }
    files["conftest.py"] = SHARED_CONFTEST
    output, records = run_user_project(tmp_path, args, env, files)
    assert "12 passed, 1 error" in output, output
    assert "ERROR test_shared.py::TestSettingsThatCannotConnect" in output
    assert "unknown driver 'no_such_driver'" in output
    scopes = [r.split(":", 1) for r in records]
    assert [what for what, _ in scopes].count("session") == 1  # seeded once
    assert [what for what, _ in scopes].count("module") == 1
    names = {name for _, name in scopes}
    assert len(names) == 3 and all(n.startswith("mm_") for n in names)
    if lane.is_wire:
        left = set(lane.admin.list_database_names())
        assert not {n for n in left if any(n.startswith(name) for name in names)}, left


OWN_ALIAS_MODULE = """
import mongomotor
import pytest
from models import Archived, Tag


@pytest.fixture(scope="module")
def archive():
    # The project's own connection (in memory), made without the plugin's help.
    mongomotor.connect("own_archive", alias="archive", host="mongomock://localhost")
    yield
    mongomotor.disconnect("archive")


@pytest.mark.asyncio
async def test_one(archive, mongomotor_db):
    await Archived(text="x").save()
    await Tag(name="t").save()


@pytest.mark.asyncio
async def test_two(archive, mongomotor_db):
    assert await Archived.objects.count() == 1
    assert await Tag.objects.count() == 0
"""


async def test_a_test_database_never_disconnects_an_alias_it_did_not_connect(lane, tmp_path):
    args, env = lane_options(lane)
    files = {"models.py": SHARED_MODELS, "test_own_alias.py": OWN_ALIAS_MODULE}
    output, _ = run_user_project(tmp_path, args, env, files)
    assert "2 passed" in output and "failed" not in output, output
