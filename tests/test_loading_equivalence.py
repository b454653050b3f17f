"""The compiled loader (odm.plans.loader) leaves the state MongoEngine's ``_from_son`` leaves.

Hypothesis generates stored documents over every MongoEngine field type,
inheritance (``_cls`` dispatch), embedded and dynamic documents, missing keys,
nulls and values of the wrong type; each is built once by MongoEngine's own
path (``loading.enabled = False``) and once by the loader, and the two results
are compared: ``_data`` with its key order, every attribute, embedded
``_instance`` links, ``to_mongo()``, ``validate()``, and, after the same few
changes, ``_get_changed_fields()`` and ``_delta()``. On every lane, the same
changes are saved and what the database holds afterwards is compared.
"""

from __future__ import annotations

import datetime
import enum
import functools
import pickle
import re
import weakref
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from bson import DBRef, ObjectId
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mongoengine.base.datastructures import LazyReference
from mongoengine.errors import FieldDoesNotExist

from mongomotor import (
    Document,
    DynamicDocument,
    DynamicEmbeddedDocument,
    EmbeddedDocument,
    run_sync,
    signals,
    switch_collection,
)
from mongomotor.fields import (
    BinaryField,
    BooleanField,
    ComplexDateTimeField,
    DateField,
    DateTimeField,
    DecimalField,
    DictField,
    DynamicField,
    EmbeddedDocumentField,
    EmbeddedDocumentListField,
    EnumField,
    FloatField,
    GenericEmbeddedDocumentField,
    GenericReferenceField,
    GeoPointField,
    IntField,
    LazyReferenceField,
    ListField,
    LongField,
    MapField,
    ObjectIdField,
    PointField,
    ReferenceField,
    SortedListField,
    StringField,
    URLField,
    UUIDField,
)
from mongomotor.odm.plans import loader as loading
from mongomotor.odm.plans.compiler import NO_PLAN
from mongomotor.queryset import QuerySet

settings.register_profile(
    "loading",
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
LOADING = settings.get_profile("loading")


@pytest.fixture(autouse=True)
def loader_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests compare the loader with MongoEngine: on, even under MONGOMOTOR_LOADER=0."""
    monkeypatch.setattr(loading, "enabled", True)


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class LTag(EmbeddedDocument):
    name = StringField()
    weight = IntField(default=1)


class LNote(EmbeddedDocument):
    meta = {"allow_inheritance": True}
    text = StringField(db_field="t")
    tags = ListField(EmbeddedDocumentField(LTag))
    when = DateTimeField()


class LUrgentNote(LNote):
    level = IntField(default=3)


class LExtra(DynamicEmbeddedDocument):
    label = StringField()


class LTarget(Document):
    name = StringField()


class LEverything(Document):
    meta = {"allow_inheritance": True}
    s = StringField()
    s_db = StringField(db_field="sd")
    s_def = StringField(default="x")
    s_null = StringField(null=True, default="d")
    choice = StringField(choices=("a", "b"))
    i = IntField()
    lng = LongField()
    f = FloatField()
    b = BooleanField()
    dt = DateTimeField()
    day = DateField()
    oid = ObjectIdField()
    dec = DecimalField()
    uid = UUIDField()
    url = URLField()
    dyn = DynamicField()
    strs = ListField(StringField())
    ints = ListField(IntField(), db_field="ii")
    ranked = SortedListField(IntField())
    dct = DictField()
    counts = MapField(IntField())
    note = EmbeddedDocumentField(LNote)
    notes = EmbeddedDocumentListField(LNote)
    tags = ListField(EmbeddedDocumentField(LTag))
    anything = GenericEmbeddedDocumentField()
    extra = EmbeddedDocumentField(LExtra)
    ref = ReferenceField(LTarget)
    refs = ListField(ReferenceField(LTarget))
    gref = GenericReferenceField()
    lazy = LazyReferenceField(LTarget)
    point = GeoPointField()
    pt = PointField()
    listdef = ListField(IntField(), default=lambda: [1, 2])
    first_tag = EmbeddedDocumentField(LTag, default=lambda: LTag(name="first"))


class LSpecial(LEverything):
    special = StringField(default="sp")


class LOdd(LEverything):
    """Fields whose descriptors do their own work: MongoEngine's path builds these."""

    cdt = ComplexDateTimeField()
    binary = BinaryField()
    color = EnumField(Color)


class LDyn(DynamicDocument):
    name = StringField()
    n = IntField(default=7)
    tags = ListField(EmbeddedDocumentField(LTag))


class LDynNote(DynamicEmbeddedDocument):
    text = StringField()


class LComment(EmbeddedDocument):
    author = StringField()
    body = StringField()
    created = DateTimeField()


class LPost(Document):
    title = StringField(required=True)
    body = StringField()
    likes = IntField(default=0)
    published = DateTimeField()
    tags = ListField(StringField())
    comments = EmbeddedDocumentListField(LComment)
    author = ReferenceField(LTarget)
    n = IntField()
    name = StringField(db_field="nm")
    s = StringField()
    strs = ListField(StringField())


# -- stored values ----------------------------------------------------------------------

texts = st.text(max_size=8)
ints = st.integers(-(2**31), 2**31 - 1)
millis = st.datetimes(
    min_value=datetime.datetime(1971, 1, 1), max_value=datetime.datetime(2100, 1, 1)
).map(lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000))
floats = st.floats(allow_nan=False, allow_infinity=False)
object_ids = st.builds(ObjectId)
numeric_text = st.integers(-99, 99).map(str)  # IntField.to_python turns these into ints
junk = st.one_of(
    texts,
    ints,
    floats,
    st.booleans(),
    st.lists(texts, max_size=2),
    st.dictionaries(texts, ints, max_size=2),
)


