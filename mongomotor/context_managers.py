"""Context managers that affect only the task that enters them.

    async with switch_db(User, "archive"):
        await User(name="old").save()        # lands in the "archive" alias
    async with query_counter() as q:
        await Post.objects.first()
    assert q == 1

MongoEngine's versions change class attributes (``_meta['db_alias']``,
``_subclasses``) or thread-locals, which every request served by the same
event loop would see. These keep their state in contextvars: it applies to
the task that entered the block, to the tasks it starts, and to MongoEngine's
code run for it in the bridge. Each is usable as ``with`` and ``async with``.

Importing mongomotor upgrades MongoEngine's own ``switch_db``,
``switch_collection``, ``no_dereference`` and ``no_sub_classes`` in place to
these (see :func:`mongomotor.monkey.install`), so a ported
``from mongoengine.context_managers import switch_db`` is task-local too, and
plain sync MongoEngine code using them becomes thread-safe. MongoEngine's
``query_counter`` counts this task's operations when entered in a coroutine on
a mongomotor alias, and keeps its database profiler in sync code.
"""

from __future__ import annotations

import contextlib
import contextvars
import threading
from collections.abc import Iterator
from types import MappingProxyType, TracebackType
from typing import Any, Generic, TypeVar

import mongoengine.connection as me_connection
import mongoengine.context_managers as me_context_managers
from mongoengine.common import _import_class
from mongoengine.context_managers import set_read_write_concern, set_write_concern

from mongomotor import monitoring

__all__ = [
    "switch_db",
    "switch_collection",
    "no_dereference",
    "no_sub_classes",
    "query_counter",
    "set_write_concern",
    "set_read_write_concern",
    "no_dereferencing_active_for_class",
    "switched_db_alias",
    "switched_collection_name",
]

D = TypeVar("D", bound=type)
_EMPTY: MappingProxyType = MappingProxyType({})

# {document class: alias} of the switch_db blocks this task is in.
_db_aliases: contextvars.ContextVar[MappingProxyType] = contextvars.ContextVar(
    "mongomotor_db_aliases", default=_EMPTY
)
# {document class: collection name} of the switch_collection blocks.
_collection_names: contextvars.ContextVar[MappingProxyType] = contextvars.ContextVar(
    "mongomotor_collection_names", default=_EMPTY
)
# {plain MongoEngine class: {"collection": ...}}: the collection a switch block
# built for it (MongoEngine's own classes cache theirs in a class attribute).
_block_collections: contextvars.ContextVar[MappingProxyType] = contextvars.ContextVar(
    "mongomotor_block_collections", default=_EMPTY
)
# {class: depth} of the no_dereference blocks, and the ids of their reference fields.
_no_deref_classes: contextvars.ContextVar[MappingProxyType] = contextvars.ContextVar(
    "mongomotor_no_deref_classes", default=_EMPTY
)
_no_deref_fields: contextvars.ContextVar[frozenset] = contextvars.ContextVar(
    "mongomotor_no_deref_fields", default=frozenset()
)
# Classes inside no_sub_classes blocks.
_no_sub_classes: contextvars.ContextVar[frozenset] = contextvars.ContextVar(
    "mongomotor_no_sub_classes", default=frozenset()
)


def switched_db_alias(cls: type) -> str | None:
    """The alias a ``switch_db`` block of this task gives ``cls``, or None."""
    return _db_aliases.get().get(cls)


def switched_collection_name(cls: type) -> str | None:
    """The collection a ``switch_collection`` block of this task gives ``cls``, or None."""
    return _collection_names.get().get(cls)


def no_dereferencing_active_for_class(cls: type) -> bool:
    """True inside a ``no_dereference(cls)`` block of this task (or MongoEngine's own).

        if not no_dereferencing_active_for_class(Post): ...  # dereference
    """
    return cls in _no_deref_classes.get() or cls in (
        me_context_managers.thread_locals.no_dereferencing_class
    )


def field_no_dereference_active(field: Any) -> bool:
    """True if ``field`` belongs to a class inside a ``no_dereference`` block of this task."""
    return id(field) in _no_deref_fields.get()


def register_no_dereferencing_for_class(cls: type) -> None:
    """Enter a ``no_dereference(cls)`` level in this task (MongoEngine's generator calls it)."""
    depths = _no_deref_classes.get()
    _no_deref_classes.set(_with(depths, cls, depths.get(cls, 0) + 1))


def unregister_no_dereferencing_for_class(cls: type) -> None:
    """Leave a ``no_dereference(cls)`` level of this task."""
    depths = dict(_no_deref_classes.get())
    depth = depths.pop(cls, 0) - 1
    if depth > 0:
        depths[cls] = depth
    _no_deref_classes.set(MappingProxyType(depths))


@contextlib.contextmanager
def no_dereference_for_fields(*fields: Any) -> Iterator[None]:
    """Within the block, ``fields`` do not dereference in this task."""
    token = _no_deref_fields.set(_no_deref_fields.get() | {id(field) for field in fields})
    try:
        yield None
    finally:
        _reset(_no_deref_fields, token)


_following = threading.Lock()


