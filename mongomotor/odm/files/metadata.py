"""File metadata of many documents in one query per GridFS bucket.

    posts = await Post.objects.to_list(None)
    await load_file_metadata(posts)        # one query for every post's files
    sizes = [post.photo.length for post in posts]

Reading ``doc.photo.content_type`` needs the file's metadata: ``await
doc.photo.get()`` loads one file's; this loads those of every file field of
many documents (top level, and in lists) with one ``$in`` query per bucket.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from mongomotor.odm.files.fields import GridFSProxy
from mongomotor.odm.files.gridfs import GridFS, GridOut
from mongomotor.runtime.bridge import coroutine_function, in_bridge, named, require_loop, run_sync

__all__ = ["load_file_metadata"]


def _proxies(value: Any) -> Iterator[GridFSProxy]:
    if isinstance(value, GridFSProxy):
        yield value
    elif isinstance(value, (list, tuple)):
        for item in value:
            if isinstance(item, GridFSProxy):
                yield item


def _unloaded(documents: Iterable[Any]) -> dict[tuple[str, str], list[GridFSProxy]]:
    buckets: dict[tuple[str, str], list[GridFSProxy]] = {}
    for document in documents:
        data = document._data
        for name in document._fields:
            for proxy in _proxies(data.get(name)):
                if proxy.grid_id is not None and proxy.__dict__.get("gridout") is None:
                    key = (proxy.db_alias, proxy.collection_name)
                    buckets.setdefault(key, []).append(proxy)
    return buckets


def _load(documents: Iterable[Any]) -> int:
    loaded = 0
    for (alias, collection), proxies in _unloaded(documents).items():
        fs = GridFS(alias, collection)
        ids = list({proxy.grid_id for proxy in proxies})
        files = fs._facade_collection("files").find({"_id": {"$in": ids}})
        stored = {file_document["_id"]: file_document for file_document in files}
        chunks = fs._facade_collection("chunks")
        for proxy in proxies:
            file_document = stored.get(proxy.grid_id)
            if file_document is not None:  # a missing file stays unloaded, as get() gives None
                proxy.gridout = GridOut(chunks, file_document)
                loaded += 1
    return loaded


@coroutine_function
def load_file_metadata(documents: Iterable[Any]) -> Any:
    """Load the metadata of every stored file of ``documents``; awaitable, gives how many.

        await load_file_metadata(posts)   # then posts[0].photo.length, no await
    """
    if in_bridge():
        return _load(documents)
    require_loop("load_file_metadata()")
    return named(run_sync(_load, list(documents)), "load_file_metadata")
