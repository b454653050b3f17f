"""Aliases and clients: ``connect``, ``disconnect``, ``get_db``, versions.

    connect("blog", host="mongodb://localhost:27017")
    connect("blog", host="mongomock://localhost")       # in-memory
"""

from mongoengine.connection import ConnectionFailure

from mongomotor.odm.connections import (
    DEFAULT_CONNECTION_NAME,
    Disconnecting,
    connect,
    disconnect,
    disconnect_all,
    get_connection,
    get_db,
    get_db_version,
    get_mongodb_version,
    register_connection,
)
from mongomotor.runtime.naming import publish

__all__ = [
    "DEFAULT_CONNECTION_NAME",
    "ConnectionFailure",
    "Disconnecting",
    "connect",
    "register_connection",
    "disconnect",
    "disconnect_all",
    "get_connection",
    "get_db",
    "get_mongodb_version",
    "get_db_version",
]

publish(
    __name__,
    Disconnecting, connect, disconnect, disconnect_all, get_connection, get_db, get_db_version,
    get_mongodb_version, register_connection,
)  # fmt: skip
