"""Awaitable QuerySet and QuerySetNoCache methods and every chainable, on every lane."""

from __future__ import annotations

import pytest
from bson import ObjectId
from mongoengine.errors import DoesNotExist, MultipleObjectsReturned, OperationError
from pymongo import ReadPreference

from mongomotor import Document, QuerySet, QuerySetNoCache
from mongomotor.document import EmbeddedDocument
from mongomotor.fields import (
    EmbeddedDocumentField,
    FloatField,
    IntField,
    ListField,
    StringField,
)
from mongomotor.odm.querying.cursor import AsyncCursor


class QsGrade(EmbeddedDocument):
    subject = StringField()
    score = IntField()


class QsItem(Document):
    name = StringField()
    n = IntField()
    price = FloatField()
    tags = ListField(StringField())
    grades = ListField(EmbeddedDocumentField(QsGrade))
    meta = {"indexes": ["n"]}


class QsText(Document):
    """Apart from QsItem: a server without text indexes refuses the whole class's indexes."""

    name = StringField()
    meta = {"indexes": [{"fields": ["$name"], "default_language": "english"}]}


class QsBase(Document):
    name = StringField()
    meta = {"allow_inheritance": True}


class QsChild(QsBase):
    extra = IntField()


async def make_items(count: int = 10) -> list[QsItem]:
    docs = [
        QsItem(name=f"item{i:02d}", n=i, price=i * 1.5, tags=["even" if i % 2 == 0 else "odd"])
        for i in range(count)
    ]
    return await QsItem.objects.insert(docs)


# -- reading -------------------------------------------------------------------------


async def test_to_list_caps_at_100_by_default(lane):
    await make_items(105)
    assert len(await QsItem.objects.to_list()) == 100
    assert len(await QsItem.objects.to_list(None)) == 105
    assert [d.n for d in await QsItem.objects.order_by("n").to_list(3)] == [0, 1, 2]
    assert await QsItem.objects(n=-1).to_list() == []


async def test_first(lane):
    assert await QsItem.objects.first() is None
    await make_items(3)
    assert (await QsItem.objects.order_by("-n").first()).n == 2


async def test_get_and_its_errors(lane):
    await make_items(3)
    assert (await QsItem.objects.get(n=1)).name == "item01"
    assert (await QsItem.objects(n=1).get()).name == "item01"
    with pytest.raises(QsItem.DoesNotExist):
        await QsItem.objects.get(n=99)
    with pytest.raises(DoesNotExist):
        await QsItem.objects.get(n=99)
    with pytest.raises(QsItem.MultipleObjectsReturned):
        await QsItem.objects.get(n__gte=1)
    with pytest.raises(MultipleObjectsReturned):
        await QsItem.objects.get()


async def test_count_takes_limit_and_skip_into_account_by_default(lane):
    await make_items(10)
    assert await QsItem.objects.count() == 10
    assert await QsItem.objects(n__gte=5).count() == 5
    assert await QsItem.objects.skip(2).limit(3).count() == 3
    assert await QsItem.objects.skip(2).limit(3).count(with_limit_and_skip=False) == 10


async def test_with_id_and_in_bulk(lane):
    items = await make_items(4)
    assert (await QsItem.objects.with_id(items[2].id)).n == 2
    assert await QsItem.objects.with_id(ObjectId()) is None
    bulk = await QsItem.objects.in_bulk([items[0].id, items[3].id])
    assert {k: v.n for k, v in bulk.items()} == {items[0].id: 0, items[3].id: 3}


async def test_distinct_without_a_filter(lane):
    await make_items(6)
    assert sorted(await QsItem.objects.distinct("tags")) == ["even", "odd"]


async def test_distinct_with_a_filter(lane):
    lane.require("distinct")
    await make_items(6)
    assert sorted(await QsItem.objects(n__in=[1, 3]).distinct("name")) == ["item01", "item03"]


@pytest.mark.requires("group_after_unwind")
async def test_aggregate_gives_an_async_cursor(lane):
    await make_items(6)
    pipeline = [
        {"$unwind": "$tags"},
        {"$group": {"_id": "$tags", "total": {"$sum": "$n"}}},
        {"$sort": {"total": 1}},
    ]
    cursor = await QsItem.objects.aggregate(pipeline)
    assert isinstance(cursor, AsyncCursor)
    rows = [row async for row in cursor]
    assert [(r["_id"], r["total"]) for r in rows] == [("even", 6), ("odd", 9)]
    cursor = await QsItem.objects(n__lt=3).aggregate([{"$project": {"n": 1, "_id": 0}}])
    assert sorted(r["n"] for r in await cursor.to_list(None)) == [0, 1, 2]


