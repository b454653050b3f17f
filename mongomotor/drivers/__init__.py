"""Driver facades: PyMongo's sync API over each async driver.

``client_class(driver)`` is the ``mongo_client_class`` MongoEngine builds for
an alias; see :mod:`mongomotor.drivers.facade` for how I/O reaches the loop.
"""

from __future__ import annotations

from mongomotor.drivers.facade import SyncClient, SyncCollection, SyncCursor, SyncDatabase

DRIVERS = ("pymongo", "motor")


def client_class(driver: str | None) -> type[SyncClient]:
    """The facade client class for ``driver`` ('pymongo', the default, or 'motor')."""
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
    raise ValueError(f"unknown driver {driver!r}: choose one of {', '.join(DRIVERS)}")


__all__ = ["client_class", "SyncClient", "SyncDatabase", "SyncCollection", "SyncCursor", "DRIVERS"]
