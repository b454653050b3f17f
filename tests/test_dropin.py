"""A verbatim port: MongoEngine's own names, imported from mongoengine, behave per task.

After ``import mongomotor``, ``mongoengine.context_managers``' context managers
are task-local (and thread-local for plain sync MongoEngine);
``from mongomotor import *`` gives every name of ``mongoengine.__all__``;
awaitable methods are coroutine functions; blocking QuerySet dunders refuse.
"""

from __future__ import annotations

import asyncio
import gc
import inspect
import os
import subprocess
import sys
import threading
import warnings
from pathlib import Path

import mongoengine
import mongomock
import pytest
from bson import DBRef, ObjectId
from mongoengine.context_managers import (
    no_dereference,
    no_sub_classes,
    query_counter,
    switch_collection,
    switch_db,
)

from mongomotor import Document, QuerySet, run_sync
from mongomotor.fields import IntField, ReferenceField, StringField

TASKS = 200
ROOT = Path(__file__).resolve().parents[1]


class DropTenantNote(Document):
    tenant = StringField()
    n = IntField()


class DropAuthor(Document):
    name = StringField()


class DropPost(Document):
    author = ReferenceField(DropAuthor)
    n = IntField()


class DropAnimal(Document):
    n = IntField()
    meta = {"allow_inheritance": True}


class DropDog(DropAnimal):
    pass


