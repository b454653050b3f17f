"""Every MongoEngine 0.29 field, as a MongoEngine user would use it, on every lane.

For each field family: save, read back through a fresh query, query on it,
validation errors (raised by ``await doc.save()``, nothing written, the object
keeps what the user set), ``required`` and defaults. Reference fields and file
fields have their own files (test_references.py, test_gridfs.py).
"""

from __future__ import annotations

import asyncio
import datetime
import enum
import inspect
import json
import uuid
from decimal import ROUND_DOWN, Decimal

import pytest
from bson import Binary, Decimal128, ObjectId, json_util
from mongoengine.errors import DoesNotExist, MultipleObjectsReturned, ValidationError

import mongomotor
from mongomotor import Document, DynamicDocument, DynamicEmbeddedDocument, EmbeddedDocument
from mongomotor.context_managers import query_counter
from mongomotor.fields import (
    BinaryField,
    BooleanField,
    ComplexDateTimeField,
    DateField,
    DateTimeField,
    Decimal128Field,
    DecimalField,
    DictField,
    DynamicField,
    EmailField,
    EmbeddedDocumentField,
    EmbeddedDocumentListField,
    EnumField,
    FloatField,
    GenericEmbeddedDocumentField,
    GeoPointField,
    IntField,
    LineStringField,
    ListField,
    LongField,
    MapField,
    MultiLineStringField,
    MultiPointField,
    MultiPolygonField,
    ObjectIdField,
    PointField,
    PolygonField,
    SequenceField,
    SortedListField,
    StringField,
    URLField,
    UUIDField,
)


async def raw_db_call(result):
    """Driver calls are awaitable on the wire lanes and plain on the memory lane."""
    return await result if inspect.isawaitable(result) else result


async def raw_find_one(cls, query, collection=None):
    name = collection or cls._get_collection_name()
    return await raw_db_call(mongomotor.get_db()[name].find_one(query))


async def ids(queryset):
    return sorted([doc.id async for doc in queryset])


async def assert_rejected(doc_cls, valid: dict, field: str, value):
    """``field=value`` fails validation on save, for a stored and for a new document.

    The error names the field; the database is untouched; the object keeps
    what the user set, so it can be fixed and saved again.
    """
    stored = await doc_cls(**valid).save()
    before = await raw_find_one(doc_cls, {"_id": stored.id})
    setattr(stored, field, value)
    with pytest.raises(ValidationError) as info:
        await stored.save()
    assert field in info.value.errors, info.value.errors
    assert await raw_find_one(doc_cls, {"_id": stored.id}) == before
    assert getattr(stored, field) == value

    new = doc_cls(**valid)
    setattr(new, field, value)  # the constructor may convert values (bool("yes"))
    with pytest.raises(ValidationError) as info:
        await new.save()
    assert field in info.value.errors, info.value.errors
    assert new.id is None
    assert await doc_cls.objects.count() == 1


# -- strings: StringField, URLField, EmailField --------------------------------------


class FldText(Document):
    code = StringField(regex=r"^[A-Z]{2}\d+$")
    name = StringField(min_length=2, max_length=10)
    size = StringField(choices=("S", "M", "L"))
    colour = StringField(choices=(("r", "Red"), ("g", "Green")))
    site = URLField()
    email = EmailField()


async def test_strings_round_trip_and_query(lane):
    ann = await FldText(
        code="AB12", name="Ann", size="M", colour="g",
        site="https://example.org/a?b=1", email="ann@example.org",
    ).save()  # fmt: skip
    bob = await FldText(code="CD3", name="Bob", size="L", email="bob@example.com").save()

    again = await FldText.objects.get(id=ann.id)
    assert (again.code, again.name, again.size, again.colour) == ("AB12", "Ann", "M", "g")
    assert (again.site, again.email) == ("https://example.org/a?b=1", "ann@example.org")
    assert again.get_colour_display() == "Green"

    assert await ids(FldText.objects(size="L")) == [bob.id]
    assert await ids(FldText.objects(name__in=["Ann", "Zed"])) == [ann.id]
    assert await ids(FldText.objects(name__ne="Ann")) == [bob.id]
    assert await ids(FldText.objects(site__exists=False)) == [bob.id]
    assert await ids(FldText.objects(email="bob@example.com")) == [bob.id]
    raw = {"name": {"$regex": "^a", "$options": "i"}}
    assert await ids(FldText.objects(__raw__=raw)) == [ann.id]


@pytest.mark.requires("regex_objects")
async def test_string_pattern_queries(lane):
    ann = await FldText(name="Ann", code="AB12", email="ann@example.ORG").save()
    await FldText(name="Bob", code="CD3").save()
    assert await ids(FldText.objects(name__startswith="An")) == [ann.id]
    assert await ids(FldText.objects(name__icontains="NN")) == [ann.id]
    assert await ids(FldText.objects(name__iexact="ann")) == [ann.id]
    assert await ids(FldText.objects(email__iendswith=".org")) == [ann.id]
    assert await ids(FldText.objects(code__regex=r"^AB\d")) == [ann.id]


