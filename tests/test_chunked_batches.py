"""Batches kept as bytes and decoded a chunk at a time give what PyMongo's decoding gives.

Each property reads the same stored documents through the facade cursor twice,
with the chunked path on and off (``chunked_batches.enabled``), and compares
everything the reader sees: documents (with their types), ``buffered``
counts, the GridFS look-ahead, ``alive``, errors. Every reply is split here
(``SMALLEST_SPLIT = 0``) so that small and empty batches take the path too,
and every limit does (``SMALL_LIMIT = 0``).
The pymongo lane takes the chunked path (checked); the motor lane reads the
same way through Motor's cursor, which keeps PyMongo's decoding, and must agree.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from bson.codec_options import CodecOptions
from bson.raw_bson import RawBSONDocument
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pymongo import monitoring
from pymongo.errors import InvalidOperation

import mongomotor
from mongomotor import Document, run_sync, start_session
from mongomotor.drivers import chunked_batches
from mongomotor.drivers.chunked_batches import ChunkedCursor
from mongomotor.fields import IntField, StringField
from tests.support.bson_shapes import CODECS, stored, typed

WIRE = pytest.mark.parametrize("lane", ["pymongo", "motor"], indirect=True)
CHUNKED = settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@pytest.fixture(autouse=True)
def split_every_reply(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chunked_batches, "SMALLEST_SPLIT", 0)
    monkeypatch.setattr(chunked_batches, "SMALL_LIMIT", 0)
    monkeypatch.setattr(chunked_batches, "enabled", True)


async def store(name: str, bodies: list[dict]) -> None:
    def write() -> None:
        collection = mongomotor.get_db()[name]
        collection.drop()
        if bodies:
            collection.insert_many([{"_id": n, "n": n, **body} for n, body in enumerate(bodies)])

    await run_sync(write)


async def read_both(lane: Any, read: Any) -> list[Any]:
    """``read()`` in the bridge with the chunked path off, then on: both outcomes."""
    outcomes = []
    for chunked in (False, True):
        chunked_batches.enabled = chunked
        try:
            outcomes.append(await run_sync(read))
        except Exception as exc:  # noqa: BLE001 - the same error on both paths
            outcomes.append(("raised", type(exc).__name__, str(exc)))
    return outcomes


def observe(cursor: Any, steps: list[int]) -> list[Any]:
    """Read ``cursor`` in ``steps`` (documents per step: by ``next``, then by
    ``take_buffered``, in turn), noting what the reader can see."""
    seen = []
    for number, step in enumerate(steps):
        got = []
        if number % 2:  # what is already received, taken at once (the ODM's way)
            got = [typed(doc) for doc in cursor.take_buffered(step)]
            assert len(got) <= step
        for _ in range(step if not number % 2 else 0):
            try:
                got.append(typed(next(cursor)))
            except StopIteration:
                break
        seen.append((got, cursor.buffered, cursor.alive))
    seen.append(([typed(doc) for doc in cursor], cursor.buffered, cursor.alive))
    return seen


def real_cursor_kind(cursor: Any) -> type:
    """The driver cursor class under a facade cursor (or of a driver cursor)."""
    return type(getattr(cursor, "_real", cursor))


# -- the documents and what the reader sees --------------------------------------------------


@WIRE
@CHUNKED
@given(
    docs=st.lists(stored, max_size=60),
    options=st.fixed_dictionaries(
        {},
        optional={
            "batch_size": st.integers(0, 25),
            "limit": st.integers(-30, 70),
            "skip": st.integers(0, 40),
            "sort": st.sampled_from([[("n", 1)], [("n", -1)]]),
            "projection": st.sampled_from([{"n": 1}, {"_id": 0}, {"n": 0}]),
        },
    ),
    codec=st.sampled_from([*sorted(CODECS), "raw"]),
    steps=st.lists(st.integers(0, 40), max_size=4),
)
async def test_reading_gives_what_pymongo_gives(lane, docs, options, codec, steps):
    await store("shapes", docs)
    kinds = []

    def read() -> Any:
        options_of = {**CODECS, "raw": CodecOptions(document_class=RawBSONDocument)}
        collection = mongomotor.get_db()["shapes"].with_options(codec_options=options_of[codec])
        cursor = collection.find({}, **options)
        seen = observe(cursor, steps)
        kinds.append(real_cursor_kind(cursor))
        return seen

    plain, chunked = await read_both(lane, read)
    assert chunked == plain
    if lane.name == "pymongo" and kinds:
        assert kinds[-1] is ChunkedCursor


@WIRE
@CHUNKED
@given(
    docs=st.lists(stored, min_size=1, max_size=50),
    batch_size=st.integers(1, 30),
    read_first=st.integers(0, 50),
)
async def test_the_gridfs_look_ahead_sees_the_rest_of_the_batch(lane, docs, batch_size, read_first):
    await store("ahead", docs)

    def read() -> Any:
        cursor = mongomotor.get_db()["ahead"].find({}, sort=[("n", 1)], batch_size=batch_size)
        first = [typed(next(cursor)) for _ in range(min(read_first, len(docs)))]
        ahead = [typed(doc) for doc in cursor.buffered_documents()]
        return first, ahead, cursor.buffered, [typed(doc) for doc in cursor]

    plain, chunked = await read_both(lane, read)
    assert chunked == plain


@WIRE
@CHUNKED
@given(docs=st.lists(stored, max_size=40), stop_after=st.integers(0, 45))
async def test_closing_mid_batch_ends_the_cursor_the_same_way(lane, docs, stop_after):
    await store("closing", docs)

    def read() -> Any:
        cursor = mongomotor.get_db()["closing"].find({}, sort=[("n", 1)], batch_size=7)
        first = [typed(doc) for _, doc in zip(range(stop_after), cursor)]
        cursor.close()
        after = (cursor.buffered, cursor.alive, list(cursor))
        cursor.rewind()
        return first, after, [typed(doc) for doc in cursor]

    plain, chunked = await read_both(lane, read)
    assert chunked == plain


@WIRE
async def test_taking_what_is_received_decodes_as_far_as_asked(lane):
    await store("take", [{"v": i} for i in range(90)])

    def read() -> Any:
        cursor = mongomotor.get_db()["take"].find({}, sort=[("n", 1)], batch_size=90)
        first = next(cursor)["v"]
        taken = [doc["v"] for doc in cursor.take_buffered(60)]
        return first, taken, cursor.buffered, [doc["v"] for doc in cursor.take_buffered(100)]

    plain, chunked = await read_both(lane, read)
    assert chunked == plain == (0, list(range(1, 61)), 29, list(range(61, 90)))


@WIRE
async def test_a_read_in_a_session_is_the_same(lane):
    await store("session", [{"v": i, "pad": "x" * i} for i in range(90)])
    outcomes = []
    for chunked in (False, True):
        chunked_batches.enabled = chunked
        async with start_session():
            outcomes.append(
                await run_sync(
                    lambda: [
                        typed(doc) for doc in mongomotor.get_db()["session"].find({}, batch_size=16)
                    ]
                )
            )
    assert outcomes[0] == outcomes[1] and len(outcomes[0]) == 90


# -- cancellation -----------------------------------------------------------------------------


async def cancelled_during_a_get_more() -> Any:
    """Read the first batch, get cancelled while the next is fetched, then read again."""
    box: list[Any] = []

    def read() -> None:
        cursor = mongomotor.get_db()["cancel"].find({}, sort=[("n", 1)], batch_size=10)
        box.append(cursor)
        box.append([next(cursor)["v"] for _ in range(10)])  # the first batch, all of it
        assert cursor.buffered == 0
        asyncio.get_running_loop().call_soon(asyncio.current_task().cancel)
        next(cursor)  # the getMore is under way when the cancellation comes

    task = asyncio.ensure_future(run_sync(read))
    with pytest.raises(asyncio.CancelledError):
        await task
    cursor, first = box

    def after() -> Any:
        try:
            next(cursor)
        except InvalidOperation as exc:
            return "refused", str(exc)[:40], cursor.buffered, cursor.alive
        return "read on"

    return first, await run_sync(after)


@WIRE
async def test_cancelled_while_a_batch_is_read_the_cursor_refuses_as_before(lane):
    await store("cancel", [{"v": i} for i in range(40)])
    outcomes = []
    for chunked in (False, True):
        chunked_batches.enabled = chunked
        outcomes.append(await cancelled_during_a_get_more())
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][1][0] == "refused"


class Chunked(Document):
    n = IntField()
    text = StringField()


async def cancelled_between_chunks() -> Any:
    """Read 50, get cancelled while holding the 51st, then read the rest of the same cursor."""
    cursor = Chunked.objects.order_by("n").__aiter__()
    first = [doc.n for doc in await cursor.to_list(50)]

    async def read_on() -> None:
        async for _ in cursor:
            await asyncio.sleep(1)  # cancelled here, with chunks of the batch not decoded

    task = asyncio.ensure_future(read_on())
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    return first, [doc.n async for doc in cursor]


@WIRE
async def test_a_reader_cancelled_between_chunks_reads_on_where_it_stopped(lane):
    await Chunked.objects.insert([Chunked(n=i, text="t" * (i % 50)) for i in range(300)])
    outcomes = []
    for chunked in (False, True):
        chunked_batches.enabled = chunked
        outcomes.append(await cancelled_between_chunks())
    assert outcomes[0] == outcomes[1]
    assert outcomes[0] == (list(range(50)), list(range(51, 300)))


# -- what takes PyMongo's own path -------------------------------------------------------------


@pytest.mark.parametrize("lane", ["pymongo"], indirect=True)
async def test_explain_distinct_and_command_listeners_keep_pymongo_s_path(lane):
    await store("paths", [{"v": i % 3} for i in range(30)])

    def read() -> Any:
        cursor = mongomotor.get_db()["paths"].find({}, batch_size=4)
        return (
            real_cursor_kind(cursor.clone()._materialize()),
            cursor.explain(),
            sorted(cursor.distinct("v")),
        )

    kind, plan, distinct = await run_sync(read)
    assert kind is ChunkedCursor and isinstance(plan, dict) and distinct == [0, 1, 2]

    class Replies(monitoring.CommandListener):
        def __init__(self) -> None:
            self.batches: list[Any] = []

        def started(self, event: Any) -> None: ...

        def failed(self, event: Any) -> None: ...

        def succeeded(self, event: Any) -> None:
            cursor = event.reply.get("cursor") or {}
            self.batches.append(cursor.get("firstBatch", cursor.get("nextBatch")))

    replies = Replies()
    lane.connect(alias="listened", event_listeners=[replies])

    def listened() -> Any:
        cursor = mongomotor.get_db("listened")["paths"].find({}, batch_size=4)
        docs = list(cursor)
        return real_cursor_kind(cursor), docs

    await run_sync(lambda: mongomotor.get_db("listened")["paths"].insert_one({"v": 9}))
    kind, docs = await run_sync(listened)
    assert kind is not ChunkedCursor  # the listener sees the documents, as PyMongo shows them
    assert [doc for batch in replies.batches if batch for doc in batch] == docs


@pytest.mark.parametrize("lane", ["pymongo"], indirect=True)
async def test_the_switch_and_the_size_threshold(lane, monkeypatch):
    await store("small", [{"v": i} for i in range(5)])
    read = lambda: real_cursor_kind(mongomotor.get_db()["small"].find({}).clone()._materialize())  # noqa: E731
    monkeypatch.setattr(chunked_batches, "enabled", False)
    assert await run_sync(read) is not ChunkedCursor
    monkeypatch.setattr(chunked_batches, "enabled", True)
    monkeypatch.setattr(chunked_batches, "SMALLEST_SPLIT", 16 * 1024)

    def small_reply() -> Any:
        cursor = mongomotor.get_db()["small"].find({})
        docs = list(cursor)
        return type(cursor._real), cursor._undecoded, docs

    kind, undecoded, docs = await run_sync(small_reply)
    assert kind is ChunkedCursor and undecoded is None and len(docs) == 5  # decoded at once
    monkeypatch.setattr(chunked_batches, "SMALL_LIMIT", 100)

    def limited(limit: int) -> Any:
        return real_cursor_kind(mongomotor.get_db()["small"].find({}).limit(limit)._materialize())

    kinds = [await run_sync(limited, n) for n in (1, -1, 100, 101, 0)]
    assert [kind is ChunkedCursor for kind in kinds] == [False, False, False, True, True]


@pytest.mark.parametrize("lane", ["pymongo"], indirect=True)
async def test_pymongo_s_command_log_shows_the_documents(lane, caplog):
    await store("logged", [{"v": i} for i in range(12)])
    with caplog.at_level(logging.DEBUG, logger="pymongo.command"):
        docs = await run_sync(lambda: list(mongomotor.get_db()["logged"].find({}, batch_size=5)))
    assert [doc["v"] for doc in docs] == list(range(12))
    replies = [r.getMessage() for r in caplog.records if "firstBatch" in r.getMessage()]
    assert replies and 'v\\": 4' in replies[0] and "decoded when read" not in replies[0]
