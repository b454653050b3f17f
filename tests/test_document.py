"""Awaitable Document methods, document kinds, inheritance and meta, on every lane."""

from __future__ import annotations

import inspect
import socket

import pytest
from bson import ObjectId
from mongoengine import signals
from mongoengine.errors import (
    FieldDoesNotExist,
    NotUniqueError,
    OperationError,
    SaveConditionError,
    ValidationError,
)

import mongomotor
from mongomotor import (
    Document,
    DynamicDocument,
    DynamicEmbeddedDocument,
    EmbeddedDocument,
    MapReduceDocument,
)
from mongomotor.context_managers import query_counter
from mongomotor.fields import (
    EmailField,
    EmbeddedDocumentField,
    IntField,
    ListField,
    StringField,
)


class DocPerson(Document):
    name = StringField(required=True, max_length=20)
    age = IntField(min_value=0)
    email = EmailField()
    version = IntField(default=1)


class DocCleaned(Document):
    title = StringField()
    slug = StringField()

    def clean(self):
        if self.title == "forbidden":
            raise ValidationError("this title is forbidden")
        self.slug = (self.title or "").lower().replace(" ", "-")


class DocKeyed(Document):
    code = StringField(primary_key=True)
    label = StringField()


class DocUnique(Document):
    email = StringField(required=True)
    meta = {"indexes": [{"fields": ["email"], "unique": True}]}


class DocIndexed(Document):
    a = IntField()
    b = StringField()
    meta = {"indexes": ["a", ("b", "-a")]}


class DocLazy(Document):
    name = StringField()
    meta = {"indexes": ["name"]}


class DocAnimal(Document):
    name = StringField()
    meta = {"allow_inheritance": True}


class DocDog(DocAnimal):
    barks = IntField()


class DocCat(DocAnimal):
    lives = IntField(default=9)


class DocRenamed(Document):
    name = StringField()
    meta = {"collection": "doc_custom_place"}


class DocOrdered(Document):
    n = IntField()
    meta = {"ordering": ["-n"]}


class DocLoose(Document):
    name = StringField()
    meta = {"strict": False, "collection": "doc_raw"}


class DocStrict(Document):
    name = StringField()
    meta = {"collection": "doc_raw"}


class DocCapped(Document):
    n = IntField()
    meta = {"max_documents": 3, "max_size": 4096}


class DocSharded(Document):
    region = StringField()
    n = IntField()
    meta = {"shard_key": ("region",)}


class DocOtherDb(Document):
    name = StringField()
    meta = {"db_alias": "doc_other"}


class DocFree(DynamicDocument):
    name = StringField()


class DocAddress(EmbeddedDocument):
    city = StringField(required=True)


class DocExtra(DynamicEmbeddedDocument):
    pass


class DocHolder(Document):
    home = EmbeddedDocumentField(DocAddress)
    past = ListField(EmbeddedDocumentField(DocAddress))
    extra = EmbeddedDocumentField(DocExtra)


async def raw_db_call(result):
    """Driver calls are awaitable on the wire lanes and plain on the memory lane."""
    return await result if inspect.isawaitable(result) else result


async def raw_find_one(cls, query):
    return await raw_db_call(mongomotor.get_db()[cls._get_collection_name()].find_one(query))


# -- save ------------------------------------------------------------------------


async def test_save_inserts_then_updates(lane):
    person = DocPerson(name="Ann", age=30)
    assert await person.save() is person
    assert isinstance(person.id, ObjectId)
    person.age = 31
    await person.save()
    raw = await raw_find_one(DocPerson, {"_id": person.id})
    assert (raw["name"], raw["age"]) == ("Ann", 31)
    assert await DocPerson.objects.count() == 1


async def test_saving_a_new_document_with_a_hand_set_id_writes_it(lane):
    oid = ObjectId()
    await DocPerson(id=oid, name="Hand").save()
    again = await DocPerson.objects.get(id=oid)
    assert again.name == "Hand"
    await DocKeyed(code="K1", label="first").save()
    assert (await DocKeyed.objects.get(code="K1")).label == "first"
    assert (await raw_find_one(DocKeyed, {"_id": "K1"}))["label"] == "first"


