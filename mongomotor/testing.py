"""A pytest plugin for apps built on mongomotor: a fresh database per test.

    async def test_signup(mongomotor_db, mongomotor_queries):
        with mongomotor_queries() as queries:
            await User(name="ann").save()
        assert queries == 1

Installing mongomotor registers it (entry point ``pytest11``); with plugin
autoloading off, list it: ``pytest_plugins = ["mongomotor.testing"]``.

* ``mongomotor_db`` connects the ``default`` alias to a new, uniquely named
  database, yields the driver's database, then drops it (and any database
  whose name starts with it plus ``_``, such as per-tenant ones) and
  disconnects every alias. In memory (``mongomock://``) unless
  ``--mongomotor-uri`` or ``MONGOMOTOR_TEST_URI`` names a server;
  ``--mongomotor-driver`` / ``MONGOMOTOR_TEST_DRIVER`` picks the driver.
  Override the ``mongomotor_settings`` fixture to choose per test.
* ``mongomotor_queries()`` counts the operations a block sends, on every
  driver (it is :class:`mongomotor.query_counter`).

Fixtures run on pytest-asyncio's loops (function-scoped ones included).
"""

from __future__ import annotations

import inspect
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


@pytest.fixture
def mongomotor_settings(request: pytest.FixtureRequest) -> dict[str, Any]:
    """The ``connect()`` keyword arguments ``mongomotor_db`` uses; override to choose.

        @pytest.fixture
        def mongomotor_settings(): return {"host": "mongodb://db:27017", "driver": "motor"}
    """
    config = request.config
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


async def _mongomotor_db(
    request: pytest.FixtureRequest, mongomotor_settings: dict[str, Any]
) -> AsyncIterator[Any]:
    """Connect ``default`` to a fresh database for this test; drop it afterwards.

        async def test_x(mongomotor_db): await Post(title="a").save()
    """
    # Deferred: pytest loads this plugin at start-up (an entry point), before a
    # project's conftest or coverage; mongomotor is imported by the first fixture.
    import mongomotor

    name = database_name(request.node.name)
    settings = dict(mongomotor_settings)
    settings.pop("db", None)
    await mongomotor.disconnect("default")
    mongomotor.connect(name, alias="default", **settings)
    try:
        yield mongomotor.get_db()
    finally:
        try:
            await _drop_databases(mongomotor.get_connection("default"), name)
        finally:
            await mongomotor.disconnect_all()


if _async_fixture is not None:
    mongomotor_db = _async_fixture(_mongomotor_db, name="mongomotor_db")
else:  # pragma: no cover - depends on the install

    @pytest.fixture
    def mongomotor_db() -> None:
        """Needs pytest-asyncio."""
        pytest.fail(
            "the mongomotor_db fixture runs on pytest-asyncio's event loops: "
            "pip install 'mongomotor[testing]' (or pytest-asyncio)"
        )


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
    for db in await _maybe_await(client.list_database_names()):
        if db == name or db.startswith(f"{name}_"):
            await _maybe_await(client.drop_database(db))


async def _maybe_await(value: Any) -> Any:
    # A driver's client answers with an awaitable; mongomock's with the value.
    return await value if inspect.isawaitable(value) else value
