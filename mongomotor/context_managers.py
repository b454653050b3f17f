"""Context managers that affect only the task that enters them.

    async with query_counter() as q:
        await Post.objects.first()
    assert q == 1
"""

from __future__ import annotations

from typing import Any

from mongomotor import monitoring

__all__ = ["query_counter"]


class query_counter:
    """Count the server operations (commands, writes, cursor batches) of this task.

    Usable as ``with`` and ``async with``; compares with ints like
    MongoEngine's ``query_counter`` (``q == 2``, ``q < 5``, ``int(q)``).
    Unlike MongoEngine's, it needs no profiler, so it works on every driver.
    """

    def __init__(self, alias: str | None = None, ignore: tuple[str, ...] = ()):
        self.alias = alias
        self.ignore = set(ignore)
        self.operations: list[str] = []
        self._token: Any = None

    def record(self, operation: str) -> None:
        if operation not in self.ignore:
            self.operations.append(operation)

    def __enter__(self) -> query_counter:
        self._token = monitoring.add_observer(self)
        return self

    def __exit__(self, *exc: Any) -> None:
        monitoring.remove_observer(self._token)

    async def __aenter__(self) -> query_counter:
        return self.__enter__()

    async def __aexit__(self, *exc: Any) -> None:
        self.__exit__(*exc)

    def __int__(self) -> int:
        return len(self.operations)

    def _value(self) -> int:
        return len(self.operations)

    def __eq__(self, other: object) -> bool:
        return self._value() == other

    def __ne__(self, other: object) -> bool:
        return self._value() != other

    def __lt__(self, other: int) -> bool:
        return self._value() < other

    def __le__(self, other: int) -> bool:
        return self._value() <= other

    def __gt__(self, other: int) -> bool:
        return self._value() > other

    def __ge__(self, other: int) -> bool:
        return self._value() >= other

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"{self._value()}"
