"""The FerretDB lanes: left out with one reason where Go is missing, built once where it is."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import conftest
from tests.support import ferretdb


@pytest.fixture
def no_go(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """A machine without Go and without a cached FerretDB."""
    monkeypatch.delenv(ferretdb.URI_ENV, raising=False)
    monkeypatch.delenv("MONGOMOTOR_TEST_LANES", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(ferretdb, "find_go", lambda: None)
    conftest.ferretdb_missing.cache_clear()
    yield
    conftest.ferretdb_missing.cache_clear()


def test_without_go_the_lanes_are_left_out_with_the_reason(no_go: None) -> None:
    reason = conftest.ferretdb_missing()
    assert reason is not None and "`go`" in reason and "install Go" in reason
    assert conftest.selected_lanes() == ("pymongo", "motor", "memory")
    with pytest.raises(ferretdb.FerretDBUnavailable, match="install Go"):
        ferretdb.ensure_binary()


def test_a_named_server_needs_no_go(no_go: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ferretdb.URI_ENV, "mongodb://127.0.0.1:1")
    assert conftest.ferretdb_missing() is None
    assert "ferretdb-motor" in conftest.selected_lanes()


def test_the_cache_key_follows_the_launcher_sources(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert ferretdb.ferretdb_version() == "v1.24.2"
    copy = tmp_path / "launcher"
    copy.mkdir()
    for source in ferretdb.LAUNCHER_DIR.iterdir():
        (copy / source.name).write_bytes(source.read_bytes())
    before = ferretdb.launcher_digest()
    monkeypatch.setattr(ferretdb, "LAUNCHER_DIR", copy)
    assert ferretdb.launcher_digest() == before
    (copy / "main.go").write_text((copy / "main.go").read_text() + "\n// changed\n")
    assert ferretdb.launcher_digest() != before


@pytest.mark.parametrize("lane", ["ferretdb-pymongo"], indirect=True)
def test_the_lane_server_is_the_ferretdb_we_built(lane) -> None:
    if os.environ.get(ferretdb.URI_ENV):
        pytest.skip(f"the lane's server is {ferretdb.URI_ENV}'s, not one this suite built")
    info = lane.admin.admin.command("buildInfo")
    assert info.get("ferretdbVersion") == ferretdb.ferretdb_version(), info
    printed = subprocess.run(
        [ferretdb.binary_path(), "--version"], capture_output=True, text=True, check=True
    )
    assert printed.stdout.strip() == ferretdb.ferretdb_version()
