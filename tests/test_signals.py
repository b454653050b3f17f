"""Signals: MongoEngine's, with receivers that may be coroutine functions."""

from __future__ import annotations

import asyncio

import mongoengine
import mongoengine.signals
import pytest

import mongomotor
from mongomotor import Document, run_sync, signals
from mongomotor.fields import IntField, StringField


class SigPost(Document):
    title = StringField(required=True)


class SigOther(Document):
    n = IntField()


def test_mongoengine_and_mongomotor_share_the_signal_objects():
    for name in signals.SIGNAL_NAMES:
        assert getattr(signals, name) is getattr(mongoengine.signals, name)
    assert mongoengine.pre_save is signals.pre_save  # bound at mongoengine's import


async def test_sync_receivers_see_save_and_delete_in_order(lane):
    events = []

    def record(name):
        def receiver(sender, document, **kwargs):
            events.append((name, sender, document.title, kwargs.get("created")))

        return receiver

    receivers = {
        name: record(name)
        for name in ("pre_save", "pre_save_post_validation", "post_save", "pre_delete",
                     "post_delete")
    }
    post = SigPost(title="a")
    with (
        signals.pre_save.connected_to(receivers["pre_save"], sender=SigPost),
        signals.pre_save_post_validation.connected_to(
            receivers["pre_save_post_validation"], sender=SigPost
        ),
        signals.post_save.connected_to(receivers["post_save"], sender=SigPost),
        signals.pre_delete.connected_to(receivers["pre_delete"], sender=SigPost),
        signals.post_delete.connected_to(receivers["post_delete"], sender=SigPost),
    ):
        await post.save()
        await post.delete()
    assert events == [
        ("pre_save", SigPost, "a", None),
        ("pre_save_post_validation", SigPost, "a", True),
        ("post_save", SigPost, "a", True),
        ("pre_delete", SigPost, "a", None),
        ("post_delete", SigPost, "a", None),
    ]


async def test_async_pre_save_receiver_awaits_a_query_before_the_write(lane):
    seen = []

    async def before(sender, document, **kwargs):
        seen.append(("pre", await SigPost.objects(title=document.title).count()))

    async def after(sender, document, created, **kwargs):
        seen.append(("post", await SigPost.objects(title=document.title).count(), created))

    with (
        signals.pre_save.connected_to(before, sender=SigPost),
        signals.post_save.connected_to(after, sender=SigPost),
    ):
        await SigPost(title="x").save()
    assert seen == [("pre", 0), ("post", 1, True)]


async def test_async_receiver_can_change_the_document_before_it_is_written(lane):
    async def fill_title(sender, document, **kwargs):
        await asyncio.sleep(0)
        document.title = document.title.upper()

    with signals.pre_save.connected_to(fill_title, sender=SigPost):
        post = await SigPost(title="shout").save()
    assert (await SigPost.objects.get(id=post.id)).title == "SHOUT"


async def test_sync_and_async_receivers_run_in_mongoengine_order(lane):
    events = []

    async def pre(sender, document, **kwargs):
        await asyncio.sleep(0)
        events.append("pre_save")

    def validated(sender, document, **kwargs):
        events.append("pre_save_post_validation")

    async def post(sender, document, **kwargs):
        events.append("post_save")

    with (
        signals.pre_save.connected_to(pre, sender=SigPost),
        signals.pre_save_post_validation.connected_to(validated, sender=SigPost),
        signals.post_save.connected_to(post, sender=SigPost),
    ):
        await SigPost(title="o").save()
    assert events == ["pre_save", "pre_save_post_validation", "post_save"]


async def test_receiver_exception_aborts_the_save(lane):
    class Refused(Exception):
        pass

    async def refuse(sender, document, **kwargs):
        await asyncio.sleep(0)
        raise Refused(document.title)

    with signals.pre_save.connected_to(refuse, sender=SigPost):
        with pytest.raises(Refused, match="nope"):
            await SigPost(title="nope").save()
    assert await SigPost.objects.count() == 0


async def test_sync_receiver_exception_aborts_the_delete(lane):
    post = await SigPost(title="keep").save()

    def refuse(sender, document, **kwargs):
        raise PermissionError("keep it")

    with signals.pre_delete.connected_to(refuse, sender=SigPost):
        with pytest.raises(PermissionError):
            await post.delete()
    assert await SigPost.objects.count() == 1


async def test_receivers_for_other_senders_are_not_called(lane):
    calls = []

    async def on_post(sender, document, **kwargs):
        calls.append(sender)

    with signals.post_save.connected_to(on_post, sender=SigPost):
        await SigOther(n=1).save()
        await SigPost(title="p").save()
    assert calls == [SigPost]


async def test_receiver_for_all_senders_and_disconnect(lane):
    calls = []

    async def anything(sender, document, **kwargs):
        calls.append(sender.__name__)

    signals.post_save.connect(anything)
    try:
        await SigOther(n=1).save()
        await SigPost(title="p").save()
    finally:
        signals.post_save.disconnect(anything)
    await SigOther(n=2).save()
    assert calls == ["SigOther", "SigPost"]


