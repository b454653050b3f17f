"""Unloaded references compare like the documents they point to (no query), as in MongoEngine."""

from __future__ import annotations

import asyncio

import pytest
from bson import DBRef

from mongomotor import Document
from mongomotor.context_managers import query_counter
from mongomotor.fields import (
    DictField,
    GenericLazyReferenceField,
    GenericReferenceField,
    LazyReferenceField,
    ListField,
    ReferenceField,
    StringField,
)
from mongomotor.odm.references.fields import NO_REFERENCE, AwaitableReference


class EqUser(Document):
    name = StringField()


class EqOther(Document):
    name = StringField()


class EqAnimal(Document):
    name = StringField()
    meta = {"allow_inheritance": True}


class EqDog(EqAnimal):
    pass


class EqSlugged(Document):
    slug = StringField(primary_key=True)


class EqPost(Document):
    title = StringField()
    author = ReferenceField(EqUser)
    editor = ReferenceField(EqUser)
    pet = ReferenceField(EqAnimal)
    page = ReferenceField(EqSlugged)
    likes = ListField(ReferenceField(EqUser))
    by_role = DictField(ReferenceField(EqUser))


class EqDbRefPost(Document):
    author = ReferenceField(EqUser, dbref=True)


class EqBookmark(Document):
    target = GenericReferenceField()


class EqLazyPost(Document):
    author = LazyReferenceField(EqUser)
    target = GenericLazyReferenceField()


async def _users(*names: str) -> list[EqUser]:
    return [await EqUser(name=name).save() for name in names]


async def _fresh(doc: Document) -> Document:
    return await type(doc).objects.get(pk=doc.pk)


def _assert_points_to(ref: object, doc: Document, other: Document) -> None:
    """Every comparison a user writes, both operand orders."""
    assert ref == doc and doc == ref
    assert not (ref != doc) and not (doc != ref)
    assert ref != other and other != ref
    assert not (ref == other) and not (other == ref)
    assert hash(ref) == hash(doc)
    assert ref in [other, doc] and ref not in [other]
    assert doc in {ref} and ref in {doc} and other not in {ref}
    assert {doc: "found"}[ref] == "found"


async def test_unloaded_reference_compares_equal_to_its_document(lane):
    ada, bob = await _users("Ada", "Bob")
    post = await _fresh(await EqPost(title="p", author=ada).save())
    async with query_counter() as q:
        assert isinstance(post.author, AwaitableReference)  # not loaded
        _assert_points_to(post.author, ada, bob)
        assert post.author.id == ada.id and post.author.pk == ada.id
        assert q == 0
        assert (await post.author).name == "Ada"  # awaiting still loads it
        assert q == 1


async def test_permission_check_admits_the_author_and_denies_others(lane):
    ada, bob = await _users("Ada", "Bob")
    post = await _fresh(await EqPost(title="p", author=ada).save())

    def may_edit(current_user: EqUser) -> bool:
        return not (post.author != current_user)

    assert may_edit(ada) and not may_edit(bob)
    assert may_edit(await EqUser.objects.get(id=ada.id))  # another instance, same document


async def test_two_references_to_one_document_are_equal(lane):
    ada, bob = await _users("Ada", "Bob")
    first = await _fresh(await EqPost(title="1", author=ada, editor=bob).save())
    second = await _fresh(await EqPost(title="2", author=ada, editor=ada).save())
    assert first.author == second.author and second.author == second.editor
    assert first.author != first.editor
    assert hash(first.author) == hash(second.author)
    assert len({first.author, second.author, second.editor, ada}) == 1
    assert first.author == DBRef("eq_user", ada.id)  # a raw reference naming it
    assert first.author != DBRef("eq_other", ada.id)


async def test_unsaved_documents_equal_only_themselves(lane):
    ada, = await _users("Ada")
    post = await _fresh(await EqPost(title="p", author=ada).save())
    unsaved = EqUser(name="Ada")
    assert post.author != unsaved and unsaved != post.author
    assert unsaved == unsaved and unsaved != EqUser(name="Ada")


async def test_same_id_in_an_unrelated_class_is_another_document(lane):
    ada, = await _users("Ada")
    twin = await EqOther(id=ada.id, name="twin").save()
    post = await _fresh(await EqPost(title="p", author=ada).save())
    assert post.author != twin and twin != post.author
    assert post.author == ada


async def test_reference_to_a_parent_class_equals_the_subclass_document(lane):
    rex = await EqDog(name="Rex").save()
    rex_as_animal = await EqAnimal.objects.get(id=rex.id)
    post = await _fresh(await EqPost(title="p", pet=rex).save())
    assert isinstance(post.pet, AwaitableReference)
    assert post.pet == rex and rex == post.pet and post.pet == rex_as_animal
    assert type(await post.pet) is EqDog


