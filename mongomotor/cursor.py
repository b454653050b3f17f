"""Async iteration over sync results, one server batch per bridge call.

``await qs.aggregate(...)`` returns an :class:`AsyncCursor`; ``async for`` and
``to_list`` on a QuerySet use one too.

    async for row in await Post.objects.aggregate(pipeline): ...
    rows = await (await Post.objects.aggregate(pipeline)).to_list(None)
"""

from __future__ import annotations

import collections
from collections.abc import Callable, Iterator
from typing import Any

from mongoengine.queryset.base import BaseQuerySet

from mongomotor import loading
from mongomotor.bridge import run_sync

# Sources with no ``buffered`` count (in-memory results) hand over this many
# items per bridge call.
IN_MEMORY_BATCH = 1000


def has_buffered(source: Any) -> bool:
    """True if ``source`` can give its next item without a round trip."""
    buffered = getattr(source, "buffered", None)
    return True if buffered is None else buffered > 0


def take_batch(source: Iterator[Any], limit: int | None = None) -> list[Any]:
    """Sync: the next item (one round trip at most) plus what is already buffered."""
    limit = limit or IN_MEMORY_BATCH
    batch: list[Any] = []
    try:
        while True:
            batch.append(next(source))
            if len(batch) >= limit or not has_buffered(source):
                break
    except StopIteration:
        pass
    return batch


def take_documents(queryset: Any, limit: int | None = None) -> list[Any]:
    """Sync: a QuerySet's next batch of results, converted in one go.

    What ``next(queryset)`` gives item by item (documents, raw dicts with
    ``as_pymongo``, values with ``scalar``/``values_list``), without its
    per-document checks: the stored documents of one batch are read, then built.
    """
    if queryset._none or queryset._empty:
        return []
    raw = take_batch(queryset._cursor, limit)
    if not raw or queryset._as_pymongo:
        return raw
    docs = loading.from_sons(queryset._document, raw, queryset._auto_dereference)
    if queryset._scalar:
        scalar = queryset._get_scalar
        return [scalar(doc) for doc in docs]
    return docs


class AsyncCursor:
    """An async cursor over a sync iterator that lives in the bridge.

        async for doc in cursor: ...
        while await cursor.fetch_next: doc = cursor.next_object()
    """

    def __init__(self, source: Iterator[Any], prepare: Callable[[], Any] | None = None):
        self._source = source
        self._prepare = prepare
        self._buffer: collections.deque = collections.deque()
        self._exhausted = False

    def _fetch(self, limit: int | None) -> list[Any]:
        if self._prepare is not None:
            prepare, self._prepare = self._prepare, None
            prepare()
        if type(self._source).__next__ is BaseQuerySet.__next__:
            # A QuerySet whose own __next__ is MongoEngine's: whole batches at once.
            return take_documents(self._source, limit)
        return take_batch(self._source, limit)

    async def _fill(self, limit: int | None = None) -> bool:
        if not self._buffer and not self._exhausted:
            batch = await run_sync(self._fetch, limit)
            if batch:
                self._buffer.extend(batch)
            else:
                self._exhausted = True
        return bool(self._buffer)

    def __aiter__(self) -> AsyncCursor:
        return self

    async def __anext__(self) -> Any:
        if self._buffer or await self._fill():
            return self._buffer.popleft()
        raise StopAsyncIteration

    next = __anext__

    async def to_list(self, length: int | None = None) -> list[Any]:
        """Up to ``length`` items (all of them when ``length`` is None)."""
        result: list[Any] = []
        while length is None or len(result) < length:
            wanted = None if length is None else length - len(result)
            if not self._buffer and not await self._fill(wanted):
                break
            while self._buffer and (length is None or len(result) < length):
                result.append(self._buffer.popleft())
        return result

    @property
    def fetch_next(self) -> Any:
        """Awaitable: True when :meth:`next_object` has an item to give."""
        return self._fill()

    def next_object(self) -> Any:
        """The next item made available by ``await cursor.fetch_next`` (or None)."""
        return self._buffer.popleft() if self._buffer else None

    @property
    def alive(self) -> bool:
        return bool(self._buffer) or not self._exhausted

    async def close(self) -> None:
        """Release the server cursor."""
        self._buffer.clear()
        self._exhausted = True
        close = getattr(self._source, "close", None)
        if close is not None:
            await run_sync(close)

    async def __aenter__(self) -> AsyncCursor:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()
