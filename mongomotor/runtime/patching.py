"""Reversible replacement of attributes (of MongoEngine's modules and classes).

    with patched(me_connection, "uri_parser", parser):
        ...                          # replaced here
    # restored here

:class:`Patcher` collects many replacements and undoes them newest first; a
replacement made with ``undo=False`` stays (what mongomotor needs for as long
as it is imported, installed by :mod:`mongomotor.install`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

__all__ = ["DictItem", "Patcher", "patched"]

MISSING = object()


class Patcher:
    """Replace attributes and put them back on exit (``with Patcher() as p: ...``)."""

    def __init__(self) -> None:
        self._undo: list[tuple[Any, str, Any]] = []

    def __enter__(self) -> Patcher:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.undo()

    def undo(self) -> None:
        """Restore everything patched with ``undo=True``, newest first."""
        while self._undo:
            obj, attr, old = self._undo.pop()
            if old is MISSING:
                delattr(obj, attr)
            else:
                setattr(obj, attr, old)

    def patch_item(self, obj: Any, attr: str, newitem: Any, undo: bool = True) -> None:
        """Set ``obj.attr = newitem``; restored on exit unless ``undo`` is False."""
        old = obj.__dict__.get(attr, MISSING) if hasattr(obj, "__dict__") else MISSING
        setattr(obj, attr, newitem)
        if undo:
            self._undo.append((obj, attr, old))

    def remember(self, obj: Any, attr: str, old: Any) -> None:
        """Restore ``obj.attr`` to ``old`` on exit (for a change made otherwise)."""
        self._undo.append((obj, attr, old))


@contextlib.contextmanager
def patched(obj: Any, attr: str, value: Any) -> Iterator[None]:
    """``obj.attr`` is ``value`` within the block only."""
    with Patcher() as patcher:
        patcher.patch_item(obj, attr, value)
        yield


class DictItem:
    """Lets a :class:`Patcher` restore a dict entry as if it were an attribute."""

    def __init__(self, mapping: dict) -> None:
        self.__dict__["_mapping"] = mapping

    def __setattr__(self, name: str, value: Any) -> None:
        self._mapping[name] = value

    def __delattr__(self, name: str) -> None:
        self._mapping.pop(name, None)
