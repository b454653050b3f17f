"""Which client an alias has: MongoEngine's connection registry, with an error that helps.

    client = registered_client("default")   # the facade client, no I/O
"""

from __future__ import annotations

from typing import Any

import mongoengine.connection as me_connection
from mongoengine.connection import ConnectionFailure

__all__ = ["registered_client"]


def registered_client(alias: str) -> Any:
    """The facade client MongoEngine holds for ``alias``; ConnectionFailure names ``connect``."""
    try:
        return me_connection.get_connection(alias)
    except ConnectionFailure:
        raise ConnectionFailure(
            f"mongomotor: no connection is registered under the alias {alias!r}; "
            f"call mongomotor.connect(..., alias={alias!r}) first"
        ) from None