@pytest.mark.parametrize(
    "field, value",
    [
        ("code", "ab12"),  # regex
        ("name", "A"),  # min_length
        ("name", "x" * 11),  # max_length
        ("name", 42),  # not a string
        ("size", "XL"),  # choices
        ("colour", "Red"),  # choices give the stored value, not the label
        ("site", "not a url"),
        ("email", "ann@"),
    ],
)
async def test_string_validation(lane, field, value):
    await assert_rejected(FldText, {"name": "Ann"}, field, value)


# -- numbers: IntField, LongField, FloatField, DecimalField, Decimal128Field, BooleanField


class FldNumber(Document):
    count = IntField(min_value=0, max_value=100)
    big = LongField()
    ratio = FloatField(min_value=0.0, max_value=1.0)
    price = DecimalField(precision=2, min_value=0)
    cut = DecimalField(precision=1, rounding=ROUND_DOWN)
    text_price = DecimalField(force_string=True)
    flag = BooleanField()


class FldMoney(Document):
    amount = Decimal128Field(min_value=0)


async def test_numbers_round_trip_and_query(lane):
    one = await FldNumber(
        count=7, big=2**40, ratio=0.25, price=Decimal("9.995"), cut=Decimal("1.99"),
        text_price=Decimal("3.14159"), flag=False,
    ).save()  # fmt: skip
    two = await FldNumber(count=50, big=1, ratio=0.75, price=Decimal("2"), flag=True).save()

    again = await FldNumber.objects.get(id=one.id)
    assert (again.count, again.big, again.ratio, again.flag) == (7, 2**40, 0.25, False)
    assert again.price == Decimal("10.00")  # precision 2, rounded half up
    assert again.cut == Decimal("1.9")  # rounding=ROUND_DOWN
    assert again.text_price == Decimal("3.14")
    raw = await raw_find_one(FldNumber, {"_id": one.id})
    assert raw["price"] == 10.0 and isinstance(raw["price"], float)  # floats by default
    assert raw["text_price"] == "3.14"  # force_string

    assert await ids(FldNumber.objects(count__gte=10)) == [two.id]
    assert await ids(FldNumber.objects(count__in=[7, 8])) == [one.id]
    assert await ids(FldNumber.objects(big=2**40)) == [one.id]
    assert await ids(FldNumber.objects(ratio__lt=0.5)) == [one.id]
    assert await ids(FldNumber.objects(price__gt=Decimal("5"))) == [one.id]
    assert await ids(FldNumber.objects(flag=False)) == [one.id]
    assert await ids(FldNumber.objects(flag=True)) == [two.id]

    await FldNumber.objects(id=one.id).update(inc__count=3, inc__price=Decimal("0.5"))
    again = await FldNumber.objects.get(id=one.id)
    assert (again.count, again.price) == (10, Decimal("10.50"))


@pytest.mark.parametrize(
    "field, value",
    [
        ("count", -1),
        ("count", 101),
        ("count", "seven"),
        ("big", "x"),
        ("ratio", 1.5),
        ("ratio", "half"),
        ("price", Decimal("-1")),
        ("price", "abc"),
        ("flag", "yes"),
    ],
)
async def test_number_validation(lane, field, value):
    await assert_rejected(FldNumber, {"count": 1}, field, value)


@pytest.mark.requires("decimal128")
async def test_decimal128_keeps_exact_decimals(lane):
    small = await FldMoney(amount=Decimal("1.10")).save()
    large = await FldMoney(amount=Decimal("12345678901234567890.000000001")).save()
    again = await FldMoney.objects.get(id=large.id)
    assert again.amount == Decimal("12345678901234567890.000000001")
    assert str((await FldMoney.objects.get(id=small.id)).amount) == "1.10"
    assert isinstance((await raw_find_one(FldMoney, {"_id": small.id}))["amount"], Decimal128)
    assert await ids(FldMoney.objects(amount=Decimal("1.10"))) == [small.id]
    await FldMoney.objects.delete()
    await assert_rejected(FldMoney, {"amount": Decimal(1)}, "amount", Decimal("-0.01"))


@pytest.mark.requires("decimal128", "decimal128_order")
async def test_decimal128_range_query(lane):
    await FldMoney(amount=Decimal("1.10")).save()
    large = await FldMoney(amount=Decimal("12345678901234567890.000000001")).save()
    assert await ids(FldMoney.objects(amount__gt=Decimal("2"))) == [large.id]


# -- dates: DateTimeField, DateField, ComplexDateTimeField ---------------------------


class FldDates(Document):
    at = DateTimeField()
    day = DateField()
    precise = ComplexDateTimeField()


