"""An unloaded list or dict of references: elements read like single references, and
what needs the loaded values (concatenating, ordering, changing) says what to await."""

from __future__ import annotations

import asyncio

import pytest
from bson import DBRef

from mongomotor import Document
from mongomotor.context_managers import query_counter
from mongomotor.fields import (
    DictField,
    GenericReferenceField,
    ListField,
    ReferenceField,
    StringField,
)
from mongomotor.odm.references.fields import NO_REFERENCE


class ListTag(Document):
    name = StringField()


class ListPost(Document):
    title = StringField()
    tags = ListField(ReferenceField(ListTag))
    by_role = DictField(ReferenceField(ListTag))
    anything = ListField(GenericReferenceField())


async def _tags(*names: str) -> list[ListTag]:
    return [await ListTag(name=name).save() for name in names]


async def _stored(**values: object) -> ListPost:
    post = await ListPost(title="p", **values).save()
    return await ListPost.objects.get(pk=post.pk)


async def test_an_element_knows_its_id_and_awaits_to_its_document(lane):
    a, b, c = await _tags("a", "b", "c")
    post = await _stored(tags=[a, b, c], by_role={"lead": b})
    async with query_counter() as q:
        first, last = post.tags[0], post.tags[-1]
        assert first.id == a.id and first.pk == a.id and last.id == c.id
        assert first == a and a == first and first != b and hash(first) == hash(a)
        assert post.by_role["lead"] == b and post.by_role["lead"].id == b.id
        assert q == 0
        assert (await first).name == "a"
        assert q == 1
        assert (await post.by_role["lead"]).name == "b"
        assert q == 2
        # Elements awaited together load in one query, as single references do.
        loaded = await asyncio.gather(post.tags[0], post.tags[1], post.tags[2])
        assert [t.name for t in loaded] == ["a", "b", "c"]
        assert q == 3
    with pytest.raises(IndexError):
        post.tags[3]
    with pytest.raises(KeyError):
        post.by_role["nobody"]


async def test_a_slice_is_a_list_of_elements(lane):
    tags = await _tags("a", "b", "c", "d")
    post = await _stored(tags=tags)
    async with query_counter() as q:
        middle = post.tags[1:3]
        assert [t.id for t in middle] == [tags[1].id, tags[2].id]
        assert [t.id for t in post.tags[::-2]] == [tags[3].id, tags[1].id]
        assert q == 0
        assert [t.name for t in await asyncio.gather(*middle)] == ["b", "c"]
        assert q == 1


async def test_reading_through_an_element_says_what_to_await(lane):
    (a,) = await _tags("a")
    post = await _stored(tags=[a])
    hint = r"ListPost\.tags\[0\] is not loaded.*\(await doc\.tags\[0\]\)\.name"
    with pytest.raises(AttributeError, match=hint):
        post.tags[0].name  # noqa: B018


async def test_an_element_gives_what_the_loaded_list_holds_there(lane):
    a, b = await _tags("a", "b")
    post = await _stored(tags=[a, b])
    await b.delete()
    dangling = await post.tags[1]
    # As in the loaded list (and MongoEngine): a dangling reference stays a DBRef.
    assert isinstance(dangling, DBRef) and dangling.id == b.id
    assert (await post.tags)[1] == dangling
    post = await ListPost.objects.get(pk=post.pk)
    element = post.tags[0]
    loaded = await post.tags
    assert await element is loaded[0]  # loaded since: the list's own document


async def test_an_element_that_is_already_a_document_or_empty(lane):
    a, b = await _tags("a", "b")
    post = await _stored(tags=[a])
    post.tags = [b, a.pk]  # a document beside a bare id: still unloaded
    assert post.tags[0] is b and await post.tags[0] is b
    assert (await post.tags[1]).name == "a"
    post = await _stored(by_role={"lead": a})
    post.by_role = {"lead": a.pk, "none": None}
    assert post.by_role["none"] is NO_REFERENCE and await post.by_role["none"] is None