async def test_force_insert_of_an_existing_document_raises_not_unique(lane):
    person = await DocPerson(name="Once").save()
    with pytest.raises(NotUniqueError):
        await person.save(force_insert=True)
    assert await DocPerson.objects.count() == 1


async def test_validation_errors_are_mongoengines_and_write_nothing(lane):
    person = DocPerson(age=-1, email="not-an-email")
    with pytest.raises(ValidationError) as info:
        await person.save()
    assert set(info.value.errors) == {"name", "age", "email"}
    assert person.id is None
    assert await DocPerson.objects.count() == 0
    person.name, person.age, person.email = "Fixed", 3, "a@b.org"
    await person.save()
    assert (await DocPerson.objects.get(id=person.id)).age == 3


async def test_validate_false_skips_validation(lane):
    person = await DocPerson(name="x" * 30).save(validate=False)
    assert (await DocPerson.objects.get(id=person.id)).name == "x" * 30


async def test_clean_runs_on_save_and_clean_false_skips_it(lane):
    doc = await DocCleaned(title="Hello World").save()
    assert (await DocCleaned.objects.get(id=doc.id)).slug == "hello-world"
    with pytest.raises(ValidationError, match="forbidden"):
        await DocCleaned(title="forbidden").save()
    kept = await DocCleaned(title="forbidden", slug="kept").save(clean=False)
    assert (await DocCleaned.objects.get(id=kept.id)).slug == "kept"


async def test_write_concern_is_passed_to_the_write(lane):
    person = await DocPerson(name="Safe").save(write_concern={"w": 1})
    person.age = 5
    await person.save(write_concern={"w": 1})
    assert (await DocPerson.objects.get(id=person.id)).age == 5


async def test_save_condition(lane):
    person = await DocPerson(name="Cond", version=1).save()
    person.age, person.version = 10, 2
    await person.save(save_condition={"version": 1})
    stale = await DocPerson.objects.get(id=person.id)
    person.age, person.version = 11, 3
    await person.save(save_condition={"version": 2})
    stale.age = 99
    with pytest.raises(SaveConditionError, match="Race condition"):
        await stale.save(save_condition={"version": 2})
    assert (await DocPerson.objects.get(id=person.id)).age == 11


async def test_signal_kwargs_reach_mongoengine_signals(lane):
    seen = []

    def pre(sender, document, **kwargs):
        seen.append(("pre", kwargs.get("who")))

    def post(sender, document, **kwargs):
        seen.append(("post", kwargs.get("who"), kwargs.get("created")))

    signals.pre_save.connect(pre, sender=DocPerson)
    signals.post_save.connect(post, sender=DocPerson)
    try:
        await DocPerson(name="Sig").save(signal_kwargs={"who": "me"}, cascade=False)
    finally:
        signals.pre_save.disconnect(pre, sender=DocPerson)
        signals.post_save.disconnect(post, sender=DocPerson)
    assert seen == [("pre", "me"), ("post", "me", True)]


async def test_duplicate_key_leaves_database_and_object_consistent(lane):
    await DocUnique(email="a@x.org").save()
    second = DocUnique(email="a@x.org")
    with pytest.raises(NotUniqueError):
        await second.save()
    assert second.id is None
    assert await DocUnique.objects.count() == 1
    second.email = "b@x.org"
    await second.save()
    assert sorted(await DocUnique.objects.scalar("email").to_list(None)) == ["a@x.org", "b@x.org"]


@pytest.mark.requires("unique_updates")
async def test_unique_index_is_enforced_on_update_too(lane):
    await DocUnique(email="a@x.org").save()
    other = await DocUnique(email="b@x.org").save()
    other.email = "a@x.org"
    with pytest.raises(NotUniqueError):
        await other.save()
    assert (await DocUnique.objects.get(id=other.id)).email == "b@x.org"


# -- other instance methods ----------------------------------------------------------


async def test_delete(lane):
    keep = await DocPerson(name="Keep").save()
    gone = await DocPerson(name="Gone").save()
    assert await gone.delete() is None
    assert await DocPerson.objects.scalar("name").to_list(None) == ["Keep"]
    assert await raw_find_one(DocPerson, {"_id": gone.id}) is None
    assert keep.id is not None