class _Gate:
    """Lets ``count`` tasks through only once all of them have arrived (all inside their blocks)."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.arrived = 0
        self.open = asyncio.Event()

    async def wait(self) -> None:
        self.arrived += 1
        if self.arrived == self.count:
            self.open.set()
        await self.open.wait()


async def test_switch_db_of_mongoengine_is_task_local_on_200_tasks(lane):
    lane.connect("drop_a")
    lane.connect("drop_b")
    gate = _Gate(TASKS)

    async def request(i: int) -> tuple[str, str | None]:
        alias = ("drop_a", "drop_b", "default")[i % 3]
        if alias == "default":
            await gate.wait()  # runs while every other task is inside its block
            await DropTenantNote(tenant=alias, n=i).save()
            return alias, None
        with switch_db(DropTenantNote, alias) as Note:
            await gate.wait()
            await Note(tenant=alias, n=i).save()
            seen = await Note.objects(n=i).first()
        return alias, seen.tenant

    results = await asyncio.gather(*(request(i) for i in range(TASKS)))
    assert all(seen in (None, alias) for alias, seen in results)
    for alias in ("drop_a", "drop_b"):
        with switch_db(DropTenantNote, alias):
            stored = {doc.n async for doc in DropTenantNote.objects}
        expected = {i for i in range(TASKS) if ("drop_a", "drop_b", "default")[i % 3] == alias}
        assert stored == expected
    assert {doc.tenant async for doc in DropTenantNote.objects} == {"default"}
    assert await DropTenantNote.objects.count() == len(range(2, TASKS, 3))


async def test_switch_collection_of_mongoengine_is_task_local_on_200_tasks(lane):
    gate = _Gate(TASKS)

    async def request(i: int) -> None:
        name = f"drop_notes_{i % 4}"
        with switch_collection(DropTenantNote, name) as Note:
            await gate.wait()
            await Note(tenant=name, n=i).save()

    await asyncio.gather(*(request(i) for i in range(TASKS)))
    for k in range(4):
        async with switch_collection(DropTenantNote, f"drop_notes_{k}"):
            tenants = {doc.tenant async for doc in DropTenantNote.objects}
            assert tenants == {f"drop_notes_{k}"}
            assert await DropTenantNote.objects.count() == TASKS // 4
    assert await DropTenantNote.objects.count() == 0


async def test_no_dereference_of_mongoengine_is_task_local_on_200_tasks(lane):
    author = await DropAuthor(name="ann").save()
    await DropPost(author=author, n=1).save()
    gate = _Gate(TASKS)

    async def request(i: int) -> bool:
        if i % 2:
            with no_dereference(DropPost):
                await gate.wait()
                post = await DropPost.objects.first()
                assert DropPost.author._auto_dereference is False
                return isinstance(post.author, (DBRef, ObjectId))
        await gate.wait()
        post = await DropPost.objects.first()
        assert DropPost.author._auto_dereference is True
        return (await post.author).name == "ann"

    assert all(await asyncio.gather(*(request(i) for i in range(TASKS))))


async def test_nested_no_dereference_of_mongoengine_stays_on_until_the_outer_block_ends(lane):
    author = await DropAuthor(name="ann").save()
    await DropPost(author=author, n=1).save()
    with no_dereference(DropPost):
        with no_dereference(DropPost):
            pass
        assert isinstance((await DropPost.objects.first()).author, (DBRef, ObjectId))
    assert (await (await DropPost.objects.first()).author).name == "ann"


async def test_no_sub_classes_of_mongoengine_is_task_local_on_200_tasks(lane):
    await DropAnimal(n=1).save()
    await DropDog(n=2).save()
    gate = _Gate(TASKS)

    async def request(i: int) -> int:
        if i % 2:
            with no_sub_classes(DropAnimal):
                await gate.wait()
                return await DropAnimal.objects.count()
        await gate.wait()
        return await DropAnimal.objects.count()

    counts = await asyncio.gather(*(request(i) for i in range(TASKS)))
    assert counts == [1 if i % 2 else 2 for i in range(TASKS)]
    assert DropAnimal._subclasses == ("DropAnimal", "DropAnimal.DropDog")


async def test_query_counter_of_mongoengine_counts_only_its_task_on_200_tasks(lane):
    await DropTenantNote(n=0).save()
    gate = _Gate(TASKS)

    async def request(i: int) -> int:
        with query_counter() as q:
            await gate.wait()
            for _ in range(i % 5):
                await DropTenantNote.objects.count()
            return int(q)

    counts = await asyncio.gather(*(request(i) for i in range(TASKS)))
    assert counts == [i % 5 for i in range(TASKS)]


async def test_query_counter_of_mongoengine_compares_like_an_int_and_works_with_async_with(lane):
    async with query_counter() as q:
        assert q == 0
        await DropTenantNote(n=1).save()
        await DropTenantNote.objects.first()
        assert q == 2 and q < 3 and q >= 2 and repr(q) == "2"


async def test_switch_db_of_mongoengine_reaches_code_run_in_the_bridge(lane):
    lane.connect("drop_a")

    def sync_port():
        with switch_db(DropTenantNote, "drop_a") as Note:
            Note(tenant="bridge", n=1).save()
            return Note.objects.count()

    assert await run_sync(sync_port) == 1
    assert await DropTenantNote.objects.count() == 0


async def test_document_switch_db_uses_the_alias_for_that_document_only(lane):
    lane.connect("drop_a")
    note = await DropTenantNote(tenant="default", n=1).save()
    note.switch_db("drop_a")
    await note.save(force_insert=True)  # a copy in drop_a
    other = await DropTenantNote(tenant="default", n=2).save()
    assert other.n == 2
    assert await DropTenantNote.objects.count() == 2
    with switch_db(DropTenantNote, "drop_a"):
        assert [d.n async for d in DropTenantNote.objects] == [1]


# -- plain sync MongoEngine, in threads ----------------------------------------------


class DropSyncNote(mongoengine.Document):
    tenant = mongoengine.StringField()
    n = mongoengine.IntField()
    meta = {"db_alias": "drop_sync", "indexes": ["n"]}


class DropSyncAnimal(mongoengine.Document):
    n = mongoengine.IntField()
    meta = {"db_alias": "drop_sync", "allow_inheritance": True}


class DropSyncDog(DropSyncAnimal):
    pass


THREADS = 16


def _connect_sync(lane, alias: str) -> None:
    """A plain MongoEngine connection (sync PyMongo, or mongomock) to the lane's server."""
    db = f"{lane.db_name}_{alias}"
    lane.databases.append(db)
    if lane.is_wire:
        mongoengine.connect(db, alias=alias, host=lane.server_uri, uuidRepresentation="standard")
    else:
        mongoengine.connect(db, alias=alias, host="mongodb://localhost",
                            mongo_client_class=mongomock.MongoClient,
                            uuidRepresentation="standard")


def _run_threads(target) -> list:
    barrier = threading.Barrier(THREADS)
    results: list = [None] * THREADS
    errors: list = []

    def run(i: int) -> None:
        try:
            results[i] = target(i, barrier)
        except BaseException as exc:  # reported below
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    return results


class DropBridgeGroup(mongoengine.Document):
    """A plain MongoEngine class on a mongomotor alias, used by sync code in the bridge."""

    name = mongoengine.StringField()
    meta = {"indexes": ["name"]}


