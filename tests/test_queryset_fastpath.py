"""The one-clone reads, the awaited get and the lean clone give what MongoEngine's paths give.

Property-based: random QuerySet chains and filters, each read both ways on
the same data, on every lane. The awaited get (no bridge greenlet) is also
shown to step aside wherever user code could run inside it.
"""

from __future__ import annotations

import asyncio
import copy

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mongoengine.queryset.base import BaseQuerySet
from mongoengine.queryset.visitor import Q
from pymongo import ReadPreference

import mongomotor
from mongomotor import Document, QuerySet, run_sync, signals
from mongomotor.fields import IntField, ListField, StringField
from mongomotor.odm.plans import reads as fastpath
from mongomotor.odm.querying import awaited_reads
from mongomotor.runtime import bridge


class FpItem(Document):
    name = StringField()
    n = IntField()
    tags = ListField(StringField())
    meta = {"ordering": ["-n"]}


class FpBase(Document):
    name = StringField()
    meta = {"allow_inheritance": True}


class FpChild(FpBase):
    extra = IntField()


class LoggedQuerySet(QuerySet):
    """A user QuerySet that overrides a chained method: it must keep MongoEngine's path."""

    def filter(self, *q_objs, **query):
        self.filtered = getattr(self, "filtered", 0) + 1
        return super().filter(*q_objs, **query)


class FpLogged(Document):
    name = StringField()
    meta = {"queryset_class": LoggedQuerySet}


_hypothesis = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Each entry: (method name, args, kwargs) applied to FpItem.objects in order.
_STEP_CHOICES = [
    st.tuples(st.just("filter"), st.just(()), st.fixed_dictionaries({"n__gte": st.integers(0, 6)})),
    st.tuples(
        st.just("filter"), st.just(()), st.fixed_dictionaries({"tags": st.sampled_from("ab")})
    ),
    st.tuples(st.just("order_by"), st.sampled_from([(), ("n",), ("-name",)]), st.just({})),
    st.tuples(st.just("only"), st.just(("name",)), st.just({})),
    st.tuples(st.just("exclude"), st.just(("tags",)), st.just({})),
    st.tuples(st.just("skip"), st.tuples(st.integers(0, 3)), st.just({})),
    st.tuples(st.just("limit"), st.tuples(st.integers(0, 4)), st.just({})),
    st.tuples(st.just("scalar"), st.just(("name", "n")), st.just({})),
    st.tuples(st.just("as_pymongo"), st.just(()), st.just({})),
    st.tuples(st.just("no_dereference"), st.just(()), st.just({})),
    st.tuples(st.just("comment"), st.just(("fastpath",)), st.just({})),
    st.tuples(st.just("batch_size"), st.tuples(st.integers(1, 5)), st.just({})),
    st.tuples(st.just("read_preference"), st.just((ReadPreference.PRIMARY,)), st.just({})),
    st.tuples(st.just("none"), st.just(()), st.just({})),
]
_rare = ("none",)


@st.composite
def _chains(draw, max_size: int = 6, allow_filter: bool = True):
    """A chain where each kind of step is present about half the time, in a random order."""
    steps = []
    for choice in _STEP_CHOICES:
        step = draw(choice)
        if step[0] == "filter" and not allow_filter:
            continue
        if draw(st.integers(0, 9)) < (1 if step[0] in _rare else 5):
            steps.append(step)
    steps = draw(st.permutations(steps))
    return steps[:max_size] if len(steps) > max_size else steps


_get_filter = st.one_of(
    st.fixed_dictionaries({"n": st.integers(-1, 7)}),
    st.fixed_dictionaries({"name": st.sampled_from(["i0", "i3", "nope"])}),
    st.fixed_dictionaries({"tags": st.sampled_from("abz")}),
    st.just({}),
)


def _build(steps: list) -> QuerySet:
    qs = FpItem.objects
    for name, args, kwargs in steps:
        qs = getattr(qs, name)(*args, **kwargs)
    return qs


def _outcome(call, comparable=None):
    """(kind, value) of a sync call: the value in comparable form, or the error."""
    try:
        value = call()
    except Exception as exc:  # the error is part of the behaviour compared
        return ("error", type(exc), str(exc))
    return ("value", (comparable or _comparable)(value))


def _comparable(value):
    if isinstance(value, Document):
        return (type(value).__name__, value.to_mongo().to_dict(), value._created)
    if isinstance(value, (list, tuple)):
        return [_comparable(v) for v in value]
    return value