def maybe_junk(valid: st.SearchStrategy) -> st.SearchStrategy:
    """Mostly stored values of the field's type; sometimes null or something else."""
    return st.one_of(valid, valid, valid, valid, valid, valid, st.none(), junk)


def tag_son() -> st.SearchStrategy:
    return sons({"name": maybe_junk(texts), "weight": maybe_junk(ints)})


def note_son() -> st.SearchStrategy:
    base = {
        "t": maybe_junk(texts),
        "tags": maybe_junk(st.lists(tag_son(), max_size=2)),
        "when": maybe_junk(millis),
    }
    return st.one_of(
        sons(base),
        sons({**base, "level": maybe_junk(ints)}, cls_values=("LNote.LUrgentNote",)),
    )


def sons(
    values: dict[str, st.SearchStrategy],
    cls_values: tuple[str, ...] = (),
    extra_keys: st.SearchStrategy | None = None,
) -> st.SearchStrategy:
    """Stored documents: any subset of ``values``' keys, in any order, maybe a ``_cls``."""

    @st.composite
    def build(draw: Callable[..., Any]) -> dict:
        keys = [key for key in sorted(values) if draw(st.booleans())]
        son = {key: draw(values[key]) for key in keys}
        if cls_values:
            son["_cls"] = draw(st.sampled_from(cls_values))
        if extra_keys is not None:
            son.update(draw(extra_keys))
        order = draw(st.permutations(list(son)))
        return {key: son[key] for key in order}

    return build()


