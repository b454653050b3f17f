"""A cursor reply split by ``chunked_batches`` is PyMongo's decoding, with the batch read apart.

No server: replies of many shapes are encoded here, split, and compared with
what PyMongo's own decoder makes of them (documents, envelope, codec options).
"""

from __future__ import annotations

import collections
import uuid
from typing import Any

import bson
import pytest
from bson import Int64
from bson.codec_options import CodecOptions
from hypothesis import given, settings
from hypothesis import strategies as st

from mongomotor.drivers.chunked_batches import DocumentBatch, split_reply
from tests.support.bson_shapes import CODECS, bodies, keys, scalars, typed, values

FIELDS = {"cursor": {"firstBatch": 1, "nextBatch": 1}}


@settings(max_examples=200, deadline=None)
@given(
    docs=st.lists(bodies, max_size=20),
    key=st.sampled_from(["firstBatch", "nextBatch"]),
    before=st.dictionaries(keys, scalars, max_size=3),
    after=st.dictionaries(keys, values, max_size=3),
    codec=st.sampled_from(sorted(CODECS)),
)
def test_a_split_reply_is_pymongo_s_reply_with_the_batch_read_apart(
    docs, key, before, after, codec
):
    cursor = {"a" + k: v for k, v in before.items()}
    cursor.update({key: docs, "id": Int64(7), "ns": "db.coll"})
    reply = {"cursor": cursor, "ok": 1.0, **{"z" + k: v for k, v in after.items()}}
    payload = bson.encode(reply)
    options = CODECS[codec]
    expected = bson._decode_all_selective(payload, options, FIELDS)[0]
    split = split_reply(memoryview(bytearray(payload)), options, FIELDS)
    assert split is not None
    envelope, batch = split
    assert len(envelope["cursor"][key]) == len(docs) == len(batch)
    decoded: Any = []
    ready: Any = collections.deque()
    while batch.decode_into(ready, 3):
        decoded.extend(ready)
        ready.clear()
    assert [typed(d) for d in decoded] == [typed(d) for d in expected["cursor"][key]]
    envelope["cursor"][key] = expected["cursor"][key]
    assert typed(envelope) == typed(expected)


def test_a_batch_of_anything_but_documents_is_left_to_pymongo():
    payload = bson.encode({"cursor": {"firstBatch": [1, {"a": 1}], "id": Int64(0)}, "ok": 1})
    assert split_reply(payload, CodecOptions(), FIELDS) is None
    assert split_reply(bson.encode({"ok": 1, "queryPlanner": {}}), CodecOptions(), FIELDS) is None


def test_a_document_batch_reads_like_a_deque():
    docs = [{"n": i, "u": uuid.UUID(int=i)} for i in range(70)]
    options = CodecOptions(uuid_representation=bson.binary.UuidRepresentation.STANDARD)
    payload = bson.encode(
        {"cursor": {"nextBatch": docs, "id": Int64(0)}, "ok": 1}, codec_options=options
    )
    _, batch = split_reply(payload, options, FIELDS)
    assert isinstance(batch, DocumentBatch) and len(batch) == 70
    assert batch.popleft() == docs[0] and len(batch) == 69
    assert list(batch) == docs[1:] and len(batch) == 69  # iterating reads nothing
    assert [batch.popleft() for _ in range(69)] == docs[1:] and not batch
    with pytest.raises(IndexError):
        batch.popleft()
