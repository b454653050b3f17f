"""Bad input gets MongoEngine's or PyMongo's errors, never one from the bridge's insides.

Hypothesis builds random queries and updates (known and unknown field names,
operators, values of the wrong type, invalid ObjectId strings). Each call
either works or raises an error class a user can catch; failed writes change
neither the database nor the document object's ability to be saved.
"""

from __future__ import annotations

import asyncio
import datetime
import os
import traceback

import bson.errors
import mongoengine.errors as me_errors
import pytest
from bson import ObjectId
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pymongo.errors import PyMongoError

from mongomotor import Document
from mongomotor.fields import (
    DateTimeField,
    DictField,
    IntField,
    ListField,
    ObjectIdField,
    StringField,
)

EXAMPLES = int(os.environ.get("MONGOMOTOR_HYPOTHESIS_EXAMPLES", "40"))
# mongomock is the in-memory lane's driver: its own checks raise builtin errors.
LIBRARIES = ("mongoengine", "pymongo", "bson", "mongomock")
CATCHABLE = (
    me_errors.MongoEngineException,
    me_errors.ValidationError,
    me_errors.LookUpError,
    PyMongoError,
    bson.errors.BSONError,
)


class BadInputDoc(Document):
    name = StringField(max_length=20)
    n = IntField(min_value=0)
    when = DateTimeField()
    other = ObjectIdField()
    tags = ListField(StringField())
    extra = DictField()


FIELDS = ["id", "name", "n", "when", "other", "tags", "extra", "extra__k", "nope", "tags__0"]
QUERY_OPS = [
    "", "ne", "lt", "gte", "in", "nin", "exists", "size", "all", "contains",
    "icontains", "startswith", "mod", "not__gt", "match", "type", "bogus",
]  # fmt: skip
UPDATE_OPS = ["set", "unset", "inc", "push", "pull", "add_to_set", "pop", "max", "rename", "nop"]

values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.floats(allow_nan=True),
        st.text(max_size=12),
        st.sampled_from(["5f0c5f0c5f0c5f0c5f0c5f0c", "not-an-id", "", "zzzzzzzzzzzzzzzzzzzzzzzz"]),
        st.just(ObjectId("5f0c5f0c5f0c5f0c5f0c5f0c")),
        st.datetimes(min_value=datetime.datetime(1900, 1, 1)),
        st.binary(max_size=8),
    ),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=2)
    ),
    max_leaves=4,
)


def allowed(exc: BaseException) -> bool:
    """A user-catchable library error, or a builtin one raised by the library itself."""
    if isinstance(exc, CATCHABLE):
        return True
    if isinstance(exc, Exception):
        # Raised by the libraries checking the value (TypeError, ValueError...), as
        # with sync MongoEngine; mongomock also says NotImplementedError.
        # The innermost frame of ours or theirs must be theirs (the stdlib may follow).
        ours_or_theirs = [
            f.filename
            for f in traceback.extract_tb(exc.__traceback__)
            if "/mongomotor/" in f.filename or any(f"/{lib}/" in f.filename for lib in LIBRARIES)
        ]
        return bool(ours_or_theirs) and "/mongomotor/" not in ours_or_theirs[-1]
    return False


def describe(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc)[-6:])


async def snapshot() -> list[dict]:
    return [d.to_mongo().to_dict() async for d in BadInputDoc.objects.order_by("n")]


@pytest.fixture
def runner(lane):
    with asyncio.Runner() as running:
        running.run(seed())
        yield running


async def seed() -> None:
    await BadInputDoc.drop_collection()  # (a refused update may have half-applied in memory)
    await BadInputDoc.objects.insert(
        [BadInputDoc(name=f"d{i}", n=i, tags=["a", f"t{i}"], extra={"k": i}) for i in range(3)]
    )


lookups = st.tuples(st.sampled_from(FIELDS), st.sampled_from(QUERY_OPS), values)
updates = st.tuples(st.sampled_from(UPDATE_OPS), st.sampled_from(FIELDS), values)
settings_ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,
)


@settings_
@given(query=st.lists(lookups, min_size=1, max_size=3))
def test_random_queries_fail_with_catchable_errors(runner, query):
    kwargs = {f"{field}__{op}" if op else field: value for field, op, value in query}

    async def run() -> None:
        for call in (
            lambda: BadInputDoc.objects(**kwargs).to_list(None),
            lambda: BadInputDoc.objects(**kwargs).count(),
            lambda: BadInputDoc.objects(**kwargs).first(),
        ):
            try:
                await call()
            except Exception as exc:  # noqa: BLE001 - classified below
                assert allowed(exc), f"{kwargs!r} raised:\n{describe(exc)}"

    runner.run(run())


@settings_
@given(update=st.lists(updates, min_size=1, max_size=2))
def test_random_updates_fail_cleanly_and_change_nothing(lane, runner, update):
    kwargs = {f"{op}__{field}": value for op, field, value in update}

    async def run() -> None:
        before = await snapshot()
        try:
            await BadInputDoc.objects(name="d1").update(**kwargs)
        except Exception as exc:  # noqa: BLE001 - classified below
            assert allowed(exc), f"update {kwargs!r} raised:\n{describe(exc)}"
            if lane.supports("atomic_failed_updates"):
                assert await snapshot() == before, f"failed update {kwargs!r} changed the database"
        await seed()

    runner.run(run())


@settings_
@given(field=st.sampled_from(["name", "n", "when", "other", "tags", "extra"]), value=values)
def test_invalid_values_on_save_keep_document_and_database_consistent(runner, field, value):
    async def run() -> None:
        doc = await BadInputDoc.objects.get(name="d2")
        before = await snapshot()
        setattr(doc, field, value)
        try:
            await doc.save()
        except Exception as exc:  # noqa: BLE001 - classified below
            assert allowed(exc), f"{field}={value!r} raised:\n{describe(exc)}"
            assert await snapshot() == before, f"failed save of {field}={value!r} wrote"
            # The object is still usable: a valid value saves as usual.
            setattr(doc, field, None)
            await doc.save()
            stored = await BadInputDoc.objects.get(id=doc.id)
            assert getattr(stored, field) in (None, [], {})
        await seed()

    runner.run(run())
