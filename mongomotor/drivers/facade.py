"""PyMongo's sync API over an async driver: what MongoEngine talks to.

MongoEngine holds one :class:`SyncClient` per alias. It is tied to no event
loop: each I/O call finds the real async client of the running loop, starts
the driver's coroutine and waits for it with :func:`~mongomotor.bridge.await_`.
Databases, collections and cursors are lazy descriptions until they do I/O,
so building a QuerySet or defining a Document never touches the network.

Facade clients, databases and collections answer ``isinstance`` checks for
PyMongo's sync ``MongoClient``, ``Database`` and ``Collection`` (code ported from
MongoEngine, and sync ``gridfs.GridFS``, test for them); ``type()`` still names
the facade class.

The facade is one small module per object, re-exported here:

* :mod:`~mongomotor.drivers.backend`: what a driver implements (``Backend``);
* :mod:`~mongomotor.drivers.dispatch`: attribute dispatch to the driver object;
* :mod:`~mongomotor.drivers.client`: ``SyncClient``, a driver client per loop;
* :mod:`~mongomotor.drivers.database`, :mod:`~mongomotor.drivers.collection`,
  :mod:`~mongomotor.drivers.cursor`: the lazy database, collection and cursor.
"""

from mongomotor.drivers.backend import YIELD, Backend
from mongomotor.drivers.client import Closing, SyncClient, redact
from mongomotor.drivers.collection import SyncCollection
from mongomotor.drivers.cursor import SyncCursor
from mongomotor.drivers.database import SyncDatabase
from mongomotor.drivers.dispatch import unwrap

__all__ = [
    "YIELD",
    "Backend",
    "Closing",
    "SyncClient",
    "SyncCollection",
    "SyncCursor",
    "SyncDatabase",
    "redact",
    "unwrap",
]
