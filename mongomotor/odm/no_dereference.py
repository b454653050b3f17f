"""Whether references dereference: the task-local ``no_dereference`` state, as MongoEngine asks it.

    if not no_dereferencing_active_for_class(Post): ...   # load the reference

MongoEngine keeps this in thread-locals; mongomotor keeps it per task
(:mod:`mongomotor.runtime.task_state`) and still honours MongoEngine's own.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from types import MappingProxyType
from typing import Any

import mongoengine.context_managers as me_context_managers

from mongomotor.runtime.task_state import no_deref_classes, no_deref_fields, reset, with_entry

__all__ = [
    "field_no_dereference_active",
    "no_dereference_for_fields",
    "no_dereferencing_active_for_class",
    "register_no_dereferencing_for_class",
    "unregister_no_dereferencing_for_class",
]


def no_dereferencing_active_for_class(cls: type) -> bool:
    """True inside a ``no_dereference(cls)`` block of this task (or MongoEngine's own).

        if not no_dereferencing_active_for_class(Post): ...  # dereference
    """
    return cls in no_deref_classes.get() or cls in (
        me_context_managers.thread_locals.no_dereferencing_class
    )


def field_no_dereference_active(field: Any) -> bool:
    """True if ``field`` belongs to a class inside a ``no_dereference`` block of this task."""
    return id(field) in no_deref_fields.get()


def register_no_dereferencing_for_class(cls: type) -> None:
    """Enter a ``no_dereference(cls)`` level in this task (MongoEngine's generator calls it)."""
    depths = no_deref_classes.get()
    no_deref_classes.set(with_entry(depths, cls, depths.get(cls, 0) + 1))


def unregister_no_dereferencing_for_class(cls: type) -> None:
    """Leave a ``no_dereference(cls)`` level of this task."""
    depths = dict(no_deref_classes.get())
    depth = depths.pop(cls, 0) - 1
    if depth > 0:
        depths[cls] = depth
    no_deref_classes.set(MappingProxyType(depths))


@contextlib.contextmanager
def no_dereference_for_fields(*fields: Any) -> Iterator[None]:
    """Within the block, ``fields`` do not dereference in this task."""
    token = no_deref_fields.set(no_deref_fields.get() | {id(field) for field in fields})
    try:
        yield None
    finally:
        reset(no_deref_fields, token)
