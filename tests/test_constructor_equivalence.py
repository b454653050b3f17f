"""The compiled constructor (odm.plans.constructor) builds what MongoEngine's ``__init__`` builds.

Hypothesis draws keyword arguments over every MongoEngine field type (stored
values, values of the wrong type, nulls, embedded documents and lists of them
built by the user, references, unknown names, ``pk``/``id``/``_cls``,
``_created`` and ``__auto_convert``), for plain, inherited, embedded and
dynamic documents; each document is built once by MongoEngine's own
``__init__`` (``constructor.enabled = False``) and once by the constructor,
and the two are compared: the error raised, or ``_data`` with its key order,
every attribute, ``_initialised``, ``_created``, ``_changed_fields``,
``_dynamic_fields``, embedded ``_instance`` links; then ``to_mongo()``,
``validate()``, ``_get_changed_fields()`` and ``_delta()`` before and after the
same edits. On every lane, what ``save()`` stores is compared too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import mongoengine
import pytest
from bson import ObjectId
from hypothesis import given, settings
from hypothesis import strategies as st
from mongoengine.errors import FieldDoesNotExist

from mongomotor import Document, signals
from mongomotor.fields import IntField, StringField
from mongomotor.odm.documents import NoDerefInitMixin
from mongomotor.odm.plans import constructor
from mongomotor.odm.plans import loader as loading
from mongomotor.odm.plans.compiler import NO_PLAN
from tests.test_loading_equivalence import (
    DOCUMENT_KINDS,
    LOADING,
    LComment,
    LDyn,
    LDynNote,
    LEverything,
    LNote,
    LOdd,
    LPost,
    LSpecial,
    LTag,
    LTarget,
    _Replay,
    change,
    doc_state,
    everything_son,
    outcome,
    post_son,
)
from tests.test_loading_equivalence import both as loading_both
from tests.test_loading_equivalence import built_pair as loading_built_pair


@pytest.fixture(autouse=True)
def constructor_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests compare the constructor with MongoEngine: on, even if switched off."""
    monkeypatch.setattr(constructor, "enabled", True)
    monkeypatch.setattr(loading, "enabled", True)


# -- what users pass ------------------------------------------------------------------------
#
# A recipe is built into fresh keyword arguments for each of the two builds, so
# the embedded documents given to one document are never linked to the other.


def user_values(cls: Any, son: dict) -> st.SearchStrategy:
    """Recipes of keyword arguments: the stored values under field names, some made documents."""

    @st.composite
    def build(draw: Callable[..., Any]) -> list:
        recipe = []
        for key, value in son.items():
            name = cls._reverse_db_field_map.get(key, key)
            if key == "_cls" and not draw(st.booleans()):
                continue
            if key != "_cls" and name not in cls._fields and not cls._dynamic:
                continue  # another class's field: the drawn extras below try unknown names
            kind = "value"
            if isinstance(value, dict) and name in ("note", "first_tag", "extra", "anything"):
                kind = draw(st.sampled_from(["value", "document"]))
            elif name in ("tags", "notes", "comments") and isinstance(value, list):
                if all(isinstance(item, dict) for item in value):
                    kind = draw(st.sampled_from(["value", "documents"]))
            elif name in ("ref", "lazy", "gref") and value is not None:
                kind = draw(st.sampled_from(["value", "target"]))
            recipe.append((name, kind, value))
        extra = draw(
            st.lists(
                st.sampled_from(
                    [
                        ("unknown", "value", 1),
                        ("_text_score", "value", 1.5),
                        ("pk", "value", ObjectId()),
                        ("id", "value", ObjectId()),
                        ("_created", "value", False),
                        ("_created", "value", True),
                        ("__auto_convert", "value", False),
                        ("__auto_convert", "value", 1),
                        ("_cls", "value", cls._class_name),
                    ]
                ),
                max_size=2,
                unique_by=lambda item: item[0],
            )
        )
        names = {name for name, _, _ in recipe}
        recipe += [item for item in extra if item[0] not in names]
        order = draw(st.permutations(range(len(recipe))))
        return [recipe[i] for i in order]

    return build()


_EMBEDDED = {"note": LNote, "first_tag": LTag, "tags": LTag, "notes": LNote, "comments": LComment}


def made(cls: Any, name: str, kind: str, value: Any) -> Any:
    """The value of one recipe item, made anew."""
    if kind == "document":
        if name == "anything":
            return LTag._from_son(value)
        if name == "extra":
            return cls._fields["extra"].document_type._from_son(value)
        return _EMBEDDED[name]._from_son(value)
    if kind == "documents":
        return [_EMBEDDED[name]._from_son(item) for item in value]
    if kind == "target":
        return LTarget(id=ObjectId(str(value)) if isinstance(value, ObjectId) else None, name="t")
    return value


