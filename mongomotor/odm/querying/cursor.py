"""Async iteration over sync results, one server batch per bridge call.

``await qs.aggregate(...)`` returns an :class:`AsyncCursor`; ``async for`` and
``to_list`` on a QuerySet use one too.

    async for row in await Post.objects.aggregate(pipeline): ...
    rows = await (await Post.objects.aggregate(pipeline)).to_list(None)
"""

from __future__ import annotations

import asyncio
import collections
import time
from collections.abc import Callable, Iterator
from typing import Any

from mongoengine.queryset.base import BaseQuerySet

from mongomotor.odm.files import metadata as files
from mongomotor.odm.plans import loader as loading
from mongomotor.runtime.bridge import run_sync

# Sources with no ``buffered`` count (in-memory results) hand over this many
# items per bridge call.
IN_MEMORY_BATCH = 1000
# The loop is handed back after about this much work of one bridge call, so a
# task reading a large result never stalls the others for long.
SLICE_SECONDS = 0.002
# How many stored documents one bridge call builds: as many as fit in
# SLICE_SECONDS at the rate measured, within these bounds. Small chunks also
# keep few documents alive at a time, so fewer survive into the garbage
# collector's older generations, whose full collections stall the loop
# (measured: 32 documents a call gave a p99 loop gap of 2.7 ms, 500 gave 13 ms).
FIRST_CHUNK, MIN_CHUNK, MAX_CHUNK = 32, 16, 32


def has_buffered(source: Any) -> bool:
    """True if ``source`` can give its next item without a round trip."""
    buffered = getattr(source, "buffered", None)
    return True if buffered is None else buffered > 0


def take_batch(source: Iterator[Any], limit: int | None = None) -> list[Any]:
    """Sync: the next item (one round trip at most) plus what is already buffered.

    Stops after ``limit`` items, or when about :data:`SLICE_SECONDS` have gone.
    """
    limit = limit or IN_MEMORY_BATCH
    batch: list[Any] = []
    deadline = 0.0
    take = getattr(source, "take_buffered", None)
    try:
        while True:
            batch.append(next(source))
            if not deadline:  # counted from the first item: a round trip is not work
                deadline = time.perf_counter() + SLICE_SECONDS
            if take is not None:
                # What is already received, up to 64 items between two looks at the clock.
                batch += take(min(limit - len(batch), 64))
            if len(batch) >= limit or not has_buffered(source):
                break
            if (take is not None or not len(batch) & 63) and time.perf_counter() > deadline:
                break
    except StopIteration:
        pass
    return batch


def build_documents(queryset: Any, raw: list[Any]) -> list[Any]:
    """Sync: what ``next(queryset)`` gives for each stored document of ``raw``, in one go.

    Documents, raw dicts with ``as_pymongo``, values with ``scalar``/``values_list``,
    without MongoEngine's per-document checks.
    """
    if not raw or queryset._as_pymongo:
        return raw
    docs = loading.from_sons(queryset._document, raw, queryset._auto_dereference)
    if queryset._scalar:
        scalar = queryset._get_scalar
        return [scalar(doc) for doc in docs]
    return docs


def take_documents(queryset: Any, limit: int | None = None) -> list[Any]:
    """Sync: a QuerySet's next batch of results (one round trip at most), built in one go."""
    if queryset._none or queryset._empty:
        return []
    return build_documents(queryset, take_batch(queryset._cursor, limit))


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
        self._chunk = FIRST_CHUNK
        self._rate: float | None = None
        self._fetched = False
        self._files: files.FilesAhead | None = None

    def _fetch(self, limit: int | None) -> list[Any]:
        if self._prepare is not None:
            prepare, self._prepare = self._prepare, None
            prepare()
        if type(self._source).__next__ is BaseQuerySet.__next__:
            # A QuerySet whose own __next__ is MongoEngine's: whole batches at once,
            # in chunks sized to take about SLICE_SECONDS to build.
            queryset = self._source
            if queryset._none or queryset._empty:
                return []
            wanted = self._chunk if limit is None else min(limit, self._chunk)
            raw = take_batch(queryset._cursor, wanted)  # may wait for a round trip
            started = time.perf_counter()
            docs = build_documents(queryset, raw)
            if raw is not docs and not queryset._scalar and files.loads_with_documents(
                queryset._document
            ):
                self._load_files(queryset, docs)
            if len(raw) >= MIN_CHUNK:
                self._learn_rate((time.perf_counter() - started) / len(raw))
            return docs
        return take_batch(self._source, limit)

    def _load_files(self, queryset: Any, docs: list[Any]) -> None:
        # One files query per server batch: the batch's documents not built yet
        # are looked ahead at.
        if self._files is None:
            self._files = files.FilesAhead()
        buffered = getattr(queryset._cursor, "buffered_documents", None)
        ahead = buffered() if buffered is not None else ()
        files.load_with_documents(queryset._document, docs, self._files, ahead)

    def _learn_rate(self, seconds_per_item: float) -> None:
        # A smoothed rate, and at most twice the chunk per call: one quick
        # chunk must not make the next one long (a collection of garbage, say).
        rate = self._rate = seconds_per_item if self._rate is None else (
            0.7 * self._rate + 0.3 * seconds_per_item
        )
        fits = int(SLICE_SECONDS / max(rate, 1e-7))
        self._chunk = max(MIN_CHUNK, min(MAX_CHUNK, 2 * self._chunk, fits))

    def _buffered_at_source(self) -> bool:
        source = self._source
        cursor = source.__dict__.get("_cursor_obj") if isinstance(source, BaseQuerySet) else source
        return cursor is not None and getattr(cursor, "buffered", 0) > 0

    async def _fill(self, limit: int | None = None) -> bool:
        if not self._buffer and not self._exhausted:
            if self._fetched and self._buffered_at_source():
                # Served from a batch already received, the bridge call would not
                # suspend: let the loop run other tasks first.
                await asyncio.sleep(0)
            self._fetched = True
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
