"""The compiled encoder (odm.plans.encoder) does what MongoEngine's ``to_mongo``/``validate`` do.

Documents over every MongoEngine field type, inheritance, embedded and dynamic
documents (the stored-data strategies of ``test_loading_equivalence``, plus
documents built from keyword arguments as users build them before ``save``)
are encoded once by MongoEngine's own methods (``encoding.enabled = False``)
and once by the compiled plans, before and after the same edits:
``to_mongo()`` with and without ``use_db_field``/``fields``, ``validate()``
with its message and ``errors``, ``_clear_changed_fields()``,
``_get_changed_fields()`` and ``_delta()``; on every lane,
what ``save()`` stores.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from bson import ObjectId
from hypothesis import given, settings
from hypothesis import strategies as st
from mongoengine.errors import ValidationError

from mongomotor import Document, EmbeddedDocument
from mongomotor.fields import (
    BinaryField,
    EmbeddedDocumentField,
    IntField,
    SortedListField,
    StringField,
)
from mongomotor.odm.plans import encoder as encoding
from mongomotor.odm.plans import loader as loading
from mongomotor.odm.plans.compiler import NO_PLAN
from tests.test_loading_equivalence import (
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
    both,
    change,
    doc_state,
    dyn_son,
    everything_son,
    ints,
    note_son,
    outcome,
    post_son,
    sons,
    texts,
)


@pytest.fixture(autouse=True)
def encoder_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests compare the encoder with MongoEngine: on, even under MONGOMOTOR_ENCODER=0."""
    monkeypatch.setattr(encoding, "enabled", True)
    monkeypatch.setattr(loading, "enabled", True)


def validation(doc: Any, clean: bool = True) -> tuple:
    """``doc.validate(clean)``: None, or the error's message and whole ``errors`` dict."""
    try:
        doc.validate(clean=clean)
    except ValidationError as exc:
        return ("invalid", str(exc), repr(exc.to_dict()), exc.message)
    except Exception as exc:  # noqa: BLE001 - any error must be the same on both paths
        return ("error", type(exc).__name__, str(exc))
    return ("valid",)


def encodings(doc: Any) -> list:
    """Everything the encoder replaces, as MongoEngine's callers ask for it."""
    id_field = doc._meta.get("id_field") or "id"
    calls: list[Callable[[], Any]] = [
        lambda: doc.to_mongo(),
        lambda: doc.to_mongo(use_db_field=False),
        lambda: doc.to_mongo(fields=[id_field]),
        lambda: doc.to_mongo(True, ["s", "note.t", "tags", "i", "text"]),
        lambda: doc.to_mongo(use_db_field=False, fields=["note", "sd", "s_db"]),
    ]
    # A SON's repr follows its own key list, its items() the dict's: both must match.
    sons_ = [outcome(call) for call in calls] + [outcome(lambda c=c: repr(c())) for c in calls]
    changes = [outcome(doc._get_changed_fields), outcome(doc._delta)]
    return sons_ + [validation(doc), validation(doc, clean=False)] + changes


def cleared_pair(build: Callable[[], Any], edit: Callable[[Any], None]) -> tuple[tuple, tuple]:
    """``_clear_changed_fields()`` on two equal documents: MongoEngine's, then the encoder's."""
    states = []
    for use_encoder in (False, True):
        doc = build()
        edit(doc)
        encoding.enabled = use_encoder
        try:
            result = outcome(doc._clear_changed_fields)
            state = outcome(functools.partial(doc_state, doc))
            states.append((result, state, outcome(doc._get_changed_fields)))
        finally:
            encoding.enabled = True
    return states[0], states[1]


def assert_encodes_alike(build: Callable[[], Any], data: st.DataObject) -> None:
    try:
        doc = build()
    except Exception:  # noqa: BLE001 - a document MongoEngine refuses to build: nothing to encode
        return
    expected, got = both(lambda: encodings(doc), encoding)
    assert got == expected
    edits = data.draw(st.randoms(use_true_random=False), label="edits")
    state = edits.getstate()

    def edit(doc: Any) -> None:
        edits.setstate(state)
        change(doc, _Replay(edits))

    edit(doc)
    expected, got = both(lambda: encodings(doc), encoding)
    assert got == expected
    mongoengine_state, encoder_state = cleared_pair(build, edit)
    assert encoder_state == mongoengine_state


def from_kwargs(cls: Any, son: dict) -> Callable[[], Any]:
    """The document a user builds with the same values (stored names turned into field names)."""
    kwargs = {cls._reverse_db_field_map.get(k, k): v for k, v in son.items() if k != "_cls"}
    return lambda: cls(**kwargs)


# -- the properties -------------------------------------------------------------------------