async def test_dates_round_trip_and_query(lane):
    moment = datetime.datetime(2024, 5, 6, 7, 8, 9, 123456)
    first = await FldDates(at=moment, day=datetime.date(2024, 5, 6), precise=moment).save()
    later = moment + datetime.timedelta(microseconds=1)
    second = await FldDates(at="2024-06-01 10:00:00", precise=later).save()

    again = await FldDates.objects.get(id=first.id)
    assert again.at == moment.replace(microsecond=123000)  # BSON dates keep milliseconds
    assert again.day == datetime.date(2024, 5, 6) and type(again.day) is datetime.date
    assert again.precise == moment  # microseconds kept, stored as a sortable string
    assert (await FldDates.objects.get(id=second.id)).at == datetime.datetime(2024, 6, 1, 10)
    bad = FldDates(precise="not a date")  # MongoEngine cannot even read this one back
    with pytest.raises(ValidationError, match="precise"):
        await bad.save()
    assert bad.id is None and await FldDates.objects.count() == 2
    raw = await raw_find_one(FldDates, {"_id": first.id})
    assert raw["precise"] == "2024,05,06,07,08,09,123456"

    assert await ids(FldDates.objects(at__gte=datetime.datetime(2024, 6, 1))) == [second.id]
    assert await ids(FldDates.objects(day=datetime.date(2024, 5, 6))) == [first.id]
    assert await ids(FldDates.objects(precise__gt=moment)) == [second.id]
    newest = await FldDates.objects.order_by("-precise").first()
    assert newest.id == second.id


@pytest.mark.parametrize(
    "field, value", [("at", "not a date"), ("day", "someday"), ("day", 20240101)]
)
async def test_date_validation(lane, field, value):
    await assert_rejected(FldDates, {"at": datetime.datetime(2024, 1, 1)}, field, value)


# -- embedded: EmbeddedDocumentField, GenericEmbeddedDocumentField, DynamicField -----


class FldAddress(EmbeddedDocument):
    city = StringField(required=True)
    zip = StringField(max_length=5)


class FldNote(EmbeddedDocument):
    text = StringField()


class FldEmbeds(Document):
    home = EmbeddedDocumentField(FldAddress)
    attached = GenericEmbeddedDocumentField(choices=(FldAddress, FldNote))
    anything = DynamicField()


async def test_embedded_documents_round_trip_query_and_partial_update(lane):
    doc = await FldEmbeds(
        home=FldAddress(city="Oslo", zip="0150"), attached=FldNote(text="hi")
    ).save()
    await FldEmbeds(home=FldAddress(city="Rome"), attached=FldAddress(city="Pisa")).save()

    again = await FldEmbeds.objects.get(home__city="Oslo")
    assert (again.home.city, again.home.zip) == ("Oslo", "0150")
    assert isinstance(again.attached, FldNote) and again.attached.text == "hi"
    raw = await raw_find_one(FldEmbeds, {"_id": doc.id})
    assert raw["attached"] == {"_cls": "FldNote", "text": "hi"}
    assert "_cls" not in raw["home"]
    assert await FldEmbeds.objects(attached__city="Pisa").count() == 1

    again.home.city = "Bergen"
    await again.save()
    assert (await FldEmbeds.objects.get(id=doc.id)).home.city == "Bergen"


@pytest.mark.parametrize(
    "value",
    [
        7,
        "text",
        2.5,
        True,
        datetime.datetime(2024, 1, 2, 3, 4, 5),
        [1, "two", {"three": 3}],
        {"nested": {"list": [1, 2]}},
        FldAddress(city="Oslo"),
    ],
    ids=lambda v: type(v).__name__,
)
async def test_dynamic_field_keeps_any_value(lane, value):
    doc = await FldEmbeds(anything=value).save()
    again = await FldEmbeds.objects.get(id=doc.id)
    if isinstance(value, FldAddress):
        assert isinstance(again.anything, FldAddress) and again.anything.city == "Oslo"
        assert await FldEmbeds.objects(anything__city="Oslo").count() == 1
    else:
        assert again.anything == value
    if isinstance(value, (int, str)):
        assert await ids(FldEmbeds.objects(anything=value)) == [doc.id]


@pytest.mark.parametrize(
    "field, value",
    [
        ("home", FldAddress()),  # the embedded document's own required field
        ("home", FldAddress(city="Oslo", zip="123456")),  # and its max_length
        ("home", FldNote(text="wrong kind")),
        ("attached", "not a document"),
        ("attached", FldAddress()),
    ],
)
async def test_embedded_validation(lane, field, value):
    await assert_rejected(FldEmbeds, {"home": FldAddress(city="Oslo")}, field, value)


# -- lists and dicts: ListField, SortedListField, DictField, MapField ----------------