@pytest.mark.requires("group_average")
async def test_sum_and_average(lane):
    await make_items(5)
    assert await QsItem.objects.sum("n") == 10
    assert await QsItem.objects(n__gte=3).average("n") == 3.5
    assert await QsItem.objects.sum("price") == pytest.approx(15.0)


@pytest.mark.requires("if_null")
async def test_item_frequencies(lane):
    await QsItem(name="a", tags=["x", "y"]).save()
    await QsItem(name="b", tags=["x"]).save()
    await QsItem(name="b", tags=[]).save()
    await QsItem(tags=["y"]).save()
    assert await QsItem.objects.item_frequencies("tags") == {"x": 2, "y": 2}
    assert await QsItem.objects.item_frequencies("tags", normalize=True) == {
        "x": pytest.approx(0.5), "y": pytest.approx(0.5)
    }
    assert await QsItem.objects.item_frequencies("name") == {"a": 1, "b": 2, None: 1}
    assert await QsItem.objects(name="b").item_frequencies("name") == {"b": 2}


async def test_explain(lane):
    lane.require("explain")
    await make_items(2)
    plan = await QsItem.objects(n=1).explain()
    assert isinstance(plan, dict) and plan


async def test_map_reduce(lane):
    lane.require("map_reduce")
    await make_items(4)
    results = await QsItem.objects(n__lt=3).map_reduce(
        "function () { emit(this.tags[0], this.n); }",
        "function (key, values) { return Array.sum(values); }",
        "inline",
    )
    assert {r.key: r.value for r in results} == {"even": 2, "odd": 1}
    first = next(r for r in results if r.key == "even")
    assert first.value == 2


# -- writing -------------------------------------------------------------------------


async def test_insert_one_or_many(lane):
    one = await QsItem.objects.insert(QsItem(name="solo"))
    assert isinstance(one, QsItem) and one.id is not None
    ids = await QsItem.objects.insert([QsItem(name="a"), QsItem(name="b")], load_bulk=False)
    assert all(isinstance(i, ObjectId) for i in ids)
    assert await QsItem.objects.count() == 3
    with pytest.raises(OperationError):
        await QsItem.objects.insert(one)  # already saved: MongoEngine refuses


async def test_update_update_one_upsert_one(lane):
    await make_items(4)
    assert await QsItem.objects(n__gte=2).update(inc__n=10) == 2
    assert sorted(await QsItem.objects.scalar("n").to_list(None)) == [0, 1, 12, 13]
    assert await QsItem.objects(n__lt=2).update_one(set__name="one") == 1
    assert await QsItem.objects(name="one").count() == 1
    result = await QsItem.objects(n=50).update(set__name="up", upsert=True, full_result=True)
    assert result.upserted_id is not None
    doc = await QsItem.objects(name="upsert-one").upsert_one(set__n=77)
    assert isinstance(doc, QsItem) and doc.n == 77
    again = await QsItem.objects(name="upsert-one").upsert_one(set__n=78)
    assert again.id == doc.id and again.n == 78
    assert await QsItem.objects(name="upsert-one").count() == 1


async def test_modify(lane):
    await make_items(2)
    old = await QsItem.objects(n=1).modify(set__name="changed")
    assert old.name == "item01"
    new = await QsItem.objects(n=1).modify(inc__n=5, new=True)
    assert (new.name, new.n) == ("changed", 6)
    assert await QsItem.objects(n=99).modify(set__name="x") is None
    made = await QsItem.objects(n=99).modify(set__name="made", upsert=True, new=True)
    assert (made.n, made.name) == (99, "made")
    removed = await QsItem.objects(n=99).modify(remove=True)
    assert removed.name == "made"
    assert await QsItem.objects(n=99).count() == 0


async def test_modify_with_array_filters(lane):
    lane.require("array_filters")
    await QsItem(name="g", tags=["odd", "even", "odd"]).save()
    doc = await QsItem.objects(name="g").modify(
        __raw__={"$set": {"tags.$[t]": "ODD"}}, array_filters=[{"t": "odd"}], new=True
    )
    assert doc.tags == ["ODD", "even", "ODD"]