@settings(LOADING, max_examples=300)
@given(son=everything_son(), data=st.data(), created=st.booleans())
def test_every_field_type_encodes_as_mongoengine_does(son, data, created):
    assert_encodes_alike(lambda: LEverything._from_son(dict(son), created=created), data)


@LOADING
@given(son=everything_son(), data=st.data())
def test_documents_built_by_users_encode_as_mongoengine_does(son, data):
    assert_encodes_alike(from_kwargs(LSpecial, son), data)


@LOADING
@given(son=everything_son(), data=st.data())
def test_subclasses_encode_as_mongoengine_does(son, data):
    assert_encodes_alike(lambda: LSpecial._from_son(dict(son)), data)
    assert_encodes_alike(lambda: LOdd._from_son(dict(son)), data)


@LOADING
@given(son=note_son(), data=st.data())
def test_embedded_documents_encode_as_mongoengine_does(son, data):
    assert_encodes_alike(lambda: LNote._from_son(dict(son)), data)
    assert_encodes_alike(from_kwargs(LNote, son), data)


@LOADING
@given(son=dyn_son(), data=st.data())
def test_dynamic_documents_encode_as_mongoengine_does(son, data):
    assert_encodes_alike(lambda: LDyn._from_son(dict(son)), data)
    assert_encodes_alike(from_kwargs(LDyn, son), data)


@LOADING
@given(
    son=sons({"text": texts}, extra_keys=st.dictionaries(st.sampled_from("xy"), ints)),
    data=st.data(),
)
def test_dynamic_embedded_documents_encode_as_mongoengine_does(son, data):
    assert_encodes_alike(lambda: LDynNote._from_son(dict(son)), data)


@LOADING
@given(son=post_son(), data=st.data())
def test_plain_documents_encode_as_mongoengine_does(son, data):
    assert_encodes_alike(lambda: LPost._from_son(dict(son)), data)
    assert_encodes_alike(lambda: new_post(son), data)


def new_post(son: dict) -> LPost:
    """The post a user would build from these values, before its first save."""
    values = {LPost._reverse_db_field_map.get(k, k): v for k, v in son.items()}
    values["comments"] = [LComment(**c) for c in values.get("comments", [])]
    return LPost(**values)


@settings(LOADING, max_examples=25)
@given(son=post_son(), data=st.data())
async def test_saves_store_what_mongoengine_stores(lane, son, data):
    edits = data.draw(st.randoms(use_true_random=False), label="edits")
    state = edits.getstate()
    outcomes = []
    for use_encoder in (False, True):
        await LPost.objects(id=son["_id"]).delete()
        encoding.enabled = use_encoder
        try:
            doc = new_post(son)
            await doc.save()  # an insert
            first = await LPost.objects(id=son["_id"]).as_pymongo().first()
            state_after_insert = doc_state(doc)
            edits.setstate(state)
            change(doc, _Replay(edits))
            await doc.save()  # an update of what changed
            stored = await LPost.objects(id=son["_id"]).as_pymongo().first()
            outcomes.append((first, state_after_insert, stored, doc_state(doc)))
        finally:
            encoding.enabled = True
    assert outcomes[1] == outcomes[0]


# -- the plans ------------------------------------------------------------------------------------


@pytest.fixture
def plans() -> Iterator[tuple[dict, dict, dict]]:
    encoding.forget_plans()
    yield encoding._encoders, encoding._validators, encoding._clearers
    encoding.forget_plans()


@pytest.mark.parametrize(
    ("build", "compiled"),
    [
        (lambda: LPost(title="t", tags=["a"], comments=[LComment(author="x")]), True),
        (lambda: LComment(author="x"), True),
        (lambda: LEverything(s="x", note=LNote(text="n"), tags=[LTag(name="t")]), True),
        (lambda: LSpecial(s="x"), True),
        (lambda: LNote(text="x"), True),
        (lambda: LOdd(s="x"), False),  # enum, binary, complex datetime fields
        (lambda: LDyn(name="x", color="red"), False),  # dynamic document
        (lambda: LDynNote(text="x"), False),
    ],
)
def test_plain_classes_are_compiled(plans, build, compiled):
    # The properties above would hold if every call fell back: the shapes
    # they are meant for do take the compiled path.
    encoders, validators, clearers = plans
    doc = build()
    doc.to_mongo()
    doc.validate()
    doc._clear_changed_fields()
    cls = type(doc)
    for plan in (encoders[(cls, True, ())], validators[cls], clearers[cls]):
        assert (plan is not NO_PLAN) is compiled


def test_a_save_takes_the_compiled_path(plans, monkeypatch):
    encoders, validators, clearers = plans
    calls = []
    real = encoding.to_mongo

    def counted(*args: Any) -> Any:
        son = real(*args)
        calls.append(son is not None)
        return son

    monkeypatch.setattr(encoding, "to_mongo", counted)
    post = LPost(title="t", tags=["a", "b"], likes=2)
    post.validate()
    post.to_mongo(fields=["id"])
    post.to_mongo()
    assert calls == [True, True]
    assert callable(validators[LPost]) and encoding.validate(post)
    assert encoding.clear_changed_fields(post)