async def test_connecting_through_mongoengine_signals_works_too(lane):
    calls = []

    async def receiver(sender, document, **kwargs):
        calls.append(await SigPost.objects.count())

    mongoengine.signals.post_save.connect(receiver, sender=SigPost)
    try:
        await SigPost(title="m").save()
    finally:
        mongoengine.signals.post_save.disconnect(receiver, sender=SigPost)
    assert calls == [1]


async def test_signal_kwargs_reach_the_receivers(lane):
    got = []

    async def receiver(sender, document, **kwargs):
        got.append(kwargs.get("reason"))

    post = SigPost(title="k")
    with (
        signals.pre_save.connected_to(receiver, sender=SigPost),
        signals.pre_delete.connected_to(receiver, sender=SigPost),
    ):
        await post.save(signal_kwargs={"reason": "create"})
        await post.delete(signal_kwargs={"reason": "cleanup"})
    assert got == ["create", "cleanup"]


async def test_bulk_insert_signals_with_async_receivers(lane):
    events = []

    async def before(sender, documents, **kwargs):
        events.append(("pre", [d.title for d in documents], await SigPost.objects.count()))

    async def after(sender, documents, loaded, **kwargs):
        events.append(("post", loaded, await SigPost.objects.count()))

    with (
        signals.pre_bulk_insert.connected_to(before, sender=SigPost),
        signals.post_bulk_insert.connected_to(after, sender=SigPost),
    ):
        await SigPost.objects.insert([SigPost(title="1"), SigPost(title="2")])
    assert events == [("pre", ["1", "2"], 0), ("post", True, 2)]


async def test_queryset_delete_sends_signals_per_document_to_async_receivers(lane):
    await SigPost.objects.insert([SigPost(title="d1"), SigPost(title="d2")])
    events = []

    async def before(sender, document, **kwargs):
        events.append(("pre", document.title, await SigPost.objects.count()))

    async def after(sender, document, **kwargs):
        events.append(("post", document.title, await SigPost.objects.count()))

    with (
        signals.pre_delete.connected_to(before, sender=SigPost),
        signals.post_delete.connected_to(after, sender=SigPost),
    ):
        assert await SigPost.objects.order_by("title").delete() == 2
    assert events == [
        ("pre", "d1", 2), ("post", "d1", 1), ("pre", "d2", 1), ("post", "d2", 0),
    ]


async def test_post_init_async_receiver_runs_for_loaded_documents(lane):
    await SigPost(title="loaded").save()
    seen = []

    async def loaded(sender, document, **kwargs):
        await asyncio.sleep(0)
        seen.append(document.title)

    with signals.post_init.connected_to(loaded, sender=SigPost):
        post = await SigPost.objects.get(title="loaded")
    assert post.title == "loaded"
    assert seen == ["loaded"]


def test_async_init_receiver_refuses_documents_built_in_plain_code():
    async def receiver(sender, document, **kwargs):  # pragma: no cover - never awaited
        pass

    with signals.pre_init.connected_to(receiver, sender=SigPost):
        with pytest.raises(RuntimeError, match="send_async|run_sync"):
            SigPost(title="plain")


async def test_building_a_document_in_run_sync_awaits_init_receivers(lane):
    seen = []

    async def receiver(sender, document, **kwargs):
        seen.append(document.title)

    with signals.post_init.connected_to(receiver, sender=SigPost):
        post = await run_sync(SigPost, title="bridged")
    assert post.title == "bridged"
    assert seen == ["bridged"]


async def test_send_async_awaits_sync_and_async_receivers(lane):
    calls = []

    def plain(sender, **kwargs):
        calls.append("plain")
        return 1

    async def coro(sender, **kwargs):
        calls.append("coro")
        return 2

    custom = signals.Namespace().signal("custom")
    custom.connect(plain)
    custom.connect(coro)
    results = dict(await custom.send_async("me"))
    assert sorted(calls) == ["coro", "plain"]
    assert results == {plain: 1, coro: 2}


def test_sync_mongoengine_documents_keep_their_signals():
    mongomock = pytest.importorskip("mongomock")

    class SigPlainSync(mongoengine.Document):
        name = mongoengine.StringField()
        meta = {"db_alias": "sig_plain_sync"}

    mongoengine.connect(
        "sig_plain", alias="sig_plain_sync", host="mongodb://localhost",
        mongo_client_class=mongomock.MongoClient, uuidRepresentation="standard",
    )
    seen = []

    def receiver(sender, document, **kwargs):
        seen.append((document.name, kwargs.get("created")))

    try:
        with mongoengine.signals.post_save.connected_to(receiver, sender=SigPlainSync):
            SigPlainSync(name="sync").save()
        assert seen == [("sync", True)]
        assert SigPlainSync.objects.count() == 1
    finally:
        mongoengine.disconnect("sig_plain_sync")


def test_mongomotor_exports_signals_module():
    assert mongomotor.signals is signals
