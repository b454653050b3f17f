"""PyMongo's sync API over an async driver: what MongoEngine talks to.

MongoEngine holds one :class:`SyncClient` per alias. It is tied to no event
loop: each I/O call finds the real async client of the running loop, starts
the driver's coroutine and waits for it with :func:`~mongomotor.runtime.bridge.await_`.
Databases, collections and cursors are lazy descriptions until they do I/O,
so building a QuerySet or defining a Document never touches the network.

Facade clients, databases and collections answer ``isinstance`` checks for
PyMongo's sync ``MongoClient``, ``Database`` and ``Collection`` (code ported from
MongoEngine, and sync ``gridfs.GridFS``, test for them); ``type()`` still names
the facade class.

One small module per object:

* :mod:`~mongomotor.drivers.facade.dispatch`: attribute dispatch to the driver object;
* :mod:`~mongomotor.drivers.facade.client`: ``SyncClient``, a driver client per loop;
* :mod:`~mongomotor.drivers.facade.database`, :mod:`~mongomotor.drivers.facade.collection`,
  :mod:`~mongomotor.drivers.facade.cursor`: the lazy database, collection and cursor;
* :mod:`~mongomotor.drivers.facade.sessions`: the task's session added to each call.

What differs between drivers is asked of the client's
:class:`~mongomotor.drivers.backend.Backend`, never decided here.
"""

from mongomotor.drivers.facade.client import Closing, SyncClient, redact
from mongomotor.drivers.facade.collection import SyncCollection
from mongomotor.drivers.facade.cursor import SyncCursor
from mongomotor.drivers.facade.database import SyncDatabase
from mongomotor.drivers.facade.dispatch import unwrap

__all__ = [
    "Closing",
    "SyncClient",
    "SyncCollection",
    "SyncCursor",
    "SyncDatabase",
    "redact",
    "unwrap",
]
