"""Readiness: wait for an alias's server to answer before serving requests.

    version = await mongomotor.ping()            # (7, 0, 2); retries for 10 s
    await mongomotor.ping("reports", timeout=30)
"""

from __future__ import annotations

import asyncio
from typing import Any

import mongoengine.connection as me_connection
import pymongo
from mongoengine.connection import DEFAULT_CONNECTION_NAME
from pymongo.errors import ConnectionFailure, PyMongoError

from mongomotor.drivers.facade import redact
from mongomotor.odm.connections import fetch_server_info, version_tuple
from mongomotor.odm.registry import registered_client

__all__ = ["ServerNotReady", "ping"]


class ServerNotReady(ConnectionFailure, me_connection.ConnectionFailure):
    """``ping`` gave up: a ``ConnectionFailure`` of both PyMongo and MongoEngine."""

_FIRST_DELAY, _MAX_DELAY = 0.05, 1.0
_ATTEMPT_LIMIT = 2.0  # seconds one attempt may wait for the server, so that ping retries


async def ping(alias: str = DEFAULT_CONNECTION_NAME, timeout: float = 10.0) -> tuple[int, ...]:
    """Wait until ``alias``'s server answers; return its version, e.g. ``(7, 0, 2)``.

        version = await mongomotor.ping(timeout=10.0)   # in a FastAPI lifespan

    Each attempt waits at most 2 s for an answer; between attempts the pause
    grows from 50 ms to 1 s. After ``timeout`` seconds it raises
    :class:`ServerNotReady` (a ``ConnectionFailure`` of PyMongo and of
    MongoEngine) naming the alias, its host (password masked) and the last error.
    """
    if timeout <= 0:
        raise ValueError(f"ping(timeout={timeout!r}): the timeout must be a positive number")
    registered_client(alias)  # an unknown alias fails now: waiting cannot fix it
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    delay = _FIRST_DELAY
    attempts = 0
    while True:
        attempts += 1
        remaining = deadline - loop.time()
        try:
            seconds = min(max(remaining, 0.001), _ATTEMPT_LIMIT)
            return version_tuple(await _attempt(alias, seconds))
        except (PyMongoError, OSError, asyncio.TimeoutError) as exc:
            last: BaseException = exc
        remaining = deadline - loop.time()
        if remaining <= 0:
            break
        await asyncio.sleep(min(delay, remaining))
        delay = min(delay * 2, _MAX_DELAY)
    reason = f"{type(last).__name__}: {last}" if str(last) else type(last).__name__
    raise ServerNotReady(
        f"mongomotor.ping: alias {alias!r} (host {masked_host(alias)}) did not answer "
        f"within {timeout:g} s ({attempts} attempt{'s' if attempts > 1 else ''}); "
        f"last error: {reason}"
    ) from last


async def _attempt(alias: str, seconds: float) -> dict[str, Any]:
    # pymongo.timeout bounds server selection and the command inside the driver,
    # so a slow attempt ends by itself rather than by cancelling the driver's
    # connection setup; wait_for is the backstop for drivers that ignore it.
    with pymongo.timeout(seconds):
        return await asyncio.wait_for(fetch_server_info(alias), seconds + 1.0)


def masked_host(alias: str) -> str:
    """``alias``'s host(s) as registered, with any password replaced by ``***``."""
    settings = me_connection._connection_settings.get(alias, {})
    hosts = settings.get("host")
    if hosts is None:
        return "?"
    if not isinstance(hosts, (list, tuple)):
        hosts = [hosts]
    return ", ".join(redact(str(host)) for host in hosts)
