"""Driver facades: PyMongo's sync API over each async driver.

``client_class(driver)`` is the ``mongo_client_class`` MongoEngine builds for
an alias; see :mod:`mongomotor.drivers.facade` for how I/O reaches the loop.
A driver of your own is a :class:`Backend` subclass registered under a name:

    register_driver("logged", LoggingBackend)
    connect("blog", host="mongodb://localhost:27017", driver="logged")
"""

from __future__ import annotations

import re
import threading

from mongomotor.drivers.facade import Backend, SyncClient, SyncCollection, SyncCursor, SyncDatabase

DRIVERS = ("pymongo", "motor")

_registered: dict[str, type[Backend]] = {}
_client_classes: dict[str, type[SyncClient]] = {}
_lock = threading.Lock()


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
    if name == "pymongo":
        from mongomotor.drivers.pymongo_async import PyMongoAsyncClient

        return PyMongoAsyncClient
    if name == "motor":
        try:
            import motor.motor_asyncio  # noqa: F401
        except ImportError:  # pragma: no cover - depends on the install
            raise ImportError(
                "driver='motor' needs Motor: pip install 'mongomotor[motor]'"
            ) from None
        from mongomotor.drivers.motor import MotorClient

        return MotorClient
    if name in _registered:
        return _registered_client_class(name)
    raise ValueError(
        f"unknown driver {driver!r}: choose one of {', '.join(registered_drivers())}, "
        "or register yours with mongomotor.drivers.register_driver(name, backend_class)"
    )


def _registered_client_class(name: str) -> type[SyncClient]:
    with _lock:
        cls = _client_classes.get(name)
        if cls is None:
            # The backend is made once, at the first connect that names it.
            backend = _registered[name]()
            cls = type(
                f"{type(backend).__name__}Client",
                (SyncClient,),
                {"backend": backend, "__doc__": f"MongoEngine's client for driver={name!r}."},
            )
            _client_classes[name] = cls
        return cls


__all__ = [
    "Backend",
    "DRIVERS",
    "SyncClient",
    "SyncCollection",
    "SyncCursor",
    "SyncDatabase",
    "client_class",
    "register_driver",
    "registered_drivers",
]