async def _seed() -> None:
    if await FpItem.objects.count() == 0:
        await FpItem.objects.insert(
            [FpItem(name=f"i{i}", n=i, tags=["a" if i % 2 else "b"]) for i in range(6)]
        )


@_hypothesis
@given(steps=_chains(), query=_get_filter)
async def test_get_matches_mongoengine(lane, steps, query):
    await _seed()
    qs = _build(steps)
    fast = await run_sync(lambda: _outcome(lambda: fastpath.get(qs, **query)))
    slow = await run_sync(lambda: _outcome(lambda: BaseQuerySet.get(qs, **query)))
    assert fast == slow


@_hypothesis
@given(steps=_chains(), query=_get_filter)
async def test_awaited_get_matches_mongoengine(lane, steps, query):
    await _seed()
    qs = _build(steps)
    assert awaited_reads.applies(qs)
    awaited = await _awaited_outcome(awaited_reads.get(qs, **query))
    slow = await run_sync(lambda: _outcome(lambda: BaseQuerySet.get(qs, **query), _loaded))
    assert awaited == slow


async def _awaited_outcome(coroutine):
    try:
        return ("value", _loaded(await coroutine))
    except Exception as exc:
        return ("error", type(exc), str(exc))


@_hypothesis
@given(steps=_chains())
async def test_awaited_first_matches_mongoengine(lane, steps):
    await _seed()
    qs = _build(steps)
    assert awaited_reads.applies(qs)
    awaited = await _awaited_outcome(awaited_reads.first(qs))
    slow = await run_sync(lambda: _outcome(lambda: BaseQuerySet.first(qs), _loaded))
    assert awaited == slow


@_hypothesis
@given(steps=_chains(allow_filter=False), filtered=st.booleans(), pick=st.integers(-1, 6))
async def test_awaited_with_id_matches_mongoengine(lane, steps, filtered, pick):
    qs, wanted = await _with_id_case(steps, filtered, pick)
    assert awaited_reads.applies(qs)
    awaited = await _awaited_outcome(awaited_reads.with_id(qs, wanted))
    slow = await run_sync(lambda: _outcome(lambda: BaseQuerySet.with_id(qs, wanted), _loaded))
    assert awaited == slow


async def _with_id_case(steps: list, filtered: bool, pick: int) -> tuple:
    """A QuerySet built from ``steps`` (maybe filtered) and the id to look up (stored or not)."""
    await _seed()
    ids = [d.id for d in await FpItem.objects.order_by("n").to_list(None)]
    wanted = ids[pick] if 0 <= pick < len(ids) else FpItem().id
    qs = _build(steps)
    return (qs.filter(n__gte=0) if filtered else qs), wanted


def _loaded(value):
    """A loaded value in comparable form, the document's whole state included."""
    if isinstance(value, Document):
        return (_comparable(value), list(value._data), value._changed_fields, value._initialised)
    return _comparable(value)


@_hypothesis
@given(steps=_chains())
async def test_first_matches_mongoengine(lane, steps):
    await _seed()
    qs = _build(steps)
    fast = await run_sync(lambda: _outcome(lambda: fastpath.first(qs)))
    slow = await run_sync(lambda: _outcome(lambda: BaseQuerySet.first(qs)))
    assert fast == slow


@_hypothesis
@given(steps=_chains(allow_filter=False),
       filtered=st.booleans(), pick=st.integers(-1, 6))
async def test_with_id_matches_mongoengine(lane, steps, filtered, pick):
    qs, wanted = await _with_id_case(steps, filtered, pick)
    fast = await run_sync(lambda: _outcome(lambda: fastpath.with_id(qs, wanted)))
    slow = await run_sync(lambda: _outcome(lambda: BaseQuerySet.with_id(qs, wanted)))
    assert fast == slow


async def test_public_reads_agree_and_raise_like_mongoengine(lane):
    await _seed()
    one = await FpItem.objects.get(n=3)
    assert (one.name, one.n) == ("i3", 3)
    with pytest.raises(FpItem.DoesNotExist, match="FpItem matching query does not exist"):
        await FpItem.objects.get(n=99)
    with pytest.raises(FpItem.MultipleObjectsReturned):
        await FpItem.objects.get(tags="a")
    assert (await FpItem.objects.first()).n == 5  # meta ordering: -n
    assert await FpItem.objects.with_id(one.id) == one
    assert await FpItem.objects.with_id(FpItem().id) is None
    with pytest.raises(Exception, match="Cannot use a filter whilst using `with_id`"):
        await FpItem.objects(n=1).with_id(one.id)