async def test_custom_primary_key_is_read_without_a_query(lane):
    page = await EqSlugged(slug="home").save()
    other = await EqSlugged(slug="about").save()
    post = await _fresh(await EqPost(title="p", page=page).save())
    async with query_counter() as q:
        assert post.page.slug == "home" and post.page.pk == "home" and post.page.id == "home"
        _assert_points_to(post.page, page, other)
        assert q == 0
    with pytest.raises(AttributeError, match=r"await doc\.page"):
        post.page.title  # noqa: B018 - other fields need the document


async def test_empty_reference_equals_none_only(lane):
    ada, = await _users("Ada")
    post = await _fresh(await EqPost(title="p").save())
    assert post.author is NO_REFERENCE
    assert post.author == None  # noqa: E711
    assert post.author != ada and ada != post.author
    assert post.author not in [ada] and ada not in {post.author}
    assert await post.author is None


async def test_comparing_with_other_values_is_false(lane):
    ada, = await _users("Ada")
    post = await _fresh(await EqPost(title="p", author=ada).save())
    assert post.author != ada.id  # a document is not its id (as in MongoEngine)
    assert post.author != "Ada" and post.author != None  # noqa: E711
    assert post.author not in [None, 1, "Ada"]


@pytest.mark.requires("dbref")
async def test_reference_stored_as_dbref_compares_like_its_document(lane):
    ada, bob = await _users("Ada", "Bob")
    post = await _fresh(await EqDbRefPost(author=ada).save())
    assert isinstance(post._data["author"], DBRef)
    async with query_counter() as q:
        _assert_points_to(post.author, ada, bob)
        assert post.author.id == ada.id
        assert q == 0


@pytest.mark.requires("dbref")
async def test_generic_reference_compares_like_its_document(lane):
    ada, = await _users("Ada")
    twin = await EqOther(id=ada.id, name="twin").save()
    mark = await _fresh(await EqBookmark(target=ada).save())
    async with query_counter() as q:
        assert isinstance(mark.target, AwaitableReference)
        _assert_points_to(mark.target, ada, twin)  # same id, other class: not equal
        assert mark.target.pk == ada.id
        assert q == 0
    assert await mark.target == ada


async def test_lazy_reference_compares_and_hashes_like_its_document(lane):
    ada, bob = await _users("Ada", "Bob")
    post = await _fresh(await EqLazyPost(author=ada).save())
    async with query_counter() as q:
        _assert_points_to(post.author, ada, bob)
        assert q == 0


@pytest.mark.requires("dbref")
async def test_generic_lazy_reference_compares_and_hashes_like_its_document(lane):
    ada, bob = await _users("Ada", "Bob")
    post = await _fresh(await EqLazyPost(target=ada).save())
    async with query_counter() as q:
        _assert_points_to(post.target, ada, bob)
        assert q == 0


async def test_unloaded_list_and_dict_answer_membership_and_equality(lane):
    ada, bob, cy = await _users("Ada", "Bob", "Cy")
    post = await _fresh(
        await EqPost(title="p", likes=[ada, bob], by_role={"lead": ada}).save()
    )
    async with query_counter() as q:
        assert ada in post.likes and bob in post.likes and cy not in post.likes
        assert len(post.likes) == 2
        assert post.likes == [ada, bob] and post.likes != [bob, ada]
        assert post.likes != [ada] and [ada, bob] == post.likes
        assert post.likes != (ada, bob)  # a list, as in MongoEngine
        assert ada in post.by_role and post.by_role == {"lead": ada}
        assert post.by_role != {"lead": bob} and post.by_role != {"boss": ada}
        assert q == 0
    with pytest.raises(TypeError, match=r"await doc\.likes"):
        list(post.likes)
    assert [u.name for u in await post.likes] == ["Ada", "Bob"]
    assert post.likes == [ada, bob] and cy not in post.likes  # loaded: a list


async def test_gathering_equal_references_gives_the_document_at_each_place(lane):
    # asyncio.gather() awaits equal awaitables once: references to one
    # document are equal, so they share one load.
    ada, bob = await _users("Ada", "Bob")
    posts = [await _fresh(await EqPost(title=str(i), author=u).save()) for i, u in
             enumerate([ada, bob, ada])]
    async with query_counter() as q:
        authors = await asyncio.gather(*(p.author for p in posts))
        assert [a.name for a in authors] == ["Ada", "Bob", "Ada"]
        assert q == 1
    lists = await asyncio.gather(posts[0].likes, posts[1].likes)
    assert lists == [[], []]
