"""Awaitable QuerySets: MongoEngine's QuerySet with every I/O method awaitable.

    posts = await Post.objects(tags="python").order_by("-date").to_list(None)
    async for post in Post.objects(author=me): ...

Building and chaining a QuerySet does no I/O. Methods that reach the server
return awaitables in user code and plain values inside the bridge, where
MongoEngine's own logic calls them.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import mongoengine.queryset as me_queryset
from mongoengine.errors import OperationError
from mongoengine.queryset import (
    CASCADE,
    DENY,
    DO_NOTHING,
    NULLIFY,
    PULL,
)
from mongoengine.queryset import (
    QuerySetManager as _MongoEngineQuerySetManager,
)
from mongoengine.queryset.base import BaseQuerySet

from mongomotor.drivers.async_facade import sync_facade
from mongomotor.odm.files import metadata as files
from mongomotor.odm.plans import reads as fastpath
from mongomotor.odm.querying import awaited_reads
from mongomotor.odm.querying.change_streams import ChangeStream, watch_queryset
from mongomotor.odm.querying.cursor import AsyncCursor
from mongomotor.odm.querying.map_reduce import MapReduceDocument
from mongomotor.odm.references.dereference import select_related
from mongomotor.runtime.bridge import (
    awaitable_method,
    coroutine_function,
    in_bridge,
    loop_is_running,
    named,
    require_loop,
    run_sync,
)

__all__ = [
    "QuerySet",
    "QuerySetNoCache",
    "QuerySetManager",
    "queryset_manager",
    "DO_NOTHING",
    "NULLIFY",
    "CASCADE",
    "DENY",
    "PULL",
]


def _io(fn: Callable[..., Any]) -> Callable[..., Any]:
    """An awaitable QuerySet method; the document's collection is prepared first."""

    @functools.wraps(fn)
    def run(self: BaseQuerySet, *args: Any, **kwargs: Any) -> Any:
        self._document._get_collection()
        return fn(self, *args, **kwargs)

    return awaitable_method(run)


_NULL_MARKER = "\x00mongomotor:null"


def _blocking(what: str, instead: str) -> TypeError:
    return TypeError(f"{what} would block the event loop: use {instead}")


