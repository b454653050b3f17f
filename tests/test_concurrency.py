"""Many tasks at once: concurrent saves, concurrent first use of a class."""

from __future__ import annotations

import asyncio

from mongoengine.errors import NotUniqueError

from mongomotor import Document
from mongomotor.context_managers import query_counter
from mongomotor.fields import IntField, StringField


class ConcRow(Document):
    n = IntField()


class ConcAccount(Document):
    email = StringField(required=True)
    meta = {"indexes": [{"fields": ["email"], "unique": True}]}


async def test_200_concurrent_saves_are_all_read_back(lane):
    rows = await asyncio.gather(*(ConcRow(n=i).save() for i in range(200)))
    assert len({row.id for row in rows}) == 200
    assert await ConcRow.objects.count() == 200
    back = await ConcRow.objects.order_by("n").scalar("n").to_list(None)
    assert back == list(range(200))


async def test_concurrent_reads_and_writes_interleave(lane):
    await ConcRow.objects.insert([ConcRow(n=i) for i in range(20)])

    async def bump(i):
        await ConcRow.objects(n=i).update_one(inc__n=1000)
        return await ConcRow.objects(n=i + 1000).count()

    assert await asyncio.gather(*(bump(i) for i in range(20))) == [1] * 20


async def test_concurrent_first_use_creates_the_unique_index_once(lane):
    with query_counter() as q:
        await asyncio.gather(*(ConcAccount(email=f"u{i}@x.org").save() for i in range(30)))
    assert q.operations.count("create_index") == 1
    assert q.operations.count("insert_one") == 30
    assert await ConcAccount.objects.count() == 30
    # and the index is there: the same email in many tasks is saved once
    results = await asyncio.gather(
        *(ConcAccount(email="same@x.org").save() for _ in range(10)), return_exceptions=True
    )
    assert sum(isinstance(r, ConcAccount) for r in results) == 1
    assert all(isinstance(r, NotUniqueError) for r in results if not isinstance(r, ConcAccount))
    assert await ConcAccount.objects(email="same@x.org").count() == 1


async def test_concurrent_first_use_through_different_entry_points(lane):
    with query_counter() as q:
        await asyncio.gather(
            ConcAccount.objects.count(),
            ConcAccount(email="a@x.org").save(),
            ConcAccount.objects(email="a@x.org").first(),
            ConcAccount.objects.to_list(None),
        )
    assert q.operations.count("create_index") == 1
    second = ConcAccount(email="a@x.org")
    try:
        await second.save()
    except NotUniqueError:
        pass
    else:
        raise AssertionError("the unique index created on first use was not enforced")
