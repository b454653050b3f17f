"""Counting the operations the driver facade sends, per task.

Every server round trip made through a facade (a command, a write, a cursor
batch) is reported to the counters active in the current context; see
:class:`mongomotor.odm.context_managers.query_counter`.
"""

from __future__ import annotations

import contextvars
from typing import Protocol


class OperationObserver(Protocol):
    def record(self, operation: str) -> None: ...


_observers: contextvars.ContextVar[tuple[OperationObserver, ...]] = contextvars.ContextVar(
    "mongomotor_operation_observers", default=()
)


def record_operation(operation: str) -> None:
    """Tell every observer active in this context that ``operation`` ran."""
    for observer in _observers.get():
        observer.record(operation)


def current_observers() -> tuple[OperationObserver, ...]:
    """The observers operations of this context are reported to."""
    return _observers.get()


def add_observer(observer: OperationObserver) -> contextvars.Token:
    """Start observing operations of this task (and the tasks it starts)."""
    return _observers.set((*_observers.get(), observer))


def remove_observer(token: contextvars.Token) -> None:
    _observers.reset(token)
