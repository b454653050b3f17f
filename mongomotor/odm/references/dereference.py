"""Loading references: batched, one ``$in`` query per collection.

Every reference read that needs the database goes through the
:class:`ReferenceLoader` of the running event loop. Requests made during one
loop iteration are grouped by database, collection and session and sent as a
single ``find({"_id": {"$in": [...]}})``, so

    authors = await asyncio.gather(*(book.author for book in books))

costs one query, not one per book (the DataLoader pattern). Requests of tasks
in different sessions (or one in a session, one in none) are never merged:
each query runs in its own session, and every ``query_counter`` of the tasks
it serves counts it.
:class:`MongoMotorDeReference` is MongoEngine's ``DeReference`` (lists, dicts,
``select_related``) with its fetching step routed through the same loader.
"""

from __future__ import annotations

import asyncio
import contextvars
import weakref
from collections.abc import Callable, Iterable
from typing import Any

from mongoengine.base import get_document
from mongoengine.connection import get_db
from mongoengine.dereference import DeReference
from mongoengine.fields import DictField, ListField, MapField

from mongomotor.drivers.facade.sessions import session_for
from mongomotor.odm.no_dereference import no_dereferencing_active_for_class
from mongomotor.runtime import observers as monitoring
from mongomotor.runtime.aio import keep_alive
from mongomotor.runtime.bridge import await_, in_bridge, run_sync
from mongomotor.runtime.task_state import sessions

__all__ = [
    "MongoMotorDeReference",
    "ReferenceLoader",
    "get_loader",
    "select_related",
    "no_dereferencing_active_for_class",
]

Build = Callable[[dict], Any]


def id_key(value: Any) -> Any:
    """A hashable stand-in for an ``_id`` (compound ids are dicts)."""
    try:
        hash(value)
    except TypeError:
        return repr(value)
    return value


class _Request:
    """One asker's ids, with the context it asked in (its documents are built there)."""

    __slots__ = ("ids", "build", "future", "context", "observers")

    def __init__(self, ids: list, build: Build, future: asyncio.Future) -> None:
        self.ids = ids
        self.build = build
        self.future = future
        self.context = contextvars.copy_context()
        self.observers = monitoring.current_observers()


class _Batch:
    """The requests for one collection, in one session, collected during one loop iteration."""

    def __init__(self, db: Any, collection: str, context: contextvars.Context) -> None:
        self.db = db
        self.collection = collection
        # A copy of the first asker's context, which the query runs in: its
        # session is the one every request of the batch would join (the
        # session is part of the batch key).
        self.context = context
        self.requests: list[_Request] = []

    def run(self) -> list[tuple[_Request, Any, BaseException | None]]:
        """Sync (in the bridge): one query, then each requester's documents built."""
        wanted: dict[Any, Any] = {}
        for request in self.requests:
            if not request.future.done():
                for ident in request.ids:
                    wanted.setdefault(id_key(ident), ident)
        sons: dict[Any, dict] = {}
        if wanted:
            cursor = self.db[self.collection].find({"_id": {"$in": list(wanted.values())}})
            sons = {id_key(son["_id"]): son for son in cursor}
        outcome: list[tuple[_Request, Any, BaseException | None]] = []
        for request in self.requests:
            if request.future.done():
                continue
            try:
                found = request.context.run(_build_found, request, sons)
            except Exception as exc:  # a bad document fails its requester only
                outcome.append((request, None, exc))
            else:
                outcome.append((request, found, None))
        return outcome


def _build_found(request: _Request, sons: dict[Any, dict]) -> dict[Any, Any]:
    # In the asker's context: what building runs (signal receivers of
    # post_init, say) sees that task's context, not the first asker's.
    found = {}
    for ident in request.ids:
        son = sons.get(id_key(ident))
        if son is not None:
            found[id_key(ident)] = request.build(son)
    return found


def _session_key(db: Any) -> int | None:
    """Identity of the session a query on ``db`` would join in this context, or None."""
    if not sessions.get():
        return None
    client = getattr(db, "client", None)
    session = session_for(client) if client is not None else None
    # The session stays alive while pending: the requests' contexts hold it.
    return None if session is None else id(session)


