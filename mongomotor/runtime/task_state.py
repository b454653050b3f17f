"""State that differs per task: switches, ``no_dereference``, sessions.

    with_entry(db_aliases, Post, "archive")   # the mapping a switch_db block sets
    active_sessions()                          # the sessions this task works in

Every value lives in a contextvar, so it applies to the task that set it, the
tasks it starts, and the sync code ``run_sync`` runs for it; never to another
request served by the same loop or thread. The context managers that set them
are in :mod:`mongomotor.odm.context_managers` and :mod:`mongomotor.odm.transactions`.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from dataclasses import dataclass
from types import MappingProxyType, TracebackType
from typing import Any, Generic, TypeVar

__all__ = [
    "ActiveSession",
    "TaskLocalBlock",
    "active_sessions",
    "block_collections",
    "collection_names",
    "db_aliases",
    "no_deref_classes",
    "no_deref_fields",
    "no_sub_classes",
    "reset",
    "sessions",
    "session_of",
    "sessions_suspended",
    "with_entry",
]

D = TypeVar("D")
EMPTY: MappingProxyType = MappingProxyType({})

#: {document class: alias} of the ``switch_db`` blocks this task is in.
db_aliases: contextvars.ContextVar[MappingProxyType] = contextvars.ContextVar(
    "mongomotor_db_aliases", default=EMPTY
)
#: {document class: collection name} of the ``switch_collection`` blocks.
collection_names: contextvars.ContextVar[MappingProxyType] = contextvars.ContextVar(
    "mongomotor_collection_names", default=EMPTY
)
#: {plain MongoEngine class: {"collection": ...}}: the collection a switch block
#: built for it (MongoEngine's own classes cache theirs in a class attribute).
block_collections: contextvars.ContextVar[MappingProxyType] = contextvars.ContextVar(
    "mongomotor_block_collections", default=EMPTY
)
#: {class: depth} of the ``no_dereference`` blocks, and the ids of their reference fields.
no_deref_classes: contextvars.ContextVar[MappingProxyType] = contextvars.ContextVar(
    "mongomotor_no_deref_classes", default=EMPTY
)
no_deref_fields: contextvars.ContextVar[frozenset] = contextvars.ContextVar(
    "mongomotor_no_deref_fields", default=frozenset()
)
#: Classes inside ``no_sub_classes`` blocks.
no_sub_classes: contextvars.ContextVar[frozenset] = contextvars.ContextVar(
    "mongomotor_no_sub_classes", default=frozenset()
)


@dataclass(frozen=True)
class ActiveSession:
    """A session this task opened on one driver client (of the running loop)."""

    client: Any
    session: Any


#: The sessions this task works in, outermost first.
sessions: contextvars.ContextVar[tuple[ActiveSession, ...]] = contextvars.ContextVar(
    "mongomotor_sessions", default=()
)


def active_sessions() -> tuple[ActiveSession, ...]:
    """The sessions this task works in (empty outside every session block: a cheap check)."""
    return sessions.get()


def session_of(client: Any) -> ActiveSession | None:
    """The innermost session this task opened on the driver ``client``, or None."""
    for entry in reversed(sessions.get()):
        if entry.client is client:
            return entry
    return None


@contextlib.contextmanager
def sessions_suspended() -> Iterator[None]:
    """Send the block's operations outside the task's sessions (collection preparation).

    MongoDB refuses catalog reads (``listCollections``) and most DDL inside a
    transaction, and a rolled-back transaction must not undo them.
    """
    token = sessions.set(())
    try:
        yield
    finally:
        sessions.reset(token)


def with_entry(mapping: MappingProxyType, key: Any, value: Any) -> MappingProxyType:
    """A copy of ``mapping`` with ``key`` set to ``value`` (the state is never mutated)."""
    return MappingProxyType({**mapping, key: value})


def reset(var: contextvars.ContextVar, token: contextvars.Token) -> None:
    """Undo ``var.set`` whose ``token`` this is, even from another copy of the context."""
    try:
        var.reset(token)
    except ValueError:
        # Left in another context than entered: a sync FastAPI dependency
        # enters and leaves in two worker threads, each with its own copy of
        # the request's context. Put back what the block found.
        old = token.old_value
        if old is contextvars.Token.MISSING:
            old = contextvars.Context().run(var.get)  # the variable's default
        var.set(old)


class TaskLocalBlock(Generic[D]):
    """Base of a ``with`` / ``async with`` block that sets contextvars for its task.

        class my_block(TaskLocalBlock):
            def _values(self): return [(db_aliases, with_entry(db_aliases.get(), self.cls, "x"))]
    """

    def __init__(self, cls: D) -> None:
        self.cls = cls
        self._tokens: list[list[tuple[contextvars.ContextVar, contextvars.Token]]] = []

    def _values(self) -> list[tuple[contextvars.ContextVar, Any]]:
        raise NotImplementedError

    def __enter__(self) -> D:
        self._tokens.append([(var, var.set(value)) for var, value in self._values()])
        return self.cls

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for var, token in reversed(self._tokens.pop()):
            reset(var, token)

    async def __aenter__(self) -> D:
        return self.__enter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.__exit__(exc_type, exc, tb)