async def test_reload_all_or_some_fields(lane):
    person = await DocPerson(name="Re", age=1).save()
    await DocPerson.objects(id=person.id).update(set__age=5, set__name="Loaded")
    assert await person.reload("age") is person
    assert (person.name, person.age) == ("Re", 5)
    await person.reload()
    assert person.name == "Loaded"


async def test_reload_of_a_deleted_document_raises_does_not_exist(lane):
    person = await DocPerson(name="Ghost").save()
    await DocPerson.objects(id=person.id).delete()
    with pytest.raises(DocPerson.DoesNotExist):
        await person.reload()


async def test_modify_with_a_query(lane):
    person = await DocPerson(name="Mod", age=1).save()
    assert await person.modify({"age": 2}, set__name="No") is False
    assert person.name == "Mod"
    assert await person.modify({"age": 1}, set__name="Yes", inc__age=1) is True
    assert (person.name, person.age) == ("Yes", 2)
    assert (await DocPerson.objects.get(id=person.id)).name == "Yes"


async def test_document_update(lane):
    person = await DocPerson(name="Up", age=1).save()
    assert await person.update(inc__age=2) == 1
    assert (await DocPerson.objects.get(id=person.id)).age == 3
    with pytest.raises(OperationError):
        await DocPerson(name="never saved").update(set__age=1)


async def test_objects_create(lane):
    person = await DocPerson.objects.create(name="Made", age=7)
    assert isinstance(person, DocPerson)
    assert (await DocPerson.objects.get(id=person.id)).age == 7


async def test_drop_collection(lane):
    await DocPerson(name="Drop").save()
    await DocPerson.drop_collection()
    assert await DocPerson.objects.count() == 0
    await DocPerson(name="Again").save()  # the collection comes back on next use
    assert await DocPerson.objects.count() == 1


# -- indexes -------------------------------------------------------------------------


async def test_defining_a_class_and_building_querysets_does_no_io(lane):
    with query_counter() as q:

        class DocDefinedInTest(Document):
            name = StringField()
            meta = {"indexes": ["name"]}

        qs = DocDefinedInTest.objects(name="x").order_by("name").skip(1).limit(2)
        qs = qs.only("name").filter(name__ne="y").clone()
        assert q == 0
    await DocDefinedInTest(name="x").save()


async def test_building_querysets_on_an_unreachable_alias_works(lane):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    mongomotor.connect("db", alias="doc_other", host=f"mongodb://127.0.0.1:{port}",
                       serverSelectionTimeoutMS=100, uuidRepresentation="standard")
    qs = DocOtherDb.objects(name="x").order_by("-name").limit(5)
    assert qs._query == {"name": "x"}
    assert isinstance(DocOtherDb(name="y"), DocOtherDb)


async def test_indexes_are_created_once_on_first_awaited_use(lane):
    with query_counter() as q:
        await DocLazy(name="one").save()
        first_use = list(q.operations)
        await DocLazy(name="two").save()
        await DocLazy.objects.count()
    assert first_use.count("create_index") == 1
    assert first_use[-1] == "insert_one"
    assert q.operations.count("create_index") == 1


async def test_ensure_indexes_and_compare_indexes(lane):
    lane.require("list_indexes")
    await DocIndexed.ensure_indexes()
    assert await DocIndexed.compare_indexes() == {"missing": [], "extra": []}
    info = await raw_db_call(mongomotor.get_db()["doc_indexed"].index_information())
    keys = {tuple(spec["key"]) for spec in info.values()}
    assert (("a", 1),) in keys and (("b", 1), ("a", -1)) in keys


async def test_ensure_indexes_creates_each_declared_index(lane):
    with query_counter() as q:
        await DocIndexed.ensure_indexes()  # first use: one round of index creation
    assert q.operations.count("create_index") == 2
    with query_counter() as q:
        await DocIndexed.ensure_indexes()  # asked again: asked of the server again
    assert q.operations.count("create_index") == 2


# -- document kinds ------------------------------------------------------------------


async def test_dynamic_document(lane):
    doc = DocFree(name="dyn")
    doc.colour = "blue"
    doc.size = 3
    await doc.save()
    again = await DocFree.objects.get(colour="blue")
    assert (again.name, again.colour, again.size) == ("dyn", "blue", 3)
    again.size = 4
    await again.save()
    assert (await DocFree.objects.get(id=doc.id)).size == 4


