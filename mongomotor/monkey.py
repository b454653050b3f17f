"""The one place where MongoEngine's module attributes are replaced, reversibly.

    with MonkeyPatcher() as patcher:
        patcher.patch_get_mongodb_version()
        ...  # patched here
    # restored here

Patches made with ``undo=False`` stay after the block (used at import time for
what mongomotor needs permanently; each says why).
"""

from __future__ import annotations

from typing import Any

import mongoengine.connection as me_connection
import mongoengine.mongodb_support as me_mongodb_support

from mongomotor.drivers import SyncClient

__all__ = ["MonkeyPatcher", "install"]

_MISSING = object()


class MonkeyPatcher:
    """Replace attributes of MongoEngine modules and put them back on exit."""

    def __init__(self) -> None:
        self._undo: list[tuple[Any, str, Any]] = []

    def __enter__(self) -> MonkeyPatcher:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.undo()

    def undo(self) -> None:
        """Restore everything patched with ``undo=True``, newest first."""
        while self._undo:
            obj, attr, old = self._undo.pop()
            if old is _MISSING:
                delattr(obj, attr)
            else:
                setattr(obj, attr, old)

    def patch_item(self, obj: Any, attr: str, newitem: Any, undo: bool = True) -> None:
        """Set ``obj.attr = newitem``; restored on exit unless ``undo`` is False."""
        old = obj.__dict__.get(attr, _MISSING) if hasattr(obj, "__dict__") else _MISSING
        setattr(obj, attr, newitem)
        if undo:
            self._undo.append((obj, attr, old))

    def patch_db_clients(self, client: Any) -> None:
        """Make MongoEngine build ``client`` where it would build ``pymongo.MongoClient``."""
        self.patch_item(me_connection, "MongoClient", client)

    def patch_get_mongodb_version(self) -> None:
        """``mongoengine.mongodb_support.get_mongodb_version`` reads mongomotor's version.

        It parses ``buildInfo.version`` when ``versionArray`` is missing and is
        awaitable outside the bridge.
        """
        from mongomotor.connection import get_mongodb_version

        self.patch_item(me_mongodb_support, "get_mongodb_version", get_mongodb_version)

    def patch_sync_connections(self) -> None:
        """Hide MongoEngine's sync connections (keep only mongomotor's facades)."""
        self._filter_connections(keep_async=True)

    def patch_async_connections(self) -> None:
        """Hide mongomotor's connections, so a sync MongoEngine alias gets its own client."""
        self._filter_connections(keep_async=False)

    def _filter_connections(self, keep_async: bool) -> None:
        kept = {
            alias: client
            for alias, client in me_connection._connections.items()
            if isinstance(client, SyncClient) == keep_async
        }
        self.patch_item(me_connection, "_connections", kept)

    def patch_qs_stop_iteration(self) -> None:
        """Nothing to patch: a queryset's StopIteration stays inside the bridge.

        Older designs ran MongoEngine's iteration inside futures, where a
        StopIteration is an error; under the greenlet bridge it never reaches
        a future, so MongoEngine's own iteration is kept as it is.
        """

    def patch_signals(self, undo: bool = True) -> None:
        """Make MongoEngine's signal objects :class:`mongomotor.signals.Signal`.

        MongoEngine sends ``signals.pre_save`` etc. from its sync code; as our
        class, those same objects await coroutine receivers when sent in the
        bridge. Changing the class (not the module attribute) keeps every
        reference valid: ``mongoengine.pre_save``, early ``from ... import`` lines and
        receivers already connected. Plain sends behave exactly as blinker's.
        """
        import mongoengine.signals as me_signals

        from mongomotor.signals import SIGNAL_NAMES, Signal

        for name in SIGNAL_NAMES:
            signal = getattr(me_signals, name)
            old = type(signal)
            if old is not Signal:
                signal.__class__ = Signal
                if undo:
                    self._undo.append((signal, "__class__", old))

    def patch_no_dereferencing_active_for_class(self, undo: bool = True) -> None:
        """MongoEngine asks mongomotor's task-local state whether to dereference.

        ``no_dereferencing_active_for_class`` is imported by name into
        ``mongoengine.queryset.base`` (and used in ``context_managers``), and
        fields read a thread-local counter: all are replaced so a
        ``mongomotor.context_managers.no_dereference`` block affects only its
        task. MongoEngine's own ``no_dereference`` keeps working.
        """
        import mongoengine.context_managers as me_context_managers
        import mongoengine.queryset.base as me_queryset_base
        from mongoengine.base.fields import BaseField

        from mongomotor import context_managers

        ours = context_managers.no_dereferencing_active_for_class
        for module in (me_queryset_base, me_context_managers):
            self.patch_item(module, "no_dereferencing_active_for_class", ours, undo=undo)

        current = BaseField.__dict__["_no_dereference_context_is_set"]
        original = getattr(current.fget, "__mongomotor_original__", current.fget)

        def is_set(field: Any) -> bool:
            return context_managers.field_no_dereference_active(field) or original(field)

        is_set.__mongomotor_original__ = original  # type: ignore[attr-defined]
        self.patch_item(BaseField, "_no_dereference_context_is_set", property(is_set), undo=undo)

    def patch_dereference(self, undo: bool = True) -> None:
        """Make MongoEngine build :class:`mongomotor.dereference.MongoMotorDeReference`.

        Lists, dicts, ``select_related`` and ``distinct`` build it through
        ``_import_class("DeReference")``, whose cache is patched with the module
        attribute; ours batches the queries in the bridge and never blocks in
        user code (plain sync MongoEngine without a loop is unchanged).
        """
        import mongoengine.common as me_common
        import mongoengine.dereference as me_dereference

        from mongomotor.dereference import MongoMotorDeReference

        self.patch_item(me_dereference, "DeReference", MongoMotorDeReference, undo=undo)
        cache = me_common._class_registry_cache
        old = cache.get("DeReference", _MISSING)
        cache["DeReference"] = MongoMotorDeReference
        if undo:
            self._undo.append((_DictItem(cache), "DeReference", old))

    def patch_embedded_document_list_save(self, undo: bool = True) -> None:
        """``doc.items.save()`` returns what the parent document's ``save`` returns.

        MongoEngine drops that value; the parent's ``save`` is awaitable in user
        code, so dropping it would silently never save. ``await doc.items.save()``
        saves (and gives) the parent document.
        """
        from mongoengine.base.datastructures import EmbeddedDocumentList

        def save(self: Any, *args: Any, **kwargs: Any) -> Any:
            return self._instance.save(*args, **kwargs)

        save.__doc__ = EmbeddedDocumentList.save.__doc__
        self.patch_item(EmbeddedDocumentList, "save", save, undo=undo)

    def patch_context_managers(self, undo: bool = True) -> None:
        """MongoEngine's context managers become task-local, in place.

        A port keeps ``from mongoengine.context_managers import switch_db``;
        MongoEngine's version changes the class for every task of the loop
        (and every thread), so one request's switch would send another's
        writes elsewhere. The classes themselves get the methods of
        :mod:`mongomotor.context_managers`, and ``no_dereference`` (a
        function) the helpers it calls, so references imported before
        mongomotor change too. ``query_counter`` counts this task's operations
        in user code on a mongomotor alias, and keeps MongoEngine's profiler
        in sync code. A plain MongoEngine class entering a switch block is made
        to follow it (:func:`mongomotor.context_managers.follow_switches`).
        """
        import mongoengine.context_managers as me_cm

        from mongomotor import context_managers as ours

        upgraded = {
            me_cm.switch_db: ours.switch_db,
            me_cm.switch_collection: ours.switch_collection,
            me_cm.no_sub_classes: ours.no_sub_classes,
        }
        for theirs, task_local in upgraded.items():
            for name in ("__init__", "_values", "__enter__", "__exit__", "__aenter__", "__aexit__"):
                self.patch_item(theirs, name, getattr(task_local, name), undo=undo)

        for name, replacement in (
            ("_register_no_dereferencing_for_class", ours.register_no_dereferencing_for_class),
            ("_unregister_no_dereferencing_for_class", ours.unregister_no_dereferencing_for_class),
            ("_no_dereference_for_fields", ours.no_dereference_for_fields),
        ):
            self.patch_item(me_cm, name, replacement, undo=undo)

        for name, method in _task_counting_methods(me_cm.query_counter).items():
            self.patch_item(me_cm.query_counter, name, method, undo=undo)