async def test_delete_returns_the_number_deleted(lane):
    await make_items(5)
    assert await QsItem.objects(n__lt=2).delete() == 2
    assert await QsItem.objects.count() == 3
    assert await QsItem.objects(n=100).delete() == 0


# -- indexing, slicing, caching ----------------------------------------------------------


async def test_index_and_slice(lane):
    await make_items(6)
    qs = QsItem.objects.order_by("n")
    assert (await qs[3]).n == 3
    part = qs[2:5]
    assert isinstance(part, QuerySet)
    assert [d.n for d in await part.to_list(None)] == [2, 3, 4]
    with pytest.raises(IndexError):
        await qs[10]


async def test_no_cache_and_cache(lane):
    await make_items(3)
    no_cache = QsItem.objects.order_by("n").no_cache()
    assert isinstance(no_cache, QuerySetNoCache)
    assert [d.n async for d in no_cache] == [0, 1, 2]
    assert [d.n async for d in no_cache] == [0, 1, 2]
    cached = no_cache.cache()
    assert isinstance(cached, QuerySet) and not isinstance(cached, QuerySetNoCache)
    assert await cached.count() == 3


# -- chainables ---------------------------------------------------------------------------


async def test_filter_order_by_limit_skip_all_clone(lane):
    await make_items(10)
    qs = QsItem.objects.filter(n__gte=2).filter(n__lt=8).order_by("-n").skip(1).limit(3)
    assert [d.n for d in await qs.to_list(None)] == [6, 5, 4]
    twin = qs.clone()
    assert twin is not qs and [d.n for d in await twin.to_list(None)] == [6, 5, 4]
    assert await QsItem.objects.all().count() == 10
    assert await QsItem.objects.none().to_list(None) == []
    assert await QsItem.objects.none().count() == 0


async def test_only_exclude_fields(lane):
    await make_items(1)
    only = await QsItem.objects.only("name").first()
    assert (only.name, only.n) == ("item00", None)
    excluded = await QsItem.objects.exclude("name").first()
    assert (excluded.name, excluded.n) == (None, 0)
    fields = await QsItem.objects.fields(n=1).first()
    assert (fields.name, fields.n) == (None, 0)


async def test_as_pymongo_scalar_values_list(lane):
    await make_items(3)
    raw = await QsItem.objects.order_by("n").as_pymongo().only("n").to_list(None)
    assert [r["n"] for r in raw] == [0, 1, 2] and all(isinstance(r, dict) for r in raw)
    assert await QsItem.objects.order_by("n").scalar("n").to_list(None) == [0, 1, 2]
    pairs = await QsItem.objects.order_by("n").values_list("n", "name").to_list(None)
    assert pairs == [(0, "item00"), (1, "item01"), (2, "item02")]


@pytest.mark.requires("no_cursor_timeout")  # timeout(False)
async def test_options_that_travel_with_the_query(lane):
    await make_items(5)
    qs = (
        QsItem.objects(n__gte=1)
        .order_by("n")
        .hint([("n", 1)])
        .batch_size(2)
        .timeout(False)
        .max_time_ms(5000)
        .comment("mongomotor test")
        .read_preference(ReadPreference.PRIMARY)
        .read_concern({"level": "local"})
        .allow_disk_use(True)
    )
    assert [d.n for d in await qs.to_list(None)] == [1, 2, 3, 4]
    assert (await qs.first()).n == 1


async def test_no_sub_classes(lane):
    await QsBase(name="base").save()
    await QsChild(name="child", extra=1).save()
    assert await QsBase.objects.count() == 2
    names = await QsBase.objects.no_sub_classes().scalar("name").to_list(None)
    assert names == ["base"]


async def test_collation(lane):
    lane.require("collation")
    await QsItem(name="Abc").save()
    await QsItem(name="abc").save()
    qs = QsItem.objects(name="abc").collation({"locale": "en", "strength": 2})
    assert await qs.count() == 2


async def test_search_text(lane):
    lane.require("text_search")
    hello = await QsText(name="hello brave world").save()
    await QsText(name="goodbye moon").save()
    found = await QsText.objects.search_text("world").to_list(None)
    assert [d.id for d in found] == [hello.id]
    assert found[0].get_text_score() > 0


async def test_where(lane):
    lane.require("javascript")
    await make_items(4)
    # (MongoDB refuses $where in count(): count_documents runs it in $match)
    found = await QsItem.objects.where("this.n > 1").order_by("n").to_list(None)
    assert [d.n for d in found] == [2, 3]
