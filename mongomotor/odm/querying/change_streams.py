"""Change streams whose events carry documents: ``QuerySet.watch()``.

    async with Post.objects(status="live").watch(full_document="updateLookup") as stream:
        async for change in stream:
            print(change.operation, change.pk, change.document)

The stream is read on the event loop, straight from the driver's change stream
(PyMongo async, Motor) or from the in-memory driver's emulation
(:mod:`mongomotor.drivers.memory.changes`). Only pure MongoEngine code runs
per event: the query transform (once, for the ``$match`` stage) and
``_from_son`` to build documents.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from typing import Any, Generic, TypeVar

from mongoengine.errors import InvalidQueryError
from mongoengine.fields import EmbeddedDocumentField
from pymongo.errors import InvalidOperation, OperationFailure

from mongomotor.runtime.aio import keep_alive

__all__ = ["ChangeEvent", "ChangeStream", "ChangeStreamUnavailable", "change_pipeline"]

D = TypeVar("D")

WATCH_OPTIONS = (
    "full_document",
    "full_document_before_change",
    "resume_after",
    "start_after",
    "start_at_operation_time",
    "batch_size",
    "max_await_time_ms",
    "show_expanded_events",
    "collation",
    "comment",
)
# Server answers meaning "this deployment has no change streams" (a standalone).
_NO_CHANGE_STREAMS_CODES = frozenset({40573})
_LOGICAL = frozenset({"$and", "$or", "$nor"})


class ChangeStreamUnavailable(OperationFailure):
    """The server cannot run change streams (a standalone ``mongod``)."""


class ChangeEvent(Generic[D]):
    """One change of a watched collection, with documents built from the event.

        change.operation        "insert", "update", "replace", "delete", "drop", ...
        change.document         the document after the change (None when not sent)
    """

    __slots__ = (
        "operation", "document", "document_before", "document_key", "pk",
        "updated_fields", "removed_fields", "resume_token", "cluster_time", "wall_time", "raw",
    )

    def __init__(
        self,
        raw: Mapping[str, Any],
        operation: str | None,
        document: D | None,
        document_before: D | None,
        document_key: Mapping[str, Any] | None,
        pk: Any,
        updated_fields: dict[str, Any],
        removed_fields: list[str],
    ) -> None:
        self.raw = raw  #: the driver's event, untouched
        self.operation = operation
        self.document = document
        self.document_before = document_before
        self.document_key = document_key
        self.pk = pk
        self.updated_fields = updated_fields  #: attribute path -> converted value
        self.removed_fields = removed_fields  #: attribute paths
        self.resume_token: Mapping[str, Any] | None = raw.get("_id")
        self.cluster_time: Any = raw.get("clusterTime")
        self.wall_time: Any = raw.get("wallTime")

    def __repr__(self) -> str:
        return f"<ChangeEvent {self.operation} pk={self.pk!r}>"


def change_pipeline(query: Mapping[str, Any], before_images: bool,
                    extra: list[Mapping[str, Any]] | None = None) -> list[dict[str, Any]]:
    """The stages a QuerySet's filter ``query`` (in database names) gives a change stream.

    An event whose document is sent must match; an event with no document to
    match (a delete, an update without ``updateLookup``, a drop) passes, as
    its document may have matched. With pre-images, a document that matched
    before the change passes too (it left the filter, or was deleted).
    """
    stages: list[dict[str, Any]] = []
    if query:
        clauses = [_prefixed(query, "fullDocument.")]
        if before_images:
            clauses.append(_prefixed(query, "fullDocumentBeforeChange."))
            clauses.append({"fullDocument": None, "fullDocumentBeforeChange": None})
        else:
            clauses.append({"fullDocument": None})
        stages.append({"$match": {"$or": clauses}})
    stages.extend(dict(stage) for stage in extra or ())
    return stages


def _prefixed(query: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in query.items():
        if key in _LOGICAL:
            result[key] = [_prefixed(clause, prefix) for clause in value]
        elif key == "$comment":
            result[key] = value
        elif key.startswith("$"):
            raise InvalidQueryError(
                f"watch() cannot filter change events with {key}: filter on field values, "
                "or pass a $match stage of your own with watch(pipeline=[...])"
            )
        else:
            result[prefix + key] = value
    return result


# -- field names and projections -----------------------------------------------------------


def attribute_path(cls: Any, db_path: str) -> tuple[str, Any]:
    """The attribute path of database path ``db_path`` in ``cls``, and the field it ends on."""
    names: list[str] = []
    field: Any = None
    container: Any = cls
    for part in db_path.split("."):
        if container is not None:
            name = container._reverse_db_field_map.get(part, part)
            field = container._fields.get(name)
            names.append(name)
        else:
            field = getattr(field, "field", None) if field is not None else None
            names.append(part)
        container = field.document_type if isinstance(field, EmbeddedDocumentField) else None
    return ".".join(names), field


def _to_python(field: Any, value: Any) -> Any:
    if field is None or value is None:
        return value
    try:
        return field.to_python(value)
    except Exception:  # noqa: BLE001 - a value the field cannot read is shown as stored
        return value


def _projected(son: Mapping[str, Any], spec: Mapping[str, Any]) -> dict[str, Any]:
    """``son`` with a find projection ``spec`` (inclusion or exclusion) applied."""
    including = any(v == 1 for k, v in spec.items() if k != "_id")
    if including:
        kept: dict[str, Any] = {}
        if spec.get("_id", 1):
            if "_id" in son:
                kept["_id"] = son["_id"]
        for path, value in spec.items():
            if path != "_id" and value != 0:
                _copy_path(son, kept, path.split("."))
        return kept
    result = dict(son)
    for path, value in spec.items():
        if value == 0:
            result = _without_path(result, path.split("."))
    return result


def _copy_path(source: Mapping, target: dict, parts: list[str]) -> None:
    head = parts[0]
    if head not in source:
        return
    if len(parts) == 1 or not isinstance(source[head], Mapping):
        target[head] = source[head]
        return
    inner = target.setdefault(head, {})
    if isinstance(inner, dict):
        _copy_path(source[head], inner, parts[1:])


def _without_path(doc: dict, parts: list[str]) -> dict:
    head = parts[0]
    if head not in doc:
        return doc
    copy = dict(doc)
    if len(parts) == 1:
        del copy[head]
    elif isinstance(doc[head], Mapping):
        copy[head] = _without_path(dict(doc[head]), parts[1:])
    return copy


def _visible(db_path: str, spec: Mapping[str, Any] | None) -> bool:
    if not spec:
        return True
    including = any(v == 1 for k, v in spec.items() if k != "_id")
    covered = any(
        db_path == path or db_path.startswith(path + ".") or path.startswith(db_path + ".")
        for path, value in spec.items()
        if (value != 0) == including
    )
    return covered if including else not covered


# -- opening a driver's stream -----------------------------------------------------------------


async def _open_driver_stream(collection: Any, pipeline: list, options: dict) -> Any:
    backend = collection._client.backend
    try:
        return await backend.open_change_stream(collection._facade_target(), pipeline, options)
    except OperationFailure as exc:
        if exc.code in _NO_CHANGE_STREAMS_CODES or "only supported on replica sets" in str(exc):
            raise ChangeStreamUnavailable(
                "change streams need a replica set (or a sharded cluster), and this server "
                "is a standalone mongod: start it with --replSet and run rs.initiate() once "
                "(a one-member replica set is enough), or test with the in-memory driver "
                f"(mongomock://), which supports watch(). The server said: {exc}",
                exc.code,
                exc.details,
            ) from exc
        raise


class ChangeStream(Generic[D]):
    """A change stream of documents: an async iterator and an async context manager.

        async with Post.objects.watch() as stream:
            async for change in stream: ...
    """

    def __init__(
        self,
        document: type[D],
        collection: Any,
        pipeline: list[dict[str, Any]],
        options: dict[str, Any],
        projection: Mapping[str, Any] | None = None,
        auto_dereference: bool = True,
    ) -> None:
        self._document = document
        self._collection = collection
        self.pipeline = pipeline  #: the aggregation stages sent after ``$changeStream``
        self._options = options
        self._projection = dict(projection) if projection else None
        self._auto_dereference = auto_dereference
        self._driver: Any = None
        self._opening: asyncio.Future | None = None
        self._pending: asyncio.Future | None = None
        self._closing: asyncio.Future | None = None
        self._entered = False

    @classmethod
    def for_queryset(cls, queryset: Any, pipeline: list | None, options: dict[str, Any]
                     ) -> ChangeStream:
        """The stream of ``queryset``'s matching changes (no I/O)."""
        options = {k: v for k, v in options.items() if v is not None}
        before = options.get("full_document_before_change") in ("whenAvailable", "required")
        loaded = queryset._loaded_fields
        return cls(
            queryset._document,
            queryset._collection,
            change_pipeline(queryset._query, before, pipeline),
            options,
            loaded.as_dict() if loaded else None,
            queryset._auto_dereference,
        )

    # -- lifecycle -------------------------------------------------------------------
    async def _stream(self) -> Any:
        if self._closing is not None:
            raise InvalidOperation("this change stream is closed: call watch() again")
        if self._driver is None:
            if self._opening is None:
                self._opening = asyncio.ensure_future(
                    _open_driver_stream(self._collection, self.pipeline, self._options)
                )
            # Shielded: a cancelled caller never interrupts the driver mid-command;
            # close() waits for the open to finish and closes what it opened.
            self._driver = await asyncio.shield(self._opening)
        return self._driver

    async def _opened(self) -> ChangeStream[D]:
        await self._stream()
        return self

    def __await__(self) -> Any:
        """``stream = await qs.watch()`` opens the stream (errors are raised here)."""
        return self._opened().__await__()

    async def __aenter__(self) -> ChangeStream[D]:
        self._entered = True
        return await self._opened()

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the server cursor (after the read in flight, if any, returns)."""
        if self._closing is None:
            self._closing = asyncio.ensure_future(self._shut())
            # A failed background close is not worth a warning.
            keep_alive(self._closing, quiet=True)
        await asyncio.shield(self._closing)

    async def _shut(self) -> None:
        driver = self._driver
        if driver is None and self._opening is not None:
            try:
                driver = await self._opening
            except BaseException:  # noqa: BLE001 - nothing was opened
                return
        if driver is None:
            return
        interrupt = getattr(driver, "interrupt", None)
        if interrupt is not None:
            interrupt()
        pending = self._pending
        if pending is not None:
            try:
                await pending
            except BaseException:  # noqa: BLE001 - the stream is being closed anyway
                pass
        await driver.close()

    @property
    def alive(self) -> bool:
        """False once closed, or when the server ended the stream (invalidate)."""
        if self._closing is not None:
            return False
        return True if self._driver is None else bool(self._driver.alive)

    @property
    def resume_token(self) -> Mapping[str, Any] | None:
        """Where to resume: ``watch(resume_after=stream.resume_token)``."""
        if self._driver is not None:
            return self._driver.resume_token
        return self._options.get("resume_after") or self._options.get("start_after")

    # -- reading ------------------------------------------------------------------------
    async def _read(self, driver: Any) -> Any:
        pending = self._pending
        if pending is None:
            pending = self._pending = asyncio.ensure_future(driver.try_next())
        try:
            raw = await asyncio.shield(pending)
        except asyncio.CancelledError:
            if pending.cancelled():
                self._pending = None
            # Otherwise the read goes on: the next call takes its result, so a
            # timeout around next() loses no event.
            raise
        except BaseException:
            self._pending = None
            raise
        self._pending = None
        return raw

    async def try_next(self) -> ChangeEvent[D] | None:
        """The next change, or None if none came within ``max_await_time_ms``."""
        driver = await self._stream()
        raw = await self._read(driver)
        return None if raw is None else self._event(raw)

    async def next(self) -> ChangeEvent[D]:
        """The next change, waiting for it; ``StopAsyncIteration`` once the stream ends."""
        driver = await self._stream()
        while True:
            raw = await self._read(driver)
            if raw is not None:
                return self._event(raw)
            if self._closing is not None or not driver.alive:
                raise StopAsyncIteration

    __anext__ = next  # ``await anext(stream)``

    def __aiter__(self) -> AsyncIterator[ChangeEvent[D]]:
        """``async for change in stream``; outside ``async with``, leaving the loop closes it."""
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[ChangeEvent[D]]:
        try:
            while True:
                try:
                    event = await self.next()
                except StopAsyncIteration:
                    return
                yield event
        finally:
            if not self._entered:
                # Break (the loop's generator is closed), error or cancellation:
                # the cursor is killed before the task goes on or ends.
                await self.close()

    # -- events -------------------------------------------------------------------------
    def _load(self, son: Any) -> D | None:
        if not isinstance(son, Mapping):
            return None
        if self._projection:
            son = _projected(son, self._projection)
        elif not isinstance(son, dict):
            son = dict(son)
        return self._document._from_son(son, _auto_dereference=self._auto_dereference)

    def _event(self, raw: Mapping[str, Any]) -> ChangeEvent[D]:
        document = self._load(raw.get("fullDocument"))
        before = self._load(raw.get("fullDocumentBeforeChange"))
        loaded = document if document is not None else before
        owner = self._document if loaded is None else type(loaded)
        key = raw.get("documentKey")
        pk = None
        if isinstance(key, Mapping) and "_id" in key:
            pk = _to_python(owner._fields.get(owner._meta.get("id_field")), key["_id"])
        updated: dict[str, Any] = {}
        removed: list[str] = []
        description = raw.get("updateDescription")
        if isinstance(description, Mapping):
            for db_path, value in (description.get("updatedFields") or {}).items():
                if _visible(db_path, self._projection):
                    path, field = attribute_path(owner, db_path)
                    updated[path] = _to_python(field, value)
            for db_path in description.get("removedFields") or ():
                if _visible(db_path, self._projection):
                    removed.append(attribute_path(owner, db_path)[0])
        return ChangeEvent(
            raw, raw.get("operationType"), document, before, key, pk, updated, removed
        )

    def __repr__(self) -> str:
        return f"<ChangeStream of {self._document.__name__}: {self.pipeline!r}>"


def watch_queryset(queryset: Any, pipeline: list | None = None, **options: Any) -> ChangeStream:
    """``QuerySet.watch``'s body: check the options, build the stream (no I/O)."""
    unknown = set(options) - set(WATCH_OPTIONS)
    if unknown:
        raise TypeError(
            f"watch() got unknown option(s) {', '.join(sorted(unknown))}; "
            f"it takes pipeline and {', '.join(WATCH_OPTIONS)}"
        )
    if pipeline is not None and not isinstance(pipeline, (list, tuple)):
        raise TypeError("watch(pipeline=...) takes a list of aggregation stages")
    return ChangeStream.for_queryset(queryset, list(pipeline or ()), options)

