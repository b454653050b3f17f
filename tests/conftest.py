"""Test lanes: every behaviour test runs on each driver against a real server.

* ``pymongo``: PyMongo's async client, over the wire;
* ``motor``: Motor, over the wire;
* ``memory``: the in-memory driver (mongomock), no server.

The wire server is a ``nx-27017`` process started for the session on a free
loopback port, or the server named by ``MONGOMOTOR_TEST_URI`` (a real MongoDB).
What a server cannot do is found by probing it once (``tests/support``); a test
declares what it needs with ``@pytest.mark.requires("dbref", ...)``.
``MONGOMOTOR_TEST_LANES=memory,pymongo`` narrows the lanes.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pymongo
import pytest

import mongomotor
from tests.support.capabilities import Capabilities, probe, probe_memory
from tests.support.server import wire_uri

# Also registered by the pytest11 entry point once installed; listing it keeps
# the suite working from a source checkout (pytest ignores the second copy).
pytest_plugins = ["mongomotor.testing"]

ALL_LANES = ("pymongo", "motor", "memory")
WIRE_LANES = ("pymongo", "motor")
_db_numbers = itertools.count()


def selected_lanes() -> tuple[str, ...]:
    wanted = os.environ.get("MONGOMOTOR_TEST_LANES")
    if not wanted:
        return ALL_LANES
    return tuple(name for name in ALL_LANES if name in wanted.split(","))


@dataclass
class Lane:
    """One driver on one server; ``lane.connect(alias)`` registers an alias on it."""

    name: str
    server_uri: str | None
    caps: Capabilities
    db_name: str
    databases: list[str] = field(default_factory=list)

    @property
    def is_wire(self) -> bool:
        return self.name in WIRE_LANES

    @property
    def driver(self) -> str | None:
        return self.name if self.is_wire else None

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


@pytest.fixture(scope="session")
def wire_admin(wire_server: str) -> Iterator[pymongo.MongoClient]:
    """A plain sync client for test setup and cleanup (never for the code under test)."""
    client: pymongo.MongoClient = pymongo.MongoClient(wire_server, uuidRepresentation="standard")
    yield client
    client.close()


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
    if name not in selected_lanes():
        pytest.skip(f"lane {name} is not selected by MONGOMOTOR_TEST_LANES")
    db_name = f"mm_test_{os.getpid()}_{next(_db_numbers)}"
    if name in WIRE_LANES:
        uri = request.getfixturevalue("wire_server")
        admin = request.getfixturevalue("wire_admin")
        current = Lane(name, uri, probe(uri), db_name)
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