class AsyncQuerySetMixin:
    """The awaitable API shared by :class:`QuerySet` and :class:`QuerySetNoCache`."""

    _document: Any

    def __init__(self, document: Any, collection: Any) -> None:
        # MongoEngine's code holds the sync facade; ``Doc._get_collection()`` in
        # user code (as in ``Doc.objects``) gives the async one.
        super().__init__(document, sync_facade(collection))  # type: ignore[call-arg]

    def __setstate__(self, state: dict) -> None:
        super().__setstate__(state)  # type: ignore[misc]
        self._collection_obj = sync_facade(self._collection_obj)

    # -- reading ---------------------------------------------------------------
    @coroutine_function
    def first(self) -> Any:
        """The first matching document, or None (awaitable)."""
        return self._read("first", awaited_reads.first, self._first_in_bridge)

    @coroutine_function
    def get(self, *q_objs: Any, **query: Any) -> Any:
        """The one matching document; ``DoesNotExist`` / ``MultipleObjectsReturned`` (awaitable)."""
        return self._read("get", awaited_reads.get, self._get_in_bridge, *q_objs, **query)

    @coroutine_function
    def with_id(self, object_id: Any) -> Any:
        """The document whose primary key is ``object_id``, or None (awaitable)."""
        return self._read("with_id", awaited_reads.with_id, self._with_id_in_bridge, object_id)

    def _read(self, name: str, awaited: Any, bridged: Any, /, *args: Any, **kwargs: Any) -> Any:
        # Inside the bridge (MongoEngine's own calls) the value; in user code a
        # coroutine: without a greenlet where awaited_reads applies. Positional-only:
        # a query may use any keyword (``get(name=...)``).
        if in_bridge():
            return bridged(*args, **kwargs)
        if not loop_is_running():
            require_loop(f"{type(self).__name__}.{name}()")
        if awaited_reads.applies(self):
            coroutine = awaited(self, *args, **kwargs)
        else:
            coroutine = bridged(*args, **kwargs)
        return named(coroutine, f"{type(self).__name__}.{name}")

    @_io
    def _first_in_bridge(self) -> Any:
        if fastpath.takes_fast_path(self):
            return self._with_files(fastpath.first(self))
        return self._with_files(super().first())

    @_io
    def _get_in_bridge(self, *q_objs: Any, **query: Any) -> Any:
        if fastpath.takes_fast_path(self):
            return self._with_files(fastpath.get(self, *q_objs, **query))
        return self._with_files(super().get(*q_objs, **query))

    @_io
    def _with_id_in_bridge(self, object_id: Any) -> Any:
        if fastpath.takes_fast_path(self):
            return self._with_files(fastpath.with_id(self, object_id))
        return self._with_files(super().with_id(object_id))

    @_io
    def count(self, with_limit_and_skip: bool = True) -> int:
        """The number of matching documents (limit and skip count by default)."""
        return super().count(with_limit_and_skip)

    def _with_files(self, result: Any) -> Any:
        # Fields declared FileField(load_metadata=True) come with their file's metadata.
        document = self._document
        if files.loads_with_documents(document) and isinstance(result, document):
            files.load_with_documents(document, [result])
        return result

    @_io
    def in_bulk(self, object_ids: Any) -> dict:
        return super().in_bulk(object_ids)

    @_io
    def distinct(self, field: str) -> list:
        return super().distinct(field)

    @_io
    def explain(self) -> dict:
        return super().explain()

    @_io
    def sum(self, field: str) -> Any:
        return super().sum(field)

    @_io
    def average(self, field: str) -> Any:
        return super().average(field)

    @_io
    def item_frequencies(self, field: str, normalize: bool = False) -> dict:
        """How often each value of ``field`` occurs (list items count one by one).

        Runs on the aggregation framework: no server-side JavaScript.
        """
        db_field = self._fields_to_dbfields([field]).pop()
        # $unwind counts list items one by one, a scalar as itself, an empty
        # list as nothing, and drops nulls: a missing value goes in as a marker.
        pipeline = [
            {"$match": self._query},
            {"$project": {"_id": 0, "value": {"$ifNull": ["$" + db_field, _NULL_MARKER]}}},
            {"$unwind": "$value"},
            {"$group": {"_id": "$value", "count": {"$sum": 1}}},
        ]
        frequencies: dict = {}
        for row in self._document._get_collection().aggregate(pipeline):
            key = None if row["_id"] == _NULL_MARKER else row["_id"]
            if isinstance(key, float) and key.is_integer():
                key = int(key)
            frequencies[key] = frequencies.get(key, 0) + row["count"]
        if normalize:
            total = sum(frequencies.values())
            frequencies = {k: v / total for k, v in frequencies.items()}
        return frequencies

    @_io
    def map_reduce(self, map_f: Any, reduce_f: Any, output: Any, **kwargs: Any) -> list:
        """Run a map/reduce (where the server runs JavaScript); a list of results."""
        return [
            MapReduceDocument(doc._document, doc._collection, doc.key, doc.value)
            for doc in super().map_reduce(map_f, reduce_f, output, **kwargs)
        ]

    @_io
    def exec_js(self, code: str, *fields: Any, **options: Any) -> Any:
        return super().exec_js(code, *fields, **options)

    @_io
    def to_json(self, *args: Any, **kwargs: Any) -> str:
        return super().to_json(*args, **kwargs)

    @coroutine_function
    def aggregate(self, pipeline: Any, *suppl_pipeline: Any, **kwargs: Any) -> Any:
        """Run an aggregation; awaiting it gives an :class:`~mongomotor.queryset.AsyncCursor`.

            cursor = await Post.objects(published=True).aggregate([{"$count": "n"}])
        """
        if in_bridge():
            return super().aggregate(pipeline, *suppl_pipeline, **kwargs)
        require_loop(f"{type(self).__name__}.aggregate()")
        cursor = self._aggregate_cursor(pipeline, suppl_pipeline, kwargs)
        return named(cursor, f"{type(self).__name__}.aggregate")

    async def _aggregate_cursor(self, pipeline: Any, suppl: tuple, kwargs: dict) -> AsyncCursor:
        def start() -> Any:
            self._document._get_collection()
            return super(AsyncQuerySetMixin, self).aggregate(pipeline, *suppl, **kwargs)

        return AsyncCursor(await run_sync(start))

    # -- writing -----------------------------------------------------------------
    @_io
    def create(self, **kwargs: Any) -> Any:
        """Create and save a document (awaitable)."""
        return super().create(**kwargs)

    @_io
    def insert(self, doc_or_docs: Any, load_bulk: bool = True, write_concern: Any = None,
               signal_kwargs: Any = None) -> Any:
        return super().insert(doc_or_docs, load_bulk, write_concern, signal_kwargs)

    @_io
    def update(self, *args: Any, **kwargs: Any) -> Any:
        return super().update(*args, **kwargs)

    @_io
    def update_one(self, *args: Any, **kwargs: Any) -> Any:
        return super().update_one(*args, **kwargs)

    @_io
    def upsert_one(self, write_concern: Any = None, read_concern: Any = None, **update: Any) -> Any:
        return super().upsert_one(write_concern, read_concern, **update)

    @_io
    def modify(self, *args: Any, **kwargs: Any) -> Any:
        return super().modify(*args, **kwargs)

    @_io
    def delete(self, write_concern: Any = None, _from_doc_delete: bool = False,
               cascade_refs: Any = None) -> int:
        return super().delete(write_concern, _from_doc_delete, cascade_refs)

    @_io
    def select_related(self, max_depth: int = 1) -> list:
        """The matching documents with their references loaded, ``max_depth`` hops deep.

            posts = await Post.objects(published=True).select_related()

        One query per referenced collection and hop, whatever the number of documents.
        """
        return select_related(self.clone(), max_depth)

    # -- change streams --------------------------------------------------------------
    def watch(self, pipeline: list | None = None, **options: Any) -> ChangeStream:
        """The changes of the documents this QuerySet matches, as they happen (no I/O yet).

            async for change in Post.objects(status="live").watch(): print(change.document)

        Options as PyMongo's ``watch`` (``full_document``, ``resume_after``...); see the guide.
        """
        return watch_queryset(self, pipeline, **options)

    # -- iteration -----------------------------------------------------------------
    def _async_cursor(self) -> AsyncCursor:
        return AsyncCursor(self.clone(), prepare=self._document._get_collection)

    def __aiter__(self) -> AsyncCursor:
        """``async for doc in qs``: a fresh query, read a batch at a time."""
        return self._async_cursor()

    async def to_list(self, length: int | None = 100) -> list:
        """The matching documents, at most ``length`` (all when ``length`` is None)."""
        return await self._async_cursor().to_list(length)

    def _motor_style_cursor(self) -> AsyncCursor:
        cursor = self.__dict__.get("_mm_iteration")
        if cursor is None:
            cursor = self.__dict__["_mm_iteration"] = self._async_cursor()
        return cursor

    @property
    def fetch_next(self) -> Any:
        """Motor-style iteration: ``while await qs.fetch_next: qs.next_object()``."""
        return self._motor_style_cursor().fetch_next

    def next_object(self) -> Any:
        return self._motor_style_cursor().next_object()

    @property
    def buffered(self) -> int:
        """Documents already received by this QuerySet's cursor (no round trip)."""
        cursor = self._cursor_obj
        if cursor is None:
            return 0
        return getattr(cursor, "buffered", 1)

    def __getitem__(self, key: Any) -> Any:
        """``qs[2:5]`` is a QuerySet; ``await qs[3]`` is a document."""
        if isinstance(key, slice) or in_bridge():
            return super().__getitem__(key)
        require_loop(f"{type(self).__name__}[{key!r}]")
        return named(run_sync(self._item, key), f"{type(self).__name__}.__getitem__")

    def _item(self, key: Any) -> Any:
        self._document._get_collection()
        return self._with_files(super().__getitem__(key))

    def __iter__(self) -> Any:
        if in_bridge():
            return super().__iter__()
        raise _blocking("iterating a QuerySet", "`async for doc in qs` or `await qs.to_list(None)`")

    def __len__(self) -> int:
        if in_bridge():
            return super().__len__()
        raise _blocking("len(QuerySet)", "`await qs.count()`")

    def __bool__(self) -> bool:
        if in_bridge():
            return super().__bool__()
        raise _blocking("bool(QuerySet)", "`await qs.first() is not None` or `await qs.count()`")

    def __contains__(self, document: Any) -> bool:
        if in_bridge():  # MongoEngine defines none: Python's search through __iter__
            return any(item is document or item == document for item in super().__iter__())
        raise _blocking("`doc in QuerySet`", "`await qs.filter(pk=doc.pk).first() is not None`")

    def __repr__(self) -> str:
        if in_bridge():
            return super().__repr__()
        return f"<{type(self).__name__} of {self._document.__name__}: {self._query!r}>"

    def _clone_into(self, new_qs: Any) -> Any:
        # The same copy as MongoEngine's, without copy.copy calls for values it
        # would hand back unchanged: every chained call clones.
        return fastpath.clone_into(self, new_qs)

    # -- conversions that must stay in this module's classes ------------------------
    def no_cache(self) -> QuerySetNoCache:
        """A QuerySet that keeps no result cache."""
        if getattr(self, "_result_cache", None) is not None:
            raise OperationError("QuerySet already cached")
        return self._clone_into(QuerySetNoCache(self._document, self._collection))

    def cache(self) -> QuerySet:
        """A QuerySet that caches its results."""
        return self._clone_into(QuerySet(self._document, self._collection))


class QuerySet(AsyncQuerySetMixin, me_queryset.QuerySet):
    """The default QuerySet of mongomotor documents."""


class QuerySetNoCache(AsyncQuerySetMixin, me_queryset.QuerySetNoCache):
    """A non-caching QuerySet."""


class QuerySetManager(_MongoEngineQuerySetManager):
    """``Document.objects``: builds a :class:`QuerySet` (no I/O)."""

    default = QuerySet


def queryset_manager(func: Callable[..., Any]) -> QuerySetManager:
    """Decorator for custom managers, as ``mongoengine.queryset_manager``."""
    return QuerySetManager(func)