async def test_embedded_and_dynamic_embedded_documents(lane):
    extra = DocExtra()
    extra.note = "free-form"
    holder = DocHolder(home=DocAddress(city="Oslo"), past=[DocAddress(city="Rome")], extra=extra)
    await holder.save()
    again = await DocHolder.objects.get(home__city="Oslo")
    assert again.home.city == "Oslo"
    assert [a.city for a in again.past] == ["Rome"]
    assert again.extra.note == "free-form"
    with pytest.raises(ValidationError):
        await DocHolder(home=DocAddress()).save()


async def test_map_reduce_gives_map_reduce_documents(lane):
    lane.require("map_reduce")
    for name in ("a", "b", "a"):
        await DocPerson(name=name).save()
    results = await DocPerson.objects.map_reduce(
        "function () { emit(this.name, 1); }",
        "function (key, values) { return Array.sum(values); }",
        "inline",
    )
    assert all(isinstance(r, MapReduceDocument) for r in results)
    assert {r.key: r.value for r in results} == {"a": 2, "b": 1}


async def test_map_reduce_document_object_is_awaitable(lane):
    person = await DocPerson(name="keyed").save()
    result = MapReduceDocument(DocPerson, DocPerson._get_collection(), str(person.id), 1)
    loaded = await result.object
    assert isinstance(loaded, DocPerson) and loaded.name == "keyed"


# -- inheritance ------------------------------------------------------------------------


async def test_inheritance_queries_return_subclasses(lane):
    await DocDog(name="rex", barks=3).save()
    await DocCat(name="tom").save()
    await DocAnimal(name="generic").save()
    everyone = await DocAnimal.objects.order_by("name").to_list(None)
    assert [type(a) for a in everyone] == [DocAnimal, DocDog, DocCat]
    assert [d.name for d in await DocDog.objects.to_list(None)] == ["rex"]
    raw = await raw_find_one(DocAnimal, {"name": "rex"})
    assert raw["_cls"] == "DocAnimal.DocDog"
    assert await DocAnimal.objects(name="tom").no_sub_classes().count() == 0
    assert (await DocAnimal.objects.get(name="tom")).lives == 9


# -- meta -----------------------------------------------------------------------------


async def test_meta_collection(lane):
    await DocRenamed(name="x").save()
    assert (await raw_find_one(DocRenamed, {}))["name"] == "x"
    assert DocRenamed._get_collection_name() == "doc_custom_place"


async def test_meta_ordering(lane):
    for n in (2, 3, 1):
        await DocOrdered(n=n).save()
    assert await DocOrdered.objects.scalar("n").to_list(None) == [3, 2, 1]
    assert await DocOrdered.objects.order_by("n").scalar("n").to_list(None) == [1, 2, 3]


async def test_meta_strict(lane):
    await raw_db_call(mongomotor.get_db()["doc_raw"].insert_one({"name": "n", "unknown": 1}))
    assert (await DocLoose.objects.get(name="n")).name == "n"
    with pytest.raises(FieldDoesNotExist, match="unknown"):
        await DocStrict.objects.get(name="n")


async def test_meta_capped(lane):
    lane.require("capped", "capped_max")
    for n in range(5):
        await DocCapped(n=n).save()
    assert await DocCapped.objects.scalar("n").to_list(None) == [2, 3, 4]


async def test_meta_shard_key(lane):
    doc = await DocSharded(region="eu", n=1).save()
    doc.n = 2
    await doc.save()
    assert (await DocSharded.objects.get(region="eu")).n == 2
    with pytest.raises(OperationError, match="Shard Keys are immutable"):
        doc.region = "us"


async def test_meta_db_alias(lane):
    lane.connect("doc_other")
    await DocOtherDb(name="away").save()
    other = mongomotor.get_db("doc_other")
    assert other.name != mongomotor.get_db().name
    assert (await raw_db_call(other["doc_other_db"].find_one({})))["name"] == "away"
    assert await raw_db_call(mongomotor.get_db()["doc_other_db"].find_one({})) is None