async def test_plain_mongoengine_class_switches_in_the_bridge_as_mongoengine_does(lane):
    lane.connect("drop_a")

    def mongoengine_test():  # MongoEngine's own switch_db and switch_collection tests, in short
        DropBridgeGroup.drop_collection()
        DropBridgeGroup(name="default").save()
        with switch_db(DropBridgeGroup, "drop_a") as Group:
            assert Group.objects.count() == 0
            Group(name="a").save()
            assert Group.objects.count() == 1
            indexed = [list(spec["key"]) for spec in Group._get_collection().list_indexes()]
            Group.drop_collection()
            assert Group.objects.count() == 0
            Group(name="again").save()  # the dropped collection is made and indexed again
            reindexed = [list(spec["key"]) for spec in Group._get_collection().list_indexes()]
        with switch_collection(DropBridgeGroup, "drop_bridge_other") as Group:
            Group(name="other").save()
            assert [g.name for g in Group.objects] == ["other"]
        return [g.name for g in DropBridgeGroup.objects], indexed, reindexed

    names, indexed, reindexed = await run_sync(mongoengine_test)
    assert names == ["default"]
    assert ["name"] in indexed and ["name"] in reindexed


def test_plain_mongoengine_switch_db_and_switch_collection_are_thread_safe(lane):
    _connect_sync(lane, "drop_sync")
    _connect_sync(lane, "drop_sync_b")
    try:
        def work(i: int, barrier: threading.Barrier) -> None:
            if i % 2:
                with switch_db(DropSyncNote, "drop_sync_b") as Note:
                    barrier.wait(30)
                    Note(tenant="b", n=i).save()
            else:
                with switch_collection(DropSyncNote, "drop_sync_other") as Note:
                    barrier.wait(30)
                    Note(tenant="other", n=i).save()

        _run_threads(work)
        with switch_db(DropSyncNote, "drop_sync_b"):
            assert sorted(d.n for d in DropSyncNote.objects) == list(range(1, THREADS, 2))
            index_keys = [spec["key"] for spec in DropSyncNote._get_collection().list_indexes()]
            assert [("n", 1)] in [list(key.items()) for key in index_keys]
        with switch_collection(DropSyncNote, "drop_sync_other"):
            assert sorted(d.n for d in DropSyncNote.objects) == list(range(0, THREADS, 2))
        assert DropSyncNote.objects.count() == 0
    finally:
        mongoengine.disconnect("drop_sync")
        mongoengine.disconnect("drop_sync_b")


def test_plain_mongoengine_no_sub_classes_is_thread_safe(lane):
    _connect_sync(lane, "drop_sync")
    try:
        DropSyncAnimal(n=1).save()
        DropSyncDog(n=2).save()

        def work(i: int, barrier: threading.Barrier) -> int:
            if i % 2:
                with no_sub_classes(DropSyncAnimal):
                    barrier.wait(30)
                    return DropSyncAnimal.objects.count()
            barrier.wait(30)
            return DropSyncAnimal.objects.count()

        assert _run_threads(work) == [1 if i % 2 else 2 for i in range(THREADS)]
    finally:
        mongoengine.disconnect("drop_sync")


# -- from mongomotor import * ----------------------------------------------------------


def test_star_import_gives_every_name_of_mongoengine_preferring_mongomotors_versions():
    namespace: dict = {}
    exec("from mongomotor import *", namespace)
    import mongomotor.fields
    import mongomotor.odm.files.fields
    import mongomotor.odm.references.fields

    ours = {}
    for module in (mongomotor.fields, mongomotor.queryset, mongomotor.connection,
                   mongomotor.document, mongomotor.signals):
        for name in getattr(module, "__all__", ()):
            ours.setdefault(name, getattr(module, name))
    for name in mongoengine.__all__:
        assert name in namespace, name
        expected = ours.get(name, getattr(mongoengine, name))
        assert namespace[name] is expected, name
    # the ones that matter most, spelled out
    assert namespace["ReferenceField"] is mongomotor.odm.references.fields.ReferenceField
    assert namespace["FileField"] is mongomotor.odm.files.fields.FileField
    assert namespace["Document"] is mongomotor.Document
    assert namespace["QuerySetManager"] is mongomotor.queryset.QuerySetManager
    assert namespace["connect"] is mongomotor.connection.connect
    assert namespace["pre_save"] is mongoengine.signals.pre_save
    assert namespace["switch_db"] is mongomotor.context_managers.switch_db
    assert namespace["run_sync"] is mongomotor.run_sync


