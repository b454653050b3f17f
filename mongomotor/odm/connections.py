"""Aliases and clients: ``connect``, ``disconnect``, ``get_db``, versions.

Settings live in MongoEngine's own registry, so every MongoEngine feature that
reads it (``db_alias``, ``switch_db``) works unchanged. The registered client is
a facade (:mod:`mongomotor.drivers`) that opens the driver's real client lazily,
once per event loop: ``connect`` itself does no I/O.

    connect("blog", host="mongodb://localhost:27017")
    connect("blog", host="mongomock://localhost")       # in-memory
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Generator
from typing import Any

import mongoengine.connection as me_connection
from mongoengine.connection import DEFAULT_CONNECTION_NAME, ConnectionFailure
from pymongo import uri_parser
from pymongo.uri_parser_shared import _validate_uri

from mongomotor import drivers
from mongomotor.drivers.async_facade import async_facade
from mongomotor.odm.errors import BadAsyncFrameworkError, MissingFramework
from mongomotor.odm.registry import registered_client
from mongomotor.runtime.aio import maybe_await
from mongomotor.runtime.bridge import in_bridge, require_loop
from mongomotor.runtime.patching import patched

__all__ = [
    "DEFAULT_CONNECTION_NAME",
    "connect",
    "register_connection",
    "disconnect",
    "disconnect_all",
    "get_connection",
    "get_db",
    "get_mongodb_version",
    "get_db_version",
]

ASYNC_FRAMEWORKS = ("asyncio", "tornado")


def _check_framework(async_framework: str) -> None:
    if async_framework not in ASYNC_FRAMEWORKS:
        raise BadAsyncFrameworkError(
            f"async_framework={async_framework!r} is not supported: "
            f"use one of {', '.join(ASYNC_FRAMEWORKS)}"
        )
    if async_framework == "tornado":
        try:
            import tornado  # optional: only async_framework='tornado' needs it
        except ImportError:
            raise MissingFramework(
                "async_framework='tornado' needs Tornado 6+: pip install tornado"
            ) from None
        if int(tornado.version.split(".")[0]) < 6:
            raise MissingFramework(
                f"Tornado {tornado.version} runs on its own loop; mongomotor needs Tornado 6+"
            )


class _UriParserWithoutDns:
    """MongoEngine's ``uri_parser``, minus the DNS lookup of ``mongodb+srv://`` URIs.

    MongoEngine only reads the database, credentials and options of a URI;
    resolving the SRV record there would block ``connect``. The driver's
    client resolves it itself, on first use.
    """

    @staticmethod
    def parse_uri(uri: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
        if uri.startswith("mongodb+srv://"):
            return _validate_uri(uri)
        return uri_parser.parse_uri(uri, *args, **kwargs)


def _register(register: Any, *args: Any, **kwargs: Any) -> Any:
    with patched(me_connection, "uri_parser", _UriParserWithoutDns):
        return register(*args, **kwargs)


def register_connection(
    alias: str,
    db: str | None = None,
    async_framework: str = "asyncio",
    driver: str | None = None,
    **kwargs: Any,
) -> None:
    """Register connection settings for ``alias`` without connecting."""
    _check_framework(async_framework)
    settings = drivers.client_settings(driver, kwargs)
    _register(me_connection.register_connection, alias, db, **settings)


def connect(
    db: str | None = None,
    alias: str = DEFAULT_CONNECTION_NAME,
    async_framework: str = "asyncio",
    driver: str | None = None,
    **kwargs: Any,
) -> Any:
    """Connect ``alias`` to the database ``db``; takes every ``mongoengine.connect`` argument.

        connect("blog", host="mongodb://localhost:27017", driver="motor")

    ``driver`` is ``'pymongo'`` (``AsyncMongoClient``, the default) or
    ``'motor'``; a ``mongomock://`` host selects the in-memory driver.
    ``async_framework`` is ``'asyncio'`` or ``'tornado'`` (Tornado 6 runs on
    asyncio). No I/O happens here: the first awaited operation connects.
    """
    _check_framework(async_framework)
    return _register(me_connection.connect, db, alias, **drivers.client_settings(driver, kwargs))


def disconnect(alias: str = DEFAULT_CONNECTION_NAME) -> Disconnecting:
    """Close the connection with a given alias.

        await disconnect("archive")   # in a coroutine: returns once the client is closed
        disconnect("archive")         # outside a running loop: closed on return

    The alias is forgotten at once, and the driver's clients of every loop are
    closed. In a coroutine the running loop's client closes in a task started
    at once, and the awaitable returned waits for it; not awaited, the close
    still runs to its end (at the latest while ``asyncio.run`` shuts the loop
    down). Elsewhere, including sync code under :func:`~mongomotor.run_sync`,
    the close is done on return (awaiting what it returns then waits for nothing).
    """
    client = me_connection._connections.get(alias)
    closing = None
    if client is not None and not _shared(client, alias):
        closing = client.close()  # MongoEngine's disconnect below finds it closed
    me_connection.disconnect(alias)
    return _disconnecting([closing])


def disconnect_all() -> Disconnecting:
    """Close every alias; awaitable in a coroutine, as :func:`disconnect`.

        await disconnect_all()   # in a FastAPI lifespan, after `yield`
    """
    closings = [disconnect(alias) for alias in list(me_connection._connections)]
    return _disconnecting(closings)


class Disconnecting:
    """What :func:`disconnect` returns: await it to wait for the close.

        await disconnect()      # returns once the client is closed
    """

    __slots__ = ("_closings",)

    def __init__(self, closings: list[Any]) -> None:
        self._closings = closings

    @property
    def done(self) -> bool:
        """True when nothing is left to wait for (the close happened on return)."""
        return not self._closings

    def __await__(self) -> Generator[Any, None, None]:
        for closing in self._closings:
            yield from closing.__await__()


def _shared(client: Any, alias: str) -> bool:
    # MongoEngine shares a client between aliases with the same settings and
    # closes it with the last of them.
    return any(c is client for a, c in me_connection._connections.items() if a != alias)


def _disconnecting(closings: list[Any]) -> Disconnecting:
    if in_bridge() or asyncio._get_running_loop() is None:
        return Disconnecting([])  # closed on return
    return Disconnecting([c for c in closings if c is not None and not _done(c)])


def _done(closing: Any) -> bool:
    return isinstance(closing, Disconnecting) and closing.done


def get_connection(alias: str = DEFAULT_CONNECTION_NAME) -> Any:
    """The client of ``alias``, with PyMongo's async API on every driver (no I/O).

        client = get_connection()
        await client.admin.command("ping")

    In sync code under :func:`~mongomotor.run_sync` it is MongoEngine's client
    (PyMongo's sync API), as ``mongoengine.connection.get_connection`` gives.
    ``client.delegate`` is the driver's own client for the running loop.
    """
    client = registered_client(alias)
    if in_bridge():
        return client
    client.for_running_loop()  # a wire driver's client needs a running loop: say so now
    return async_facade(client)


def get_db(alias: str = DEFAULT_CONNECTION_NAME) -> Any:
    """The database of ``alias``, with PyMongo's async API on every driver (no I/O).

        await get_db()["post"].count_documents({})

    In sync code under :func:`~mongomotor.run_sync` it is MongoEngine's
    database (PyMongo's sync API).
    """
    client = registered_client(alias)
    if in_bridge():
        return me_connection.get_db(alias)
    client.for_running_loop()
    return async_facade(me_connection.get_db(alias))


def driver_db(alias: str = DEFAULT_CONNECTION_NAME) -> Any:
    """The driver's own database of ``alias`` for the running loop (for driver-level hooks)."""
    client = registered_client(alias).for_running_loop()
    return client[me_connection._connection_settings[alias]["name"]]


def version_tuple(info: dict[str, Any]) -> tuple[int, ...]:
    array = info.get("versionArray")
    if array:
        return tuple(int(part) for part in array)
    numbers = re.findall(r"\d+", str(info.get("version", "")))
    if not numbers:
        raise ConnectionFailure("the server's buildInfo reports no version")
    return tuple(int(part) for part in numbers)


def _server_info(alias: str) -> dict[str, Any]:
    return registered_client(alias).server_info()


async def fetch_server_info(alias: str) -> dict[str, Any]:
    """The ``buildInfo`` reply of ``alias``'s server (awaited on the loop, outside the bridge)."""
    client = registered_client(alias)
    return await maybe_await(client.backend.server_info(client.for_running_loop()))


def get_db_version(alias: str = DEFAULT_CONNECTION_NAME) -> Any:
    """The server version of ``alias`` as a tuple, e.g. ``(7, 0, 2)``; awaitable.

        version = await get_db_version()
    """
    if in_bridge():
        return version_tuple(_server_info(alias))
    require_loop("get_db_version()")
    return _awaitable_version(alias, None)


def get_mongodb_version(alias: str = DEFAULT_CONNECTION_NAME) -> Any:
    """The server version of ``alias`` as ``(major, minor)``; awaitable.

        if await get_mongodb_version() >= (6, 0): ...
    """
    if in_bridge():
        return version_tuple(_server_info(alias))[:2]
    require_loop("get_mongodb_version()")
    return _awaitable_version(alias, 2)


async def _awaitable_version(alias: str, parts: int | None) -> tuple[int, ...]:
    version = version_tuple(await fetch_server_info(alias))
    return version[:parts] if parts else version

