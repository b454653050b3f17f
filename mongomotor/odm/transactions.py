"""Sessions and transactions that every operation of the task joins by itself.

    async with run_in_transaction():
        await Account.objects(id=a).update(dec__balance=10)
        await Account.objects(id=b).update(inc__balance=10)
    # committed here; rolled back if the block raised

    await run_transaction(transfer, a, b, 10)   # re-runs transfer on transient errors

Inside ``start_session`` / ``run_in_transaction`` the session is kept in a
contextvar; the driver facade adds it to every operation sent on that alias's
client, including the ones MongoEngine makes by itself (delete rules,
cascades, dereferencing, queries of signal receivers). Nothing takes a
``session=`` argument.

Rules a user notices:

* Nesting reuses the outer session: a ``start_session`` or
  ``run_in_transaction`` (or ``run_transaction``) inside an active one on the
  same client joins it; the outermost block commits or aborts.
* Each task has its own session. Tasks started inside a block inherit it, but
  MongoDB runs one operation at a time per session: do not ``gather``
  operations inside a transaction.
* Index and collection creation (DDL), and the preparation of a collection on
  first use, never join the session; an unfiltered
  ``count()`` is sent as ``count_documents`` so that it can.
* ``async with run_in_transaction()`` retries the commit while the server says
  its outcome is unknown (``UnknownTransactionCommitResult``). A block cannot be
  re-run, so on ``TransientTransactionError`` it rolls back and raises; use
  ``run_transaction(fn)`` or ``@transactional()`` to re-run the whole function,
  as MongoDB's retry loop prescribes.
* Transactions need a replica set or a sharded cluster: a server whose
  ``hello`` reply says it is standalone raises
  :class:`TransactionsNotSupported` before anything is written. The in-memory
  driver emulates sessions and transactions (one transaction at a time per
  client; see :mod:`mongomotor.drivers.memory.transactions`).
"""

from __future__ import annotations

import asyncio
import functools
import random
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any, ParamSpec, TypeVar

from mongoengine.connection import DEFAULT_CONNECTION_NAME
from mongoengine.errors import OperationError
from pymongo.errors import PyMongoError

from mongomotor.drivers.facade.sessions import session_for
from mongomotor.odm.registry import registered_client
from mongomotor.runtime.aio import maybe_await
from mongomotor.runtime.task_state import ActiveSession, session_of, sessions

__all__ = [
    "TransactionsNotSupported",
    "current_session",
    "run_in_transaction",
    "run_transaction",
    "start_session",
    "transactional",
]

T = TypeVar("T")
P = ParamSpec("P")

TRANSIENT = "TransientTransactionError"
UNKNOWN_COMMIT = "UnknownTransactionCommitResult"
RETRY_TIME_LIMIT = 120.0  # seconds, as MongoDB's drivers
_BACKOFF_FIRST, _BACKOFF_MAX = 0.005, 0.5

class TransactionsNotSupported(OperationError):
    """The alias's server cannot run multi-document transactions."""


# -- public API -------------------------------------------------------------------
def current_session(alias: str = DEFAULT_CONNECTION_NAME) -> Any:
    """The driver session this task uses for ``alias``, or None outside a session block.

        async with start_session():
            assert current_session() is not None
    """
    return session_for(_facade(alias))


@asynccontextmanager
async def start_session(
    alias: str = DEFAULT_CONNECTION_NAME, **session_kwargs: Any
) -> AsyncIterator[Any]:
    """Run this task's operations on ``alias`` in one (causally consistent) session.

        async with start_session(alias="default") as session:
            await Post(title="a").save()        # sent with session=session
    """
    facade = _facade(alias)
    client = facade.for_running_loop()
    outer = session_of(client)
    if outer is not None:
        yield outer.session
        return
    session = await _open_session(facade, client, alias, session_kwargs)
    token = sessions.set((*sessions.get(), ActiveSession(client, session)))
    try:
        yield session
    finally:
        sessions.reset(token)
        await maybe_await(session.end_session())


@asynccontextmanager
async def run_in_transaction(
    alias: str = DEFAULT_CONNECTION_NAME,
    session_kwargs: dict[str, Any] | None = None,
    transaction_kwargs: dict[str, Any] | None = None,
) -> AsyncIterator[Any]:
    """Run the block in a transaction: committed on exit, aborted if it raises.

        async with run_in_transaction():
            await order.save(); await stock.update(dec__count=1)
    """
    outer = _outer_transaction(alias)
    if outer is not None:
        yield outer
        return
    await require_transactions(alias)
    async with start_session(alias, **(session_kwargs or {})) as session:
        await maybe_await(session.start_transaction(**(transaction_kwargs or {})))
        try:
            yield session
        except BaseException as exc:
            await _abort(session)
            _note_retry(exc)
            raise
        if session.in_transaction:
            try:
                await _commit(session, time.monotonic() + RETRY_TIME_LIMIT)
            except PyMongoError as exc:
                _note_retry(exc)
                raise