# -- awaitable methods are coroutine functions ---------------------------------------------


def test_awaitable_methods_are_coroutine_functions_to_inspect_and_asyncio(lane):
    note = DropTenantNote()
    for method in (note.save, DropTenantNote.save, note.delete, note.reload,
                   DropTenantNote.drop_collection, DropTenantNote.objects.count,
                   QuerySet.first, DropTenantNote.objects.get):
        assert inspect.iscoroutinefunction(method), method
        assert asyncio.iscoroutinefunction(method), method
    assert not inspect.iscoroutinefunction(DropTenantNote.objects.filter)
    assert list(inspect.signature(QuerySet.count).parameters) == ["self", "with_limit_and_skip"]
    assert list(inspect.signature(DropTenantNote.objects.count).parameters) == [
        "with_limit_and_skip"
    ]


async def test_a_call_never_awaited_warns_with_the_methods_name(lane):
    note = DropTenantNote(n=1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        note.save()  # forgotten await
        DropTenantNote.objects.count()
        gc.collect()
    messages = [str(w.message) for w in caught if w.category is RuntimeWarning]
    assert "coroutine 'Document.save' was never awaited" in messages
    assert any("count' was never awaited" in m and "run_sync" not in m for m in messages)
    assert await DropTenantNote.objects.count() == 0


async def test_awaitable_methods_are_plain_calls_inside_the_bridge(lane):
    def sync_code():
        note = DropTenantNote(n=5).save()
        return note.n, DropTenantNote.objects.count()

    assert await run_sync(sync_code) == (5, 1)


# -- blocking QuerySet dunders -----------------------------------------------------------


async def test_in_on_a_queryset_refuses_and_names_the_awaitable(lane):
    note = await DropTenantNote(n=1).save()
    with pytest.raises(TypeError, match=r"would block the event loop: use `await qs.filter"):
        note in DropTenantNote.objects  # noqa: B015
    assert await DropTenantNote.objects.filter(pk=note.pk).first() is not None


async def test_in_on_a_queryset_searches_as_mongoengine_inside_the_bridge(lane):
    note = await DropTenantNote(n=1).save()
    other = DropTenantNote(n=2)
    objects = DropTenantNote.objects
    found = await run_sync(lambda: (note in objects, other in objects))
    assert found == (True, False)


@pytest.mark.parametrize("blocking", [len, bool, iter, list, tuple])
async def test_blocking_queryset_dunders_refuse_with_the_awaitable(lane, blocking):
    with pytest.raises(TypeError, match=r"would block the event loop: use `(await|async for)"):
        blocking(DropTenantNote.objects)


EARLY_IMPORT_SCRIPT = """
import asyncio
from mongoengine.context_managers import no_dereference, switch_db   # before mongomotor

import mongomotor
from mongomotor import Document
from mongomotor.fields import ReferenceField, StringField


class Author(Document):
    name = StringField()


class Post(Document):
    author = ReferenceField(Author)


async def main():
    mongomotor.connect("early", host="mongomock://localhost", uuidRepresentation="standard")
    mongomotor.connect("early_b", alias="b", host="mongomock://localhost",
                       uuidRepresentation="standard")
    await Post(author=await Author(name="ann").save()).save()
    inside = asyncio.Event()
    release = asyncio.Event()

    async def switched():
        with switch_db(Author, "b"), no_dereference(Post):
            inside.set()
            await release.wait()
            return await Author.objects.count(), type((await Post.objects.first()).author).__name__

    async def plain():
        await inside.wait()
        try:
            return await Author.objects.count(), type((await Post.objects.first()).author).__name__
        finally:
            release.set()

    print(await asyncio.gather(switched(), plain()))


asyncio.run(main())
"""


def test_names_imported_from_mongoengine_before_mongomotor_are_task_local_too():
    done = subprocess.run([sys.executable, "-c", EARLY_IMPORT_SCRIPT], capture_output=True,
                          text=True, env=dict(os.environ, PYTHONPATH=str(ROOT)), timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[(0, 'DBRef'), (1, 'AwaitableReference')]"
