"""Server batches kept as bytes and decoded a chunk at a time, as the reader reaches them.

    cursor = ChunkedCursor(async_collection, {"published": True})   # an AsyncCursor
    batch = await cursor.take_batch()      # a DocumentBatch: nothing decoded yet
    batch.decode_into(ready)               # the next CHUNK documents join the deque ready

PyMongo decodes a whole reply at once: up to a thousand documents (a dict,
its ObjectIds, its lists: about four objects the garbage collector tracks
each) sit in the cursor while the reader builds documents a few dozen at a
time. The unread ones survive two young collections and reach the oldest
generation, where they add up until a full collection runs and scans every
object of the process (tens of milliseconds with the loop held). Kept as
bytes they are not tracked at all; decoded as they are reached, they die young.

Only the documents are deferred: the reply's envelope (cursor id, namespace,
cluster time, ``ok``) is decoded by PyMongo's own decoder, with the batch left
out, so sessions, gossip and errors see what they see on PyMongo's path. A
reply of another shape (``explain``, a batch that holds anything but
documents, a raw document class, a reply PyMongo's debug log of commands
shows) is decoded the stock way.
``MONGOMOTOR_CHUNKED_BATCHES=0`` in the environment switches the path off;
it is on only for the PyMongo releases of :data:`PROVEN_ON` (it reads the
cursor's private methods), others decode as PyMongo does.
"""

from __future__ import annotations

import collections
import os
import struct
from collections.abc import Mapping
from typing import Any

import bson
import pymongo
from bson import _raw_document_class
from pymongo.asynchronous.cursor import AsyncCursor
from pymongo.logger import _COMMAND_LOGGER, _is_debug_enabled
from pymongo.message import _OpMsg

__all__ = ["CHUNK", "PROVEN_ON", "ChunkedCursor", "DocumentBatch", "enabled", "split_reply"]

#: Documents decoded per step: the ODM builds documents 32 at a time, so one
#: chunk's raw dicts are gone before the next chunk is decoded.
CHUNK = 32

#: Replies smaller than this are decoded at once, as PyMongo does: they hold
#: too few documents to matter to the collector, and a split costs more.
SMALLEST_SPLIT = 16 * 1024

#: A find limited to this many documents or fewer reads them as PyMongo does.
SMALL_LIMIT = 100

#: PyMongo releases whose cursor internals this module was proven against
#: (tests/test_chunked_batches.py on the pymongo lane).
PROVEN_ON = frozenset({"4.20.1"})

#: Off with ``MONGOMOTOR_CHUNKED_BATCHES=0`` (read at import; tests set it).
enabled: bool = pymongo.version in PROVEN_ON and os.environ.get(
    "MONGOMOTOR_CHUNKED_BATCHES", "1"
).strip().lower() not in ("0", "off", "false", "no")

_INT32 = struct.Struct("<i")
_EMPTY_ARRAY = b"\x05\x00\x00\x00\x00"
# Value sizes of the BSON types of fixed width (type byte -> bytes).
_FIXED = {
    0x01: 8, 0x06: 0, 0x07: 12, 0x08: 1, 0x09: 8, 0x0A: 0, 0x10: 4, 0x11: 8,
    0x12: 8, 0x13: 16, 0x7F: 0, 0xFF: 0,
}  # fmt: skip
_LENGTH_PREFIXED = (0x02, 0x0D, 0x0E)  # string, code, symbol: int32 length + bytes
_SELF_SIZED = (0x03, 0x04, 0x0F)  # document, array, code with scope: int32 total size


def _cstring_end(data: Any, at: int) -> int:
    while data[at]:
        at += 1
    return at