class FldLists(Document):
    tags = ListField(StringField(max_length=10))
    scores = SortedListField(IntField())
    ranked = SortedListField(EmbeddedDocumentField(FldNote), ordering="text", reverse=True)
    limited = ListField(IntField(), max_length=3)
    attrs = DictField()
    counts = MapField(IntField())


async def test_lists_and_dicts_round_trip_and_query(lane):
    doc = await FldLists(
        tags=["a", "b"], scores=[3, 1, 2], ranked=[FldNote(text="x"), FldNote(text="z")],
        attrs={"colour": "red", "size": {"w": 2}}, counts={"apples": 3, "pears": 1},
    ).save()  # fmt: skip
    other = await FldLists(tags=["b"], attrs={"colour": "blue"}, counts={"apples": 1}).save()

    again = await FldLists.objects.get(id=doc.id)
    assert again.tags == ["a", "b"]
    assert again.scores == [1, 2, 3]  # sorted on save
    assert [n.text for n in again.ranked] == ["z", "x"]
    assert again.attrs == {"colour": "red", "size": {"w": 2}}
    assert again.counts == {"apples": 3, "pears": 1}
    assert (await raw_find_one(FldLists, {"_id": doc.id}))["scores"] == [1, 2, 3]

    assert await ids(FldLists.objects(tags="a")) == [doc.id]
    assert await ids(FldLists.objects(tags__all=["a", "b"])) == [doc.id]
    assert await ids(FldLists.objects(tags__size=1)) == [other.id]
    assert await ids(FldLists.objects(attrs__colour="blue")) == [other.id]
    assert await ids(FldLists.objects(attrs__size__w=2)) == [doc.id]
    assert await ids(FldLists.objects(counts__apples__gt=2)) == [doc.id]


async def test_list_and_dict_changes_and_atomic_updates(lane):
    doc = await FldLists(tags=["a"], attrs={"k": 1}, counts={"n": 1}).save()
    doc.tags.append("b")
    doc.attrs["new"] = [1]
    doc.counts["m"] = 5
    await doc.save()
    again = await FldLists.objects.get(id=doc.id)
    assert (again.tags, again.attrs, again.counts) == (
        ["a", "b"], {"k": 1, "new": [1]}, {"n": 1, "m": 5},
    )  # fmt: skip

    await again.update(push__tags="c", inc__counts__n=2, set__attrs__k="one")
    await again.update(pull__tags="a")
    await again.reload()
    assert (again.tags, again.counts["n"], again.attrs["k"]) == (["b", "c"], 3, "one")


@pytest.mark.requires("array_index_paths")
async def test_changing_one_list_element_saves_it(lane):
    doc = await FldLists(tags=["a", "b"], ranked=[FldNote(text="x")]).save()
    doc.tags[1] = "B"
    doc.ranked[0].text = "y"
    await doc.save()
    again = await FldLists.objects.get(id=doc.id)
    assert again.tags == ["a", "B"] and again.ranked[0].text == "y"


@pytest.mark.parametrize(
    "field, value",
    [
        ("tags", ["x" * 11]),  # the item field's own max_length
        ("tags", "not a list"),
        ("scores", ["one"]),
        ("limited", [1, 2, 3, 4]),
        ("attrs", {1: "not a string key"}),
        ("attrs", {"$k": 1}),
        ("counts", {"apples": "three"}),
    ],
)
async def test_list_and_dict_validation(lane, field, value):
    await assert_rejected(FldLists, {"tags": ["ok"]}, field, value)


# -- EmbeddedDocumentListField -------------------------------------------------------


class FldLine(EmbeddedDocument):
    sku = StringField(required=True)
    qty = IntField(default=1)


class FldCart(Document):
    lines = EmbeddedDocumentListField(FldLine)


async def test_embedded_document_list_helpers_work_in_memory(lane):
    lines = [FldLine(sku="a"), FldLine(sku="b", qty=2), FldLine(sku="c")]
    await FldCart(lines=lines).save()
    cart = await FldCart.objects.first()
    with query_counter() as q:
        assert [line.sku for line in cart.lines.filter(qty=1)] == ["a", "c"]
        assert [line.sku for line in cart.lines.exclude(qty=1)] == ["b"]
        assert cart.lines.count() == 3 and cart.lines.filter(qty=1).count() == 2
        assert cart.lines.get(sku="b").qty == 2
        assert cart.lines.first().sku == "a"
        with pytest.raises(DoesNotExist):
            cart.lines.get(sku="zzz")
        with pytest.raises(MultipleObjectsReturned):
            cart.lines.get(qty=1)
        added = cart.lines.create(sku="d", qty=4)
        assert isinstance(added, FldLine) and cart.lines.count() == 4
        assert cart.lines.filter(sku="c").delete() == 1
    assert q == 0  # none of these touch the database...

    stored = await raw_find_one(FldCart, {"_id": cart.id})
    assert [line["sku"] for line in stored["lines"]] == ["a", "b", "c"]
    assert await cart.lines.save() is cart  # ...until the list is saved (the parent's save)
    again = await FldCart.objects.get(id=cart.id)
    assert [(line.sku, line.qty) for line in again.lines] == [("a", 1), ("b", 2), ("d", 4)]
    assert await ids(FldCart.objects(lines__sku="d")) == [cart.id]
    lane.require("elem_match_fields")
    assert await FldCart.objects(lines__match={"sku": "b", "qty": 2}).count() == 1
    assert await FldCart.objects(lines__match={"sku": "b", "qty": 1}).count() == 0