def kwargs_of(cls: Any, recipe: list) -> dict:
    return {name: made(cls, name, kind, value) for name, kind, value in recipe}


def both(build: Callable[[], Any]) -> tuple[tuple, tuple]:
    """``build()`` by MongoEngine's own ``__init__``, then by the constructor."""
    return loading_both(build, constructor)


def built_pair(build: Callable[[], Any]) -> tuple[Any, Any]:
    return loading_built_pair(build, constructor)


def assert_built_alike(build: Callable[[], Any], data: st.DataObject) -> None:
    expected, got = both(build)
    assert got == expected
    if expected[0] == "error":
        return
    a, b = built_pair(build)
    checks = ("to_mongo", "validate", "_get_changed_fields", "_delta")
    for check in checks:
        assert outcome(getattr(b, check)) == outcome(getattr(a, check))
    edits = data.draw(st.randoms(use_true_random=False), label="edits")
    state = edits.getstate()
    for doc in (a, b):
        edits.setstate(state)
        change(doc, _Replay(edits))
    assert doc_state(b) == doc_state(a)
    for check in checks:
        assert outcome(getattr(b, check)) == outcome(getattr(a, check))


def assert_constructs_alike(cls: Any, son: dict, data: st.DataObject) -> None:
    recipe = data.draw(user_values(cls, son), label="recipe")
    assert_built_alike(lambda: cls(**kwargs_of(cls, recipe)), data)


# -- the properties ---------------------------------------------------------------------------


@settings(LOADING, max_examples=400)
@given(son=everything_son(), data=st.data())
def test_every_field_type_constructs_as_mongoengine_does(son, data):
    assert_constructs_alike(LEverything, son, data)


@pytest.mark.parametrize(("classes", "stored"), DOCUMENT_KINDS)
@LOADING
@given(data=st.data())
def test_each_kind_of_document_constructs_as_mongoengine_does(classes, stored, data):
    son = data.draw(stored(), label="son")
    for cls in classes:
        assert_constructs_alike(cls, son, data)


@LOADING
@given(son=everything_son(), data=st.data(), created=st.booleans())
def test_documents_built_from_stored_data_by_mongoengine_are_the_same(son, data, created):
    # With the loader off, _from_son calls the class with __auto_convert=False.
    loading.enabled = False
    try:
        assert_built_alike(lambda: LEverything._from_son(dict(son), created=created), data)
    finally:
        loading.enabled = True


# -- saved, on every lane ------------------------------------------------------------------------


@settings(LOADING, max_examples=25)
@given(son=post_son(), data=st.data())
async def test_saves_store_what_mongoengine_stores(lane, son, data):
    recipe = data.draw(user_values(LPost, son).filter(lambda r: all(n[0] != "_" for n in r)))
    recipe = [item for item in recipe if item[0] not in ("unknown", "pk", "id")]
    outcomes = []
    for use_constructor in (False, True):
        await LPost.objects(id=son["_id"]).delete()
        constructor.enabled = use_constructor
        try:
            doc = LPost(id=son["_id"], **kwargs_of(LPost, recipe))
            try:
                await doc.save()
                saved = "saved"
            except Exception as exc:  # noqa: BLE001 - any error must be the same on both paths
                saved = type(exc).__name__
            stored = await LPost.objects(id=son["_id"]).as_pymongo().first()
            outcomes.append((saved, stored, doc_state(doc)))
        finally:
            constructor.enabled = True
    assert outcomes[1] == outcomes[0]


# -- when the constructor stands aside ------------------------------------------------------------


@pytest.fixture
def plans() -> Iterator[dict]:
    constructor.forget_plans()
    yield constructor._plans
    constructor.forget_plans()


@pytest.mark.parametrize(
    ("build", "key", "compiled"),
    [
        (lambda: LPost(title="t", tags=["a"]), (LPost, ("title", "tags")), True),
        (lambda: LComment(author="x"), (LComment, ("author",)), True),
        (lambda: LEverything(s="x", note=LNote(text="n")), (LEverything, ("s", "note")), True),
        (lambda: LSpecial(special="x", _cls="X"), (LSpecial, ("special", "_cls")), True),
        (lambda: LDyn(name="x", color="red"), (LDyn, ("name", "color")), True),
        (lambda: LDynNote(text="x", y=1), (LDynNote, ("text", "y")), True),
        (lambda: LOdd(s="x"), (LOdd, ("s",)), False),  # enum, binary, complex datetime
        (lambda: LTarget(pk=ObjectId()), (LTarget, ("pk",)), False),
        (lambda: LDyn(_private=1), (LDyn, ("_private",)), False),
    ],
)
def test_plain_classes_are_compiled(plans, build, key, compiled):
    # The properties above would hold if every call fell back: the names
    # they are meant for do take the compiled path.
    build()
    assert (plans[key] is not NO_PLAN) is compiled