def everything_son() -> st.SearchStrategy:
    values = {
        "_id": maybe_junk(st.builds(ObjectId)),
        "s": maybe_junk(texts),
        "sd": maybe_junk(texts),
        "s_def": maybe_junk(texts),
        "s_null": maybe_junk(texts),
        "choice": maybe_junk(st.sampled_from(["a", "b", "c"])),
        "i": maybe_junk(st.one_of(ints, numeric_text)),
        "lng": maybe_junk(st.integers()),
        "f": maybe_junk(st.one_of(floats, ints)),
        "b": maybe_junk(st.booleans()),
        "dt": maybe_junk(millis),
        "day": maybe_junk(millis),
        "cdt": maybe_junk(st.just("2020,01,02,03,04,05,000006")),
        "oid": maybe_junk(st.builds(ObjectId)),
        "dec": maybe_junk(floats),
        "uid": maybe_junk(st.uuids()),
        "url": maybe_junk(st.just("http://example.com/x")),
        "binary": maybe_junk(st.binary(max_size=4)),
        "color": maybe_junk(st.sampled_from(["red", "blue"])),
        "dyn": maybe_junk(st.one_of(texts, tag_son().map(lambda t: {**t, "_cls": "LTag"}))),
        "strs": maybe_junk(st.lists(st.one_of(texts, texts, ints, st.binary(max_size=2)))),
        "ii": maybe_junk(st.lists(st.one_of(ints, ints, texts, numeric_text, floats), max_size=3)),
        "ranked": maybe_junk(st.lists(ints, max_size=3)),
        "dct": maybe_junk(st.dictionaries(st.sampled_from("abc"), st.one_of(texts, ints))),
        "counts": maybe_junk(st.dictionaries(st.sampled_from("abc"), ints, max_size=2)),
        "note": maybe_junk(note_son()),
        "notes": maybe_junk(st.lists(note_son(), max_size=2)),
        "tags": maybe_junk(st.lists(tag_son(), max_size=3)),
        "anything": maybe_junk(tag_son().map(lambda t: {**t, "_cls": "LTag"})),
        "extra": maybe_junk(
            sons({"label": texts}, extra_keys=st.dictionaries(st.sampled_from(["k", "z"]), ints))
        ),
        "ref": maybe_junk(st.builds(ObjectId)),
        "refs": maybe_junk(st.lists(st.builds(ObjectId), max_size=2)),
        "gref": st.one_of(
            st.none(),
            st.builds(lambda o: {"_cls": "LTarget", "_ref": DBRef("l_target", o)}, object_ids),
        ),
        "lazy": maybe_junk(st.builds(ObjectId)),
        "point": maybe_junk(st.lists(floats, min_size=2, max_size=2)),
        "pt": st.one_of(
            st.none(),
            st.builds(lambda x, y: {"type": "Point", "coordinates": [x, y]}, floats, floats),
        ),
        "listdef": maybe_junk(st.lists(ints, max_size=2)),
        "first_tag": maybe_junk(tag_son()),
        "special": maybe_junk(texts),
    }
    unknown = st.dictionaries(st.sampled_from(["unknown", "_text_score"]), ints, max_size=1)
    return st.one_of(
        sons(values, cls_values=("LEverything", "LEverything.LSpecial", "LEverything.LOdd")),
        sons(values),
        sons(values, cls_values=("LEverything", "LEverything.LSpecial")),
        sons(values),
        sons(values, extra_keys=unknown),
        sons(values, cls_values=(None, "LTarget", "Nowhere", 3, ["LEverything"])),
    )


def dyn_son() -> st.SearchStrategy:
    dynamic_values = st.one_of(
        texts,
        ints,
        st.lists(st.one_of(texts, ints), max_size=2),
        st.dictionaries(st.sampled_from("ab"), ints, max_size=2),
        tag_son().map(lambda t: {**t, "_cls": "LTag"}),
        st.lists(tag_son().map(lambda t: {**t, "_cls": "LTag"}), max_size=2),
    )
    keys = st.sampled_from(["color", "size", "nested", "_private", "pk"])
    extra = st.dictionaries(keys, dynamic_values, max_size=3)
    values = {
        "_id": st.builds(ObjectId),
        "name": maybe_junk(texts),
        "n": maybe_junk(ints),
        "tags": maybe_junk(st.lists(tag_son(), max_size=2)),
    }
    return st.one_of(sons(values), sons(values, extra_keys=extra))


# -- comparing states ----------------------------------------------------------------------

_ADDRESS = re.compile(r"0x[0-9a-f]+")


def outcome(fn: Callable[[], Any]) -> tuple:
    """What ``fn()`` gives (normalised), or the error it raises (type and message)."""
    try:
        return ("ok", norm(fn()))
    except Exception as exc:  # noqa: BLE001 - any error must be the same on both paths
        return ("error", type(exc).__name__, _ADDRESS.sub("0x?", str(exc)))


def norm(value: Any, parent: Any = None) -> Any:
    """A comparable picture of a value, documents included (their whole state)."""
    from mongoengine.base.document import BaseDocument
    from mongoengine.base.fields import BaseField

    if isinstance(value, BaseDocument):
        return doc_state(value, parent)
    if isinstance(value, BaseField):  # copies of fields (no_dereference): by what they are
        return ("field", type(value).__name__, value.name, value._BaseField__auto_dereference)
    if isinstance(value, LazyReference):
        return ("lazy", type(value).__name__, value.collection, value.pk, value.passthrough)
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, [norm(v, parent) for v in value])
    if isinstance(value, dict):
        return (type(value).__name__, [(k, norm(v, parent)) for k, v in value.items()])
    if isinstance(value, functools.partial):
        return ("partial", value.func.__name__, value.args, value.keywords)
    return (type(value).__name__, value)


