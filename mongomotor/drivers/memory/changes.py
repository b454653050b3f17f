"""Change streams on the in-memory driver: writes through the facade feed them.

A collection becomes *watched* when its first in-memory stream opens. From then
on, each write the facade sends to it (inserts, updates, replaces, deletes,
``find_one_and_*``, bulk writes, drops, renames) is recorded as change events
in a bounded history, which open streams read and ``resume_after`` resumes
from. Nothing is recorded, and a write pays one falsy check, while no
collection is watched (:data:`WATCHING`). The history of a client is forgotten
when the client is closed (``disconnect``).
"""

from __future__ import annotations

import asyncio
import collections
import copy
import datetime
import itertools
import time
from collections.abc import Callable, Mapping
from typing import Any

from bson.timestamp import Timestamp
from pymongo.errors import OperationFailure

from mongomotor.runtime.aio import wake

# True while any in-memory collection is watched: the facade's one check per write.
WATCHING = False
HISTORY = 1000  # events kept per watched collection for resume_after
DEFAULT_AWAIT_MS = 1000  # as a server's getMore on a change stream

_COLLECTION_WRITES = frozenset(
    {
        "insert_one", "insert_many", "update_one", "update_many", "replace_one",
        "delete_one", "delete_many", "find_one_and_delete", "find_one_and_replace",
        "find_one_and_update", "bulk_write",
    }
)
_feeds: dict[tuple[int, str], _Feed] = {}
_sequence = itertools.count(1)
_TOKEN_PREFIX = "mongomotor-memory:"


def _set_watching() -> None:
    global WATCHING
    WATCHING = bool(_feeds)


def _feed_key(database: Any, name: str) -> tuple[int, str]:
    return (id(database._store), name)