async def test_subclass_reads_find_only_their_class(lane):
    await FpBase(name="base").save()
    child = await FpChild(name="child", extra=1).save()
    assert await FpChild.objects.get(name="child") == child
    assert isinstance(await FpBase.objects.get(name="child"), FpChild)
    with pytest.raises(FpChild.DoesNotExist):
        await FpChild.objects.get(name="base")


async def test_overridden_queryset_method_keeps_mongoengine_path(lane):
    await FpLogged(name="x").save()
    qs = FpLogged.objects
    assert not fastpath.takes_fast_path(qs)
    assert fastpath.takes_fast_path(FpItem.objects)
    found = await qs.get(name="x")
    assert found.name == "x"


class FpJunk(Document):
    n = IntField()
    meta = {"strict": False}  # stored keys that are not fields are kept


class CountingField(StringField):
    """A user field class: its code could do I/O, so gets of its class keep the bridge."""

    def to_python(self, value):
        return f"{value}!" if FpItem.objects.count() >= 0 else value


class FpCustomField(Document):
    name = CountingField()


class FpCounter(Document):
    """A user ``__init__`` that reads the database (sync, as MongoEngine code would)."""

    name = StringField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.items_seen = FpItem.objects.count()


def _takes_no_worker(monkeypatch) -> list:
    """A list that grows each time a bridge greenlet is taken."""
    taken = []
    real = bridge._take_worker
    monkeypatch.setattr(bridge, "_take_worker", lambda: taken.append(1) or real())
    return taken


async def test_awaited_reads_run_without_the_bridge(lane, monkeypatch):
    await _seed()
    await FpItem.objects.get(n=1)  # the collection is prepared
    taken = _takes_no_worker(monkeypatch)
    found = await FpItem.objects(n__gte=2).get(name="i3")
    assert (found.name, found.n, found._created, found._changed_fields) == ("i3", 3, False, [])
    with pytest.raises(FpItem.DoesNotExist, match="FpItem matching query does not exist"):
        await FpItem.objects.get(n=99)
    with pytest.raises(FpItem.MultipleObjectsReturned, match="2 or more items returned"):
        await FpItem.objects.get(tags="a")
    fourth = await FpItem.objects.get(n=4)
    assert await FpItem.objects.as_pymongo().only("n").get(n=4) == {"_id": fourth.id, "n": 4}
    assert await FpItem.objects.scalar("name").get(n=5) == "i5"
    assert (await FpItem.objects.order_by("n").first()).name == "i0"
    assert await FpItem.objects(n=99).first() is None
    assert await FpItem.objects.with_id(found.id) == found
    assert await FpItem.objects.with_id(FpItem().id) is None
    assert taken == []


async def test_awaited_get_steps_aside_for_user_code(lane):
    await _seed()
    # Stored as raw documents: built in user code, these classes would call I/O unawaited.
    await FpCustomField._get_collection().insert_one({"name": "x"})
    await FpCounter._get_collection().insert_one({"name": "c"})
    for qs in (FpCustomField.objects, FpCounter.objects, FpLogged.objects):
        await qs.count()
        assert not awaited_reads.applies(qs)
    assert (await FpCustomField.objects.get()).name == "x!"  # the field's own to_python ran
    assert (await FpCustomField.objects.first()).name == "x!"
    counted = await FpCounter.objects.get(name="c")
    assert counted.items_seen == await FpItem.objects.count()  # its sync read was answered
    assert (await FpCounter.objects.with_id(counted.id)).items_seen == counted.items_seen
    seen = []

    def receiver(sender, document, **kwargs):
        seen.append(FpItem.objects.filter(n=document.n).count())

    with signals.post_init.connected_to(receiver, sender=FpItem):
        assert not awaited_reads.applies(FpItem.objects)
        assert (await FpItem.objects.get(n=2)).n == 2
    assert seen == [1]


