"""File metadata of many documents in one query per GridFS bucket.

    posts = await Post.objects.to_list(None)
    await load_file_metadata(posts)        # one query for every post's files
    sizes = [post.photo.length for post in posts]

    photo = FileField(load_metadata=True)  # or: QuerySets load it with the documents

Reading ``doc.photo.content_type`` needs the file's metadata: ``await
doc.photo.get()`` loads one file's; :func:`load_file_metadata` those of every
file field of many documents (top level, and in lists) with one ``$in`` query
per bucket. For a field declared ``load_metadata=True``, QuerySets do it as
they build documents (``async for``, ``to_list``, ``first``, ``get``): one
query per server batch, since the batch's documents not yet built are
looked ahead at.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from mongoengine.fields import ListField

from mongomotor.odm.files.fields import FileField, GridFSProxy
from mongomotor.odm.files.gridfs import GridFS, GridOut
from mongomotor.runtime.bridge import coroutine_function, in_bridge, named, require_loop, run_sync

__all__ = ["load_file_metadata", "FilesAhead", "loads_with_documents", "load_with_documents"]

Bucket = tuple[str, str]  # (alias, collection name)
#: Per class: (attribute name, stored name, bucket, a list of files?) of each
#: field declared ``load_metadata=True``.
Plan = tuple[tuple[str, str, Bucket, bool], ...]
_plans: dict[type, Plan] = {}


def _plan(cls: type) -> Plan:
    plan = _plans.get(cls)
    if plan is None:
        entries = []
        for name, field in getattr(cls, "_fields", {}).items():
            listed = isinstance(field, ListField) and isinstance(field.field, FileField)
            file_field = field.field if listed else field
            if isinstance(file_field, FileField) and file_field.load_metadata:
                bucket = (file_field.db_alias, file_field.collection_name)
                entries.append((name, field.db_field, bucket, listed))
        plan = _plans[cls] = tuple(entries)
    return plan


def loads_with_documents(cls: type) -> bool:
    """True if QuerySets of ``cls`` load file metadata with its documents."""
    return bool(_plan(cls))


def _proxies(value: Any) -> Iterator[GridFSProxy]:
    if isinstance(value, GridFSProxy):
        yield value
    elif isinstance(value, (list, tuple)):
        for item in value:
            if isinstance(item, GridFSProxy):
                yield item


def _unloaded(
    documents: Iterable[Any], names: Iterable[str] | None = None
) -> dict[Bucket, list[GridFSProxy]]:
    buckets: dict[Bucket, list[GridFSProxy]] = {}
    for document in documents:
        data = document._data
        for name in document._fields if names is None else names:
            for proxy in _proxies(data.get(name)):
                if proxy.grid_id is not None and proxy.__dict__.get("gridout") is None:
                    key = (proxy.db_alias, proxy.collection_name)
                    buckets.setdefault(key, []).append(proxy)
    return buckets


class FilesAhead:
    """The files documents one read fetched, kept for the documents of the batch still to build.

        ahead = FilesAhead(); load_with_documents(docs, ahead, raw_still_buffered)
    """

    def __init__(self) -> None:
        self.stored: dict[Bucket, dict[Any, dict]] = {}


def _attach(buckets: dict[Bucket, list[GridFSProxy]], ahead: FilesAhead,
            lookahead: dict[Bucket, set]) -> int:
    loaded = 0
    for bucket, proxies in buckets.items():
        known = ahead.stored.get(bucket, {})
        missing = {proxy.grid_id for proxy in proxies if proxy.grid_id not in known}
        fs = GridFS(*bucket)
        if missing:
            ids = list(missing | lookahead.get(bucket, set()))
            files = fs._facade_collection("files").find({"_id": {"$in": ids}})
            known = ahead.stored[bucket] = {file["_id"]: file for file in files}
            missing -= known.keys()
        chunks = fs._facade_collection("chunks")
        for proxy in proxies:
            file_document = known.get(proxy.grid_id)
            if file_document is not None:
                proxy.gridout = GridOut(chunks, file_document)
                loaded += 1
            elif proxy.grid_id in missing:
                proxy._mm_no_file = True  # as MongoEngine's get(): no such file is stored
    return loaded


def load_with_documents(cls: type, documents: list[Any], ahead: FilesAhead | None = None,
                        raw_ahead: Iterable[dict] = ()) -> None:
    """Sync: load the files of the ``load_metadata`` fields of ``cls`` in ``documents``.

    ``raw_ahead`` are stored documents of the same read received but not built
    yet: their file ids join the query, so their files need none later.
    """
    plan = _plan(cls)
    if not plan or not documents:
        return
    buckets = _unloaded(documents, [name for name, _, _, _ in plan])
    if not buckets:
        return
    lookahead: dict[Bucket, set] = {}
    for son in raw_ahead:
        for _, db_field, bucket, listed in plan:
            value = son.get(db_field) if isinstance(son, dict) else None
            if value is None:
                continue
            ids = lookahead.setdefault(bucket, set())
            if listed and isinstance(value, list):
                ids.update(v for v in value if v is not None)
            elif not listed:
                ids.add(value)
    _attach(buckets, ahead or FilesAhead(), lookahead)


def _load(documents: Iterable[Any]) -> int:
    return _attach(_unloaded(documents), FilesAhead(), {})


@coroutine_function
def load_file_metadata(documents: Iterable[Any]) -> Any:
    """Load the metadata of every stored file of ``documents``; awaitable, gives how many.

        await load_file_metadata(posts)   # then posts[0].photo.length, no await
    """
    if in_bridge():
        return _load(documents)
    require_loop("load_file_metadata()")
    return named(run_sync(_load, list(documents)), "load_file_metadata")