@pytest.mark.requires("array_index_paths")
async def test_embedded_document_list_update_then_save(lane):
    cart = await FldCart(lines=[FldLine(sku="a"), FldLine(sku="b")]).save()
    assert cart.lines.filter(sku="b").update(qty=9) == 1
    await cart.lines.filter(sku="b").save()
    assert [line.qty for line in (await FldCart.objects.get(id=cart.id)).lines] == [1, 9]


async def test_embedded_document_list_validation(lane):
    await assert_rejected(FldCart, {"lines": [FldLine(sku="a")]}, "lines", [FldLine(qty=2)])


# -- BinaryField, UUIDField, ObjectIdField ------------------------------------------


class FldIds(Document):
    blob = BinaryField(max_bytes=8)
    token = UUIDField()  # binary by default
    token_text = UUIDField(binary=False)
    other = ObjectIdField()


async def test_binary_uuid_as_string_and_object_id_round_trip(lane):
    token, oid = uuid.uuid4(), ObjectId()
    doc = await FldIds(blob=b"\x00\x01ab", token_text=token, other=oid).save()
    await FldIds(token_text=uuid.uuid4()).save()
    again = await FldIds.objects.get(id=doc.id)
    assert bytes(again.blob) == b"\x00\x01ab"  # bytes (wire), Binary (mongomock)
    assert again.token_text == token and isinstance(again.token_text, uuid.UUID)
    assert again.other == oid and isinstance(again.other, ObjectId)
    assert (await raw_find_one(FldIds, {"_id": doc.id}))["token_text"] == str(token)
    assert await ids(FldIds.objects(token_text=token)) == [doc.id]
    assert await ids(FldIds.objects(token_text=str(token))) == [doc.id]
    assert await ids(FldIds.objects(blob__exists=True)) == [doc.id]


@pytest.mark.requires("uuid_binary")
async def test_uuid_stored_as_binary(lane):
    token = uuid.uuid4()
    doc = await FldIds(token=token).save()
    await FldIds(token=uuid.uuid4()).save()
    assert (await FldIds.objects.get(id=doc.id)).token == token
    assert await ids(FldIds.objects(token=token)) == [doc.id]


@pytest.mark.requires("reference_queries")
async def test_object_id_field_query(lane):
    oid = ObjectId()
    doc = await FldIds(other=oid).save()
    await FldIds(other=ObjectId()).save()
    assert await ids(FldIds.objects(other=oid)) == [doc.id]
    assert await ids(FldIds.objects(other=str(oid))) == [doc.id]


@pytest.mark.parametrize(
    "field, value",
    [
        ("blob", b"123456789"),  # max_bytes
        ("blob", "text, not bytes"),
        ("token", "not-a-uuid"),
        ("token_text", 12),
        ("other", "not an object id"),
    ],
)
async def test_id_like_validation(lane, field, value):
    await assert_rejected(FldIds, {"blob": b"ok"}, field, value)


# -- SequenceField -------------------------------------------------------------------


class FldTicket(Document):
    number = SequenceField(collection_name="fld_counters")
    title = StringField()


class FldInvoice(Document):
    ref = SequenceField(
        collection_name="fld_counters",
        sequence_name="invoices",
        value_decorator=lambda n: f"INV-{n:04d}",
    )


class FldCreditNote(Document):
    ref = SequenceField(collection_name="fld_counters", sequence_name="invoices")


class FldNumbered(Document):
    id = SequenceField(primary_key=True, collection_name="fld_counters")
    title = StringField()


class FldPlainCounter(Document):
    n = SequenceField()  # MongoEngine's default "mongoengine.counters" collection


async def test_sequence_values_are_set_on_save(lane):
    first = await FldTicket(title="a").save()
    second = await FldTicket(title="b").save()
    assert (first.number, second.number) == (1, 2)
    assert (await FldTicket.objects.get(number=2)).title == "b"
    counter = await raw_find_one(None, {"_id": "fld_ticket.number"}, "fld_counters")
    assert counter["next"] == 2

    numbered = await FldNumbered(title="pk").save()
    assert numbered.id == 1 and (await FldNumbered.objects.get(id=1)).title == "pk"