async def test_awaited_get_prepares_a_new_collection_in_the_bridge(lane):
    class FpFresh(Document):
        name = StringField(unique=True)

    qs = FpFresh.objects
    assert not awaited_reads.applies(qs)  # its collection and index are not made yet
    with pytest.raises(FpFresh.DoesNotExist):
        await qs.get(name="x")
    assert awaited_reads.applies(FpFresh.objects)
    indexes = (await FpFresh._get_collection().index_information()).values()
    assert any(list(spec["key"]) == [("name", 1)] and spec.get("unique") for spec in indexes)


async def test_awaited_get_leaves_unloadable_documents_to_mongoengine(lane, monkeypatch):
    await FpJunk(n=1).save()
    stored = await FpJunk._get_collection().insert_one({"n": "not a number", "extra": [1]})
    await FpJunk.objects.get(n=1)
    qs = FpJunk.objects
    assert awaited_reads.applies(qs)
    taken = _takes_no_worker(monkeypatch)
    awaited = await awaited_reads.get(qs, id=stored.inserted_id)
    assert taken == [1]  # a key that is no field: no plan, MongoEngine builds it in the bridge
    theirs = await run_sync(BaseQuerySet.get, qs, id=stored.inserted_id)
    assert awaited.n == theirs.n == "not a number"
    assert _loaded(awaited) == _loaded(theirs)


async def test_cancelled_awaited_get_leaves_the_client_usable(lane):
    await _seed()
    await FpItem.objects.get(n=1)
    for turns in range(4):
        task = asyncio.ensure_future(FpItem.objects.get(n=turns))
        for _ in range(turns):
            await asyncio.sleep(0)
        task.cancel()
        try:
            found = await task
        except asyncio.CancelledError:
            pass
        else:
            assert found.n == turns
        assert (await FpItem.objects.get(n=5)).name == "i5"


def test_awaited_reads_need_a_running_loop(memory_alias):
    with pytest.raises(RuntimeError, match=r"QuerySet.get\(\)` inside a coroutine"):
        FpItem.objects.get(n=1)
    with pytest.raises(RuntimeError, match=r"QuerySet.first\(\)` inside a coroutine"):
        FpItem.objects.first()


@pytest.fixture
def memory_alias():
    """A default alias on the in-memory driver, for tests that only build QuerySets."""
    mongomotor.connect("fastpath", host="mongomock://localhost", uuidRepresentation="standard")
    yield
    mongomotor.disconnect_all()


def _state(qs: BaseQuerySet) -> dict:
    state = {name: getattr(qs, name) for name in fastpath.CLONED_STATE}
    state["_query_obj"] = qs._query_obj.to_query(qs._document)
    state["_loaded_fields"] = (qs._loaded_fields.as_dict(), qs._loaded_fields.value)
    state["auto"] = qs._BaseQuerySet__auto_dereference
    return state


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=_chains(max_size=14))
def test_clone_copies_what_mongoengine_copies(memory_alias, steps):
    qs = _build(steps)
    ours = qs.clone()
    theirs = BaseQuerySet._clone_into(qs, QuerySet(qs._document, qs._collection_obj))
    assert _state(ours) == _state(theirs) == _state(qs)
    # Mutable parts are copies, as with copy.copy: changing the clone leaves the source.
    for name in ("_cls_query", "_scalar", "_query_obj", "_loaded_fields"):
        original, cloned = getattr(qs, name), getattr(ours, name)
        assert cloned is not original or type(original) in fastpath._SHARED_AS_IS


def test_cloned_state_is_all_mongoengine_copies(memory_alias):
    """If MongoEngine starts copying another attribute, this fails (and the list is updated)."""
    qs = FpBase.objects.filter(name="x").only("name").order_by("name")
    probe = QuerySet(FpBase, qs._collection_obj)
    before = dict(probe.__dict__)
    BaseQuerySet._clone_into(qs, probe)
    changed = {k for k, v in probe.__dict__.items() if k not in before or before[k] is not v}
    changed.discard("_BaseQuerySet__auto_dereference")
    assert changed <= set(fastpath.CLONED_STATE)
    assert set(fastpath.CLONED_STATE) <= set(dir(qs))


def test_plain_copy_matches_copy_module(memory_alias):
    q = Q(name="x") & Q(n__gt=1)
    for value in (q, Q(name="y"), FpBase.objects.only("name")._loaded_fields):
        assert fastpath._copies_as_plain_object(type(value))
        twin = object.__new__(type(value))
        twin.__dict__.update(value.__dict__)
        assert twin.__dict__ == copy.copy(value).__dict__
    assert not fastpath._copies_as_plain_object(set)
