"""Context managers that affect only the task that enters them.

    async with switch_db(User, "archive"):
        await User(name="old").save()        # lands in the "archive" alias
    async with query_counter() as q:
        await Post.objects.first()
    assert q == 1

MongoEngine's versions change class attributes (``_meta['db_alias']``,
``_subclasses``) or thread-locals, which every request served by the same
event loop would see. These keep their state in contextvars
(:mod:`mongomotor.runtime.task_state`): it applies to the task that entered the
block, to the tasks it starts, and to MongoEngine's code run for it in the
bridge. Each is usable as ``with`` and ``async with``.

Importing mongomotor upgrades MongoEngine's own ``switch_db``,
``switch_collection``, ``no_dereference`` and ``no_sub_classes`` in place to
these (see :mod:`mongomotor.install`), so a ported
``from mongoengine.context_managers import switch_db`` is task-local too, and
plain sync MongoEngine code using them becomes thread-safe. MongoEngine's
``query_counter`` counts this task's operations when entered in a coroutine on
a mongomotor alias, and keeps its database profiler in sync code.
"""

from __future__ import annotations

import contextvars
from typing import Any, TypeVar

import mongoengine.connection as me_connection
from mongoengine.common import _import_class
from mongoengine.context_managers import set_read_write_concern, set_write_concern

from mongomotor.drivers import SyncClient
from mongomotor.odm.no_dereference import no_dereferencing_active_for_class
from mongomotor.odm.switching import follow_switches
from mongomotor.runtime import observers
from mongomotor.runtime.bridge import in_bridge
from mongomotor.runtime.task_state import (
    TaskLocalBlock,
    block_collections,
    collection_names,
    db_aliases,
    no_deref_classes,
    no_deref_fields,
    with_entry,
)
from mongomotor.runtime.task_state import (
    no_sub_classes as _no_sub_classes,
)

__all__ = [
    "switch_db",
    "switch_collection",
    "no_dereference",
    "no_sub_classes",
    "query_counter",
    "set_write_concern",
    "set_read_write_concern",
    "no_dereferencing_active_for_class",
]

D = TypeVar("D", bound=type)


class switch_db(TaskLocalBlock[D]):
    """Use another connection alias for ``cls`` in this task.

        async with switch_db(User, "archive") as User:
            await User(name="old").save()
    """

    # Methods call their base explicitly: mongomotor.install installs them on
    # MongoEngine's class of the same name.
    def __init__(self, cls: D, db_alias: str) -> None:
        TaskLocalBlock.__init__(self, cls)
        self.db_alias = db_alias

    def _values(self) -> list[tuple[contextvars.ContextVar, Any]]:
        follow_switches(self.cls)
        return [
            (db_aliases, with_entry(db_aliases.get(), self.cls, self.db_alias)),
            (block_collections, with_entry(block_collections.get(), self.cls, {})),
        ]


class switch_collection(TaskLocalBlock[D]):
    """Use another collection for ``cls`` in this task.

        async with switch_collection(User, "users_2020") as User:
            await User.objects.count()
    """

    def __init__(self, cls: D, collection_name: str) -> None:
        TaskLocalBlock.__init__(self, cls)
        self.collection_name = collection_name

    def _values(self) -> list[tuple[contextvars.ContextVar, Any]]:
        follow_switches(self.cls)
        return [
            (collection_names, with_entry(collection_names.get(), self.cls, self.collection_name)),
            (block_collections, with_entry(block_collections.get(), self.cls, {})),
        ]


class no_dereference(TaskLocalBlock[D]):
    """Leave references of ``cls`` as ObjectId/DBRef in this task (no queries).

        async with no_dereference(Post):
            post = await Post.objects.first()   # post.author is an ObjectId/DBRef
    """

    def _values(self) -> list[tuple[contextvars.ContextVar, Any]]:
        reference_types = tuple(
            _import_class(name)
            for name in ("ReferenceField", "GenericReferenceField", "ComplexBaseField")
        )
        field_ids = {
            id(field)
            for field in self.cls._fields.values()
            if isinstance(field, reference_types)
        }
        depths = no_deref_classes.get()
        return [
            (no_deref_classes, with_entry(depths, self.cls, depths.get(self.cls, 0) + 1)),
            (no_deref_fields, no_deref_fields.get() | field_ids),
        ]


class no_sub_classes(TaskLocalBlock[D]):
    """Query only ``cls`` itself, not its subclasses, in this task.

        async with no_sub_classes(Animal) as Animal:
            animals = await Animal.objects.to_list()   # no Dog, no Cat
    """

    def _values(self) -> list[tuple[contextvars.ContextVar, Any]]:
        _TaskLocalSubclasses.install(self.cls)
        return [(_no_sub_classes, _no_sub_classes.get() | {self.cls})]


class _TaskLocalSubclasses:
    """Stands in for a class's ``_subclasses`` tuple, which MongoEngine reads directly.

    A descriptor in the class's own ``__dict__`` answers ``cls._subclasses``:
    the class alone for tasks inside ``no_sub_classes(cls)``, the full tuple
    for every other task. (Defining a new subclass replaces it by a plain
    tuple again; the next ``no_sub_classes`` reinstalls it.)
    """

    def __init__(self, owner: type, subclasses: tuple[str, ...]) -> None:
        self.owner = owner
        self.subclasses = subclasses

    @classmethod
    def install(cls, owner: type) -> None:
        if not isinstance(owner.__dict__.get("_subclasses"), cls):
            type.__setattr__(owner, "_subclasses", cls(owner, owner._subclasses))

    def __get__(self, instance: Any, owner: type | None = None) -> tuple[str, ...]:
        if self.owner in _no_sub_classes.get():
            return (self.owner._class_name,)
        return self.subclasses


def task_counter_for(alias: str) -> query_counter | None:
    """The counter that stands in for MongoEngine's ``query_counter(alias)``, or None.

    In user code on a mongomotor alias, MongoEngine's counter could not read
    the profiler without blocking, and would count every task's operations:
    this task's are counted instead. Sync code (inside the bridge, or plain
    MongoEngine) keeps MongoEngine's profiler (None).
    """
    if in_bridge():
        return None
    if not isinstance(me_connection.get_connection(alias), SyncClient):
        return None
    return query_counter(alias)


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
        self._token = observers.add_observer(self)
        return self

    def __exit__(self, *exc: Any) -> None:
        observers.remove_observer(self._token)

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