class _Feed:
    """The recorded changes of one watched collection, and the streams reading them."""

    def __init__(self, database: Any, name: str) -> None:
        self.db_store = database._store  # keeps the id in the key from being reused
        self.db_name = database.name
        self.name = name
        self.history: collections.deque[dict[str, Any]] = collections.deque(maxlen=HISTORY)
        self.streams: set[MemoryChangeStream] = set()

    def record(self, operation: str, key: Any = None, *, before: Any = None,
               after: Any = None, **extra: Any) -> None:
        seq = next(_sequence)
        now = time.time()
        wall = datetime.datetime.fromtimestamp(now, datetime.timezone.utc).replace(tzinfo=None)
        entry: dict[str, Any] = {
            "seq": seq,
            "operationType": operation,
            "clusterTime": Timestamp(int(now), seq % (1 << 31)),
            "wallTime": wall.replace(microsecond=wall.microsecond // 1000 * 1000),
            "ns": {"db": self.db_name, "coll": self.name},
            "before": before,
            "after": after,
            **extra,
        }
        if key is not None:
            entry["documentKey"] = {"_id": key}
        if operation == "update":
            entry["updateDescription"] = describe_update(before or {}, after or {})
        self.history.append(entry)
        for stream in list(self.streams):
            stream._arrived(entry)

    def index_of(self, token: Any) -> int | None:
        seq = seq_of(token)
        for index, entry in enumerate(self.history):
            if entry["seq"] == seq:
                return index
        return None


def seq_of(token: Any) -> int | None:
    data = token.get("_data") if isinstance(token, Mapping) else None
    if isinstance(data, str) and data.startswith(_TOKEN_PREFIX):
        try:
            return int(data[len(_TOKEN_PREFIX):], 16)
        except ValueError:
            return None
    return None


def token_of(seq: int) -> dict[str, str]:
    return {"_data": f"{_TOKEN_PREFIX}{seq:016x}"}


def describe_update(before: Mapping, after: Mapping) -> dict[str, Any]:
    """``updateDescription`` of a change from ``before`` to ``after``, as a server gives it."""
    updated: dict[str, Any] = {}
    removed: list[str] = []
    _diff(before, after, "", updated, removed)
    return {"updatedFields": updated, "removedFields": removed, "truncatedArrays": []}


def _diff(before: Mapping, after: Mapping, prefix: str, updated: dict, removed: list) -> None:
    for name, value in after.items():
        path = prefix + name
        if name not in before:
            updated[path] = copy.deepcopy(value)
        elif before[name] != value or type(before[name]) is not type(value):
            old = before[name]
            if isinstance(old, Mapping) and isinstance(value, Mapping) and value:
                _diff(old, value, path + ".", updated, removed)
            else:
                updated[path] = copy.deepcopy(value)
    removed.extend(prefix + name for name in before if name not in after)


# -- the facade's hook -------------------------------------------------------------


def observe(target: Any, name: str, method: Callable[..., Any], args: tuple, kwargs: dict) -> Any:
    """Run ``target.name(*args, **kwargs)``, recording its changes to watched collections."""
    import mongomock  # optional package: imported once the in-memory driver is in use

    if isinstance(target, mongomock.collection.Collection):
        feed = _feeds.get(_feed_key(target.database, target.name))
        if feed is not None:
            if name in _COLLECTION_WRITES:
                return _observed_write(feed, target, method, args, kwargs)
            if name == "drop":
                return _observed_drop(target.database, [target.name], method, args, kwargs)
            if name == "rename":
                return _observed_rename(feed, target.database, args, kwargs, method)
    elif isinstance(target, mongomock.database.Database):
        if name == "drop_collection" and args:
            dropped = args[0] if isinstance(args[0], str) else getattr(args[0], "name", None)
            return _observed_drop(target, [dropped], method, args, kwargs)
    elif isinstance(target, mongomock.MongoClient) and name == "drop_database" and args:
        db = target[args[0] if isinstance(args[0], str) else args[0].name]
        return _observed_drop(db, db.list_collection_names(), method, args, kwargs)
    return method(*args, **kwargs)


def _observed_write(feed: _Feed, collection: Any, method: Callable, args: tuple,
                    kwargs: dict) -> Any:
    # Every mongomock write, bulk ones included, ends in these three methods of
    # the collection object: shadowing them on this one object, for this one
    # call, gives one event per document change, in order.
    original_insert, original_update, original_delete = (
        collection._insert, collection._update, collection._delete
    )

    def insert(data: Any, *a: Any, **kw: Any) -> Any:
        result = original_insert(data, *a, **kw)
        if isinstance(data, Mapping):
            key = data["_id"]
            feed.record("insert", key, after=_stored(collection, key))
        return result

    def update(*args: Any, **kw: Any) -> Any:
        # mongomock's signature: _update(spec, document, upsert, manipulate, multi, ...)
        spec = args[0] if args else kw["spec"]
        document = args[1] if len(args) > 1 else kw["document"]
        multi = kw.get("multi", args[4] if len(args) > 4 else False)
        before = _matching(collection, spec, multi)
        replacing = isinstance(document, Mapping) and not any(
            str(k).startswith("$") for k in document
        )
        try:
            return original_update(*args, **kw)
        finally:
            for old in before:
                key = old["_id"]
                new = _stored(collection, key)
                if new is not None and new != old:
                    operation = "replace" if replacing else "update"
                    feed.record(operation, key, before=old, after=new)

    def delete(*args: Any, **kw: Any) -> Any:
        # mongomock's signature: _delete(filter, collation, hint, multi, session)
        spec = args[0] if args else kw.get("filter")
        multi = kw.get("multi", args[3] if len(args) > 3 else False)
        query = spec if isinstance(spec, Mapping) or spec is None else {"_id": spec}
        before = _matching(collection, query, multi)
        try:
            return original_delete(*args, **kw)
        finally:
            for old in before:
                if _stored(collection, old["_id"]) is None:
                    feed.record("delete", old["_id"], before=old)

    collection._insert, collection._update, collection._delete = insert, update, delete
    try:
        return method(*args, **kwargs)
    finally:
        for attribute in ("_insert", "_update", "_delete"):
            collection.__dict__.pop(attribute, None)


def _stored(collection: Any, key: Any) -> Any:
    """A copy of the stored document with ``_id`` ``key``, or None."""
    if isinstance(key, Mapping):  # mongomock keys these by a hashable copy
        return collection.find_one({"_id": key})
    store = collection._store  # a dict lookup, where find_one scans the collection
    return copy.deepcopy(store[key]) if key in store else None


def _matching(collection: Any, spec: Any, multi: bool) -> list[dict]:
    """Copies of the documents a write with filter ``spec`` changes (first only unless multi)."""
    if isinstance(spec, Mapping) and len(spec) == 1 and "_id" in spec:
        key = spec["_id"]
        if not isinstance(key, Mapping):  # an _id equality, as MongoEngine's saves send
            found = _stored(collection, key)
            return [] if found is None else [found]
    cursor = collection.find(spec or {})
    return list(cursor if multi else cursor.limit(1))


def _observed_drop(database: Any, names: list, method: Callable, args: tuple,
                   kwargs: dict) -> Any:
    existing = set(database.list_collection_names())
    result = method(*args, **kwargs)
    for name in names:
        feed = _feeds.get(_feed_key(database, name)) if name else None
        if feed is not None and name in existing:
            feed.record("drop")
            feed.record("invalidate")
    return result


def _observed_rename(feed: _Feed, database: Any, args: tuple, kwargs: dict,
                     method: Callable) -> Any:
    result = method(*args, **kwargs)
    new_name = args[0] if args else kwargs.get("new_name")
    feed.record("rename", to={"db": database.name, "coll": new_name})
    feed.record("invalidate")
    return result


def forget(client: Any) -> None:
    """Drop the histories of ``client``'s collections (the client is being closed)."""
    stores = {id(db) for db in getattr(client._store, "_databases", {}).values()}
    for key in [k for k in _feeds if k[0] in stores]:
        for stream in list(_feeds[key].streams):
            stream.interrupt()
        del _feeds[key]
    _set_watching()


# -- streams -------------------------------------------------------------------------


def open_stream(collection: Any, pipeline: list, options: dict[str, Any]) -> MemoryChangeStream:
    """A change stream on a mongomock collection (the in-memory ``collection.watch``)."""
    key = _feed_key(collection.database, collection.name)
    feed = _feeds.get(key)
    if feed is None:
        feed = _feeds[key] = _Feed(collection.database, collection.name)
        _set_watching()
    return MemoryChangeStream(feed, collection.database, pipeline, options)


class MemoryChangeStream:
    """Reads a watched collection's events: ``try_next``, ``alive``, ``resume_token``, ``close``."""

    def __init__(self, feed: _Feed, database: Any, pipeline: list, options: dict) -> None:
        self._feed = feed
        self._database = database
        self._pipeline = list(pipeline)
        self._full_document = options.get("full_document") or "default"
        self._before_change = options.get("full_document_before_change") or "off"
        wait = options.get("max_await_time_ms")
        self._await_s = (DEFAULT_AWAIT_MS if wait is None else wait) / 1000
        self._waiter: asyncio.Future | None = None
        self._closed = False
        self._invalidated = False
        self._queue: collections.deque[dict] = collections.deque()
        self._resume_token = self._start(options)
        feed.streams.add(self)

    def _start(self, options: dict) -> dict:
        """Queue the recorded events the stream starts with; the initial resume token."""
        history = self._feed.history
        token = options.get("resume_after") or options.get("start_after")
        if token is not None:
            index = self._feed.index_of(token)
            if index is None:
                raise OperationFailure(
                    f"cannot resume the in-memory change stream after {token!r}: that event "
                    f"is not among the last {HISTORY} of {self._feed.db_name}.{self._feed.name}",
                    code=286,
                )
            if history[index]["operationType"] == "invalidate" and options.get("resume_after"):
                raise OperationFailure(
                    "cannot resume a change stream after its invalidate event: "
                    "use start_after to open a new one", code=260,
                )
            self._queue.extend(itertools.islice(history, index + 1, None))
            return token
        at = options.get("start_at_operation_time")
        if at is not None:
            self._queue.extend(entry for entry in history if entry["clusterTime"] >= at)
        return token_of(history[-1]["seq"] if history else 0)

    @property
    def alive(self) -> bool:
        return not self._closed and not (self._invalidated and not self._queue)

    @property
    def resume_token(self) -> dict:
        return self._resume_token

    def _arrived(self, entry: dict) -> None:
        self._queue.append(entry)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            try:
                waiter.get_loop().call_soon_threadsafe(wake, waiter)
            except RuntimeError:  # that loop is closed
                pass

    async def try_next(self) -> dict | None:
        """The next event, waiting up to ``max_await_time_ms`` for one; None if none came."""
        event = self._take()
        if event is not None or not self.alive:
            return event
        loop = asyncio.get_running_loop()
        self._waiter = loop.create_future()
        try:
            await asyncio.wait_for(asyncio.shield(self._waiter), self._await_s)
        except asyncio.TimeoutError:
            pass
        finally:
            self._waiter = None
        return self._take()

    def _take(self) -> dict | None:
        while self._queue and not self._closed and not self._invalidated:
            entry = self._queue.popleft()
            event = self._render(entry)
            self._resume_token = event["_id"]
            if entry["operationType"] == "invalidate":
                self._invalidated = True
                self._queue.clear()
            shaped = self._shape(event)
            if shaped is not None:
                return shaped
        return None

    def _render(self, entry: dict) -> dict:
        event: dict[str, Any] = {"_id": token_of(entry["seq"])}
        for name in ("operationType", "clusterTime", "wallTime", "ns", "to", "documentKey",
                     "updateDescription"):
            if name in entry:
                event[name] = copy.deepcopy(entry[name])
        operation = entry["operationType"]
        if operation in ("insert", "replace") or (
            operation == "update" and self._full_document != "default"
        ):
            event["fullDocument"] = copy.deepcopy(entry["after"])
        if self._before_change != "off" and operation in ("update", "replace", "delete"):
            event["fullDocumentBeforeChange"] = copy.deepcopy(entry["before"])
        return event

    def _shape(self, event: dict) -> dict | None:
        if not self._pipeline or event["operationType"] == "invalidate":
            return event
        from mongomock.aggregate import process_pipeline  # optional, as mongomock above

        shaped = list(process_pipeline([event], self._database, self._pipeline, None))
        return shaped[0] if shaped else None

    def interrupt(self) -> None:
        """Stop reading: a waiting ``try_next`` returns None, ``alive`` becomes False."""
        self._closed = True
        self._feed.streams.discard(self)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.get_loop().call_soon_threadsafe(wake, waiter)

    async def close(self) -> None:
        self.interrupt()