def _value_end(data: Any, kind: int, at: int) -> int:
    """Where the value of type ``kind`` starting at ``at`` ends."""
    fixed = _FIXED.get(kind)
    if fixed is not None:
        return at + fixed
    if kind in _SELF_SIZED:
        return at + _INT32.unpack_from(data, at)[0]
    if kind in _LENGTH_PREFIXED:
        return at + 4 + _INT32.unpack_from(data, at)[0]
    if kind == 0x05:  # binary: int32 length, subtype, bytes
        return at + 5 + _INT32.unpack_from(data, at)[0]
    if kind == 0x0B:  # regex: two C strings
        return _cstring_end(data, _cstring_end(data, at) + 1) + 1
    if kind == 0x0C:  # DBPointer: string, ObjectId
        return at + 4 + _INT32.unpack_from(data, at)[0] + 12
    raise bson.InvalidBSON(f"unknown BSON type {kind:#x}")


def _find(data: Any, start: int, names: tuple[bytes, ...], kind: int) -> tuple[int, bytes]:
    """The offset of the value named one of ``names`` of type ``kind`` in the document at ``start``.

    (-1, b"") when there is none.
    """
    pos, end = start + 4, start + _INT32.unpack_from(data, start)[0] - 1
    while pos < end:
        element_kind = data[pos]
        name_end = _cstring_end(data, pos + 1)
        value = name_end + 1
        if element_kind == kind and bytes(data[pos + 1 : name_end]) in names:
            return value, bytes(data[pos + 1 : name_end])
        pos = _value_end(data, element_kind, value)
    return -1, b""


def _document_ends(stream: bytes) -> list[int] | None:
    """Where each document of ``stream`` ends (None if the sizes do not add up)."""
    ends: list[int] = []
    append = ends.append
    unpack = _INT32.unpack_from
    pos, total = 0, len(stream)
    while pos < total:
        pos += unpack(stream, pos)[0]
        append(pos)
    return ends if pos == total else None


class DocumentBatch:
    """The documents of one server batch, decoded :data:`CHUNK` at a time; read it like a deque.

        batch.decode_into(ready)   # the next chunk joins the deque ``ready``
        doc = batch.popleft()      # or read it as the deque PyMongo's cursor keeps
    """

    __slots__ = ("_stream", "_ends", "_next", "_codec_options", "_ready", "remaining")

    def __init__(self, stream: bytes, ends: list[int], codec_options: Any) -> None:
        self._stream = stream  # the documents, one after the other
        self._ends = ends  # where each one ends
        self._next = 0
        self._codec_options = codec_options
        self._ready: collections.deque = collections.deque()
        #: Documents not decoded yet (a plain attribute: read for every document).
        self.remaining = len(ends)

    def __len__(self) -> int:
        return len(self._ready) + self.remaining

    def decode_into(self, ready: collections.deque, count: int = CHUNK) -> bool:
        """Append the next ``count`` documents to ``ready``; False when none is left."""
        if self._ready:
            ready.extend(self._ready)
            self._ready.clear()
            return True
        first = self._next
        if first >= len(self._ends):
            return False
        last = min(first + count, len(self._ends))
        start = self._ends[first - 1] if first else 0
        chunk = memoryview(self._stream)[start : self._ends[last - 1]]
        ready.extend(bson.decode_all(chunk, self._codec_options))
        self._next = last
        self.remaining -= last - first
        return True

    def decode_all(self, ready: collections.deque) -> None:
        """Append every document left to ``ready``."""
        self.decode_into(ready, len(self._ends))
        self.decode_into(ready, len(self._ends))

    def popleft(self) -> Any:
        if not self._ready and not self.decode_into(self._ready):
            raise IndexError("pop from an empty DocumentBatch")
        return self._ready.popleft()

    def clear(self) -> None:
        self._ready.clear()
        self._stream, self._ends, self._next, self.remaining = b"", [], 0, 0

    def __iter__(self) -> Any:
        # Iterating reads nothing: everything left is decoded once and stays.
        rest: collections.deque = collections.deque()
        self.decode_all(rest)
        self._ready = rest
        return iter(rest)

    def __repr__(self) -> str:
        return f"<DocumentBatch of {len(self)} documents>"


