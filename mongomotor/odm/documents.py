"""Awaitable documents: MongoEngine's Document with its I/O methods awaitable.

    class Post(Document):
        title = StringField(required=True)

    post = await Post(title="Hello").save()
    await post.reload()

Everything else (validation, deltas, inheritance, meta, signals, delete rules)
is MongoEngine's own code, run unchanged inside the bridge.
"""

from __future__ import annotations

import asyncio
from typing import Any

import greenlet
import mongoengine
import mongoengine.connection as me_connection
from mongoengine.base.common import _document_registry
from mongoengine.connection import DEFAULT_CONNECTION_NAME, ConnectionFailure

from mongomotor.drivers.async_facade import async_facade, sync_facade
from mongomotor.odm import switching
from mongomotor.odm.plans import constructor
from mongomotor.odm.plans import encoder as encoding
from mongomotor.odm.plans import loader as loading
from mongomotor.odm.plans.compiler import add_hook
from mongomotor.odm.querying.change_streams import ChangeStream
from mongomotor.odm.querying.queryset import QuerySet, QuerySetManager
from mongomotor.odm.references.dereference import select_related
from mongomotor.odm.references.fields import AwaitableReference
from mongomotor.runtime.bridge import await_, awaitable_method, in_bridge
from mongomotor.runtime.task_state import sessions_suspended

__all__ = [
    "Document",
    "DynamicDocument",
    "EmbeddedDocument",
    "DynamicEmbeddedDocument",
    "NoDerefInitMixin",
]


class NoDerefInitMixin:
    """Documents built from the database do not dereference their references.

    References are loaded when awaited (or in bulk with ``select_related``),
    never as a side effect of creating the instance. A document awaits to
    itself, so ``await post.author`` works whether the reference is loaded
    (the document) or not (an awaitable that loads it).
    """

    def __init__(self, *args: Any, **values: Any) -> None:
        # MongoEngine's __init__ result, through a constructor compiled per class and names.
        if args or not constructor.construct(self, values):
            super().__init__(*args, **values)

    def __await__(self) -> Any:
        return self
        yield  # makes __await__ a generator that gives ``self`` at once

    # MongoEngine's _from_son result, through a loader compiled per data shape.
    _from_son = classmethod(loading.from_son)

    def to_mongo(self, use_db_field: bool = True, fields: list[str] | None = None) -> Any:
        """The document as stored (MongoEngine's result, through a plan compiled per class).

            son = post.to_mongo()  # SON([("_id", ...), ("title", "Hi")])
        """
        son = encoding.to_mongo(self, use_db_field, fields)
        if son is None:
            return super().to_mongo(use_db_field, fields)  # type: ignore[misc]
        return son

    def validate(self, clean: bool = True) -> None:
        """Raise MongoEngine's ``ValidationError`` if a field's value is not valid.

            post.validate()
        """
        if not encoding.validate(self, clean):
            super().validate(clean)  # type: ignore[misc]

    def _clear_changed_fields(self) -> None:
        if not encoding.clear_changed_fields(self):
            super()._clear_changed_fields()  # type: ignore[misc]

    def _get_changed_fields(self) -> list:
        changed = encoding.changed_fields(self)
        if changed is None:
            return super()._get_changed_fields()  # type: ignore[misc]
        return changed

    @awaitable_method
    def select_related(self, max_depth: int = 1) -> Any:
        """Load this document's references, ``max_depth`` hops deep; returns it.

            post = await post.select_related()  # post.author is now the Author
        """
        select_related([self], max_depth)
        return self


_document_eq = mongoengine.Document.__eq__


for _method in ("__init__", "to_mongo", "validate", "_clear_changed_fields", "_get_changed_fields"):
    add_hook(NoDerefInitMixin.__dict__[_method])  # they give MongoEngine's result