def test_unknown_names_raise_mongoengine_error(plans):
    with pytest.raises(FieldDoesNotExist, match="unknown"):
        LTarget(name="x", unknown=1)
    assert plans[(LTarget, ("name", "unknown"))] is NO_PLAN


def test_positional_arguments_raise_mongoengine_error():
    expected, got = both(lambda: LTarget("x"))
    assert expected[0] == "error" and got == expected


def test_conversion_errors_raise_mongoengine_error():
    expected, got = both(lambda: LEverything(tags=[{"name": "a"}, "not a tag"]))
    assert expected[0] == "error" and got == expected


def test_callable_defaults_are_called_once_per_document(plans):
    calls = []

    def stamp() -> int:
        calls.append(1)
        return len(calls)

    class CStamped(Document):
        n = IntField(default=stamp)
        name = StringField()

    assert [CStamped(name="a").n, CStamped(name="b").n, CStamped(n=9).n] == [1, 2, 9]
    assert callable(plans[(CStamped, ("name",))])


def test_init_receivers_see_every_document(plans):
    seen = []

    def receiver(sender, document, **kwargs):
        seen.append((type(document).__name__, kwargs.get("values")))

    signals.pre_init.connect(receiver, sender=LTag)
    try:
        tag = LTag(name="a")
    finally:
        signals.pre_init.disconnect(receiver, sender=LTag)
    assert seen == [("LTag", {"name": "a"})]
    assert tag.name == "a" and plans == {}


def test_a_class_of_its_own_init_is_planned_through_super(plans):
    class CCounted(Document):
        name = StringField()

        def __init__(self, *args: Any, **values: Any) -> None:
            values.setdefault("name", "anonymous")
            super().__init__(*args, **values)

    expected, got = both(lambda: CCounted())
    assert got == expected
    assert got[0] == "ok" and got[1][1][1] == ("name", ("str", "anonymous")), got
    assert callable(plans[(CCounted, ("name",))])


class _OwnInit:
    def __init__(self, *args: Any, **values: Any) -> None:
        super().__init__(*args, **values)
        self._data["name"] = "mixed in"


def test_an_init_behind_mongomotor_is_left_to_mongoengine(plans):
    class CMixed(NoDerefInitMixin, _OwnInit, mongoengine.Document):
        name = StringField()

    assert CMixed(name="x").name == "mixed in"
    assert plans[(CMixed, ("name",))] is NO_PLAN


def test_embedded_documents_built_by_users_link_to_their_parent():
    note = LNote(text="n", tags=[LTag(name="a")])
    post = LEverything(note=note, tags=[LTag(name="b")])
    assert note._instance._data is post._data
    assert post.tags[0]._instance._data is post._data
    assert note.tags[0]._instance._data is note._data


def test_a_class_that_gains_a_field_is_planned_again(plans):
    class CGrowing(Document):
        name = StringField()

    CGrowing(name="x")
    late = StringField(default="late")
    late.name = late.db_field = "late"
    CGrowing.late = late
    CGrowing._fields["late"] = late
    CGrowing._fields_ordered += ("late",)
    expected, got = both(lambda: CGrowing(name="x"))
    assert got == expected
    assert CGrowing(name="x")._data["late"] == "late"


def test_switched_off_constructor_is_mongoengine(plans, monkeypatch):
    monkeypatch.setattr(constructor, "enabled", False)
    LPost(title="t")
    assert plans == {}


def test_loader_still_plans_classes_built_by_the_constructor():
    loading.forget_plans()
    LPost._from_son({"_id": ObjectId(), "title": "t"})
    assert all(plan is not NO_PLAN for plan in loading._plans.values())



class CNamed(Document):
    name = StringField(primary_key=True)
    n = IntField(default=lambda: 5)


class CLoose(Document):
    meta = {"strict": False}
    a = StringField()


class CAbstract(Document):
    meta = {"abstract": True}
    a = StringField()


class CConcrete(CAbstract):
    b = IntField(default=2)


class CSharded(Document):
    meta = {"shard_key": ("a",)}
    a = StringField()
    b = IntField()


@pytest.mark.parametrize(
    "build",
    [
        lambda: CNamed(name="x"),
        lambda: CNamed(pk="x"),
        lambda: CNamed(id="x"),
        lambda: CNamed(name="x", n=None),
        lambda: CLoose(a="x"),
        lambda: CLoose(a="x", extra=1),
        lambda: CLoose(a="x", extra=1, _created=False),
        lambda: CConcrete(a="x"),
        lambda: CConcrete(b=None, a=None),
        lambda: CSharded(a="x", b=1),
        lambda: CSharded(a="x", b=1, _created=False),
    ],
)
def test_primary_keys_strictness_abstract_parents_and_shard_keys_build_alike(build):
    expected, got = both(build)
    assert got == expected
