"""Change streams as documents: ``QuerySet.watch()`` on every lane.

The in-memory driver emulates change streams; on a wire lane, what the server
cannot do is probed (``change_stream*`` capabilities) and skipped with its answer.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from bson import ObjectId
from mongoengine.queryset.visitor import Q
from pymongo import DeleteOne, InsertOne, UpdateMany, monitoring
from pymongo.errors import InvalidOperation, OperationFailure

import mongomotor
from mongomotor import ChangeEvent, Document, EmbeddedDocument
from mongomotor.drivers.memory import changes as memory_changes
from mongomotor.fields import EmbeddedDocumentField, IntField, StringField
from mongomotor.odm.querying.change_streams import ChangeStreamUnavailable
from tests.conftest import WIRE_LANES

GUARD = 10  # seconds: only keeps a broken stream from hanging the suite


class Place(EmbeddedDocument):
    city = StringField(db_field="c")


class Story(Document):
    title = StringField(db_field="t")
    status = StringField(default="draft")
    views = IntField(db_field="v")
    place = EmbeddedDocumentField(Place, db_field="p")
    meta = {"allow_inheritance": True}


class Feature(Story):
    banner = StringField()


class Memo(Document):
    """No inheritance: its QuerySets have no ``_cls`` filter."""

    title = StringField(db_field="t")
    body = StringField()
    views = IntField()


def needs(lane: Any, *capabilities: str) -> None:
    """Skip on a wire lane whose server lacks these; the memory lane emulates them all."""
    if lane.is_wire:
        lane.require("change_streams", *capabilities)


async def take(stream: Any, count: int) -> list[ChangeEvent[Story]]:
    return [await asyncio.wait_for(stream.next(), GUARD) for _ in range(count)]


def watch(source: Any, **options: Any) -> Any:
    """``source.watch(...)``, a Document class (whole collection) or a QuerySet."""
    options.setdefault("max_await_time_ms", 100)
    return source.watch(**options)


async def test_insert_gives_the_document_and_event_details(lane):
    needs(lane)
    async with watch(Story) as stream:
        story = await Story(title="Hello", status="live", views=1).save()
        [change] = await take(stream, 1)
    assert change.operation == "insert"
    assert isinstance(change.document, Story)
    assert (change.document.title, change.document.status, change.document.views) == (
        "Hello", "live", 1,
    )
    assert change.pk == story.pk
    assert change.document_key is not None and change.document_before is None
    assert change.updated_fields == {} and change.removed_fields == []
    assert change.resume_token == stream.resume_token is not None
    assert change.cluster_time is not None and change.wall_time is not None
    assert change.raw["operationType"] == "insert"
    if not lane.is_wire or lane.supports("change_stream_ids"):
        assert change.document.pk == story.pk


async def test_update_without_lookup_reports_attribute_names_and_values(lane):
    needs(lane, "change_stream_updates")
    story = await Story(title="Draft", views=1).save()
    async with watch(Story) as stream:
        story.title = "Final"
        story.place = Place(city="Oslo")
        await story.save()
        await Story.objects(id=story.id).update(unset__views=True, set__place__city="Rome")
        first, second = await take(stream, 2)
    assert first.operation == "update" and first.document is None
    assert first.pk == story.pk
    assert set(first.updated_fields) == {"title", "place"}
    assert first.updated_fields["title"] == "Final"
    assert isinstance(first.updated_fields["place"], Place)
    assert first.updated_fields["place"].city == "Oslo"
    assert second.updated_fields == {"place.city": "Rome"}
    assert second.removed_fields == ["views"]


async def test_update_with_lookup_gives_the_document_after(lane):
    needs(lane)
    story = await Story(title="Draft", views=1).save()
    async with watch(Story, full_document="updateLookup") as stream:
        await Story.objects(id=story.id).update(set__title="Final", inc__views=2)
        [change] = await take(stream, 1)
    assert change.operation == "update"
    assert (change.document.title, change.document.views) == ("Final", 3)


async def test_replace_gives_the_new_document(lane):
    needs(lane, "change_stream_replace")
    story = await Story(title="Old", views=5).save()
    async with watch(Story) as stream:
        await Story(id=story.id, title="New").save()  # a full replacement, as MongoEngine sends it
        [change] = await take(stream, 1)
    assert change.operation == "replace"
    assert (change.pk, change.document.title, change.document.views) == (story.pk, "New", None)


async def test_delete_gives_the_key_and_no_document(lane):
    needs(lane, "change_stream_deletes")
    story = await Story(title="Gone").save()
    async with watch(Story) as stream:
        await story.delete()
        [change] = await take(stream, 1)
    assert (change.operation, change.pk, change.document) == ("delete", story.pk, None)


async def test_pre_images_give_the_document_before(lane):
    needs(lane, "change_stream_pre_images")
    story = await Story(title="Before", views=1).save()
    if lane.is_wire:  # a server keeps pre-images only where asked to
        await mongomotor.run_sync(
            Story._get_db().command, "collMod", Story._get_collection_name(),
            changeStreamPreAndPostImages={"enabled": True},
        )
    stream = watch(Story.objects, full_document_before_change="whenAvailable")
    async with stream:
        await Story.objects(id=story.id).update(set__title="After")
        await story.delete()
        update, delete = await take(stream, 2)
    assert update.document_before.title == "Before" and update.updated_fields == {"title": "After"}
    assert delete.document_before.title == "After" and delete.document is None


async def test_base_class_stream_builds_subclass_documents(lane):
    needs(lane)
    async with watch(Story) as stream:
        await Feature(title="Big", banner="wide").save()
        [change] = await take(stream, 1)
    assert type(change.document) is Feature
    assert change.document.banner == "wide"


async def test_subclass_queryset_sees_only_its_class(lane):
    needs(lane, "change_stream_filters")
    async with watch(Feature.objects) as stream:
        await Story(title="plain").save()
        feature = await Feature(title="special").save()
        [change] = await take(stream, 1)
    assert change.pk == feature.pk and type(change.document) is Feature


async def test_filter_keeps_matching_documents_and_lets_deletes_through(lane):
    needs(lane, "change_stream_filters")
    draft = await Story(title="d", status="draft").save()
    other = await Story(title="o", status="draft").save()
    async with watch(Story.objects(status="live"), full_document="updateLookup") as stream:
        await Story(title="skipped", status="draft").save()
        live = await Story(title="l", status="live").save()
        await Story.objects(id=draft.id).update(set__status="live")
        await Story.objects(id=other.id).update(set__title="still a draft")
        await other.delete()
        changes = await take(stream, 3)
    assert [(c.operation, c.pk) for c in changes] == [
        ("insert", live.pk), ("update", draft.pk), ("delete", other.pk),
    ]
    assert changes[1].document.status == "live"
    assert changes[2].document is None  # a delete cannot be matched: it always passes


async def test_filter_translates_field_names_and_or(lane):
    needs(lane, "change_stream_filters")
    async with watch(Story.objects(Q(title="a") | Q(views__gte=10))) as stream:
        await Story(title="a", views=1).save()
        await Story(title="b", views=2).save()
        await Story(title="c", views=12).save()
        changes = await take(stream, 2)
    assert [c.document.title for c in changes] == ["a", "c"]


async def test_extra_pipeline_stages_apply_after_the_filter(lane):
    needs(lane)
    story = await Story(title="x").save()
    async with watch(Story, pipeline=[{"$match": {"operationType": "delete"}}]) as stream:
        await Story(title="y").save()
        await story.delete()
        [change] = await take(stream, 1)
    assert (change.operation, change.pk) == ("delete", story.pk)


async def test_only_projects_the_documents(lane):
    needs(lane)
    async with watch(Memo.objects.only("title")) as stream:
        await Memo(title="kept", body="long text", views=3).save()
        [change] = await take(stream, 1)
    assert change.document.title == "kept"
    assert change.document.body is None and change.document.views is None  # not loaded
    async with watch(Memo.objects.exclude("body")) as stream:
        await Memo(title="kept", body="long text", views=3).save()
        [change] = await take(stream, 1)
    assert (change.document.title, change.document.body, change.document.views) == (
        "kept", None, 3,
    )


async def test_resume_after_a_token_continues_after_that_event(lane):
    needs(lane)
    async with watch(Story) as stream:
        await Story(title="one").save()
        await Story(title="two").save()
        [first] = await take(stream, 1)
        token = stream.resume_token
    assert token == first.resume_token
    await Story(title="three").save()  # written while nothing reads
    async with watch(Story, resume_after=token) as resumed:
        changes = await take(resumed, 2)
    assert [c.document.title for c in changes] == ["two", "three"]


async def test_bulk_writes_feed_the_stream(lane):
    needs(lane)
    kept = await Story(title="kept").save()
    gone = await Story(title="gone").save()
    new_id = ObjectId()
    async with watch(Story) as stream:
        await Story._get_collection().bulk_write(
            [
                InsertOne({"_id": new_id, "_cls": "Story", "t": "new"}),
                UpdateMany({"_id": kept.id}, {"$set": {"v": 9}}),
                DeleteOne({"_id": gone.id}),
            ],
        )
        changes = await take(stream, 3)
    assert [(c.operation, c.pk) for c in changes] == [
        ("insert", new_id), ("update", kept.pk), ("delete", gone.pk),
    ]


async def test_many_documents_give_one_event_each(lane):
    needs(lane)
    async with watch(Story, full_document="updateLookup") as stream:
        stories = await Story.objects.insert([Story(title="a"), Story(title="b")])
        await Story.objects(title__in=["a", "b"]).update(inc__views=1)
        await Story.objects(title__in=["a", "b"]).delete()
        changes = await take(stream, 6)
    ids = [s.pk for s in stories]
    assert [(c.operation, c.pk) for c in changes] == [
        ("insert", ids[0]), ("insert", ids[1]), ("update", ids[0]), ("update", ids[1]),
        ("delete", ids[0]), ("delete", ids[1]),
    ]
    assert [c.document.views for c in changes[2:4]] == [1, 1]


async def test_drop_ends_the_stream(lane):
    needs(lane, "change_stream_drop")
    await Story(title="x").save()
    seen = []
    async with watch(Story) as stream:
        await Story.drop_collection()
        async for change in stream:
            seen.append(change.operation)
    assert seen == ["drop", "invalidate"]
    assert not stream.alive


async def test_a_timed_out_read_loses_no_event(lane):
    needs(lane)
    async with watch(Story) as stream:
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(stream.next(), 0.01)  # nothing written yet
        story = await Story(title="late").save()
        [change] = await take(stream, 1)
    assert change.pk == story.pk


async def test_watch_does_no_io_and_refuses_unknown_options(lane):
    stream = Story.objects(status="live").watch(full_document="updateLookup")
    assert stream.pipeline[0]["$match"]["$or"][0]["fullDocument.status"] == "live"
    assert Story.watch().pipeline == []  # the whole collection
    with pytest.raises(TypeError, match="unknown option"):
        Story.objects.watch(fulldocument="updateLookup")
    assert isinstance(ChangeEvent[Story], type(ChangeEvent[Story]))  # generic for typing


async def test_a_closed_stream_refuses_to_read(lane):
    needs(lane)
    async with watch(Story) as stream:
        pass
    with pytest.raises(InvalidOperation, match="closed"):
        await stream.next()


@pytest.mark.parametrize("lane", ["memory"], indirect=True)
async def test_memory_driver_costs_nothing_when_nothing_watches(lane, monkeypatch):
    def fail(*args: Any) -> None:
        raise AssertionError("a write was observed while nothing watches")

    monkeypatch.setattr(memory_changes, "observe", fail)
    await Story(title="quiet").save()
    assert memory_changes.WATCHING is False


# -- closing the server cursor ---------------------------------------------------------------


class CursorLog(monitoring.CommandListener):
    """Change-stream cursors the server opened, and the cursors killCursors killed."""

    def __init__(self) -> None:
        self.opened: set[int] = set()
        self.killed: set[int] = set()
        self._lock = threading.Lock()
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name == "killCursors":
            with self._lock:
                self.killed.update(event.command["cursors"])
                waiters = list(self._waiters)
            for loop, flag in waiters:
                loop.call_soon_threadsafe(flag.set)

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        if event.command_name == "aggregate":
            cursor = event.reply.get("cursor") or {}
            if cursor.get("id"):
                with self._lock:
                    self.opened.add(cursor["id"])

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass

    async def all_killed(self) -> bool:
        """Wait until every opened cursor was killed (the guard only stops a hang)."""
        flag = asyncio.Event()
        with self._lock:
            self._waiters.append((asyncio.get_running_loop(), flag))
        async def settled() -> None:
            while True:
                with self._lock:
                    if self.opened and self.opened <= self.killed:
                        return
                flag.clear()
                await flag.wait()
        await asyncio.wait_for(settled(), GUARD)
        return True


class Tracked(Document):
    title = StringField()
    meta = {"db_alias": "tracked"}


@pytest.fixture
def cursor_log(lane):
    log = CursorLog()
    lane.connect("tracked", **({"event_listeners": [log]} if lane.is_wire else {}))
    return log


@pytest.mark.parametrize("lane", WIRE_LANES, indirect=True)
async def test_leaving_async_with_kills_the_cursor(lane, cursor_log):
    needs(lane)
    async with watch(Tracked.objects) as stream:
        await Tracked(title="x").save()
        await take(stream, 1)
    assert cursor_log.opened and cursor_log.opened <= cursor_log.killed


@pytest.mark.parametrize("lane", WIRE_LANES, indirect=True)
async def test_breaking_the_loop_kills_the_cursor(lane, cursor_log):
    needs(lane)
    stream = await watch(Tracked.objects)  # opened, not entered
    await Tracked(title="x").save()
    async for _ in stream:
        break
    assert await cursor_log.all_killed()


async def test_cancelling_the_reader_closes_the_stream(lane, cursor_log):
    needs(lane)
    stream = watch(Tracked.objects)
    started = asyncio.Event()

    async def reader() -> None:
        await stream
        started.set()
        async for _ in stream:
            pass

    task = asyncio.ensure_future(reader())
    await asyncio.wait_for(started.wait(), GUARD)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not stream.alive
    if lane.is_wire:  # killed before the task ended
        assert cursor_log.opened and cursor_log.opened <= cursor_log.killed


# -- servers without change streams ----------------------------------------------------------


@pytest.mark.parametrize("lane", WIRE_LANES, indirect=True)
async def test_a_standalone_server_gives_a_clear_error(lane):
    if lane.supports("change_streams"):
        pytest.skip(f"{lane.name} lane: server at {lane.caps.uri} runs change streams")
    stream = Story.objects.watch()
    with pytest.raises(ChangeStreamUnavailable, match="replica set"):
        async with stream:
            pass


@pytest.mark.parametrize("lane", WIRE_LANES, indirect=True)
async def test_the_standalone_refusal_is_explained(lane, monkeypatch):
    import pymongo.collection
    from pymongo.asynchronous.collection import AsyncCollection

    def refusal() -> OperationFailure:
        # What a standalone mongod answers to $changeStream.
        return OperationFailure("The $changeStream stage is only supported on replica sets", 40573)

    async def refuse_async(self: Any, *args: Any, **kwargs: Any) -> None:
        raise refusal()

    def refuse(self: Any, *args: Any, **kwargs: Any) -> None:  # Motor opens with sync PyMongo
        raise refusal()

    monkeypatch.setattr(AsyncCollection, "watch", refuse_async)
    monkeypatch.setattr(pymongo.collection.Collection, "watch", refuse)
    stream = Story.objects.watch()  # no I/O yet: nothing raised
    with pytest.raises(ChangeStreamUnavailable, match="--replSet") as caught:
        await stream
    assert caught.value.code == 40573 and isinstance(caught.value, OperationFailure)


@pytest.mark.parametrize("lane", WIRE_LANES, indirect=True)
async def test_the_driver_resumes_after_a_resumable_error(lane, cursor_log, wire_admin):
    needs(lane, "change_stream_resume")
    async with watch(Tracked.objects) as stream:
        await Tracked(title="before").save()
        await take(stream, 1)
        [cursor_id] = cursor_log.opened
        db = wire_admin[Tracked._get_db().name]
        db.command("killCursors", Tracked._get_collection_name(), cursors=[cursor_id])
        await Tracked(title="after").save()
        [change] = await take(stream, 1)  # the next getMore fails: the driver reopens
    assert change.document.title == "after"
    assert len(cursor_log.opened) == 2