@pytest.mark.requires("dbref")
async def test_elements_of_a_list_of_generic_references(lane):
    a, b = await _tags("a", "b")
    post = await _stored(anything=[a, b])
    async with query_counter() as q:
        second = post.anything[1]
        assert second.id == b.id and second == b
        assert q == 0
        assert (await second).name == "b"
        assert q == 1


@pytest.mark.parametrize(
    ("operation", "use"),
    [
        (lambda post, tag: post.tags + [tag], r"\(await doc\.tags\) \+ \[\.\.\.\]"),
        (lambda post, tag: [tag] + post.tags, r"\(await doc\.tags\) \+ \[\.\.\.\]"),
        (lambda post, tag: post.tags * 2, r"\(await doc\.tags\) \* n"),
        (lambda post, tag: post.tags < [tag], r"\(await doc\.tags\) < other"),
        (lambda post, tag: post.tags >= [tag], r"\(await doc\.tags\) < other"),
        (lambda post, tag: post.tags.__setitem__(0, tag), r"\(await doc\.tags\)\[key\] = value"),
        (lambda post, tag: post.tags.__delitem__(0), r"\(await doc\.tags\)\.pop\(key\)"),
        (lambda post, tag: list(reversed(post.tags)), r"\(await doc\.tags\)"),
        (lambda post, tag: sorted(post.tags), r"\(await doc\.tags\)"),
    ],
)
async def test_what_needs_the_loaded_list_says_to_await_it(lane, operation, use):
    a, b = await _tags("a", "b")
    post = await _stored(tags=[a])
    with pytest.raises(TypeError, match=rf"ListPost\.tags .*not loaded.*{use}"):
        operation(post, b)
    assert await post.tags == [a]  # nothing changed


async def test_list_methods_say_to_await_the_list(lane):
    a, b = await _tags("a", "b")
    post = await _stored(tags=[a])
    with pytest.raises(AttributeError, match=r"not loaded.*\(await doc\.tags\)\.append\(\.\.\.\)"):
        post.tags.append(b)
    with pytest.raises(AttributeError, match=r"\(await doc\.tags\)\.remove\(\.\.\.\)"):
        post.tags.remove(a)
    tags = await post.tags
    tags.append(b)
    tags[0] = b
    await post.save()
    stored = await ListPost.objects.get(pk=post.pk)
    assert [t.name for t in await stored.tags] == ["b", "b"]
    del (await stored.tags)[0]
    await stored.save()
    stored = await ListPost.objects.get(pk=post.pk)
    stored.tags = [*await stored.tags, a]
    await stored.save()
    assert [t.name for t in await (await ListPost.objects.get(pk=post.pk)).tags] == ["b", "a"]


async def test_in_place_concatenation_says_to_await_and_changes_nothing(lane):
    a, b = await _tags("a", "b")
    post = await _stored(tags=[a])
    with pytest.raises(TypeError, match=r"await doc\.tags"):
        post.tags += [b]
    assert post._get_changed_fields() == []
    # The way to change it: await, then change the loaded list.
    (await post.tags).append(b)
    await post.save()
    assert [t.name for t in await (await ListPost.objects.get(pk=post.pk)).tags] == ["a", "b"]


@pytest.mark.requires("nested_arrays")
async def test_a_list_in_a_list_asks_for_the_whole(lane):
    class NestedPost(Document):
        groups = ListField(ListField(ReferenceField(ListTag)))

    a, b = await _tags("a", "b")
    post = await NestedPost(groups=[[a], [b]]).save()
    post = await NestedPost.objects.get(pk=post.pk)
    with pytest.raises(TypeError, match=r"\(await doc\.groups\)\[0\]"):
        post.groups[0]  # noqa: B018
    assert [[t.name for t in g] for g in await post.groups] == [["a"], ["b"]]