async def test_reading_a_sequence_before_save_says_to_save_first(lane):
    ticket = FldTicket(title="early")
    with query_counter() as q:
        with pytest.raises(RuntimeError, match=r"FldTicket\.number .*await doc\.save\(\)"):
            _ = ticket.number
        with pytest.raises(RuntimeError, match=r"await doc\.save\(\)"):
            ticket.to_mongo()
        ticket.validate()  # validation needs no value yet
    assert q == 0
    await ticket.save()
    assert ticket.number == 1  # the refused read took no number
    assert FldTicket(number=7, title="given").number == 7


@pytest.mark.requires("concurrent_upserts")
async def test_concurrent_saves_get_distinct_sequence_values(lane):
    tickets = await asyncio.gather(*(FldTicket(title=str(i)).save() for i in range(20)))
    assert sorted(t.number for t in tickets) == list(range(1, 21))
    assert await FldTicket.objects.count() == 20


async def test_sequence_name_value_decorator_and_next_value_helpers(lane):
    invoice = await FldInvoice().save()
    credit = await FldCreditNote().save()  # shares the "invoices" sequence
    assert (invoice.ref, credit.ref) == ("INV-0001", 2)
    assert (await FldInvoice.objects.get(id=invoice.id)).ref == "INV-0001"

    assert await FldTicket.number.set_next_value(100) == 100
    assert await FldTicket.number.get_next_value() == 101
    assert (await FldTicket(title="after").save()).number == 101


@pytest.mark.requires("dotted_collections")
async def test_sequence_default_counters_collection(lane):
    assert (await FldPlainCounter().save()).n == 1
    stored = await raw_find_one(None, {"_id": "fld_plain_counter.n"}, "mongoengine.counters")
    assert stored["next"] == 1


# -- EnumField -----------------------------------------------------------------------


class FldSize(enum.Enum):
    SMALL = "s"
    LARGE = "l"


class FldPriority(enum.IntEnum):
    LOW = 1
    HIGH = 2


class FldShirt(Document):
    size = EnumField(FldSize, default=FldSize.SMALL)
    sizes = ListField(EnumField(FldSize))
    priority = EnumField(FldPriority)


async def test_enum_round_trip_and_query(lane):
    large = await FldShirt(size=FldSize.LARGE, sizes=[FldSize.SMALL], priority=2).save()
    small = await FldShirt(priority=FldPriority.LOW).save()
    again = await FldShirt.objects.get(id=large.id)
    assert again.size is FldSize.LARGE and again.priority is FldPriority.HIGH
    assert again.sizes == [FldSize.SMALL]
    assert (await FldShirt.objects.get(id=small.id)).size is FldSize.SMALL  # default
    raw = await raw_find_one(FldShirt, {"_id": large.id})
    assert (raw["size"], raw["sizes"], raw["priority"]) == ("l", ["s"], 2)
    assert await ids(FldShirt.objects(size=FldSize.LARGE)) == [large.id]
    assert await ids(FldShirt.objects(priority__in=[FldPriority.LOW])) == [small.id]
    assert await ids(FldShirt.objects(sizes=FldSize.SMALL)) == [large.id]


@pytest.mark.parametrize(
    "field, value", [("size", "m"), ("size", FldPriority.LOW), ("priority", 3)]
)
async def test_enum_validation(lane, field, value):
    await assert_rejected(FldShirt, {}, field, value)


# -- geo: GeoPointField, PointField, LineStringField, PolygonField, Multi* -----------

SQUARE = [[[0, 0], [0, 1], [1, 1], [1, 0], [0, 0]]]


class FldPlace(Document):
    legacy = GeoPointField()
    point = PointField()
    line = LineStringField()
    area = PolygonField()
    points = MultiPointField()
    lines = MultiLineStringField()
    areas = MultiPolygonField()


GEO_VALUES = {
    "point": [1.5, 2.5],
    "line": [[0, 0], [1, 1]],
    "area": SQUARE,
    "points": [[0, 0], [1, 1]],
    "lines": [[[0, 0], [1, 1]], [[2, 2], [3, 3]]],
    "areas": [SQUARE],
}
GEO_TYPES = {
    "point": "Point",
    "line": "LineString",
    "area": "Polygon",
    "points": "MultiPoint",
    "lines": "MultiLineString",
    "areas": "MultiPolygon",
}


@pytest.mark.requires("geo_indexes")
async def test_geo_fields_round_trip(lane):
    place = await FldPlace(legacy=[10.0, 20.0], **GEO_VALUES).save()
    again = await FldPlace.objects.get(id=place.id)
    raw = await raw_find_one(FldPlace, {"_id": place.id})
    assert again.legacy == [10.0, 20.0] and raw["legacy"] == [10.0, 20.0]
    for name, coordinates in GEO_VALUES.items():
        geojson = {"type": GEO_TYPES[name], "coordinates": coordinates}
        assert raw[name] == geojson, name
        assert again[name] == geojson, name
    place.point = {"type": "Point", "coordinates": [3, 4]}  # GeoJSON given as such
    await place.save()
    assert (await FldPlace.objects.get(id=place.id)).point["coordinates"] == [3, 4]


