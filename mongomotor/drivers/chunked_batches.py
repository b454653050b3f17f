"""Server batches kept as bytes and decoded a chunk at a time, as the reader reaches them.

    cursor = ChunkedCursor(async_collection, {"published": True})   # an AsyncCursor
    batch = await cursor.take_batch()      # a DocumentBatch: nothing decoded yet
    docs = batch.decode_into(deque())      # the next CHUNK documents, as PyMongo gives them

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
documents, a raw document class) is decoded the stock way.
``MONGOMOTOR_CHUNKED_BATCHES=0`` in the environment switches the path off.
"""

from __future__ import annotations

import collections
import os
import struct
from collections.abc import Mapping
from typing import Any

import bson
from bson import _raw_document_class
from pymongo.asynchronous.cursor import AsyncCursor
from pymongo.message import _OpMsg

__all__ = ["CHUNK", "ChunkedCursor", "DocumentBatch", "enabled"]

#: Documents decoded per step: the ODM builds documents 32 at a time, so one
#: chunk's raw dicts are gone before the next chunk is decoded.
CHUNK = 32

#: Replies smaller than this are decoded at once, as PyMongo does: they hold
#: too few documents to matter to the collector, and a split costs more.
SMALLEST_SPLIT = 16 * 1024

#: Off with ``MONGOMOTOR_CHUNKED_BATCHES=0`` (read at import; tests set it).
enabled: bool = os.environ.get("MONGOMOTOR_CHUNKED_BATCHES", "1").strip().lower() not in (
    "0", "off", "false", "no",
)

_INT32 = struct.Struct("<i")
_EMPTY_ARRAY = b"\x05\x00\x00\x00\x00"
# Value sizes of the BSON types of fixed width (type byte -> bytes).
_FIXED = {
    0x01: 8, 0x06: 0, 0x07: 12, 0x08: 1, 0x09: 8, 0x0A: 0, 0x10: 4, 0x11: 8,
    0x12: 8, 0x13: 16, 0x7F: 0, 0xFF: 0,
}  # fmt: skip
_LENGTH_PREFIXED = (0x02, 0x0D, 0x0E)  # string, code, symbol: int32 length + bytes
_SELF_SIZED = (0x03, 0x04, 0x0F)  # document, array, code with scope: int32 total size


def _value_end(data: bytes, kind: int, at: int) -> int:
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
        return data.index(0, data.index(0, at) + 1) + 1
    if kind == 0x0C:  # DBPointer: string, ObjectId
        return at + 4 + _INT32.unpack_from(data, at)[0] + 12
    raise bson.InvalidBSON(f"unknown BSON type {kind:#x}")


def _find(data: bytes, start: int, names: tuple[bytes, ...], kind: int) -> tuple[int, bytes]:
    """The offset of the value named one of ``names`` of type ``kind`` in the document at ``start``.

    (-1, b"") when there is none.
    """
    pos, end = start + 4, start + _INT32.unpack_from(data, start)[0] - 1
    while pos < end:
        element_kind = data[pos]
        name_end = data.index(0, pos + 1)
        value = name_end + 1
        if element_kind == kind and data[pos + 1 : name_end] in names:
            return value, data[pos + 1 : name_end]
        pos = _value_end(data, element_kind, value)
    return -1, b""


def _element_offsets(data: bytes, start: int) -> list[int] | None:
    """Where each element of the array at ``start`` begins, then its end (None: not documents)."""
    offsets = []
    append = offsets.append
    unpack = _INT32.unpack_from
    index = data.index
    pos, end = start + 4, start + unpack(data, start)[0] - 1
    while pos < end:
        if data[pos] != 0x03:
            return None
        append(pos)
        value = index(0, pos + 1) + 1
        pos = value + unpack(data, value)[0]
    append(end)
    return offsets


class DocumentBatch:
    """The documents of one server batch, decoded :data:`CHUNK` at a time; read it like a deque.

        batch.decode_into(ready)   # the next chunk joins the deque ``ready``
        doc = batch.popleft()      # or read it as the deque PyMongo's cursor keeps
    """

    __slots__ = ("_data", "_offsets", "_next", "_codec_options", "_ready")

    def __init__(self, data: bytes, offsets: list[int], codec_options: Any) -> None:
        self._data = data  # the array of the reply, from its first element on
        self._offsets = offsets  # where each document's element starts, then the array's end
        self._next = 0
        self._codec_options = codec_options
        self._ready: collections.deque = collections.deque()

    def __len__(self) -> int:
        return len(self._ready) + len(self._offsets) - 1 - self._next

    def decode_into(self, ready: collections.deque, count: int = CHUNK) -> bool:
        """Append the next ``count`` documents to ``ready``; False when none is left."""
        if self._ready:
            ready.extend(self._ready)
            self._ready.clear()
            return True
        first = self._next
        last = min(first + count, len(self._offsets) - 1)
        if first >= last:
            return False
        offsets, data = self._offsets, self._data
        body = data[offsets[first] : offsets[last]]
        # The elements keep their array keys: with a size and a terminator they
        # form one document whose values are the documents, decoded in one call.
        wrapper = bson.decode(_INT32.pack(len(body) + 5) + body + b"\x00", self._codec_options)
        ready.extend(wrapper.values())
        self._next = last
        return True

    def decode_all(self, ready: collections.deque) -> None:
        """Append every document left to ``ready``."""
        self.decode_into(ready, len(self._offsets))
        self.decode_into(ready, len(self._offsets))

    def popleft(self) -> Any:
        if not self._ready and not self.decode_into(self._ready):
            raise IndexError("pop from an empty DocumentBatch")
        return self._ready.popleft()

    def clear(self) -> None:
        self._ready.clear()
        self._data, self._offsets, self._next = b"", [0], 0

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


def split_reply(payload: bytes, codec_options: Any, user_fields: Mapping[str, Any] | None
                ) -> tuple[dict, DocumentBatch] | None:
    """A cursor reply as PyMongo decodes it but without its batch, and the batch undecoded.

    None when the reply is not a cursor reply whose batch holds only documents.
    """
    cursor_at, _ = _find(payload, 0, (b"cursor",), 0x03)
    if cursor_at < 0:
        return None
    batch_at, key = _find(payload, cursor_at, (b"firstBatch", b"nextBatch"), 0x04)
    if batch_at < 0:
        return None
    offsets = _element_offsets(payload, batch_at)
    if offsets is None:
        return None
    size = _INT32.unpack_from(payload, batch_at)[0]
    envelope = bytearray(payload[:batch_at])
    envelope += _EMPTY_ARRAY
    envelope += payload[batch_at + size :]
    shrink = size - len(_EMPTY_ARRAY)
    _INT32.pack_into(envelope, 0, _INT32.unpack_from(payload, 0)[0] - shrink)
    _INT32.pack_into(envelope, cursor_at, _INT32.unpack_from(payload, cursor_at)[0] - shrink)
    reply = bson._decode_all_selective(bytes(envelope), codec_options, user_fields)[0]
    cursor = reply.get("cursor")
    if not isinstance(reply, dict) or not isinstance(cursor, dict):
        return None
    batch = DocumentBatch(payload, offsets, codec_options)
    cursor[key.decode()] = _Count(len(offsets) - 1)
    return reply, batch


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
        ):
            split = split_reply(bytes(response.payload_document), codec_options, user_fields)
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
