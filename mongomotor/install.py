"""The one place that patches MongoEngine: what mongomotor needs while it is imported.

    install()                         # at import of mongomotor: every lasting patch
    with MonkeyPatcher() as patcher:  # a reversible one, for a block
        patcher.patch_get_mongodb_version()

Patches made with ``undo=False`` stay after the block (used by :func:`install`
for what mongomotor needs permanently; each says why). A replacement for the
length of one call (``connect`` parsing a URI) uses
:func:`mongomotor.runtime.patching.patched` where it happens.
"""

from __future__ import annotations

from typing import Any

import mongoengine.common as me_common
import mongoengine.connection as me_connection
import mongoengine.context_managers as me_context_managers
import mongoengine.dereference as me_dereference
import mongoengine.mongodb_support as me_mongodb_support
import mongoengine.queryset.base as me_queryset_base
import mongoengine.signals as me_signals
from mongoengine.base.datastructures import EmbeddedDocumentList
from mongoengine.base.fields import BaseField

from mongomotor.drivers import SyncClient
from mongomotor.odm import context_managers, no_dereference
from mongomotor.odm.connections import get_mongodb_version
from mongomotor.odm.references.dereference import MongoMotorDeReference
from mongomotor.odm.signals import SIGNAL_NAMES, Signal
from mongomotor.runtime.patching import MISSING, DictItem, Patcher

__all__ = ["MonkeyPatcher", "install"]


class MonkeyPatcher(Patcher):
    """Replace attributes of MongoEngine's modules and put them back on exit.

        with MonkeyPatcher() as patcher:
            patcher.patch_get_mongodb_version()
    """

    def patch_db_clients(self, client: Any) -> None:
        """Make MongoEngine build ``client`` where it would build ``pymongo.MongoClient``."""
        self.patch_item(me_connection, "MongoClient", client)

    def patch_get_mongodb_version(self) -> None:
        """``mongoengine.mongodb_support.get_mongodb_version`` reads mongomotor's version.

        It parses ``buildInfo.version`` when ``versionArray`` is missing and is
        awaitable outside the bridge.
        """
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
        """Make MongoEngine's signal objects :class:`mongomotor.odm.signals.Signal`.

        MongoEngine sends ``signals.pre_save`` etc. from its sync code; as our
        class, those same objects await coroutine receivers when sent in the
        bridge. Changing the class (not the module attribute) keeps every
        reference valid: ``mongoengine.pre_save``, early ``from ... import`` lines and
        receivers already connected. Plain sends behave exactly as blinker's.
        """
        for name in SIGNAL_NAMES:
            signal = getattr(me_signals, name)
            old = type(signal)
            if old is not Signal:
                signal.__class__ = Signal
                if undo:
                    self.remember(signal, "__class__", old)

    def patch_no_dereferencing_active_for_class(self, undo: bool = True) -> None:
        """MongoEngine asks mongomotor's task-local state whether to dereference.

        ``no_dereferencing_active_for_class`` is imported by name into
        ``mongoengine.queryset.base`` (and used in ``context_managers``), and
        fields read a thread-local counter: all are replaced so a
        ``mongomotor.odm.context_managers.no_dereference`` block affects only its
        task. MongoEngine's own ``no_dereference`` keeps working.
        """
        ours = no_dereference.no_dereferencing_active_for_class
        for module in (me_queryset_base, me_context_managers):
            self.patch_item(module, "no_dereferencing_active_for_class", ours, undo=undo)

        current = BaseField.__dict__["_no_dereference_context_is_set"]
        original = getattr(current.fget, "__mongomotor_original__", current.fget)

        def is_set(field: Any) -> bool:
            return no_dereference.field_no_dereference_active(field) or original(field)

        is_set.__mongomotor_original__ = original  # type: ignore[attr-defined]
        self.patch_item(BaseField, "_no_dereference_context_is_set", property(is_set), undo=undo)

    def patch_dereference(self, undo: bool = True) -> None:
        """Make MongoEngine build :class:`mongomotor.dereference.MongoMotorDeReference`.

        Lists, dicts, ``select_related`` and ``distinct`` build it through
        ``_import_class("DeReference")``, whose cache is patched with the module
        attribute; ours batches the queries in the bridge and never blocks in
        user code (plain sync MongoEngine without a loop is unchanged).
        """
        self.patch_item(me_dereference, "DeReference", MongoMotorDeReference, undo=undo)
        cache = me_common._class_registry_cache
        old = cache.get("DeReference", MISSING)
        cache["DeReference"] = MongoMotorDeReference
        if undo:
            self.remember(DictItem(cache), "DeReference", old)

    def patch_embedded_document_list_save(self, undo: bool = True) -> None:
        """``doc.items.save()`` returns what the parent document's ``save`` returns.

        MongoEngine drops that value; the parent's ``save`` is awaitable in user
        code, so dropping it would silently never save. ``await doc.items.save()``
        saves (and gives) the parent document.
        """
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
        :mod:`mongomotor.odm.context_managers`, and ``no_dereference`` (a
        function) the helpers it calls, so references imported before
        mongomotor change too. ``query_counter`` counts this task's operations
        in user code on a mongomotor alias, and keeps MongoEngine's profiler
        in sync code. A plain MongoEngine class entering a switch block is made
        to follow it (:func:`mongomotor.odm.switching.follow_switches`).
        """
        upgraded = {
            me_context_managers.switch_db: context_managers.switch_db,
            me_context_managers.switch_collection: context_managers.switch_collection,
            me_context_managers.no_sub_classes: context_managers.no_sub_classes,
        }
        for theirs, task_local in upgraded.items():
            for name in ("__init__", "_values", "__enter__", "__exit__", "__aenter__", "__aexit__"):
                self.patch_item(theirs, name, getattr(task_local, name), undo=undo)

        for name, replacement in (
            ("_register_no_dereferencing_for_class", "register_no_dereferencing_for_class"),
            ("_unregister_no_dereferencing_for_class", "unregister_no_dereferencing_for_class"),
            ("_no_dereference_for_fields", "no_dereference_for_fields"),
        ):
            replacement = getattr(no_dereference, replacement)
            self.patch_item(me_context_managers, name, replacement, undo=undo)

        for name, method in _task_counting_methods(me_context_managers.query_counter).items():
            self.patch_item(me_context_managers.query_counter, name, method, undo=undo)


def _original(function: Any) -> Any:
    return getattr(function, "__mongomotor_original__", function)


def _task_counting_methods(counter_class: type) -> dict[str, Any]:
    """MongoEngine's ``query_counter`` methods, counting per task where it must."""
    init, enter, exit_, get_count = (
        _original(counter_class.__dict__[name])
        for name in ("__init__", "__enter__", "__exit__", "_get_count")
    )

    def __init__(self: Any, alias: str = me_connection.DEFAULT_CONNECTION_NAME) -> None:
        self._mm_task_counter = context_managers.task_counter_for(alias)
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
