"""BSON documents of many shapes and the codec options to read them with, for equivalence tests.

    @given(docs=st.lists(stored))                 # documents every wire lane stores as they are
    assert typed(chunked) == typed(plain)         # compares values and their types
"""

from __future__ import annotations

import datetime
import decimal
from typing import Any

import bson
from bson import SON, Binary, Decimal128, Int64, ObjectId
from bson.codec_options import CodecOptions, TypeCodec, TypeDecoder, TypeRegistry
from hypothesis import strategies as st


class DecimalCodec(TypeCodec):
    python_type = decimal.Decimal
    bson_type = Decimal128

    def transform_python(self, value: decimal.Decimal) -> Decimal128:
        return Decimal128(value)

    def transform_bson(self, value: Decimal128) -> decimal.Decimal:
        return value.to_decimal()


class Measure(float):
    """What the registry's decoder makes of every stored double."""


class MeasureDecoder(TypeDecoder):
    bson_type = float

    def transform_bson(self, value: float) -> Measure:
        return Measure(value)


CODECS = {
    "default": CodecOptions(),
    "tz_aware": CodecOptions(tz_aware=True, tzinfo=datetime.timezone(datetime.timedelta(hours=2))),
    "son": CodecOptions(document_class=SON),
    "registry": CodecOptions(type_registry=TypeRegistry([DecimalCodec(), MeasureDecoder()])),
    "uuid": CodecOptions(uuid_representation=bson.binary.UuidRepresentation.STANDARD),
}

# What every wire lane's server stores as sent (nx-27017 keeps no Decimal128 nor UUID subtype).
stored_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**31), 2**31 - 1),
    st.integers(2**31, 2**62).map(Int64),
    st.floats(allow_nan=False, allow_infinity=False, width=32).filter(bool),
    st.text(max_size=40),
    st.binary(max_size=20).map(lambda b: Binary(b, 0)),
    st.builds(ObjectId),
    st.datetimes(
        min_value=datetime.datetime(1970, 1, 1), max_value=datetime.datetime(2100, 1, 1)
    ).map(lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000)),
)
scalars = st.one_of(
    stored_scalars,
    st.decimals(-(10**20), 10**20, allow_nan=False, allow_infinity=False, places=3).map(
        lambda d: Decimal128(str(d))
    ),
    st.uuids().map(lambda u: Binary.from_uuid(u)),
)
keys = st.text(alphabet="abcdefxyz_", min_size=1, max_size=6)


def documents(leaves: Any) -> Any:
    values = st.recursive(
        leaves,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
        max_leaves=12,
    )
    return st.dictionaries(keys, values, max_size=6)


bodies = documents(scalars)  # any document, for replies made here
stored = documents(stored_scalars)  # a document every wire lane stores as it is
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4), max_leaves=6)


def typed(value: Any) -> Any:
    """``value`` with the type of every part, so that 1 and 1.0 or dict and SON differ."""
    if isinstance(value, dict):
        return (type(value).__name__, [(k, typed(v)) for k, v in value.items()])
    if isinstance(value, list):
        return ("list", [typed(v) for v in value])
    if isinstance(value, datetime.datetime):
        return ("datetime", value.isoformat())
    return (type(value).__name__, repr(value))
