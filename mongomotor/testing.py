"""A pytest plugin for apps built on mongomotor: a fresh database per test, module or session.

    async def test_signup(mongomotor_db, mongomotor_queries):
        with mongomotor_queries() as queries:
            await User(name="ann").save()
        assert queries == 1

Installing mongomotor registers it (entry point ``pytest11``); with plugin
autoloading off, list it: ``pytest_plugins = ["mongomotor.testing"]``.

* ``mongomotor_db`` connects the ``default`` alias to a new, uniquely named
  database, yields the driver's database, then drops it (and any database
  whose name starts with it plus ``_``, such as per-tenant ones) and
  disconnects ``default`` and the aliases connected during the test. In memory
  (``mongomock://``) unless ``--mongomotor-uri`` or ``MONGOMOTOR_TEST_URI``
  names a server; ``--mongomotor-driver`` / ``MONGOMOTOR_TEST_DRIVER`` picks
  the driver. Override the ``mongomotor_settings`` fixture to choose per test.
* ``mongomotor_module_db`` / ``mongomotor_session_db`` do the same for a
  module / the session (data seeded once, read by many tests), on
  pytest-asyncio's module / session loop; ``mongomotor_shared_settings``
  chooses for them. A ``mongomotor_db`` inside their scope replaces their
  ``default`` for its test and puts it back after: no fixture disconnects an
  alias registered before it started.
* ``mongomotor_queries()`` counts the operations a block sends, on every
  driver (it is :class:`mongomotor.query_counter`).

Fixtures run on pytest-asyncio's loops (function-scoped ones included).
"""

from __future__ import annotations

import contextlib
import os
import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

try:
    from pytest_asyncio import fixture as _async_fixture
except ImportError:  # pragma: no cover - depends on the install
    _async_fixture = None

MEMORY_HOST = "mongomock://localhost"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mongomotor", "mongomotor test databases")
    group.addoption(
        "--mongomotor-uri",
        default=None,
        help="server for the mongomotor_db fixture (default: MONGOMOTOR_TEST_URI, "
        "else in memory); its database part is ignored",
    )
    group.addoption(
        "--mongomotor-driver",
        default=None,
        help="driver for the mongomotor_db fixture: pymongo (default), motor or a "
        "registered one (default: MONGOMOTOR_TEST_DRIVER)",
    )


def settings_from(config: pytest.Config) -> dict[str, Any]:
    """The ``connect()`` keyword arguments the command line and environment ask for."""
    uri = config.getoption("mongomotor_uri", None) or os.environ.get("MONGOMOTOR_TEST_URI")
    driver = config.getoption("mongomotor_driver", None) or os.environ.get(
        "MONGOMOTOR_TEST_DRIVER"
    )
    settings: dict[str, Any] = {
        "host": without_database(uri) if uri else MEMORY_HOST,
        "uuidRepresentation": "standard",
    }
    if driver:
        settings["driver"] = driver
    return settings


@pytest.fixture(scope="session")
def mongomotor_shared_settings(request: pytest.FixtureRequest) -> dict[str, Any]:
    """The ``connect()`` arguments of the module and session databases (and, unless
    ``mongomotor_settings`` is overridden, of each test's); override at session or
    module scope to choose.

        @pytest.fixture(scope="session")
        def mongomotor_shared_settings(): return {"host": "mongodb://db:27017"}
    """
    return settings_from(request.config)


@pytest.fixture
def mongomotor_settings(mongomotor_shared_settings: dict[str, Any]) -> dict[str, Any]:
    """The ``connect()`` keyword arguments ``mongomotor_db`` uses; override to choose.

        @pytest.fixture
        def mongomotor_settings(): return {"host": "mongodb://db:27017", "driver": "motor"}
    """
    return dict(mongomotor_shared_settings)


