"""Batched reference loads merge only within one context: session, database, collection."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from bson import ObjectId
from pymongo import monitoring

import mongomotor
from mongomotor import Document, run_in_transaction, signals, start_session
from mongomotor.context_managers import query_counter, switch_collection, switch_db
from mongomotor.fields import ReferenceField, StringField


class CtxUser(Document):
    name = StringField()


class CtxPost(Document):
    title = StringField()
    author = ReferenceField(CtxUser)


class _Finds(monitoring.CommandListener):
    """The (collection, lsid) of every ``find`` sent."""

    def __init__(self) -> None:
        self.finds: list[tuple[str, Any]] = []

    def started(self, event):  # type: ignore[override]
        if event.command_name == "find":
            self.finds.append((event.command["find"], event.command.get("lsid")))

    def succeeded(self, event):  # type: ignore[override]
        pass

    def failed(self, event):  # type: ignore[override]
        pass


async def _posts(n: int) -> list[CtxPost]:
    for i in range(n):
        user = await CtxUser(name=f"u{i}").save()
        await CtxPost(title=f"p{i}", author=user).save()
    return await CtxPost.objects.order_by("title").to_list(None)


async def _in_one_tick(*jobs: Callable[[Callable[[], Awaitable[None]]], Awaitable[Any]]) -> list:
    """Run each job as a task; each calls ``ready()`` when set up, and all go on together.

    Releasing every task with one Event wakes them in the same loop iteration,
    so the reference loads they start next are asked for in one batch window.
    """
    go = asyncio.Event()
    arrived = 0

    async def ready() -> None:
        nonlocal arrived
        arrived += 1
        await go.wait()

    tasks = [asyncio.create_task(job(ready)) for job in jobs]
    while arrived < len(jobs):
        await asyncio.sleep(0)
    go.set()
    return await asyncio.gather(*tasks)


def _all_arrive(n: int) -> Callable[[], Awaitable[None]]:
    """An ``await hold()`` that returns once ``n`` tasks have called it."""
    arrived, everyone = 0, asyncio.Event()

    async def hold() -> None:
        nonlocal arrived
        arrived += 1
        if arrived == n:
            everyone.set()
        await everyone.wait()

    return hold


@pytest.mark.requires("sessions")
async def test_loads_in_different_sessions_are_separate_queries_each_in_its_session(lane):
    finds = _Finds()
    mongomotor.disconnect()
    lane.connect(event_listeners=[finds])
    first, second, third = await _posts(3)

    # Sessions stay open until every find is done: an ended session's id goes
    # back to the pool, where the next implicit session may take it.
    hold = _all_arrive(3)

    def in_session(post: CtxPost) -> Callable:
        async def job(ready: Callable) -> tuple[str, Any]:
            async with start_session() as session:
                lsid = session.session_id  # (the driver gives it an id on first use)
                await ready()
                name = (await post.author).name
                await hold()
                return name, lsid
        return job

    def outside(post: CtxPost) -> Callable:
        async def job(ready: Callable) -> tuple[str, Any]:
            await ready()
            name = (await post.author).name
            await hold()
            return name, None
        return job

    finds.finds.clear()
    results = await _in_one_tick(in_session(first), in_session(second), outside(third))
    assert [name for name, _ in results] == ["u0", "u1", "u2"]
    sent = [lsid for collection, lsid in finds.finds if collection == "ctx_user"]
    assert len(sent) == 3, finds.finds
    ours = [lsid for _, lsid in results[:2]]
    assert ours[0] != ours[1]
    assert sent.count(ours[0]) == 1 and sent.count(ours[1]) == 1
    assert sum(1 for lsid in sent if lsid not in ours) == 1  # the third: in no session of ours


@pytest.mark.requires("replica_set", "concurrent_transactions")
async def test_a_transaction_reads_its_own_write_and_a_task_outside_does_not(lane):
    ada_id = ObjectId()
    await CtxUser(name="someone").save()  # the collection exists before the transaction
    await CtxPost(title="p", author=ada_id).save()  # refers to a user not written yet
    inside_post = await CtxPost.objects.get(title="p")
    outside_post = await CtxPost.objects.get(title="p")
    hold = _all_arrive(2)  # the transaction stays open until both have read

    async def inside(ready: Callable) -> str:
        async with run_in_transaction():
            await CtxUser(id=ada_id, name="Ada").save()
            await ready()
            name = (await inside_post.author).name
            await hold()
            return name

    async def outside(ready: Callable) -> str:
        await ready()
        try:
            await outside_post.author
        except CtxUser.DoesNotExist:
            return "not committed yet"
        finally:
            await hold()
        return "read the transaction's write"

    assert await _in_one_tick(inside, outside) == ["Ada", "not committed yet"]


@pytest.mark.requires("sessions")
async def test_loads_in_one_session_still_share_one_query(lane):
    finds = _Finds()
    mongomotor.disconnect()
    lane.connect(event_listeners=[finds])
    posts = await _posts(50)
    finds.finds.clear()
    async with start_session() as session:
        lsid = session.session_id

        async def read(post: CtxPost) -> str:
            return (await post.author).name

        async with query_counter() as q:
            # Tasks started inside the block share its session.
            names = await asyncio.gather(*(asyncio.create_task(read(p)) for p in posts))
            assert q == 1
    assert sorted(names) == sorted(f"u{i}" for i in range(50))
    assert finds.finds == [("ctx_user", lsid)]


async def test_one_merged_query_is_counted_by_each_task_it_serves(lane):
    posts = await _posts(5)

    def counted(post: CtxPost) -> Callable:
        async def job(ready: Callable) -> int:
            async with query_counter() as mine:
                await ready()
                assert (await post.author).name == post.title.replace("p", "u")
                return int(mine)
        return job

    async with query_counter() as everything:
        counts = await _in_one_tick(*(counted(p) for p in posts))
        assert everything == 1  # merged: the same context
    assert counts == [1] * 5  # and each task's counter saw the query it waited for


async def test_a_switch_db_task_loads_from_the_switched_database(lane):
    lane.connect("archive")
    ada = await CtxUser(name="Ada").save()
    async with switch_db(CtxUser, "archive"):
        await CtxUser(id=ada.id, name="Ada (archived)").save()
    await CtxPost(title="p", author=ada).save()
    switched_post = await CtxPost.objects.first()
    plain_post = await CtxPost.objects.first()

    async def switched(ready: Callable) -> str:
        async with switch_db(CtxUser, "archive"):
            await ready()
            return (await switched_post.author).name

    async def plain(ready: Callable) -> str:
        await ready()
        return (await plain_post.author).name

    async with query_counter() as q:
        assert await _in_one_tick(switched, plain, plain) == ["Ada (archived)", "Ada", "Ada"]
        assert q == 2  # one per database


async def test_a_switch_collection_task_loads_from_the_switched_collection(lane):
    ada = await CtxUser(name="Ada").save()
    async with switch_collection(CtxUser, "ctx_user_old"):
        await CtxUser(id=ada.id, name="Ada (old)").save()
    await CtxPost(title="p", author=ada).save()

    async def switched(ready: Callable) -> str:
        async with switch_collection(CtxUser, "ctx_user_old"):
            post = await CtxPost.objects.first()
            await ready()
            return (await post.author).name

    async def plain(ready: Callable) -> str:
        post = await CtxPost.objects.first()
        await ready()
        return (await post.author).name

    async with query_counter() as q:
        assert await _in_one_tick(switched, plain) == ["Ada (old)", "Ada"]
        assert q == 4  # the two posts, then one load per collection


_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


async def test_documents_of_a_merged_query_are_built_in_their_askers_context(lane):
    # post_init receivers (logging, auditing) see the task that loads the document.
    posts = await _posts(2)
    seen: list[tuple[str, str]] = []

    def built(sender: type, document: CtxUser, **kwargs: Any) -> None:
        seen.append((document.name, _request_id.get()))

    def asking_as(request_id: str, post: CtxPost) -> Callable:
        async def job(ready: Callable) -> str:
            _request_id.set(request_id)
            await ready()
            return (await post.author).name
        return job

    with signals.post_init.connected_to(built, sender=CtxUser):
        async with query_counter() as q:
            names = await _in_one_tick(asking_as("r0", posts[0]), asking_as("r1", posts[1]))
            assert q == 1
    assert names == ["u0", "u1"]
    assert sorted(seen) == [("u0", "r0"), ("u1", "r1")]
