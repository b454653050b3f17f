"""run_sync: plain MongoEngine code on the loop; contextvars, exceptions, cancellation."""

from __future__ import annotations

import asyncio
import contextvars
import traceback

import mongoengine
import pytest
from mongoengine.errors import NotUniqueError
from pymongo.errors import DuplicateKeyError

import mongomotor
from mongomotor import Document, run_sync
from mongomotor.fields import IntField, StringField
from mongomotor.runtime.bridge import in_bridge

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="none")


class BridgePlainNote(mongoengine.Document):
    """A plain (sync) MongoEngine model, on an alias connected through mongomotor."""

    text = mongoengine.StringField()
    n = mongoengine.IntField()
    meta = {"db_alias": "bridge_plain", "indexes": [{"fields": ["text"], "unique": True}]}


class BridgeNote(Document):
    text = StringField()
    n = IntField()


async def test_run_sync_runs_plain_mongoengine_models(lane):
    lane.connect("bridge_plain")

    def work():
        BridgePlainNote(text="a", n=1).save()
        BridgePlainNote(text="b", n=2).save()
        BridgePlainNote.objects(text="a").update(inc__n=10)
        return [(d.text, d.n) for d in BridgePlainNote.objects.order_by("text")]

    assert await run_sync(work) == [("a", 11), ("b", 2)]
    assert await run_sync(BridgePlainNote.objects.count) == 2
    doc = await run_sync(BridgePlainNote.objects.get, text="b")
    assert isinstance(doc, BridgePlainNote) and doc.n == 2


async def test_run_sync_does_not_block_the_loop(lane):
    lane.connect("bridge_plain")
    ticks_during = []
    done = False

    async def ticker():
        ticks = 0
        while not done:
            ticks += 1
            await asyncio.sleep(0)
        return ticks

    def work():
        for i in range(20):
            BridgePlainNote(text=f"t{i}", n=i).save()
            ticks_during.append(BridgePlainNote.objects.count())
        return True

    tick_task = asyncio.create_task(ticker())
    try:
        assert await run_sync(work)
    finally:
        done = True
    ticks = await tick_task
    assert ticks_during == list(range(1, 21))
    if lane.is_wire:  # (mongomock does no I/O: it never waits)
        # every round trip went through the loop, which kept running the ticker
        assert ticks >= 20


async def test_contextvars_of_the_caller_are_visible_inside(lane):
    request_id.set("req-42")
    seen = []

    def work():
        seen.append((request_id.get(), in_bridge()))
        BridgeNote(text="x").save()  # our documents are plain inside the bridge
        seen.append(request_id.get())
        return BridgeNote.objects.count()

    assert await run_sync(work) == 1
    assert seen == [("req-42", True), "req-42"]
    assert not in_bridge()


async def test_exceptions_keep_type_and_traceback(lane):
    class Boom(Exception):
        pass

    def deep_inside():
        BridgeNote.objects.count()  # after an I/O switch
        raise Boom("from the sync code")

    def work():
        deep_inside()

    with pytest.raises(Boom, match="from the sync code") as info:
        await run_sync(work)
    names = [frame.name for frame in traceback.extract_tb(info.value.__traceback__)]
    assert names[-2:] == ["work", "deep_inside"]


async def test_driver_errors_keep_type_and_traceback(lane):
    lane.connect("bridge_plain")
    await run_sync(BridgePlainNote(text="dup").save)
    with pytest.raises(NotUniqueError) as info:
        await run_sync(BridgePlainNote(text="dup").save)
    frames = traceback.extract_tb(info.value.__traceback__)
    assert (frames[-1].name, frames[-1].filename) == ("save", mongoengine.document.__file__)
    cause = info.value.__context__  # the driver's DuplicateKeyError, with its own frames
    assert isinstance(cause, DuplicateKeyError)
    names = [frame.name for frame in traceback.extract_tb(cause.__traceback__)]
    assert "_save_create" in names and "insert_one" in names


async def test_cancelling_the_awaiting_task_stops_at_the_next_io(lane):
    progress = {"i": 0}
    started = asyncio.Event()

    def work():
        for i in range(500):
            progress["i"] = i
            BridgeNote(text="c", n=i).save()
            started.set()
        return "finished"

    task = asyncio.create_task(run_sync(work))
    if lane.is_wire:
        await started.wait()  # the greenlet now waits on an I/O
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert progress["i"] < 499
    # our state is still usable: contextvars, preparation, clients
    assert not in_bridge()
    saved = await BridgeNote.objects.count()
    assert saved <= progress["i"] + 1
    await BridgeNote(text="after").save()
    assert await BridgeNote.objects(text="after").count() == 1


async def test_cancelling_an_awaited_query_leaves_the_class_usable(lane):
    await BridgeNote.objects.insert([BridgeNote(n=i) for i in range(30)])
    task = asyncio.create_task(BridgeNote.objects.batch_size(2).to_list(None))
    if lane.is_wire:
        await asyncio.sleep(0)  # the task now waits on its first batch
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert len(await BridgeNote.objects.to_list(None)) == 30


async def test_run_sync_returns_values_and_passes_arguments(lane):
    def add(a, b, *, c):
        return a + b + c

    assert await run_sync(add, 1, 2, c=3) == 6
    assert await mongomotor.run_sync(lambda: None) is None