@contextlib.asynccontextmanager
async def _connected_database(label: str, settings: dict[str, Any]) -> AsyncIterator[Any]:
    """``default`` on a fresh database for a scope; dropped, and ``default`` put back, after.

    Aliases registered before it started are left alone (an outer scope's
    ``default`` is set aside, not closed); aliases connected while it ran are
    disconnected with it.
    """
    # Deferred: pytest loads this plugin at start-up (an entry point), before a
    # project's conftest or coverage; mongomotor is imported by the first fixture.
    import mongomotor
    from mongomotor.odm import aliases

    name = database_name(label)
    settings = dict(settings)
    settings.pop("db", None)
    before = aliases.registered_aliases() - {"default"}
    aside = aliases.set_aside("default")
    try:
        mongomotor.connect(name, alias="default", **settings)
        try:
            yield mongomotor.get_db()
        finally:
            await _drop_databases(mongomotor.get_connection("default"), name)
    finally:
        try:
            for alias in sorted(aliases.registered_aliases() - before):
                await mongomotor.disconnect(alias)
        finally:
            aliases.put_back(aside)  # also when connecting failed


async def _mongomotor_db(
    request: pytest.FixtureRequest, mongomotor_settings: dict[str, Any]
) -> AsyncIterator[Any]:
    """Connect ``default`` to a fresh database for this test; drop it afterwards.

        async def test_x(mongomotor_db): await Post(title="a").save()
    """
    async with _connected_database(request.node.name, mongomotor_settings) as db:
        yield db


async def _mongomotor_shared_db(
    request: pytest.FixtureRequest, mongomotor_shared_settings: dict[str, Any]
) -> AsyncIterator[Any]:
    """Connect ``default`` to a fresh database for this module (or session); drop it after.

        @pytest.fixture(scope="module")
        async def users(mongomotor_module_db): return [await User(name="a").save()]
    """
    label = "session" if request.scope == "session" else request.node.name
    async with _connected_database(label, mongomotor_shared_settings) as db:
        yield db


def _needs_pytest_asyncio(name: str, scope: str) -> Any:
    @pytest.fixture(name=name, scope=scope)  # type: ignore[call-overload]
    def fixture() -> None:
        """Needs pytest-asyncio."""
        pytest.fail(
            f"the {name} fixture runs on pytest-asyncio's event loops: "
            "pip install 'mongomotor[testing]' (or pytest-asyncio)"
        )

    return fixture


if _async_fixture is not None:
    mongomotor_db = _async_fixture(_mongomotor_db, name="mongomotor_db")
    mongomotor_module_db = _async_fixture(
        _mongomotor_shared_db, name="mongomotor_module_db", scope="module", loop_scope="module"
    )
    mongomotor_session_db = _async_fixture(
        _mongomotor_shared_db, name="mongomotor_session_db", scope="session",
        loop_scope="session",
    )  # fmt: skip
else:  # pragma: no cover - depends on the install
    mongomotor_db = _needs_pytest_asyncio("mongomotor_db", "function")
    mongomotor_module_db = _needs_pytest_asyncio("mongomotor_module_db", "module")
    mongomotor_session_db = _needs_pytest_asyncio("mongomotor_session_db", "session")


@pytest.fixture
def mongomotor_queries() -> Any:
    """``mongomotor_queries()`` counts the operations its block sends, on every driver.

        with mongomotor_queries() as q: await Post.objects.first()
        assert q == 1                    # q.operations lists them: ["find"]
    """
    from mongomotor import query_counter  # deferred, as in _mongomotor_db

    return query_counter


def database_name(test_name: str) -> str:
    """A database name unique to this run of ``test_name`` (at most 52 characters)."""
    slug = re.sub(r"[^A-Za-z0-9]+", "_", test_name).strip("_")[:34] or "test"
    return f"mm_{slug}_{uuid.uuid4().hex[:12]}"


def without_database(uri: str) -> str:
    """``uri`` with its database part removed (the fixture names its own database)."""
    match = re.fullmatch(r"([a-z+]+://[^/?]*)(/[^?]*)?(\?.*)?", uri)
    if match is None:
        return uri
    return f"{match.group(1)}/{match.group(3) or ''}"


async def _drop_databases(client: Any, name: str) -> None:
    # ``get_connection()`` in a coroutine has PyMongo's async API on every driver.
    for db in await client.list_database_names():
        if db == name or db.startswith(f"{name}_"):
            await client.drop_database(db)
