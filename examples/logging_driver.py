"""A mongomotor driver that logs every operation with its duration, and warns before wide writes.

    import logging_driver                      # registers driver="logged"
    connect("blog", host="mongodb://localhost:27017", driver="logged")
"""

from __future__ import annotations

import logging
from typing import Any

from pymongo import monitoring

from mongomotor.drivers import Backend, register_driver
from mongomotor.drivers.pymongo_async import PyMongoAsyncBackend

log = logging.getLogger("mongomotor.commands")


class CommandLog(monitoring.CommandListener):
    """Logs each command once the server has answered it; PyMongo measures the duration."""

    def __init__(self) -> None:
        self._targets: dict[int, str] = {}  # request id -> "db.collection"

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        collection = event.command.get(event.command_name)
        name = collection if isinstance(collection, str) else ""
        self._targets[event.request_id] = f"{event.database_name}.{name}"

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        target = self._targets.pop(event.request_id, event.database_name)
        log.info("%s %s: %.2f ms", event.command_name, target, event.duration_micros / 1000)

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        target = self._targets.pop(event.request_id, event.database_name)
        log.warning(
            "%s %s failed after %.2f ms: %s", event.command_name, target,
            event.duration_micros / 1000, event.failure.get("errmsg", ""),
        )


_WIDE_WRITES = frozenset({"update_many", "delete_many"})


class LogCommands(Backend):
    """Mix into a backend: every client it creates reports its commands to a CommandLog.

    It also sets the ``before_call`` hook the built-in drivers use: a write
    that names no filter (every document of the collection) is warned about
    before it is sent.
    """

    checks_calls = True

    def create_client(self, settings: dict[str, Any]) -> Any:
        listeners = [*settings.get("event_listeners", ()), CommandLog()]
        return super().create_client({**settings, "event_listeners": listeners})

    def before_call(
        self, facade: Any, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> None:
        super().before_call(facade, name, args, kwargs)
        if name in _WIDE_WRITES and not (args[0] if args else kwargs.get("filter")):
            log.warning("%s with an empty filter: it touches every document", name)


class LoggingBackend(LogCommands, PyMongoAsyncBackend):
    """PyMongo's ``AsyncMongoClient``, with every operation logged."""

    name = "logged"


register_driver("logged", LoggingBackend)
