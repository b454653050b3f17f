"""Transactions on the in-memory driver: what mongomotor emulates over mongomock.

The behaviour every lane shares (commit, abort, retries, nesting) is in
test_transactions.py; these tests cover what only the in-memory emulation
promises: transactions take turns, and a rollback restores every collection.
"""

from __future__ import annotations

import asyncio

import pytest
from mongoengine.errors import NotUniqueError

import mongomotor
from mongomotor import Document, run_in_transaction, start_session, transactional
from mongomotor.fields import FileField, IntField, StringField

pytestmark = pytest.mark.parametrize("lane", ["memory"], indirect=True)


class MemAccount(Document):
    name = StringField(required=True)
    balance = IntField(default=0)


class MemAudit(Document):
    line = StringField()


class MemUnique(Document):
    code = StringField(unique=True)


class MemFile(Document):
    name = StringField()
    data = FileField()


async def accounts() -> list[tuple[str, int]]:
    return sorted((a.name, a.balance) for a in await MemAccount.objects.to_list(None))


async def step() -> None:
    """Let every ready task run until it blocks (no timing involved)."""
    for _ in range(20):
        await asyncio.sleep(0)


async def test_rollback_restores_every_collection_written_gridfs_included(lane):
    await MemAccount(name="seed", balance=5).save()
    kept = MemFile(name="kept")
    await kept.data.put(b"old bytes", filename="kept.txt")
    await kept.save()
    db = mongomotor.get_db()
    with pytest.raises(LookupError):
        async with run_in_transaction():
            await MemAccount.objects(name="seed").update(inc__balance=10, set__name="changed")
            await MemAccount(name="new").save()
            await MemAudit(line="written in the transaction").save()
            added = MemFile(name="added")
            await added.data.put(b"x" * 600_000, filename="big.bin")  # several chunks
            await added.save()
            await kept.data.delete()
            raise LookupError("roll back")
    assert await accounts() == [("seed", 5)]
    assert await MemAudit.objects.count() == 0
    assert [f.name for f in await MemFile.objects.to_list(None)] == ["kept"]
    assert await db["fs.files"].count_documents({}) == 1
    assert await db["fs.chunks"].count_documents({}) == 1
    again = await MemFile.objects.get(name="kept")
    assert await again.data.read() == b"old bytes"


async def test_committed_writes_stay_gridfs_included(lane):
    async with run_in_transaction():
        doc = MemFile(name="committed")
        await doc.data.put(b"payload", filename="p.txt")
        await doc.save()
        await MemAccount(name="a", balance=1).save()
    loaded = await MemFile.objects.get(name="committed")
    assert await loaded.data.read() == b"payload"
    assert await accounts() == [("a", 1)]


async def test_transactions_on_one_client_take_turns(lane):
    await MemAccount(name="seed").save()
    order: list[str] = []
    first_inside, release_first = asyncio.Event(), asyncio.Event()

    async def first() -> None:
        async with run_in_transaction():
            order.append("first in")
            await MemAccount(name="uncommitted").save()
            first_inside.set()
            await release_first.wait()
            order.append("first out")
            raise LookupError("abort")

    @transactional()
    async def second() -> int:
        order.append("second in")
        return await MemAccount.objects.count()

    one = asyncio.create_task(first())
    await first_inside.wait()
    two = asyncio.create_task(second())
    await step()
    assert order == ["first in"]  # the second transaction waits for the first
    release_first.set()
    with pytest.raises(LookupError):
        await one
    assert await two == 1  # it never saw the aborted write
    assert order == ["first in", "first out", "second in"]


async def test_other_tasks_wait_rather_than_see_uncommitted_writes(lane):
    await MemAccount(name="seed").save()
    inside, release = asyncio.Event(), asyncio.Event()

    async def writer() -> None:
        async with run_in_transaction():
            await MemAccount(name="pending").save()
            inside.set()
            await release.wait()

    async def reader() -> list[str]:
        return sorted(a.name for a in await MemAccount.objects.to_list(None))

    writing = asyncio.create_task(writer())
    await inside.wait()
    reading = asyncio.create_task(reader())
    await step()
    assert not reading.done()  # no task reads while the transaction runs
    release.set()
    await writing
    assert await reading == ["pending", "seed"]


async def test_tasks_started_inside_the_transaction_join_it(lane):
    async with run_in_transaction():
        await MemAccount(name="a").save()
        counts = await asyncio.gather(MemAccount.objects.count(), MemAccount.objects.count())
    assert counts == [1, 1]


async def test_a_cancelled_transaction_rolls_back_and_frees_the_client(lane):
    await MemAccount(name="seed").save()
    inside = asyncio.Event()

    async def stuck() -> None:
        async with run_in_transaction():
            await MemAccount.objects(name="seed").update(set__balance=99)
            inside.set()
            await asyncio.Event().wait()

    task = asyncio.create_task(stuck())
    await inside.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await accounts() == [("seed", 0)]
    async with run_in_transaction():  # the client is free again
        await MemAccount(name="after").save()
    assert await accounts() == [("after", 0), ("seed", 0)]


async def test_indexes_made_by_a_first_use_inside_an_aborted_transaction_stay(lane):
    with pytest.raises(LookupError):
        async with run_in_transaction():
            await MemUnique(code="a").save()  # first use: creates the unique index
            raise LookupError("abort")
    await MemUnique(code="b").save()
    with pytest.raises(NotUniqueError):
        await MemUnique(code="b").save()


async def test_session_api_of_the_in_memory_driver(lane):
    async with start_session() as session:
        assert not session.in_transaction
        async with run_in_transaction() as same:
            assert same is session and session.in_transaction
            await MemAccount(name="s").save()
        assert not session.in_transaction
    assert session.has_ended
    assert await accounts() == [("s", 0)]

