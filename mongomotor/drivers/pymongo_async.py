"""The default driver: PyMongo's native asyncio API (``AsyncMongoClient``).

    connect("blog", host="mongodb://localhost:27017")   # driver="pymongo"
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

from pymongo import AsyncMongoClient, CursorType
from pymongo.asynchronous.command_cursor import AsyncCommandCursor
from pymongo.asynchronous.cursor import AsyncCursor

from mongomotor.drivers import chunked_batches, lean_transport
from mongomotor.drivers.backend import Backend
from mongomotor.runtime.bridge import in_bridge

T = TypeVar("T")


class PyMongoAsyncBackend(Backend):
    """``connect(driver='pymongo')``: PyMongo's ``AsyncMongoClient``, guarded while selecting."""

    name = "pymongo"
    guards_operations = True

    def create_client(self, settings: dict[str, Any]) -> AsyncMongoClient:
        client = AsyncMongoClient(**{**lean_transport.client_options(), **settings})
        return lean_transport.adopt(client)

    async def close_client(self, client: AsyncMongoClient) -> None:
        await client.close()

    def is_cursor(self, value: Any) -> bool:
        return isinstance(value, (AsyncCursor, AsyncCommandCursor))

    def open_find_cursor(self, collection: Any, args: tuple, kwargs: dict, limit: int = 0) -> Any:
        # A few documents (get, first) cannot pile up in the collector: PyMongo's
        # own cursor reads them with less work.
        if (
            chunked_batches.enabled
            and not 0 < abs(limit) <= chunked_batches.SMALL_LIMIT
            and decodes_in_chunks(collection, kwargs)
        ):
            return chunked_batches.ChunkedCursor(collection, *args, **kwargs)
        return collection.find(*args, **kwargs)

    async def fetch_batch(self, cursor: Any) -> Any:
        if type(cursor) is chunked_batches.ChunkedCursor:
            return await cursor.take_batch()
        batch: list[Any] = []
        await cursor._next_batch(batch)
        return batch

    def guard_operation(self, facade: Any, coroutine: Any) -> Any:
        # Outside the bridge the facade refuses the coroutine: no guard needed.
        if selection_may_wait(facade.for_running_loop()) and in_bridge():
            return cancel_once(coroutine)
        return coroutine


def decodes_in_chunks(collection: Any, kwargs: dict) -> bool:
    """True if a ``find`` of ``collection`` with ``kwargs`` may keep its batches as bytes.

    Not for tailable and exhaust cursors, nor where the whole reply is seen at
    once: command listeners (their events show the documents) and automatic
    encryption (which decrypts the whole reply).
    """
    client = collection.database.client
    return (
        kwargs.get("cursor_type", CursorType.NON_TAILABLE) == CursorType.NON_TAILABLE
        and not client._event_listeners.enabled_for_commands
        and client._encrypter is None
    )


# -- the cold-topology cancellation guard -------------------------------------
#
# PyMongo 4.20's ``Topology._select_servers_loop`` waits for a server under
# ``async with self._lock`` with ``asyncio.wait_for(condition.wait(), 0.5)``.
# On Python 3.11, ``wait_for`` runs ``condition.wait()`` in a task of its own;
# when the waiting task is cancelled, ``wait_for`` cancels that inner task and
# waits for it to take the lock back. A *second* cancellation arriving during
# that wait makes ``wait_for`` return at once: the caller's ``async with``
# releases a lock it does not hold ("Lock is not acquired", or another waiter's
# "cannot wait on un-acquired lock"), and the orphaned inner task then takes the
# lock and never gives it back. Every later operation of that client waits for
# ever. Only waiting server selection is exposed (no selectable server yet, or
# during an outage); with a known server, selection never waits.
#
# The guard runs such an operation in a task of its own and cancels it exactly
# once, however often the caller is cancelled. It can go when mongomotor needs
# Python >= 3.12 (``wait_for`` no longer uses an inner task) or PyMongo stops
# waiting on its topology condition with ``wait_for``: ``tests/test_faults.py``
# reproduces the hazard with raw PyMongo and says when it is gone.

_ready: list[Any] = [None]  # the last topology description known to have a writable server


def selection_may_wait(client: AsyncMongoClient) -> bool:
    """True if an operation of ``client`` may have to wait in server selection now."""
    description = client.topology_description
    if description is _ready[0]:
        return False
    if description.has_writable_server():
        _ready[0] = description  # descriptions are immutable: replaced on every change
        return False
    return True


async def cancel_once(coro: Coroutine[Any, Any, T]) -> T:
    """Await ``coro`` in its own task, which the caller's cancellations reach only once.

    The caller still sees its ``CancelledError``, after the driver has unwound.
    """
    task = asyncio.get_running_loop().create_task(coro)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        if task.done():
            if not task.cancelled():
                task.exception()  # retrieved: the caller's cancellation wins
            raise
        task.cancel()
        while not task.done():
            try:
                await asyncio.wait((task,))
            except asyncio.CancelledError:
                pass  # a further cancellation: the driver is already unwinding
        if not task.cancelled():
            task.exception()
        raise