class _Count:
    """What the envelope holds in place of the batch: its size, and nothing to iterate."""

    __slots__ = ("_n",)

    def __init__(self, n: int) -> None:
        self._n = n

    def __len__(self) -> int:
        return self._n

    def __iter__(self) -> Any:
        return iter(())

    def __repr__(self) -> str:
        return f"<{self._n} documents, decoded when read>"


def split_reply(payload: Any, codec_options: Any, user_fields: Mapping[str, Any] | None
                ) -> tuple[dict, DocumentBatch] | None:
    """A cursor reply as PyMongo decodes it but without its batch, and the batch undecoded.

    None when the reply is not a cursor reply whose batch holds only documents.
    """
    data = memoryview(payload)
    cursor_at, _ = _find(data, 0, (b"cursor",), 0x03)
    if cursor_at < 0:
        return None
    batch_at, key = _find(data, cursor_at, (b"firstBatch", b"nextBatch"), 0x04)
    if batch_at < 0:
        return None
    size = _INT32.unpack_from(data, batch_at)[0]
    try:
        stream = bson._array_of_documents_to_buffer(data[batch_at : batch_at + size])
    except bson.InvalidBSON:
        return None  # not only documents: PyMongo's decoding says what is wrong
    ends = _document_ends(stream)
    if ends is None:
        return None
    envelope = bytearray(data[:batch_at])
    envelope += _EMPTY_ARRAY
    envelope += data[batch_at + size :]
    shrink = size - len(_EMPTY_ARRAY)
    _INT32.pack_into(envelope, 0, _INT32.unpack_from(data, 0)[0] - shrink)
    _INT32.pack_into(envelope, cursor_at, _INT32.unpack_from(data, cursor_at)[0] - shrink)
    reply = bson._decode_all_selective(bytes(envelope), codec_options, user_fields)[0]
    if not isinstance(reply, dict) or not isinstance(reply.get("cursor"), dict):
        return None  # a document class the batch's count cannot be put in
    cursor = reply["cursor"]
    cursor[key.decode()] = _Count(len(ends))
    return reply, DocumentBatch(stream, ends, codec_options)


class ChunkedCursor(AsyncCursor):
    """PyMongo's ``AsyncCursor``, whose batches stay bytes until read (:class:`DocumentBatch`).

        batch = await cursor.take_batch()   # [] when exhausted
        doc = await cursor.next()           # works as on any AsyncCursor
    """

    _received: DocumentBatch | None = None

    def _unpack_response(
        self,
        response: Any,
        cursor_id: int | None,
        codec_options: Any,
        user_fields: Mapping[str, Any] | None = None,
        legacy_response: bool = False,
    ) -> Any:
        if (
            type(response) is _OpMsg
            and len(response.payload_document) >= SMALLEST_SPLIT
            and not legacy_response
            and not _raw_document_class(codec_options.document_class)
            # PyMongo's command log shows the reply, documents included.
            and not _is_debug_enabled(_COMMAND_LOGGER)
        ):
            split = split_reply(response.payload_document, codec_options, user_fields)
            if split is not None:
                reply, self._received = split
                return [reply]
        return super()._unpack_response(
            response, cursor_id, codec_options, user_fields, legacy_response
        )

    async def _send_message(self, operation: Any) -> None:
        self._received = None
        try:
            await super()._send_message(operation)
            if self._received is not None:
                # PyMongo has counted the batch (its limit, its getMore size)
                # from the envelope; the documents are served from here.
                self._data = self._received
        finally:
            self._received = None

    async def take_batch(self) -> Any:
        """The next server batch (a :class:`DocumentBatch` or a deque), empty when exhausted."""
        if self._empty:
            return ()
        if not len(self._data) and not await self._refresh():
            return ()
        data, self._data = self._data, collections.deque()
        return data

    async def explain(self) -> Any:
        # An explain reply is no cursor reply: PyMongo's own cursor sends it.
        clone = self._clone(deepcopy=True, base=AsyncCursor(self.collection))
        return await clone.explain()