def doc_state(doc: Any, parent: Any = None) -> tuple:
    """Everything a document built from stored data holds, in order."""
    instance = getattr(doc, "_instance", "absent")
    if type(instance) is weakref.ProxyType:
        try:
            linked = parent is not None and instance._data is parent._data
            instance = "parent" if linked else "other"
        except ReferenceError:
            instance = "gone"  # a parent that was thrown away (unpickling does that)
    elif instance is not None and instance != "absent":
        instance = ("not a proxy", type(instance).__name__)
    return (
        type(doc).__name__,
        [(k, norm(v, doc)) for k, v in doc._data.items()],
        doc._initialised,
        doc._created,
        list(getattr(doc, "_changed_fields", ["(absent)"])),
        [(k, type(f).__name__) for k, f in doc._dynamic_fields.items()],
        [(k, norm(v, doc)) for k, v in doc.__dict__.items()],
        instance,
        doc._fields_ordered,
    )


def change(doc: Any, data: st.DataObject) -> None:
    """A few user edits, the same on both documents (drawn once, replayed)."""
    for name in ("s", "i", "name", "n"):
        if name in doc._fields and data.draw(st.booleans(), label=f"set {name}"):
            setattr(doc, name, data.draw(texts if name in ("s", "name") else ints, label=name))
    if "strs" in doc._fields and isinstance(doc._data.get("strs"), list):
        if data.draw(st.booleans(), label="append"):
            doc.strs.append("new")
    if "tags" in doc._fields and isinstance(doc._data.get("tags"), list) and doc._data["tags"]:
        tag = doc._data["tags"][0]
        if isinstance(tag, LTag) and data.draw(st.booleans(), label="edit tag"):
            tag.name = "edited"
    if "note" in doc._fields and isinstance(doc._data.get("note"), LNote):
        if data.draw(st.booleans(), label="edit note"):
            doc._data["note"].text = "edited"


def both(build: Callable[[], Any], plans: Any = loading) -> tuple[tuple, tuple]:
    """``build()``'s outcome by MongoEngine's own path, then by ``plans`` (a plan module)."""
    results = []
    for use_plans in (False, True):
        plans.enabled = use_plans
        try:
            results.append(outcome(build))
        finally:
            plans.enabled = True
    return results[0], results[1]


def built_pair(build: Callable[[], Any], plans: Any = loading) -> tuple[Any, Any]:
    """``build()`` by MongoEngine's own path, then by ``plans`` (a plan module)."""
    plans.enabled = False
    try:
        mongoengine_doc = build()
    finally:
        plans.enabled = True
    return mongoengine_doc, build()


def assert_equivalent(cls: Any, son: dict, data: st.DataObject) -> None:
    expected, got = both(lambda: cls._from_son(dict(son)))
    assert got == expected
    if expected[0] == "error":
        return
    a, b = built_pair(lambda: cls._from_son(dict(son)))
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


class _Replay:
    """Draws from a seeded Random, so the same edits can be made on two documents."""

    def __init__(self, rnd: Any) -> None:
        self._rnd = rnd

    def draw(self, strategy: Any, label: str = "") -> Any:
        if strategy is texts:
            return "".join(self._rnd.choice("abcé ") for _ in range(self._rnd.randrange(5)))
        if strategy is ints:
            return self._rnd.randrange(-100, 100)
        return self._rnd.random() < 0.5


def post_son() -> st.SearchStrategy:
    comment = sons({"author": texts, "body": texts, "created": millis})
    values = {
        "body": texts,
        "likes": ints,
        "published": millis,
        "tags": st.lists(texts, max_size=3),
        "comments": st.lists(comment, max_size=3),
        "author": st.builds(ObjectId),
        "n": ints,
        "nm": texts,
        "s": texts,
        "strs": st.lists(texts, max_size=2),
    }
    return sons(values).map(lambda son: {"_id": ObjectId(), "title": "t", **son})


def dyn_note_son() -> st.SearchStrategy:
    """A dynamic embedded document's data: a field and extra keys, one of them private."""
    return sons({"text": texts}, extra_keys=st.dictionaries(st.sampled_from(["x", "_y"]), ints))


#: The kinds of documents every equivalence property covers, each with the stored data it is
#: drawn from (the loader's and the constructor's tests go over the same table).
DOCUMENT_KINDS = [
    pytest.param((LSpecial,), everything_son, id="subclass"),
    pytest.param((LOdd,), everything_son, id="fields-with-own-descriptors"),
    pytest.param((LNote, LUrgentNote), note_son, id="embedded"),
    pytest.param((LDyn,), dyn_son, id="dynamic"),
    pytest.param((LDynNote,), dyn_note_son, id="dynamic-embedded"),
    pytest.param((LPost,), post_son, id="plain"),
]


