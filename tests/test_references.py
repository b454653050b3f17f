"""References: awaitable reads, batched loading, select_related, lazy and cached references."""

from __future__ import annotations

import asyncio

import pytest
from bson import DBRef, ObjectId
from mongoengine.errors import DoesNotExist

from mongomotor import Document, EmbeddedDocument, run_sync
from mongomotor.context_managers import no_dereference, query_counter
from mongomotor.fields import (
    CachedReferenceField,
    DictField,
    EmbeddedDocumentField,
    GenericLazyReferenceField,
    GenericReferenceField,
    IntField,
    LazyReferenceField,
    ListField,
    MapField,
    ReferenceField,
    StringField,
)


class RefCompany(Document):
    name = StringField()


class RefPerson(Document):
    name = StringField()
    company = ReferenceField(RefCompany)


class RefCategory(Document):
    name = StringField()


class RefTag(Document):
    name = StringField()


class RefNote(EmbeddedDocument):
    text = StringField()
    by = ReferenceField(RefPerson)


class RefPost(Document):
    title = StringField()
    author = ReferenceField(RefPerson)
    editor = ReferenceField(RefPerson)
    category = ReferenceField(RefCategory)
    tags = ListField(ReferenceField(RefTag))
    words = ListField(StringField())
    by_role = DictField(ReferenceField(RefPerson))
    by_name = MapField(ReferenceField(RefPerson))
    note = EmbeddedDocumentField(RefNote)
    notes = ListField(EmbeddedDocumentField(RefNote))


class RefDbRefPost(Document):
    author = ReferenceField(RefPerson, dbref=True)


class RefBookmark(Document):
    target = GenericReferenceField()


class RefLazyPost(Document):
    author = LazyReferenceField(RefPerson)
    authors = ListField(LazyReferenceField(RefPerson))
    passthrough = LazyReferenceField(RefPerson, passthrough=True)


class RefLazyBookmark(Document):
    target = GenericLazyReferenceField()


class RefCachedPost(Document):
    author = CachedReferenceField(RefPerson, fields=["name"])
    n = IntField()


async def _people(*names: str) -> list[RefPerson]:
    return [await RefPerson(name=name).save() for name in names]


async def _fresh(post: Document) -> Document:
    return await type(post).objects.get(id=post.id)


# -- ReferenceField ----------------------------------------------------------------------
async def test_reference_is_awaited_and_stays_loaded(lane):
    ann, = await _people("Ann")
    post = await _fresh(await RefPost(title="p", author=ann).save())

    async with query_counter() as q:
        author = await post.author
        assert author.name == "Ann"
        assert q == 1
        assert (await post.author) is author
        assert post.author.name == "Ann"  # loaded: the document itself
        assert q == 1


async def test_reference_access_errors_teach(lane):
    ann, = await _people("Ann")
    post = await _fresh(await RefPost(title="p", author=ann).save())
    with pytest.raises(AttributeError, match=r"await doc\.author"):
        post.author.name  # noqa: B018
    assert RefPost.author is RefPost._fields["author"]


async def test_empty_reference_awaits_to_none(lane):
    post = await _fresh(await RefPost(title="p").save())
    assert not post.author
    assert post.author == None  # noqa: E711 - the placeholder compares equal to None
    assert await post.author is None


async def test_dangling_reference_raises_does_not_exist(lane):
    ann, = await _people("Ann")
    post = await RefPost(title="p", author=ann).save()
    await ann.delete()
    post = await _fresh(post)
    with pytest.raises(RefPerson.DoesNotExist, match=rf"RefPerson.*{ann.id}") as err:
        await post.author
    assert isinstance(err.value, DoesNotExist)


async def test_setting_needs_no_await_and_user_code_helpers_work(lane):
    ann, bob = await _people("Ann", "Bob")
    post = RefPost(title="p", author=ann, tags=[])
    assert post.author is ann
    post.validate()
    assert post.to_mongo()["author"] == ann.id
    await post.save()
    post = await _fresh(post)
    post.author = bob
    post.validate()
    assert post.to_mongo()["author"] == bob.id
    await post.save()
    assert (await (await _fresh(post)).author).name == "Bob"


