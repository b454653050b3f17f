"""Small helpers about aliases and threads.

    alias = get_alias_for_db(Post._get_db())
"""

from __future__ import annotations

import threading
from typing import Any

import mongoengine.connection as me_connection

__all__ = ["get_alias_for_db", "get_sync_alias", "is_main_thread"]


def get_alias_for_db(db: Any) -> str | None:
    """The alias registered for ``db`` (a database object or its name), or None."""
    name = db if isinstance(db, str) else getattr(db, "name", None)
    for alias, settings in me_connection._connection_settings.items():
        if settings.get("name") == name:
            return alias
    return None


def get_sync_alias(alias: str) -> str:
    """The alias under which a plain sync MongoEngine connection of ``alias`` is kept."""
    return f"{alias}__sync"


def is_main_thread() -> bool:
    """True in the interpreter's main thread."""
    return threading.current_thread() is threading.main_thread()