# -- the properties ---------------------------------------------------------------------------


@settings(LOADING, max_examples=400)
@given(son=everything_son(), data=st.data())
def test_every_field_type_loads_as_mongoengine_does(son, data):
    assert_equivalent(LEverything, son, data)


@pytest.mark.parametrize(("classes", "stored"), DOCUMENT_KINDS)
@LOADING
@given(data=st.data())
def test_each_kind_of_document_loads_as_mongoengine_does(classes, stored, data):
    son = data.draw(stored(), label="son")
    for cls in classes:
        assert_equivalent(cls, son, data)


@pytest.mark.parametrize(("classes", "stored"), DOCUMENT_KINDS)
@LOADING
@given(data=st.data())
def test_a_batch_loads_as_mongoengine_loads_each_document(classes, stored, data):
    # Runs of one shape go through the plan's batch loop; a new shape, or a value
    # the plan cannot convert, must not change what any document of the batch is.
    distinct = data.draw(st.lists(stored(), min_size=1, max_size=4), label="sons")
    order = data.draw(
        st.lists(st.integers(0, len(distinct) - 1), min_size=1, max_size=12), label="order"
    )
    batch = [distinct[i] for i in order]
    created = data.draw(st.booleans(), label="created")
    for cls in classes:
        expected, got = both(
            lambda cls=cls: loading.from_sons(cls, [dict(s) for s in batch], created=created)
        )
        assert got == expected
        if expected[0] == "error":
            continue
        pairs = zip(*built_pair(lambda cls=cls: loading.from_sons(cls, [dict(s) for s in batch])))
        for a, b in pairs:
            for check in ("to_mongo", "validate", "_get_changed_fields", "_delta"):
                assert outcome(getattr(b, check)) == outcome(getattr(a, check))


def test_a_batch_of_one_shape_is_one_run(plans):
    sons = [{"_id": ObjectId(), "title": f"p{i}", "author": ObjectId()} for i in range(5)]
    docs = loading.from_sons(LPost, sons)
    assert [d.title for d in docs] == [f"p{i}" for i in range(5)]
    assert [d._data["author"].id for d in docs] == [s["author"] for s in sons]
    assert len(plans) == 1  # planned once, for the whole batch


async def test_references_in_a_batch_follow_a_switched_collection(lane):
    sons = [{"_id": ObjectId(), "title": "p", "author": ObjectId()} for _ in range(3)]
    async with switch_collection(LTarget, "l_target_2020"):
        inside = loading.from_sons(LPost, [dict(s) for s in sons])
    after = loading.from_sons(LPost, [dict(s) for s in sons])
    assert {d._data["author"].collection for d in inside} == {"l_target_2020"}
    assert {d._data["author"].collection for d in after} == {"l_target"}
    loading.enabled = False
    try:
        async with switch_collection(LTarget, "l_target_2020"):
            expected = [LPost._from_son(dict(s)) for s in sons]
    finally:
        loading.enabled = True
    assert norm(inside) == norm(expected)


def test_created_flag_is_kept():
    son = {"_id": ObjectId(), "s": "x"}
    expected, got = both(lambda: LEverything._from_son(son, created=True))
    assert got == expected
    assert LEverything._from_son(son, created=True)._created is True


# -- when the loader stands aside ----------------------------------------------------------------


@pytest.fixture
def plans() -> Iterator[dict]:
    loading.forget_plans()
    yield loading._plans
    loading.forget_plans()


def test_a_shape_is_planned_once_and_reused(plans):
    son = {"_id": ObjectId(), "s": "x", "tags": [{"name": "a"}]}
    first = LEverything._from_son(son)
    planned = dict(plans)
    second = LEverything._from_son(dict(son))
    assert plans == planned  # no new plan for the same shape
    assert doc_state(first)[1:] == doc_state(second)[1:]
    assert callable(plans[(LEverything, tuple(son), loading._NO_CLS)])