class Document(NoDerefInitMixin, mongoengine.Document):
    """A MongoEngine ``Document`` whose database methods are awaitable.

        await Post(title="Hi").save()
        post = await Post.objects.get(title="Hi")
    """

    meta = {"abstract": True, "queryset_class": QuerySet}
    objects = QuerySetManager()
    # It reads the task's switch_db/switch_collection blocks itself (see switching).
    _mm_reads_switches = True

    # -- equality with unloaded references (``doc == post.author``) -------------
    def __eq__(self, other: object) -> Any:
        if isinstance(other, AwaitableReference):
            return other.__eq__(self)
        return _document_eq(self, other)

    def __ne__(self, other: object) -> Any:
        return not self.__eq__(other)

    __hash__ = mongoengine.Document.__hash__  # defining __eq__ would drop it

    # -- collection access without I/O -----------------------------------------
    @classmethod
    def _db_alias(cls) -> str:
        # A switch_db block of this task wins over the class's meta.
        switched = switching.switched_db_alias(cls)
        return switched or cls._meta.get("db_alias", DEFAULT_CONNECTION_NAME)

    @classmethod
    def _get_collection_name(cls) -> str | None:
        # A switch_collection block of this task wins over the class's meta.
        switched = switching.switched_collection_name(cls)
        return switched or super()._get_collection_name()

    @classmethod
    def _get_db(cls) -> Any:
        alias = cls._db_alias()
        try:
            return mongoengine.connection.get_db(alias)
        except ConnectionFailure:
            raise ConnectionFailure(
                f"{cls.__name__} uses the alias {alias!r}, which is not connected: "
                f"call mongomotor.connect(..., alias={alias!r}) first"
            ) from None

    @classmethod
    def _get_collection(cls) -> Any:
        """The collection of this class, with no I/O.

            await Post._get_collection().count_documents({})   # PyMongo's async API

        In user code it has PyMongo's async API on every driver; inside the
        bridge it is MongoEngine's (sync), and the first use of a collection
        creates it (capped and time-series options) and its indexes, once.
        """
        collection = cls._collection_facade()
        return collection if in_bridge() else async_facade(collection)

    @classmethod
    def _collection_facade(cls) -> Any:
        """The sync facade of this class's collection (what MongoEngine's code holds)."""
        alias = cls._db_alias()
        name = cls._get_collection_name()
        known = cls.__dict__.get("_mm_collections")
        entry = None if known is None else known.get((alias, name))
        # A cached facade is valid while MongoEngine holds the same database for
        # the alias (connect/disconnect replace or drop it).
        if entry is not None and me_connection._dbs.get(alias) is entry[0]:
            db, collection = entry
        else:
            db = cls._get_db()
            collection = db[name]
            if known is None:
                known = {}
                type.__setattr__(cls, "_mm_collections", known)
            elif len(known) >= 64:  # switch_collection with ever new names
                known.clear()
            known[(alias, name)] = (db, collection)
        if in_bridge():
            key = (alias, db.name, name)
            state = cls.__dict__.get("_mm_preparation")
            if state is None or state.get(key) is not True:  # not prepared yet
                cls._prepare_collection(key)
        return collection

    @classmethod
    def _collection_prepared(cls) -> bool:
        """True if this class's collection needs no more I/O before use (created, indexed)."""
        collection = cls._collection_facade()
        state = cls.__dict__.get("_mm_preparation")
        key = (cls._db_alias(), collection._database.name, collection.name)
        return state is not None and state.get(key) is True

    def switch_db(self, db_alias: str, keep_created: bool = True) -> Any:
        """Save (and reload) this document in the database of ``db_alias`` from now on."""
        super().switch_db(db_alias, keep_created)
        return self._hold_sync_collection()

    def switch_collection(self, collection_name: str, keep_created: bool = True) -> Any:
        """Save (and reload) this document in ``collection_name`` from now on."""
        super().switch_collection(collection_name, keep_created)
        return self._hold_sync_collection()

    def _hold_sync_collection(self) -> Any:
        # MongoEngine keeps the collection it read on the instance, for use in
        # the bridge: the sync facade there, the async one in user code.
        collection = sync_facade(self._get_collection())
        self._get_collection = lambda: collection if in_bridge() else async_facade(collection)
        self._collection = collection
        self._qs._collection_obj = collection
        return self

    @classmethod
    def _collection_key(cls, db: Any) -> tuple[str, str, str]:
        return (cls._db_alias(), db.name, cls._get_collection_name())

    @classmethod
    def _preparation(cls) -> dict:
        state = cls.__dict__.get("_mm_preparation")
        if state is None:
            state = {}
            type.__setattr__(cls, "_mm_preparation", state)
        return state

    @classmethod
    def _prepare_collection(cls, key: tuple[str, str, str]) -> None:
        state = cls._preparation()
        me = greenlet.getcurrent()
        loop = asyncio.get_running_loop()
        while True:
            entry = state.get(key)
            if entry is True:
                return
            if entry is None:
                break
            owner, done = entry
            if owner is me:
                return  # ensure_indexes asking for the collection it is preparing
            if done.get_loop() is not loop or done.done():
                break
            # Another task of this loop prepares it. If that task fails or is
            # cancelled, look again: one of the waiters takes over, not each.
            await_(asyncio.shield(done))
        done = loop.create_future()
        state[key] = (me, done)
        try:
            with sessions_suspended():  # catalog reads and DDL: never in a transaction
                if cls._meta.get("max_size") or cls._meta.get("max_documents"):
                    cls._get_capped_collection()
                elif cls._meta.get("timeseries"):
                    cls._get_timeseries_collection()
                if cls._meta.get("auto_create_index", True):
                    cls.ensure_indexes()
        except BaseException:
            state.pop(key, None)
            raise
        else:
            state[key] = True
        finally:
            done.set_result(None)

    @classmethod
    def _forget_collection(cls, name: str) -> None:
        for doc_cls in list(_document_registry.values()):
            state = doc_cls.__dict__.get("_mm_preparation")
            if state:
                for key in [k for k in state if k[2] == name]:
                    state.pop(key, None)

    @classmethod
    def _disconnect(cls) -> None:
        super()._disconnect()
        cls.__dict__.get("_mm_preparation", {}).clear()

    # -- awaitable instance methods -----------------------------------------
    @awaitable_method
    def save(self, *args: Any, **kwargs: Any) -> Any:
        """Insert or update this document; returns it (awaitable)."""
        return super().save(*args, **kwargs)

    @awaitable_method
    def delete(self, signal_kwargs: Any = None, **write_concern: Any) -> None:
        """Delete this document, applying delete rules (awaitable)."""
        return super().delete(signal_kwargs, **write_concern)

    @awaitable_method
    def reload(self, *fields: Any, **kwargs: Any) -> Any:
        """Reload all fields, or just ``fields``, from the database (awaitable)."""
        return super().reload(*fields, **kwargs)

    @awaitable_method
    def modify(self, query: Any = None, **update: Any) -> bool:
        """Atomically update this document if it matches ``query``; reload it."""
        return super().modify(query, **update)

    @awaitable_method
    def update(self, **kwargs: Any) -> Any:
        """Run an atomic update on this document's row (awaitable)."""
        return super().update(**kwargs)

    @awaitable_method
    def cascade_save(self, **kwargs: Any) -> None:
        return super().cascade_save(**kwargs)

    # -- change streams -------------------------------------------------------
    @classmethod
    def watch(cls, pipeline: list | None = None, **options: Any) -> ChangeStream:
        """The changes of this class's whole collection, other classes in it included.

            async for change in Post.watch(full_document="updateLookup"): ...
        """
        queryset = cls._meta.get("queryset_class", QuerySet)(cls, cls._collection_facade())
        return queryset.clear_cls_query().watch(pipeline, **options)

    # -- awaitable class methods ------------------------------------------------
    @classmethod
    @awaitable_method
    def drop_collection(cls) -> None:
        """Drop this document's collection (awaitable)."""
        super().drop_collection()
        cls._forget_collection(cls._get_collection_name())

    @classmethod
    @awaitable_method
    def ensure_indexes(cls) -> None:
        """Create the indexes declared in ``meta`` (awaitable)."""
        key = cls._collection_key(cls._get_db())
        if cls._preparation().get(key) is None and cls._meta.get("auto_create_index", True):
            # First use of the collection: preparing it creates the indexes, once.
            cls._get_collection()
            return None
        return super().ensure_indexes()

    @classmethod
    @awaitable_method
    def ensure_index(cls, key_or_list: Any, background: bool = False, **kwargs: Any) -> Any:
        return super().create_index(key_or_list, background=background, **kwargs)

    @classmethod
    @awaitable_method
    def create_index(cls, keys: Any, background: bool = False, **kwargs: Any) -> Any:
        return super().create_index(keys, background=background, **kwargs)

    @classmethod
    @awaitable_method
    def compare_indexes(cls) -> dict:
        """Indexes declared but missing, and present but undeclared (awaitable)."""
        return super().compare_indexes()


class DynamicDocument(Document, mongoengine.DynamicDocument):
    """A :class:`Document` that stores any attribute set on it."""

    meta = {"abstract": True, "queryset_class": QuerySet}


class EmbeddedDocument(NoDerefInitMixin, mongoengine.EmbeddedDocument):
    """A document stored inside another one."""

    meta = {"abstract": True}


class DynamicEmbeddedDocument(NoDerefInitMixin, mongoengine.DynamicEmbeddedDocument):
    """An embedded document that stores any attribute set on it."""

    meta = {"abstract": True}
