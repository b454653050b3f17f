"""Test lanes: every behaviour test runs on each driver against a real server.

* ``pymongo``: PyMongo's async client, over the wire;
* ``motor``: Motor, over the wire;
* ``memory``: the in-memory driver (mongomock), no server;
* ``ferretdb-pymongo``, ``ferretdb-motor``: both drivers against FerretDB.

The wire server is a ``nx-27017`` process started for the session on a free
loopback port, or the server named by ``MONGOMOTOR_TEST_URI`` (a real MongoDB).
The FerretDB lanes run where Go is installed: FerretDB is built once from
``tests/support/ferretdb_launcher`` (cached) and started privately, or
``MONGOMOTOR_TEST_FERRETDB_URI`` names one; without Go, one line says so.
What a server cannot do is found by probing it once (``tests/support``); a test
declares what it needs with ``@pytest.mark.requires("dbref", ...)``.
``MONGOMOTOR_TEST_LANES=memory,pymongo`` narrows the lanes.
"""

from __future__ import annotations

import functools
import itertools
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pymongo
import pytest

import mongomotor
from tests.support import ferretdb
from tests.support.capabilities import Capabilities, probe, probe_memory
from tests.support.server import wire_uri

# Also registered by the pytest11 entry point once installed; listing it keeps
# the suite working from a source checkout (pytest ignores the second copy).
pytest_plugins = ["mongomotor.testing"]

ALL_LANES = ("pymongo", "motor", "memory", "ferretdb-pymongo", "ferretdb-motor")
WIRE_LANES = ("pymongo", "motor")  # nx-27017, or the server of MONGOMOTOR_TEST_URI
FERRETDB_LANES = ("ferretdb-pymongo", "ferretdb-motor")
_db_numbers = itertools.count()


@functools.cache
def ferretdb_missing() -> str | None:
    """Why the FerretDB lanes cannot run on this machine (None: they can)."""
    if os.environ.get(ferretdb.URI_ENV) or ferretdb.binary_path().is_file():
        return None
    if ferretdb.find_go() is None:
        return f"no `go` on PATH nor at {ferretdb.GO_FALLBACK} (install Go 1.24+ to run them)"
    return None


def selected_lanes() -> tuple[str, ...]:
    wanted = os.environ.get("MONGOMOTOR_TEST_LANES")
    lanes = ALL_LANES if not wanted else tuple(n for n in ALL_LANES if n in wanted.split(","))
    if ferretdb_missing():
        lanes = tuple(name for name in lanes if name not in FERRETDB_LANES)
    return lanes


@dataclass
class Lane:
    """One driver on one server; ``lane.connect(alias)`` registers an alias on it."""

    name: str
    server_uri: str | None
    caps: Capabilities
    db_name: str
    admin: pymongo.MongoClient | None = None  # a sync client of the lane's server, for setup
    databases: list[str] = field(default_factory=list)

    @property
    def is_wire(self) -> bool:
        return self.server_uri is not None

    @property
    def driver(self) -> str | None:
        """``pymongo`` or ``motor`` on a wire lane, None in memory."""
        return self.name.removeprefix("ferretdb-") if self.is_wire else None

    @property
    def host(self) -> str:
        return self.server_uri if self.is_wire else "mongomock://localhost"  # type: ignore[return-value]

    def connect(self, alias: str = "default", db: str | None = None, **kwargs: Any) -> Any:
        """Connect ``alias`` to a fresh database of this lane (dropped after the test)."""
        db = db or (self.db_name if alias == "default" else f"{self.db_name}_{alias}")
        if db not in self.databases:
            self.databases.append(db)
        kwargs.setdefault("uuidRepresentation", "standard")
        return mongomotor.connect(db, alias=alias, host=self.host, driver=self.driver, **kwargs)

    def supports(self, capability: str) -> bool:
        return self.caps.supports(capability)

    def require(self, *capabilities: str) -> None:
        """Skip the test, with the probe's reason, if this lane lacks a capability."""
        for capability in capabilities:
            reason = self.caps.skip_reason(capability)
            if reason:
                pytest.skip(f"{self.name} lane: {reason}")


@pytest.fixture(scope="session")
def wire_server() -> Iterator[str]:
    uri, server = wire_uri()
    try:
        yield uri
    finally:
        if server is not None:
            server.stop()