@pytest.mark.requires("geo")
async def test_geo_queries(lane):
    near = await FldPlace(point=[0.0, 0.0], legacy=[0.0, 0.0]).save()
    await FldPlace(point=[40.0, 40.0], legacy=[40.0, 40.0]).save()
    assert await ids(FldPlace.objects(point__near=[0.01, 0.01], point__max_distance=10_000)) == [
        near.id
    ]
    box = [[-1, -1], [-1, 1], [1, 1], [1, -1], [-1, -1]]
    assert await ids(FldPlace.objects(point__geo_within=[box])) == [near.id]
    assert await ids(FldPlace.objects(legacy__within_box=[(-1, -1), (1, 1)])) == [near.id]


@pytest.mark.parametrize(
    "field, value",
    [
        ("legacy", [1.0]),
        ("point", [1]),
        ("line", [[0, 0]] + [["x", 1]]),
        ("area", [[[0, 0], [0, 1], [1, 1]]]),  # not closed
        ("points", "nowhere"),
    ],
)
@pytest.mark.requires("geo_indexes")
async def test_geo_validation(lane, field, value):
    await assert_rejected(FldPlace, {"point": [0, 0]}, field, value)


# -- required and defaults, across the families --------------------------------------


class FldRequired(Document):
    s = StringField(required=True)
    i = IntField(required=True)
    f = FloatField(required=True)
    d = DecimalField(required=True)
    b = BooleanField(required=True)
    t = DateTimeField(required=True)
    e = EmbeddedDocumentField(FldNote, required=True)
    items = ListField(IntField(), required=True)
    m = DictField(required=True)
    blob = BinaryField(required=True)
    u = UUIDField(binary=False, required=True)
    o = ObjectIdField(required=True)
    en = EnumField(FldSize, required=True)
    p = PointField(required=True)


REQUIRED_VALUES = {
    "s": "", "i": 0, "f": 0.0, "d": Decimal(0), "b": False,
    "t": datetime.datetime(2024, 1, 1), "e": FldNote(), "items": [0], "m": {"k": 0},
    "blob": b"", "u": uuid.UUID(int=0), "o": ObjectId("0" * 24), "en": FldSize.SMALL,
    "p": [0, 0],
}  # fmt: skip


@pytest.mark.requires("geo_indexes")  # FldRequired has a PointField
async def test_required_fields_are_named_and_falsy_values_count_as_set(lane):
    with pytest.raises(ValidationError) as info:
        await FldRequired().save()
    assert set(info.value.errors) == set(FldRequired._fields) - {"id"}
    with pytest.raises(ValidationError) as info:
        await FldRequired(**{**REQUIRED_VALUES, "items": [], "m": {}}).save()
    assert set(info.value.errors) == {"items", "m"}  # empty containers are missing
    assert await FldRequired.objects.count() == 0

    doc = await FldRequired(**REQUIRED_VALUES).save()
    again = await FldRequired.objects.get(id=doc.id)
    assert (again.s, again.i, again.f, again.b, again.d) == ("", 0, 0.0, False, Decimal(0))
    assert bytes(again.blob) == b"" and again.u == uuid.UUID(int=0)


class FldDefaults(Document):
    s = StringField(default="draft")
    i = IntField(default=3)
    f = FloatField(default=0.5)
    d = DecimalField(default=Decimal("1.50"))
    b = BooleanField(default=True)
    t = DateTimeField(default=lambda: datetime.datetime(2020, 1, 1))
    tags = ListField(StringField(), default=lambda: ["new"])
    attrs = DictField(default=lambda: {"k": 1})
    u = UUIDField(binary=False, default=uuid.uuid4)
    size = EnumField(FldSize, default=FldSize.LARGE)
    note = EmbeddedDocumentField(FldNote, default=lambda: FldNote(text="x"))
    nothing = StringField()


async def test_defaults_are_set_on_the_object_and_stored(lane):
    doc, other = FldDefaults(), FldDefaults()
    assert (doc.s, doc.i, doc.f, doc.d, doc.b) == ("draft", 3, 0.5, Decimal("1.50"), True)
    assert doc.tags == ["new"] and doc.tags is not other.tags and doc.u != other.u
    doc.s = None  # None falls back to the default
    assert doc.s == "draft"
    await doc.save()

    raw = await raw_find_one(FldDefaults, {"_id": doc.id})
    assert "nothing" not in raw
    assert (raw["s"], raw["i"], raw["tags"], raw["size"]) == ("draft", 3, ["new"], "l")
    again = await FldDefaults.objects.get(id=doc.id)
    assert (again.t, again.attrs, again.note.text) == (datetime.datetime(2020, 1, 1), {"k": 1}, "x")
    assert (again.u, again.size, again.nothing) == (doc.u, FldSize.LARGE, None)
    assert await ids(FldDefaults.objects(s="draft", b=True)) == [doc.id]