@pytest.mark.parametrize(
    ("cls", "son", "compiled"),
    [
        (LEverything, {"_id": ObjectId(), "s": "x", "sd": "y", "tags": [{"name": "t"}]}, True),
        (LEverything, {"_cls": "LEverything.LSpecial", "special": "z", "note": {"t": "n"}}, True),
        (LNote, {"t": "x", "_cls": "LNote.LUrgentNote", "level": 2}, True),
        (LDyn, {"_id": ObjectId(), "name": "x", "color": "red"}, True),
        (LDynNote, {"text": "x", "y": 1}, True),
        (LPost, {"_id": ObjectId(), "title": "t", "author": ObjectId(), "comments": []}, True),
        (LEverything, {"_cls": "LEverything.LOdd", "s": "x"}, False),  # enum, binary fields
        (LTarget, {"_id": ObjectId(), "name": "x", "unknown": 1}, False),
    ],
)
def test_plain_shapes_are_compiled(plans, cls, son, compiled):
    # The equivalence properties above would hold if every load fell back:
    # the shapes they are meant for do take the compiled path.
    try:
        cls._from_son(son)
    except FieldDoesNotExist:
        assert not compiled
    load = plans[(cls, tuple(son), son.get("_cls", loading._NO_CLS))]
    assert (load is not NO_PLAN) is compiled


def test_unknown_keys_raise_mongoengine_error(plans):
    with pytest.raises(FieldDoesNotExist, match="unknown"):
        LTarget._from_son({"_id": ObjectId(), "name": "x", "unknown": 1})


def test_conversion_errors_raise_mongoengine_error():
    son = {"_id": ObjectId(), "tags": [{"name": "a"}, "not a tag"]}
    expected, got = both(lambda: LEverything._from_son(son))
    assert expected[0] == "error" and got == expected


def test_init_receivers_see_every_document(plans):
    seen = []

    def receiver(sender, document, **kwargs):
        seen.append(type(document).__name__)

    signals.post_init.connect(receiver, sender=LTag)
    try:
        doc = LNote._from_son({"t": "x", "tags": [{"name": "a"}, {"name": "b"}]})
    finally:
        signals.post_init.disconnect(receiver, sender=LTag)
    assert seen == ["LTag", "LTag"]
    assert [t.name for t in doc._data["tags"]] == ["a", "b"]


def test_a_class_that_gains_a_field_is_planned_again(plans):
    class LGrowing(Document):
        name = StringField()

    son = {"_id": ObjectId(), "name": "x"}
    LGrowing._from_son(son)
    assert (LGrowing, ("_id", "name"), loading._NO_CLS) in plans
    late = StringField(default="late")
    late.name = late.db_field = "late"
    LGrowing.late = late
    LGrowing._fields["late"] = late
    LGrowing._fields_ordered += ("late",)
    expected, got = both(lambda: LGrowing._from_son(son))
    assert got == expected
    assert LGrowing._from_son(son)._data["late"] == "late"


def test_fields_dereference_again_after_a_load(plans):
    # MongoEngine's _from_son turns each field's auto-dereferencing on.
    field = LEverything._fields["dct"]
    field.set_auto_dereferencing(False)
    LEverything._from_son({"_id": ObjectId(), "s": "x"})
    assert field._auto_dereference is True


def test_switched_off_loader_is_mongoengine(plans, monkeypatch):
    monkeypatch.setattr(loading, "enabled", False)
    LEverything._from_son({"_id": ObjectId(), "s": "x"})
    assert plans == {}


# -- saved after changes, on every lane ----------------------------------------------------------


@settings(LOADING, max_examples=25)
@given(son=post_son(), data=st.data())
async def test_saved_changes_are_the_same(lane, son, data):
    edits = data.draw(st.randoms(use_true_random=False), label="edits")
    state = edits.getstate()
    names = sorted(set(LPost._fields) - {"id"})
    projection = data.draw(st.sampled_from(["all", "only", "exclude"]), label="projection")
    chosen = data.draw(st.lists(st.sampled_from(names), unique=True, min_size=1), label="fields")
    outcomes = []
    if "author" in son:
        await LTarget.objects(id=son["author"]).delete()
        await run_sync(lambda: LTarget._get_collection().insert_one({"_id": son["author"]}))
    for use_loader in (False, True):
        await LPost.objects(id=son["_id"]).delete()
        await run_sync(lambda: LPost._get_collection().insert_one(dict(son)))
        loading.enabled = use_loader
        try:
            qs = LPost.objects(id=son["_id"])
            if projection != "all":
                qs = getattr(qs, projection)(*chosen)
            doc = await qs.first()
            edits.setstate(state)
            change(doc, _Replay(edits))
            try:
                await doc.save()  # a projection without the required title: ValidationError
            except Exception as exc:  # noqa: BLE001 - the same error on both paths
                saved: Any = (type(exc).__name__, _ADDRESS.sub("0x?", str(exc)))
            else:
                saved = "saved"
                await doc.reload()
            stored = await LPost.objects(id=son["_id"]).as_pymongo().first()
            outcomes.append((saved, stored, doc_state(doc)))
        finally:
            loading.enabled = True
    assert outcomes[1] == outcomes[0]