class EOwnMongo(Document):
    name = StringField()

    def to_mongo(self, *args: Any, **kwargs: Any) -> Any:
        son = super().to_mongo(*args, **kwargs)
        son["extra"] = 1
        return son


class ECustomField(StringField):
    def to_mongo(self, value: Any) -> Any:
        return value.upper()


class EWithCustom(Document):
    name = ECustomField()
    n = IntField()


class EClean(Document):
    name = StringField(required=True)

    def clean(self) -> None:
        if self.name == "bad":
            raise ValidationError("no bad names")


class ESorted(EmbeddedDocument):
    rank = IntField()


class EWithSorted(Document):
    ranked = SortedListField(EmbeddedDocumentField(ESorted), ordering="rank")
    raw = BinaryField()


def test_classes_and_fields_of_their_own_use_mongoengine(plans):
    encoders, validators, clearers = plans
    assert EOwnMongo(name="x").to_mongo()["extra"] == 1  # the subclass's method, over ours
    assert EWithCustom(name="x", n=1).to_mongo()["name"] == "X"
    assert encoders[(EWithCustom, True, ())] is NO_PLAN
    EWithSorted(ranked=[ESorted(rank=2)]).to_mongo()
    assert encoders[(EWithSorted, True, ())] is NO_PLAN


def test_a_class_of_its_own_clean_is_cleaned_by_mongoengine(plans):
    with pytest.raises(ValidationError, match="no bad names") as info:
        EClean(name="bad").validate()
    assert "__all__" in info.value.to_dict()
    EClean(name="bad").validate(clean=False)  # without clean(): the compiled checks pass it
    assert encoding.validate(EClean(name="bad"), clean=False)
    assert not encoding.validate(EClean(name="bad"), clean=True)


def test_invalid_values_raise_mongoengine_error(plans):
    post = LPost(title=None, likes="many", tags=["a", 3])
    with pytest.raises(ValidationError) as info:
        post.validate()
    errors = info.value.to_dict()
    assert set(errors) == {"title", "likes", "tags"}
    assert not encoding.validate(post)


def test_conversion_errors_raise_mongoengine_error(plans):
    doc = LEverything(oid="not an id")
    encoding.enabled = False
    try:
        with pytest.raises(ValidationError) as expected:
            doc.to_mongo()
    finally:
        encoding.enabled = True
    with pytest.raises(ValidationError) as got:
        doc.to_mongo()
    assert str(got.value) == str(expected.value)


def test_a_class_that_gains_a_field_is_planned_again(plans):
    encoders = plans[0]

    class EGrowing(Document):
        name = StringField()

    doc = EGrowing(name="x")
    assert list(doc.to_mongo()) == ["name"]
    field = IntField(default=5)
    field.name = field.db_field = "extra"
    EGrowing._fields = {**EGrowing._fields, "extra": field}
    EGrowing._fields_ordered = (*EGrowing._fields_ordered, "extra")
    doc._data["extra"] = 5
    assert doc.to_mongo() == {"name": "x", "extra": 5}
    assert callable(encoders[(EGrowing, True, ())])


def test_switched_off_encoder_is_mongoengine(plans, monkeypatch):
    monkeypatch.setattr(encoding, "enabled", False)
    post = LPost(title="t", tags=["a"])
    assert list(post.to_mongo()) == ["title", "likes", "tags", "comments", "strs"]
    post.validate()
    post._clear_changed_fields()
    assert plans == ({}, {}, {})


def test_references_are_stored_as_mongoengine_stores_them():
    # A reference field is not converted by the compiled code (MongoEngine's call).
    target = LTarget(id=ObjectId(), name="t")
    post = LPost(title="t", author=target)
    encoding.enabled = False
    try:
        expected = post.to_mongo()
    finally:
        encoding.enabled = True
    assert post.to_mongo() == expected
    assert type(post.to_mongo()["author"]) is type(expected["author"])


def test_changed_fields_of_plain_values_take_the_compiled_path(plans):
    post = LPost._from_son({"_id": ObjectId(), "title": "t", "tags": ["a"], "author": ObjectId()})
    post.likes = 3
    post.author = LTarget(id=ObjectId())  # references are not looked into
    assert encoding.changed_fields(post) == post._get_changed_fields() == ["likes", "author"]
    assert callable(encoding._changes[LPost])
    encoding.enabled = False
    try:
        assert post._get_changed_fields() == ["likes", "author"]
    finally:
        encoding.enabled = True
    post.comments = [LComment(author="x")]  # an embedded document: MongoEngine walks it
    assert encoding.changed_fields(post) is None
