"""The task's session, added to every operation the facade sends on that client.

    name, args = prepare_call(client_facade, collection, "insert_one", args, kwargs)

Sessions are opened by :mod:`mongomotor.odm.transactions`; the task's sessions
are kept in :mod:`mongomotor.runtime.task_state`. Every operation sent while the
task is in a session block joins it, the ones MongoEngine makes by itself
included, except DDL and calls that take no session.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any

from mongomotor.runtime.task_state import session_of, sessions

__all__ = ["prepare_call", "session_for"]

# Operations that must not run in the task's session: DDL (refused or
# surprising inside a transaction) and calls that take no session at all.
_SESSIONLESS = frozenset(
    {
        "create_index", "create_indexes", "drop_index", "drop_indexes", "create_collection",
        "create_search_index", "create_search_indexes", "drop_search_index",
        "start_session", "estimated_document_count", "get_default_database",
    }
)




def session_for(facade: Any) -> Any:
    """The session this task opened on ``facade``'s client (for the running loop), or None."""
    if not sessions.get():
        return None
    entry = session_of(facade.for_running_loop())
    return None if entry is None else entry.session


def prepare_call(
    facade: Any, target: Any, name: str, args: tuple, kwargs: dict[str, Any]
) -> tuple[str, tuple]:
    """Add the task's session to ``target.name(*args, **kwargs)``; returns (name, args)."""
    session = session_for(facade)
    if session is None or "session" in kwargs or not getattr(session, "sent_to_driver", True):
        return name, args
    if name == "estimated_document_count":
        # It cannot run in a session (nor in a transaction, whose writes it
        # would not see): count the documents within the session instead.
        name, args = "count_documents", ({},)
    if _accepts_session(type(target), name):
        kwargs["session"] = session
    return name, args


@functools.lru_cache(maxsize=512)
def _accepts_session(target_type: type, name: str) -> bool:
    if name in _SESSIONLESS:
        return False
    try:
        params = inspect.signature(getattr(target_type, name)).parameters
    except (TypeError, ValueError, AttributeError):
        return False
    return "session" in params or any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()
    )