def follow_switches(cls: type) -> None:
    """Make a plain MongoEngine class follow this module's switch blocks (once per class).

    mongomotor's documents read the task-local switches themselves. A plain
    ``mongoengine.Document`` class gets, on its first ``switch_db`` /
    ``switch_collection`` block, its own ``_get_db``, ``_get_collection_name``,
    ``_get_collection`` and ``drop_collection`` that read them, and are
    MongoEngine's outside a block. Classes never switched (mongomotor's
    included) are left exactly as they are.
    """
    from mongoengine.document import Document as MongoEngineDocument

    from mongomotor.document import Document

    if not issubclass(cls, MongoEngineDocument) or issubclass(cls, Document):
        return
    with _following:
        if cls.__dict__.get("_mm_follows_switches"):
            return
        for name, make in _SWITCH_AWARE.items():
            original = getattr(cls, name).__func__
            method = make(original)
            method.__doc__ = original.__doc__
            type.__setattr__(cls, name, classmethod(method))
        type.__setattr__(cls, "_mm_follows_switches", True)


def _switch_aware_get_db(original: Any) -> Any:
    def _get_db(cls: Any) -> Any:
        alias = _db_aliases.get().get(cls)
        return original(cls) if alias is None else me_connection.get_db(alias)

    return _get_db


def _switch_aware_get_collection_name(original: Any) -> Any:
    def _get_collection_name(cls: Any) -> Any:
        name = _collection_names.get().get(cls)
        return original(cls) if name is None else name

    return _get_collection_name


def _switch_aware_get_collection(original: Any) -> Any:
    def _get_collection(cls: Any) -> Any:
        # A switch block keeps the collection it built (MongoEngine caches the
        # class's own in a class attribute, which every task would see).
        cache = _block_collections.get().get(cls)
        if cache is None:
            return original(cls)
        collection = cache.get("collection")
        if collection is None:
            collection = cache["collection"] = _build_collection(cls)
            if cls._meta.get("auto_create_index", True) and cls._get_db().client.is_primary:
                cls.ensure_indexes()
        return collection

    return _get_collection


def _switch_aware_drop_collection(original: Any) -> Any:
    def drop_collection(cls: Any) -> Any:
        cache = _block_collections.get().get(cls)
        if cache is not None:
            cache.clear()  # the block's next use makes (and indexes) it again
        return original(cls)

    return drop_collection


def _build_collection(cls: Any) -> Any:
    """A plain class's collection in a switch block, made as on the class's first use."""
    if cls._meta.get("max_size") or cls._meta.get("max_documents"):
        return cls._get_capped_collection()
    if cls._meta.get("timeseries"):
        return cls._get_timeseries_collection()
    return cls._get_db()[cls._get_collection_name()]


_SWITCH_AWARE = {
    "_get_db": _switch_aware_get_db,
    "_get_collection_name": _switch_aware_get_collection_name,
    "_get_collection": _switch_aware_get_collection,
    "drop_collection": _switch_aware_drop_collection,
}


class _TaskLocal(Generic[D]):
    """Base: sets contextvars on enter, resets them on exit; ``with`` or ``async with``."""

    def __init__(self, cls: D) -> None:
        self.cls = cls
        self._tokens: list[list[tuple[contextvars.ContextVar, contextvars.Token]]] = []

    def _values(self) -> list[tuple[contextvars.ContextVar, Any]]:
        raise NotImplementedError

    def __enter__(self) -> D:
        self._tokens.append([(var, var.set(value)) for var, value in self._values()])
        return self.cls

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for var, token in reversed(self._tokens.pop()):
            _reset(var, token)

    async def __aenter__(self) -> D:
        return self.__enter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.__exit__(exc_type, exc, tb)


def _reset(var: contextvars.ContextVar, token: contextvars.Token) -> None:
    try:
        var.reset(token)
    except ValueError:
        # Left in another context than entered: a sync FastAPI dependency
        # enters and leaves in two worker threads, each with its own copy of
        # the request's context. Put back what the block found.
        old = token.old_value
        if old is contextvars.Token.MISSING:
            old = contextvars.Context().run(var.get)  # the variable's default
        var.set(old)


def _with(mapping: MappingProxyType, key: Any, value: Any) -> MappingProxyType:
    return MappingProxyType({**mapping, key: value})


class switch_db(_TaskLocal[D]):
    """Use another connection alias for ``cls`` in this task.

        async with switch_db(User, "archive") as User:
            await User(name="old").save()
    """

    # Methods call their base explicitly: mongomotor.monkey installs them on
    # MongoEngine's class of the same name.
    def __init__(self, cls: D, db_alias: str) -> None:
        _TaskLocal.__init__(self, cls)
        self.db_alias = db_alias

    def _values(self) -> list[tuple[contextvars.ContextVar, Any]]:
        follow_switches(self.cls)
        return [
            (_db_aliases, _with(_db_aliases.get(), self.cls, self.db_alias)),
            (_block_collections, _with(_block_collections.get(), self.cls, {})),
        ]


class switch_collection(_TaskLocal[D]):
    """Use another collection for ``cls`` in this task.

        async with switch_collection(User, "users_2020") as User:
            await User.objects.count()
    """

    def __init__(self, cls: D, collection_name: str) -> None:
        _TaskLocal.__init__(self, cls)
        self.collection_name = collection_name

    def _values(self) -> list[tuple[contextvars.ContextVar, Any]]:
        follow_switches(self.cls)
        return [
            (_collection_names, _with(_collection_names.get(), self.cls, self.collection_name)),
            (_block_collections, _with(_block_collections.get(), self.cls, {})),
        ]


class no_dereference(_TaskLocal[D]):
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
        depths = _no_deref_classes.get()
        return [
            (_no_deref_classes, _with(depths, self.cls, depths.get(self.cls, 0) + 1)),
            (_no_deref_fields, _no_deref_fields.get() | field_ids),
        ]


class no_sub_classes(_TaskLocal[D]):
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
    from mongomotor.bridge import in_bridge
    from mongomotor.drivers import SyncClient

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