async def run_transaction(
    fn: Callable[..., Awaitable[T]],
    *args: Any,
    alias: str = DEFAULT_CONNECTION_NAME,
    session_kwargs: dict[str, Any] | None = None,
    transaction_kwargs: dict[str, Any] | None = None,
    **kwargs: Any,
) -> T:
    """Await ``fn(*args, **kwargs)`` in a transaction, re-running it on transient errors.

        await run_transaction(transfer, from_id, to_id, amount=10)
    """
    if _outer_transaction(alias) is not None:
        return await fn(*args, **kwargs)
    await require_transactions(alias)
    deadline = time.monotonic() + RETRY_TIME_LIMIT
    attempt = 0
    async with start_session(alias, **(session_kwargs or {})) as session:
        while True:
            if attempt:
                await _backoff(attempt)
            attempt += 1
            await maybe_await(session.start_transaction(**(transaction_kwargs or {})))
            try:
                result = await fn(*args, **kwargs)
            except BaseException as exc:
                await _abort(session)
                if _is_transient(exc) and time.monotonic() < deadline:
                    continue
                raise
            if not session.in_transaction:
                return result  # fn committed or aborted by itself
            try:
                await _commit(session, deadline)
            except PyMongoError as exc:
                if exc.has_error_label(TRANSIENT) and time.monotonic() < deadline:
                    continue
                raise
            return result


def transactional(
    alias: str = DEFAULT_CONNECTION_NAME,
    session_kwargs: dict[str, Any] | None = None,
    transaction_kwargs: dict[str, Any] | None = None,
) -> Callable[[Callable[P, Awaitable[T]]], Callable[P, Coroutine[Any, Any, T]]]:
    """Decorate a coroutine function to run it with :func:`run_transaction`.

        @transactional()
        async def transfer(a, b, amount): ...
    """

    def decorate(fn: Callable[P, Awaitable[T]]) -> Callable[P, Coroutine[Any, Any, T]]:
        @functools.wraps(fn)
        async def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
            return await run_transaction(
                fn,
                *args,
                alias=alias,
                session_kwargs=session_kwargs,
                transaction_kwargs=transaction_kwargs,
                **kwargs,
            )

        return wrapper

    return decorate


async def require_transactions(alias: str = DEFAULT_CONNECTION_NAME) -> None:
    """Raise :class:`TransactionsNotSupported` unless ``alias``'s server runs transactions."""
    facade = _facade(alias)
    if facade.backend.emulates_transactions:
        return  # emulated: see mongomotor.drivers.memory.transactions
    client = facade.for_running_loop()
    hello = _hello_cache.get(client)
    if hello is None:
        hello = await maybe_await(client.admin.command("hello"))
        _hello_cache[client] = hello
    if not hello.get("setName") and hello.get("msg") != "isdbgrid":
        raise TransactionsNotSupported(
            f"alias {alias!r}: the server reports itself as a standalone mongod (its hello "
            "reply has no setName), and MongoDB runs transactions only on a replica set or "
            "a sharded cluster. Start mongod with --replSet and run rs.initiate() (a "
            "single-node replica set is enough), or connect to a cluster."
        )


_hello_cache: weakref.WeakKeyDictionary[Any, dict[str, Any]] = weakref.WeakKeyDictionary()


# -- helpers ----------------------------------------------------------------------
def _facade(alias: str) -> Any:
    return registered_client(alias)


def _outer_transaction(alias: str) -> Any:
    session = current_session(alias)
    return session if session is not None and session.in_transaction else None


async def _open_session(
    facade: Any, client: Any, alias: str, session_kwargs: dict[str, Any]
) -> Any:
    if facade.backend.emulates_transactions:
        return facade.backend.start_emulated_session(facade, client)
    return await maybe_await(client.start_session(**session_kwargs))


async def _abort(session: Any) -> None:
    if session.in_transaction:
        await maybe_await(session.abort_transaction())


async def _commit(session: Any, deadline: float) -> None:
    """Commit, retrying while the server cannot tell whether the commit happened."""
    while True:
        try:
            await maybe_await(session.commit_transaction())
            return
        except PyMongoError as exc:
            if not exc.has_error_label(UNKNOWN_COMMIT) or time.monotonic() >= deadline:
                raise


def _is_transient(exc: BaseException) -> bool:
    return isinstance(exc, PyMongoError) and exc.has_error_label(TRANSIENT)


async def _backoff(attempt: int) -> None:
    await asyncio.sleep(random.random() * min(_BACKOFF_FIRST * 1.5**attempt, _BACKOFF_MAX))


def _note_retry(exc: BaseException) -> None:
    if _is_transient(exc) and hasattr(exc, "add_note"):
        exc.add_note(
            "mongomotor: the transaction was rolled back and may succeed if run again; "
            "`await mongomotor.run_transaction(fn)` (or @transactional()) re-runs it for you"
        )