async def test_setting_an_id_then_awaiting_loads_the_document(lane):
    ann, = await _people("Ann")
    post = await _fresh(await RefPost(title="p").save())
    post.author = ann.id
    assert (await post.author).name == "Ann"


async def test_inside_the_bridge_references_are_mongoengine_sync(lane):
    ann, = await _people("Ann")
    tag = await RefTag(name="t").save()
    post = await _fresh(await RefPost(title="p", author=ann, tags=[tag]).save())
    name, tag_names = await run_sync(lambda: (post.author.name, [t.name for t in post.tags]))
    assert (name, tag_names) == ("Ann", ["t"])


async def test_nested_references_two_levels(lane):
    acme = await RefCompany(name="Acme").save()
    ann = await RefPerson(name="Ann", company=acme).save()
    post = await _fresh(await RefPost(title="p", author=ann).save())
    author = await post.author
    company = await author.company
    assert company.name == "Acme"


@pytest.mark.requires("dbref")
async def test_reference_stored_as_dbref(lane):
    ann, = await _people("Ann")
    post = await _fresh(await RefDbRefPost(author=ann).save())
    raw = await RefDbRefPost.objects.as_pymongo().first()
    assert isinstance(raw["author"], DBRef)
    assert (await post.author).name == "Ann"


# -- containers --------------------------------------------------------------------------
async def test_list_of_references(lane):
    tags = [await RefTag(name=n).save() for n in "abc"]
    post = await _fresh(await RefPost(title="p", tags=tags, words=["x", "y"]).save())

    assert post.words == ["x", "y"]  # no references: the value itself
    async with query_counter() as q:
        loaded = await post.tags
        assert [t.name for t in loaded] == ["a", "b", "c"]
        assert q == 1
        assert (await post.tags) is loaded
        assert [t.name for t in post.tags] == ["a", "b", "c"]
        assert q == 1


async def test_list_keeps_dangling_references_as_dbref(lane):
    a, b = [await RefTag(name=n).save() for n in "ab"]
    post = await RefPost(title="p", tags=[a, b]).save()
    await b.delete()
    loaded = await (await _fresh(post)).tags
    assert loaded[0].name == "a"
    assert isinstance(loaded[1], DBRef) and loaded[1].id == b.id


async def test_dict_and_map_of_references(lane):
    ann, bob = await _people("Ann", "Bob")
    post = await RefPost(title="p", by_role={"lead": ann}, by_name={"bob": bob}).save()
    post = await _fresh(post)
    async with query_counter() as q:
        roles = await post.by_role
        names = await post.by_name
        assert roles["lead"].name == "Ann" and names["bob"].name == "Bob"
        assert q == 2
        assert (await post.by_role)["lead"] is roles["lead"]
        assert q == 2


async def test_awaiting_each_list_after_to_list_is_one_query_per_list(lane):
    tags = [await RefTag(name=str(i)).save() for i in range(5)]
    for i in range(10):
        await RefPost(title=str(i), tags=tags).save()
    posts = await RefPost.objects.to_list(None)
    async with query_counter() as q:
        for post in posts:
            assert len(await post.tags) == 5
        assert q == 10  # not 50: a list loads in one query
    posts = await RefPost.objects.to_list(None)
    async with query_counter() as q:
        lists = await asyncio.gather(*(post.tags for post in posts))
        assert [len(x) for x in lists] == [5] * 10
        assert q == 1


# -- batching ------------------------------------------------------------------------------
async def test_concurrent_awaits_coalesce_into_one_query(lane):
    people = await _people(*(f"p{i}" for i in range(50)))
    for person in people:
        await RefPost(title=person.name, author=person).save()
    posts = await RefPost.objects.order_by("title").to_list(None)

    async with query_counter() as q:
        authors = await asyncio.gather(*(post.author for post in posts))
        assert q == 1
    assert [a.name for a in authors] == [p.title for p in posts]