def _original(function: Any) -> Any:
    return getattr(function, "__mongomotor_original__", function)


def _task_counting_methods(counter_class: type) -> dict[str, Any]:
    """MongoEngine's ``query_counter`` methods, counting per task where it must."""
    from mongomotor import context_managers as ours

    init, enter, exit_, get_count = (
        _original(counter_class.__dict__[name])
        for name in ("__init__", "__enter__", "__exit__", "_get_count")
    )

    def __init__(self: Any, alias: str = me_connection.DEFAULT_CONNECTION_NAME) -> None:
        self._mm_task_counter = ours.task_counter_for(alias)
        if self._mm_task_counter is None:
            init(self, alias)

    def __enter__(self: Any) -> Any:
        counter = getattr(self, "_mm_task_counter", None)
        if counter is None:
            return enter(self)
        counter.__enter__()
        return self

    def __exit__(self: Any, *exc: Any) -> Any:
        counter = getattr(self, "_mm_task_counter", None)
        if counter is None:
            return exit_(self, *exc)
        return counter.__exit__(*exc)

    def _get_count(self: Any) -> int:
        counter = getattr(self, "_mm_task_counter", None)
        return get_count(self) if counter is None else int(counter)

    async def __aenter__(self: Any) -> Any:
        return self.__enter__()

    async def __aexit__(self: Any, *exc: Any) -> Any:
        return self.__exit__(*exc)

    for method, original in ((__init__, init), (__enter__, enter), (__exit__, exit_),
                             (_get_count, get_count)):
        method.__mongomotor_original__ = original  # type: ignore[attr-defined]
    methods = (__init__, __enter__, __exit__, _get_count, __aenter__, __aexit__)
    return {method.__name__: method for method in methods}


def install() -> None:
    """The patches mongomotor needs for as long as it is imported (each says why).

    Plain sync MongoEngine code keeps working: every patched piece behaves as
    MongoEngine's outside the bridge.
    """
    patcher = MonkeyPatcher()
    patcher.patch_signals(undo=False)
    patcher.patch_no_dereferencing_active_for_class(undo=False)
    patcher.patch_dereference(undo=False)
    patcher.patch_context_managers(undo=False)
    patcher.patch_embedded_document_list_save(undo=False)


class _DictItem:
    """Lets :meth:`MonkeyPatcher.undo` restore a dict entry like an attribute."""

    def __init__(self, mapping: dict) -> None:
        self.__dict__["_mapping"] = mapping

    def __setattr__(self, name: str, value: Any) -> None:
        self._mapping[name] = value

    def __delattr__(self, name: str) -> None:
        self._mapping.pop(name, None)