# -- DynamicDocument -----------------------------------------------------------------


class FldDynamic(DynamicDocument):
    name = StringField()


class FldDynamicPart(DynamicEmbeddedDocument):
    pass


async def test_dynamic_document_fields_of_several_types(lane):
    doc = FldDynamic(name="dyn", count=3)
    doc.ratio = 0.5
    doc.when = datetime.datetime(2024, 1, 2, 3, 4, 5)
    doc.tags = ["a", "b"]
    doc.info = {"k": {"deep": True}}
    doc.place = FldAddress(city="Oslo")
    part = FldDynamicPart()
    part.colour = "blue"
    doc.part = part
    doc.flag = False
    await doc.save()
    await FldDynamic(name="other", count=0).save()

    again = await FldDynamic.objects.get(id=doc.id)
    assert (again.count, again.ratio, again.when) == (3, 0.5, doc.when)
    assert (again.tags, again.info, again.flag) == (["a", "b"], {"k": {"deep": True}}, False)
    assert isinstance(again.place, FldAddress) and again.place.city == "Oslo"
    assert again.part.colour == "blue"
    assert set(again._dynamic_fields) >= {"count", "ratio", "when", "tags", "info", "place"}

    assert await ids(FldDynamic.objects(count__gt=1)) == [doc.id]
    assert await ids(FldDynamic.objects(tags="b")) == [doc.id]
    assert await ids(FldDynamic.objects(info__k__deep=True)) == [doc.id]
    assert await ids(FldDynamic.objects(place__city="Oslo")) == [doc.id]

    del again.count
    again.ratio = 0.75
    await again.save()
    raw = await raw_find_one(FldDynamic, {"_id": doc.id})
    assert "count" not in raw and raw["ratio"] == 0.75


# -- JSON, to_mongo and validate in user code (no I/O) -------------------------------


class FldProfile(Document):
    name = StringField(required=True)
    born = DateTimeField()
    height = FloatField()
    price = DecimalField()
    blob = BinaryField()
    token = UUIDField(binary=False)
    home = EmbeddedDocumentField(FldAddress)
    tags = ListField(StringField())
    size = EnumField(FldSize)


JSON = json_util.RELAXED_JSON_OPTIONS


def a_profile() -> FldProfile:
    return FldProfile(
        name="Ann", born=datetime.datetime(1990, 1, 2, 3, 4, 5), height=1.7,
        price=Decimal("9.99"), blob=b"\x00x", token=uuid.UUID(int=7),
        home=FldAddress(city="Oslo"), tags=["a"], size=FldSize.SMALL,
    )  # fmt: skip


async def test_to_json_from_json_round_trip(lane):
    stored = await a_profile().save()
    loaded = await FldProfile.objects.get(id=stored.id)
    text = loaded.to_json(json_options=JSON)
    assert json.loads(text)["name"] == "Ann"
    back = FldProfile.from_json(text, json_options=JSON)
    assert back.to_mongo() == loaded.to_mongo()
    assert (back.id, back.home.city, back.size, back.token) == (
        stored.id, "Oslo", FldSize.SMALL, uuid.UUID(int=7),
    )  # fmt: skip

    back.name = "Anna"  # a document from JSON updates its row...
    await back.save()
    assert (await FldProfile.objects.get(id=stored.id)).name == "Anna"
    # ...or is a new document when created=True
    copy = FldProfile.from_json(text, created=True, json_options=JSON)
    copy.id = None
    await copy.save()
    assert await FldProfile.objects.count() == 2


async def test_to_mongo_and_validate_do_no_io(lane):
    with query_counter() as q:
        doc = a_profile()
        doc.validate()
        son = doc.to_mongo()
        assert son["home"] == {"city": "Oslo"} and son["size"] == "s"
        text = doc.to_json(json_options=JSON)
        assert FldProfile.from_json(text, json_options=JSON).home.city == "Oslo"
        bad = FldProfile(home=FldAddress())
        with pytest.raises(ValidationError) as info:
            bad.validate()
        assert set(info.value.errors) == {"name", "home"}
    assert q == 0
    await doc.save()
    loaded = await FldProfile.objects.get(id=doc.id)
    with query_counter() as q:
        loaded.validate()
        assert loaded.to_mongo()["_id"] == doc.id
    assert q == 0


def test_field_values_need_no_loop():
    # Building, reading and validating documents is plain Python, no event loop.
    doc = a_profile()
    doc.validate()
    son = doc.to_mongo()
    assert son["blob"] == Binary(b"\x00x") and son["born"] == datetime.datetime(1990, 1, 2, 3, 4, 5)