async def test_fifty_tasks_each_awaiting_a_reference(lane):
    people = await _people(*(f"p{i}" for i in range(50)))
    for person in people:
        await RefPost(title=person.name, author=person).save()
    posts = await RefPost.objects.to_list(None)

    async def read(post: RefPost) -> str:
        return (await post.author).name

    async with query_counter() as q:
        names = await asyncio.gather(*(asyncio.create_task(read(p)) for p in posts))
        assert q == 1
    assert sorted(names) == sorted(p.name for p in people)


async def test_a_failing_reference_does_not_fail_its_batch(lane):
    ann, gone = await _people("Ann", "Gone")
    ok = await RefPost(title="ok", author=ann).save()
    bad = await RefPost(title="bad", author=gone).save()
    await gone.delete()
    ok, bad = await _fresh(ok), await _fresh(bad)
    results = await asyncio.gather(ok.author, bad.author, return_exceptions=True)
    assert results[0].name == "Ann"
    assert isinstance(results[1], RefPerson.DoesNotExist)


# -- select_related --------------------------------------------------------------------------
async def _blog(posts: int = 100) -> None:
    acme = await RefCompany(name="Acme").save()
    people = [await RefPerson(name=f"p{i}", company=acme).save() for i in range(10)]
    categories = [await RefCategory(name=f"c{i}").save() for i in range(3)]
    tags = [await RefTag(name=f"t{i}").save() for i in range(4)]
    await RefPost.objects.insert([
        RefPost(
            title=f"post{i}", author=people[i % 10], editor=people[(i + 1) % 10],
            category=categories[i % 3], tags=[tags[i % 4], tags[(i + 1) % 4]],
        )
        for i in range(posts)
    ])


async def test_select_related_loads_everything_with_one_query_per_collection(lane):
    await _blog(100)
    async with query_counter() as q:
        posts = await RefPost.objects.select_related()
        # the posts, then RefPerson, RefCategory and RefTag: one query each
        assert q == 4
        assert len(posts) == 100
        post = {p.title: p for p in posts}["post11"]
        assert post.author.name == "p1" and post.editor.name == "p2"
        assert post.category.name == "c2"
        assert [t.name for t in post.tags] == ["t3", "t0"]
        assert (await post.author).name == "p1"
        assert q == 4


async def test_select_related_two_hops(lane):
    await _blog(20)
    async with query_counter() as q:
        posts = await RefPost.objects.select_related(max_depth=2)
        assert q == 5  # + RefCompany for the second hop
        assert {p.author.company.name for p in posts} == {"Acme"}
        assert q == 5


async def test_document_select_related(lane):
    await _blog(1)
    post = await RefPost.objects.first()
    async with query_counter() as q:
        assert (await post.select_related()) is post
        assert q == 3
    assert post.author.name == "p0" and post.tags[0].name == "t0"


# -- embedded documents ------------------------------------------------------------------------
async def test_embedded_documents_hold_awaitable_references(lane):
    ann, bob = await _people("Ann", "Bob")
    post = await RefPost(
        title="p", note=RefNote(text="a", by=ann), notes=[RefNote(text="b", by=bob)]
    ).save()
    post = await _fresh(post)
    assert (await post.note.by).name == "Ann"
    assert (await post.notes[0].by).name == "Bob"

    posts = await RefPost.objects.select_related()
    assert posts[0].notes[0].by.name == "Bob"


# -- generic references ------------------------------------------------------------------------
@pytest.mark.requires("dbref")
async def test_generic_reference(lane):
    ann, = await _people("Ann")
    tag = await RefTag(name="t").save()
    await RefBookmark(target=ann).save()
    await RefBookmark(target=tag).save()
    marks = await RefBookmark.objects.to_list(None)
    async with query_counter() as q:
        targets = await asyncio.gather(*(m.target for m in marks))
        assert q == 2  # one per collection
    assert {type(t) for t in targets} == {RefPerson, RefTag}