# -- whole batches, through the async cursor ------------------------------------------------------


def _mongoengine_iteration(qs: Any) -> Any:
    """MongoEngine's own per-document iteration of ``qs``, with the loader off."""
    loading.enabled = False
    try:
        return list(qs.clone())
    finally:
        loading.enabled = True


@pytest.mark.parametrize(
    "shape",
    ["documents", "as_pymongo", "scalar", "values_list", "only", "exclude", "no_dereference"],
)
async def test_batches_give_what_mongoengine_iteration_gives(lane, shape):
    target = await LTarget(name="t").save()
    for i in range(25):
        await LPost(
            title=f"p{i}",
            likes=i,
            tags=["a", f"t{i % 3}"],
            comments=[LComment(author="c", body=f"b{i}")],
            author=target,
        ).save()
    qs = LPost.objects.order_by("likes")
    qs = {
        "documents": qs,
        "as_pymongo": qs.as_pymongo(),
        "scalar": qs.scalar("title", "likes"),
        "values_list": qs.values_list("tags"),
        "only": qs.only("title", "comments"),
        "exclude": qs.exclude("body", "tags"),
        "no_dereference": qs.no_dereference(),
    }[shape].batch_size(10)
    got = await qs.to_list(None)
    streamed = [item async for item in qs]
    expected = await run_sync(_mongoengine_iteration, qs)
    assert len(got) == 25
    assert norm(got) == norm(expected) == norm(streamed)
    if shape in ("documents", "no_dereference"):
        assert [d.title for d in got] == [f"p{i}" for i in range(25)]
        assert isinstance(got[0]._data["author"], DBRef)  # not loaded by iteration
    if shape == "documents":
        assert (await got[0].author).name == "t"
    if shape == "no_dereference":
        assert got[0].author == DBRef("l_target", target.id)


# -- every way a document is read ------------------------------------------------------------


async def _read_every_way(post_id: Any) -> dict[str, Any]:
    post = await LPost.objects.get(id=post_id)
    first = await LPost.objects(id=post_id).first()
    await first.reload()
    fields_reloaded = await LPost.objects.get(id=post_id)
    fields_reloaded.title = "changed here"
    await fields_reloaded.reload("likes")
    related = (await LPost.objects(id=post_id).select_related())[0]
    author = await post.author
    return {
        "get": doc_state(post),
        "first+reload": doc_state(first),
        "reload(likes)": doc_state(fields_reloaded),
        "select_related": doc_state(related),
        "reference": doc_state(author),
        "pickled": doc_state(pickle.loads(pickle.dumps(post))),
    }


async def test_every_read_builds_what_mongoengine_builds(lane, plans):
    target = await LTarget(name="t").save()
    post = await LPost(
        title="p",
        likes=3,
        tags=["a"],
        comments=[LComment(author="c", body="b"), LComment(author="d")],
        author=target,
        name="n",
    ).save()
    loading.enabled = False
    try:
        expected = await _read_every_way(post.id)
    finally:
        loading.enabled = True
    assert plans == {}
    got = await _read_every_way(post.id)
    assert got == expected
    compiled = {cls for (cls, *_), load in plans.items() if load is not NO_PLAN}
    assert compiled >= {LPost, LComment, LTarget}


class _StampingQuerySet(QuerySet):
    def __next__(self) -> Any:
        doc = super().__next__()
        doc.stamp = "seen"
        return doc


class LStamped(DynamicDocument):
    meta = {"queryset_class": _StampingQuerySet}
    name = StringField()


async def test_a_queryset_with_its_own_next_is_iterated_by_it(lane):
    await LStamped(name="a").save()
    docs = await LStamped.objects.to_list(None)
    assert [d.stamp for d in docs] == ["seen"]