class ReferenceLoader:
    """Collects reference loads of one event loop and sends them in batches.

        found = await get_loader().load(db, "author", [oid], Author._from_son)

    Loads asked for in one loop iteration share a query when they are for the
    same database (alias, ``switch_db``) and collection (``switch_collection``)
    and would run in the same session (or in none). Each query runs in the
    context of its first asker, in that session, and is counted by the
    ``query_counter`` of every task it serves.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._pending: dict[tuple[Any, str, int | None], _Batch] = {}

    def load(self, db: Any, collection: str, ids: Iterable[Any], build: Build) -> asyncio.Future:
        """A future of ``{id_key(id): build(son)}`` for the ``ids`` that exist."""
        future = self._loop.create_future()
        key = (db, collection, _session_key(db))
        batch = self._pending.get(key)
        if batch is None:
            if not self._pending:
                # Flush after every task ready in this iteration has asked.
                self._loop.call_soon(self._flush, context=contextvars.Context())
            batch = self._pending[key] = _Batch(db, collection, contextvars.copy_context())
        batch.requests.append(_Request(list(ids), build, future))
        return future

    def _flush(self) -> None:
        batches, self._pending = self._pending, {}
        for batch in batches.values():
            keep_alive(self._loop.create_task(self._run(batch), context=batch.context))

    async def _run(self, batch: _Batch) -> None:
        # Runs in the batch's own context (a copy of its first asker's): the
        # other askers' query counters join it, so each counts the query it
        # waited for.
        first = monitoring.current_observers()
        counting = {id(observer) for observer in first}
        for request in batch.requests:
            if request.observers is first:
                continue
            for observer in request.observers:
                # By identity: query_counter compares equal to ints (and so to
                # another counter with the same count).
                if id(observer) not in counting:
                    counting.add(id(observer))
                    monitoring.add_observer(observer)
        try:
            outcome = await run_sync(batch.run)
        except asyncio.CancelledError:
            for request in batch.requests:
                request.future.cancel()
            raise
        except Exception as exc:
            for request in batch.requests:
                if not request.future.done():
                    request.future.set_exception(exc)
            return
        for request, found, error in outcome:
            if request.future.done():
                continue
            if error is not None:
                request.future.set_exception(error)
            else:
                request.future.set_result(found)


_loaders: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, ReferenceLoader] = (
    weakref.WeakKeyDictionary()
)
def get_loader() -> ReferenceLoader:
    """The reference loader of the running event loop."""
    loop = asyncio.get_running_loop()
    loader = _loaders.get(loop)
    if loader is None:
        loader = _loaders[loop] = ReferenceLoader(loop)
    return loader


def _loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _class_from_son(collection: str, son: dict) -> Any:
    # MongoEngine's rule for references that name only a collection.
    if "_cls" in son:
        return get_document(son["_cls"])._from_son(son)
    name = "".join(part.capitalize() for part in collection.split("_"))
    return get_document(name)._from_son(son)


class MongoMotorDeReference(DeReference):
    """MongoEngine's ``DeReference`` whose queries go through the batching loader.

    Inside the bridge the referenced documents of all collections are asked
    for at once (one query per collection, sent concurrently and shared with
    other tasks' loads). In user code nothing is fetched: the references stay
    as they are and load when awaited. With no event loop at all (plain sync
    MongoEngine) it is MongoEngine's own.
    """

    def _fetch_objects(self, doc_type: Any = None) -> dict:
        if not in_bridge():
            return {} if _loop_running() else super()._fetch_objects(doc_type)
        requests = []
        for key, ids in self.reference_map.items():
            if getattr(key, "objects", None) is not None:  # a Document class
                requests.append((key._get_collection_name(), ids, key._get_db(), key._from_son))
            elif isinstance(doc_type, (ListField, DictField, MapField)):
                continue
            elif doc_type is not None:
                requests.append((key, ids, doc_type._get_db(), doc_type._from_son))
            else:
                build = _bind_collection(key)
                requests.append((key, ids, get_db(), build))
        if not requests:
            return {}
        loader = get_loader()
        futures = [loader.load(db, name, ids, build) for name, ids, db, build in requests]
        results = await_(asyncio.gather(*futures))
        object_map: dict = {}
        for (name, ids, _db, _build), found in zip(requests, results):
            for ident in ids:
                doc = found.get(id_key(ident))
                if doc is not None:
                    object_map[(name, ident)] = doc
        return object_map


def _bind_collection(collection: str) -> Build:
    return lambda son: _class_from_son(collection, son)


def select_related(documents: Iterable[Any], max_depth: int = 1) -> list:
    """Sync (in the bridge): load the references of ``documents``, ``max_depth`` hops deep.

    Each hop costs one query per referenced collection, whatever the number
    of documents. Returns the documents, references attached in place.
    """
    documents = list(documents)
    deref = MongoMotorDeReference()
    # MongoEngine's depth counts containers (a list of references is one level
    # deeper than a reference), hence the +1, as in its own select_related.
    docs = deref(documents, max_depth=max_depth + 1)
    for _ in range(max_depth - 1):
        seen: dict[int, Any] = {}
        for doc in deref.object_map.values():
            seen.setdefault(id(doc), doc)
        if not seen:
            break
        deref = MongoMotorDeReference()
        deref(list(seen.values()), max_depth=2)
    return docs