@pytest.fixture
def server_uri(request: pytest.FixtureRequest) -> str:
    """The wire server's URI, for tests of the transport itself (skipped without a wire lane)."""
    if not set(WIRE_LANES) & set(selected_lanes()):
        pytest.skip("no wire lane selected by MONGOMOTOR_TEST_LANES")
    uri: str = request.getfixturevalue("wire_server")
    return uri


@pytest.fixture(scope="session")
def wire_admin(wire_server: str) -> Iterator[pymongo.MongoClient]:
    """A plain sync client for test setup and cleanup (never for the code under test)."""
    client: pymongo.MongoClient = pymongo.MongoClient(wire_server, uuidRepresentation="standard")
    yield client
    client.close()


_ferretdb_build: dict[str, Any] = {}  # "build" or "error", set once before the tests run


def pytest_collection_finish(session: pytest.Session) -> None:
    """Build FerretDB before the first test (outside any test's timeout) if a test needs it."""
    if ferretdb_missing() or os.environ.get(ferretdb.URI_ENV) or not any(
        getattr(item, "callspec", None) and item.callspec.params.get("lane") in FERRETDB_LANES
        for item in session.items
    ):
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None and not ferretdb.binary_path().is_file():
        reporter.write_line(
            f"building FerretDB {ferretdb.ferretdb_version()} for the FerretDB lanes "
            "(once: one to four minutes, downloads included; then cached)"
        )
    try:
        _ferretdb_build["build"] = ferretdb.ensure_binary()
    except (ferretdb.FerretDBUnavailable, ferretdb.FerretDBBuildError) as exc:
        _ferretdb_build["error"] = exc


@pytest.fixture(scope="session")
def ferretdb_server() -> Iterator[str]:
    if "error" in _ferretdb_build:
        raise _ferretdb_build["error"]
    build = _ferretdb_build.get("build")
    uri, server = ferretdb.ferretdb_uri(build.path if build else None)
    try:
        yield uri
    finally:
        if server is not None:
            server.stop()


@pytest.fixture(scope="session")
def ferretdb_admin(ferretdb_server: str) -> Iterator[pymongo.MongoClient]:
    """A plain sync client of the FerretDB server, for setup and cleanup."""
    client: pymongo.MongoClient = pymongo.MongoClient(
        ferretdb_server, uuidRepresentation="standard"
    )
    yield client
    client.close()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """One line on the FerretDB lanes: skipped and why, or built just now and how long it took."""
    missing = ferretdb_missing()
    build = _ferretdb_build.get("build")
    if missing:
        terminalreporter.write_line(f"FerretDB lanes skipped: {missing}")
    elif "error" in _ferretdb_build:
        terminalreporter.write_line(f"FerretDB lanes failed to build: {_ferretdb_build['error']}")
    elif build is not None and build.seconds is not None:
        terminalreporter.write_line(
            f"FerretDB {build.version} built in {build.seconds:.0f} s, cached at {build.path}"
        )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "lane" in metafunc.fixturenames and not any(
        m.name == "parametrize" and "lane" in str(m.args[0])
        for m in metafunc.definition.iter_markers()
    ):
        metafunc.parametrize("lane", selected_lanes(), indirect=True)


@pytest.fixture
def lane(request: pytest.FixtureRequest) -> Iterator[Lane]:
    """The lane this test runs on, with its ``default`` alias connected."""
    name = request.param
    if name in FERRETDB_LANES and ferretdb_missing():
        pytest.skip(f"FerretDB lanes: {ferretdb_missing()}")
    if name not in selected_lanes():
        pytest.skip(f"lane {name} is not selected by MONGOMOTOR_TEST_LANES")
    db_name = f"mm_test_{os.getpid()}_{next(_db_numbers)}"
    if name in WIRE_LANES or name in FERRETDB_LANES:
        server = "wire" if name in WIRE_LANES else "ferretdb"
        uri = request.getfixturevalue(f"{server}_server")
        admin = request.getfixturevalue(f"{server}_admin")
        current = Lane(name, uri, probe(uri), db_name, admin)
    else:
        current = Lane(name, None, probe_memory(), db_name)
    for marker in request.node.iter_markers("requires"):
        current.require(*marker.args)
    current.connect()
    try:
        yield current
    finally:
        mongomotor.disconnect_all()
        if current.is_wire:
            for db in current.databases:
                admin.drop_database(db)
