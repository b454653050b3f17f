"""An alias set aside for a while and put back as it was: nested test databases.

    aside = set_aside("default")        # its client stays open, its documents forget it
    connect("mm_test_x", alias="default", host=...)
    ...; await disconnect("default")
    put_back(aside)                     # "default" is the outer connection again

The pytest plugin (:mod:`mongomotor.testing`) uses this so that a per-test
database replaces a module's or session's for one test only, and never closes
a connection it did not make.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import mongoengine.connection as me_connection
from mongoengine.base.common import _get_documents_by_db
from mongoengine.connection import DEFAULT_CONNECTION_NAME
from mongoengine.document import Document as MEDocument

__all__ = ["SetAside", "put_back", "registered_aliases", "set_aside"]

# MongoEngine's registry of an alias: its settings, its client, its database.
_REGISTRIES = ("_connection_settings", "_connections", "_dbs")


@dataclass(frozen=True)
class SetAside:
    """What :func:`set_aside` took out of MongoEngine's registry (nothing if unregistered)."""

    alias: str
    entries: dict[str, Any]


def registered_aliases() -> set[str]:
    """Every alias registered now (connected or only registered)."""
    return set(me_connection._connection_settings) | set(me_connection._connections)


def set_aside(alias: str) -> SetAside:
    """Take ``alias`` out of MongoEngine's registry without closing its client."""
    entries = {
        registry: getattr(me_connection, registry).pop(alias)
        for registry in _REGISTRIES
        if alias in getattr(me_connection, registry)
    }
    _forget_collections(alias)
    return SetAside(alias, entries)


def put_back(aside: SetAside) -> None:
    """Register ``aside.alias`` again as it was; whatever holds the alias now must be gone.

        await disconnect("default"); put_back(aside)
    """
    if aside.alias in registered_aliases():
        raise RuntimeError(
            f"mongomotor: cannot put the alias {aside.alias!r} back while another "
            f"connection holds it; disconnect({aside.alias!r}) first"
        )
    for registry, entry in aside.entries.items():
        getattr(me_connection, registry)[aside.alias] = entry
    _forget_collections(aside.alias)


def _forget_collections(alias: str) -> None:
    # Documents cache their collection per alias: drop what points to the other database.
    for doc_cls in _get_documents_by_db(alias, DEFAULT_CONNECTION_NAME):
        if issubclass(doc_cls, MEDocument):
            doc_cls._disconnect()