@pytest.mark.requires("dbref")
async def test_generic_reference_dangling_raises(lane):
    ann, = await _people("Ann")
    mark = await RefBookmark(target=ann).save()
    await ann.delete()
    with pytest.raises(DoesNotExist):
        await (await _fresh(mark)).target


# -- lazy references ---------------------------------------------------------------------------
async def test_lazy_reference_fetch(lane):
    ann, bob = await _people("Ann", "Bob")
    post = await _fresh(await RefLazyPost(author=ann, authors=[ann, bob]).save())
    async with query_counter() as q:
        assert post.author.pk == ann.id  # no query to know the id
        assert q == 0
        doc = await post.author.fetch()
        assert doc.name == "Ann" and q == 1
        assert (await post.author.fetch()) is doc and q == 1
        await RefPerson.objects(id=ann.id).update(set__name="Anna")
        assert (await post.author.fetch(force=True)).name == "Anna"
        names = [d.name for d in await asyncio.gather(*(r.fetch() for r in post.authors))]
        assert names == ["Anna", "Bob"]


async def test_lazy_reference_fetch_missing_and_passthrough(lane):
    ann, gone = await _people("Ann", "Gone")
    post = await RefLazyPost(author=gone, passthrough=ann).save()
    await gone.delete()
    post = await _fresh(post)
    with pytest.raises(RefPerson.DoesNotExist):
        await post.author.fetch()
    with pytest.raises(AttributeError, match="fetch"):
        post.passthrough.name  # noqa: B018
    await post.passthrough.fetch()
    assert post.passthrough.name == "Ann"


@pytest.mark.requires("dbref")
async def test_generic_lazy_reference_fetch(lane):
    tag = await RefTag(name="t").save()
    mark = await _fresh(await RefLazyBookmark(target=tag).save())
    assert mark.target.pk == tag.id
    assert (await mark.target.fetch()).name == "t"


# -- cached references ---------------------------------------------------------------------------
@pytest.mark.requires("reference_queries")
async def test_cached_reference_keeps_cached_fields_in_sync(lane):
    ann, = await _people("Ann")
    await RefCachedPost(author=ann, n=1).save()
    raw = await RefCachedPost.objects.as_pymongo().first()
    assert raw["author"]["name"] == "Ann"

    ann.name = "Anna"
    await ann.save()
    raw = await RefCachedPost.objects.as_pymongo().first()
    assert raw["author"]["name"] == "Anna"
    post = await RefCachedPost.objects.first()
    assert (await post.author).name == "Anna"


# -- no_dereference ------------------------------------------------------------------------------
async def test_queryset_no_dereference_gives_raw_values(lane):
    ann, = await _people("Ann")
    tag = await RefTag(name="t").save()
    await RefPost(title="p", author=ann, tags=[tag]).save()
    async with query_counter() as q:
        post = await RefPost.objects.no_dereference().first()
        assert isinstance(post.author, DBRef) and post.author.id == ann.id
        assert [t.id for t in post.tags] == [tag.id]
        assert q == 1


async def test_no_dereference_context_gives_raw_values(lane):
    ann, = await _people("Ann")
    await RefPost(title="p", author=ann).save()
    post = await RefPost.objects.first()
    async with no_dereference(RefPost):
        assert isinstance(post.author, (DBRef, ObjectId))
    assert (await post.author).name == "Ann"


# -- cascade save -------------------------------------------------------------------------
async def test_save_cascade_saves_changed_references(lane):
    ann, = await _people("Ann")
    post = await RefPost(title="p", author=ann).save()
    ann.name = "Anna"
    await post.save(cascade=True)
    assert (await RefPerson.objects.get(id=ann.id)).name == "Anna"
