"""Plain MongoEngine classes follow mongomotor's task-local switch blocks.

    follow_switches(LegacyPost)   # its _get_db/_get_collection now read the task's switches

mongomotor's own documents read the switches themselves
(:func:`switched_db_alias`); a plain ``mongoengine.Document`` class gets
switch-aware class methods on its first ``switch_db``/``switch_collection`` block.
"""

from __future__ import annotations

import threading
from typing import Any

import mongoengine.connection as me_connection
from mongoengine.document import Document as MongoEngineDocument

from mongomotor.runtime.task_state import block_collections, collection_names, db_aliases

__all__ = ["follow_switches", "switched_collection_name", "switched_db_alias"]


def switched_db_alias(cls: type) -> str | None:
    """The alias a ``switch_db`` block of this task gives ``cls``, or None."""
    return db_aliases.get().get(cls)


def switched_collection_name(cls: type) -> str | None:
    """The collection a ``switch_collection`` block of this task gives ``cls``, or None."""
    return collection_names.get().get(cls)


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
    if not issubclass(cls, MongoEngineDocument) or getattr(cls, "_mm_reads_switches", False):
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
        alias = db_aliases.get().get(cls)
        return original(cls) if alias is None else me_connection.get_db(alias)

    return _get_db


def _switch_aware_get_collection_name(original: Any) -> Any:
    def _get_collection_name(cls: Any) -> Any:
        name = collection_names.get().get(cls)
        return original(cls) if name is None else name

    return _get_collection_name


def _switch_aware_get_collection(original: Any) -> Any:
    def _get_collection(cls: Any) -> Any:
        # A switch block keeps the collection it built (MongoEngine caches the
        # class's own in a class attribute, which every task would see).
        cache = block_collections.get().get(cls)
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
        cache = block_collections.get().get(cls)
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
