"""The drivers: PyMongo's sync API (the facade) over each async driver, behind one contract.

    register_driver("logged", LoggingBackend)
    connect("blog", host="mongodb://localhost:27017", driver="logged")

A driver is a :class:`Backend` (``backend.py``): every hook the facade and the
ODM need from it, with defaults. ``client_settings`` picks the facade client
class MongoEngine builds for an alias (``mongo_client_class``): from
``driver=``, a ``mongomock://`` host (the in-memory driver), or mongomock's
own client class. Nothing outside this package names a particular driver.
"""

from __future__ import annotations

import re
import threading
from typing import Any

from pymongo.driver_info import DriverInfo

from mongomotor.drivers import memory
from mongomotor.drivers.backend import Backend
from mongomotor.drivers.facade import SyncClient, SyncCollection, SyncCursor, SyncDatabase
from mongomotor.drivers.pymongo_async import PyMongoAsyncBackend

__all__ = [
    "Backend",
    "DRIVERS",
    "SyncClient",
    "SyncCollection",
    "SyncCursor",
    "SyncDatabase",
    "client_class",
    "client_settings",
    "register_driver",
    "registered_drivers",
]

DRIVERS = ("pymongo", "motor")

_registered: dict[str, type[Backend]] = {}
_client_classes: dict[str, type[SyncClient]] = {}
_lock = threading.Lock()
_DRIVER_INFO = DriverInfo("mongomotor", "0.1.0")  # how the wire drivers announce us


def register_driver(name: str, backend_class: type[Backend]) -> None:
    """Make ``connect(..., driver=name)`` run on ``backend_class`` (a :class:`Backend`).

        register_driver("logged", LoggingBackend)
        connect("blog", host="mongodb://localhost:27017", driver="logged")

    Registering a name again replaces the driver for aliases connected from
    then on; aliases already connected keep theirs.
    """
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z_][\w.-]*", name):
        raise ValueError(f"driver name {name!r} must be a word such as 'logged'")
    if name in DRIVERS:
        raise ValueError(f"{name!r} is a built-in driver: register yours under another name")
    if not (isinstance(backend_class, type) and issubclass(backend_class, Backend)):
        raise TypeError(
            f"register_driver({name!r}, ...) needs a subclass of mongomotor.drivers.Backend, "
            f"got {backend_class!r}"
        )
    with _lock:
        _registered[name] = backend_class
        _client_classes.pop(name, None)


def registered_drivers() -> tuple[str, ...]:
    """The names ``connect(driver=...)`` accepts: the built-in ones, then registered ones."""
    return DRIVERS + tuple(sorted(_registered))


def client_class(driver: str | None) -> type[SyncClient]:
    """The facade client class for ``driver`` ('pymongo', the default, 'motor', or registered)."""
    name = driver or "pymongo"
    cls = _client_classes.get(name)
    if cls is not None:
        return cls
    if name == "pymongo":
        backend_class: type[Backend] = PyMongoAsyncBackend
    elif name == "motor":
        # Motor is optional: its module is imported only when an alias asks for it.
        from mongomotor.drivers.motor import MotorBackend

        backend_class = MotorBackend
    elif name in _registered:
        backend_class = _registered[name]
    else:
        raise ValueError(
            f"unknown driver {driver!r}: choose one of {', '.join(registered_drivers())}, "
            "or register yours with mongomotor.drivers.register_driver(name, backend_class)"
        )
    with _lock:
        cls = _client_classes.get(name)
        if cls is None:
            # The backend is made once, at the first connect that names it.
            backend = backend_class()
            cls = type(
                f"{backend_class.__name__.removesuffix('Backend')}Client",
                (SyncClient,),
                {"backend": backend, "__doc__": f"MongoEngine's client for driver={name!r}."},
            )
            _client_classes[name] = cls
    return cls


def client_settings(driver: str | None, settings: dict[str, Any]) -> dict[str, Any]:
    """``settings`` with the ``mongo_client_class`` MongoEngine should build for the alias.

        settings = client_settings("motor", {"host": "mongodb://localhost"})
    """
    settings = dict(settings)
    if "mongo_client_class" in settings:
        if memory.is_mongomock_class(settings["mongo_client_class"]):
            # MongoEngine's way to ask for mongomock: give it the in-memory driver.
            settings["mongo_client_class"] = memory.facade_class(settings["mongo_client_class"])
        return settings
    host = settings.get("host")
    if host is not None and memory.is_memory_host(host):
        settings["host"] = memory.as_mongodb_uri(host)
        settings["mongo_client_class"] = memory.facade_class()
    else:
        settings["mongo_client_class"] = client_class(driver)
        settings.setdefault("driver", _DRIVER_INFO)
    return settings
