"""What a reference reads as in user code before it is loaded: awaitables that know their ids.

    author = await post.author          # an AwaitableReference, loaded in a batch
    post.author.id                      # the stored id, no query
    tags = await post.tags              # an AwaitableContainer, one query per collection

Loaded references are the documents themselves (documents await to
themselves); an empty one reads as :data:`NO_REFERENCE`.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from bson import DBRef
from mongoengine.base import fields as me_base_fields
from mongoengine.base import get_document
from mongoengine.base.datastructures import BaseDict, BaseList
from mongoengine.base.document import BaseDocument
from mongoengine.document import Document as MEDocument

from mongomotor.odm.references.dereference import get_loader, id_key
from mongomotor.runtime.bridge import run_sync

__all__ = [
    "NO_REFERENCE",
    "AwaitableContainer",
    "AwaitableElement",
    "AwaitableReference",
    "ReferenceDict",
    "ReferenceList",
    "as_awaitable",
    "leaf_field",
    "owner_name",
    "ready",
]


def ready(value: Any) -> Generator[Any, None, Any]:
    """``__await__`` of something already loaded: gives ``value`` without suspending."""
    return value
    yield  # pragma: no cover - makes this a generator


class _NoReference:
    """What an empty reference reads as in user code: falsy, and ``await`` gives None."""

    __slots__ = ()

    def __await__(self) -> Generator[Any, None, None]:
        return ready(None)

    def __bool__(self) -> bool:
        return False

    def __eq__(self, other: object) -> bool:
        # ``post.author == None`` holds as in MongoEngine (``is None`` cannot).
        return other is None or other is self

    def __hash__(self) -> int:
        return hash(None)

    def __repr__(self) -> str:
        return "NO_REFERENCE"


NO_REFERENCE = _NoReference()


class Ready:
    """An awaitable that gives a value already at hand (for values that are not awaitable)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __await__(self) -> Generator[Any, None, Any]:
        return ready(self.value)

    def __repr__(self) -> str:
        return f"<loaded {self.value!r}>"


def as_awaitable(value: Any) -> Any:
    if value is None:
        return NO_REFERENCE
    if hasattr(type(value), "__await__"):
        return value
    return Ready(value)


def owner_name(field: Any, instance: Any) -> str:
    return f"{type(instance).__name__}.{field.name}"


class _NotLoaded:
    """Base of the awaitables read in user code: truthy, and attribute reads explain."""

    __slots__ = ()

    def _hint(self) -> str:
        raise NotImplementedError

    def __bool__(self) -> bool:
        return True

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("_"):
            raise AttributeError(attr)
        raise AttributeError(self._hint().format(attr=attr))


def _related(cls: type, other: type) -> bool:
    return issubclass(cls, other) or issubclass(other, cls)


def _points_to(doc_cls: Any, dbref: DBRef, other: object) -> Any:
    """Whether a reference to ``dbref`` (of ``doc_cls``) names ``other``; MongoEngine's rules.

    A document matches if saved, of a related class and with the same id
    (unsaved documents have no id: they equal only themselves); a DBRef (or
    LazyReference) if it names the same collection and id.
    """
    if isinstance(other, AwaitableReference):
        if dbref.id != other._dbref.id:
            return False
        if doc_cls is None:
            return dbref.collection == other._dbref.collection
        return _related(doc_cls, other._doc_cls)
    if isinstance(other, MEDocument):
        pk = other.pk
        if pk is None or dbref.id != pk:
            return False
        if doc_cls is None:  # a DBRef in an untyped container: only its collection is known
            return other._get_collection_name() == dbref.collection
        return _related(doc_cls, type(other))
    if isinstance(other, DBRef):
        return dbref.collection == other.collection and dbref.id == other.id
    return NotImplemented


class AwaitableReference(_NotLoaded):
    """A reference that is not loaded yet: ``await`` it to get the document.

        author = await post.author
        post.author == author and post.author.id == author.id   # no query

    The load is batched with every other reference awaited in the same loop
    iteration (one ``$in`` query per collection). A missing document raises
    ``<Class>.DoesNotExist`` naming the class and id.

    It compares as MongoEngine compares documents: equal to a saved document
    of a related class (the referenced class, a subclass or a parent) with the
    same id, to another reference to that document and to a DBRef naming it;
    its hash is the id's, as a document's. ``.pk`` and ``.id`` give the id.
    """

    __slots__ = ("_field", "_instance", "_raw", "_doc_cls", "_dbref")

    def __init__(self, field: Any, instance: Any, raw: Any, doc_cls: Any, dbref: DBRef) -> None:
        self._field = field
        self._instance = instance
        self._raw = raw
        self._doc_cls = doc_cls
        self._dbref = dbref

    @property
    def pk(self) -> Any:
        """The id of the referenced document (stored in the referring one: no query)."""
        return self._dbref.id

    id = pk

    def __getattr__(self, attr: str) -> Any:
        # A primary key with another name (``name = StringField(primary_key=True)``).
        if not attr.startswith("_") and attr == self._doc_cls._meta.get("id_field"):
            return self._dbref.id
        return super().__getattr__(attr)

    def __eq__(self, other: object) -> bool:
        return _points_to(self._doc_cls, self._dbref, other)

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    def __hash__(self) -> int:
        # The id's, as Document.__hash__ (equal objects, equal hashes); a
        # compound (dict) id by its repr, so that asyncio.gather() can key it.
        return hash(id_key(self._dbref.id))

    def __await__(self) -> Generator[Any, None, Any]:
        return self._load().__await__()

    async def _load(self) -> Any:
        instance, name = self._instance, self._field.name
        current = instance._data.get(name)
        if current is not self._raw:  # loaded or replaced since this was read
            return await getattr(instance, name)
        doc_cls, dbref = self._doc_cls, self._dbref
        doc = await self._fetch()
        if doc is None:
            raise doc_cls.DoesNotExist(
                f"{owner_name(self._field, instance)} refers to {doc_cls.__name__} "
                f"{dbref.id!r}, which does not exist (trying to dereference unknown "
                f"document {dbref})"
            )
        if instance._data.get(name) is self._raw:
            instance._data[name] = doc
        return doc

    async def _fetch(self) -> Any:
        """The referenced document, through the batching loader; None if it does not exist."""
        doc_cls, dbref = self._doc_cls, self._dbref
        db = doc_cls._get_db()
        database = getattr(dbref, "database", None)
        if database and database != db.name:
            db = db.client[database]
        found = await get_loader().load(db, dbref.collection, [dbref.id], doc_cls._from_son)
        return found.get(id_key(dbref.id))

    def _hint(self) -> str:
        where, name = owner_name(self._field, self._instance), self._field.name
        return (
            f"{where} is not loaded: use `(await doc.{name}).{{attr}}`, or load the "
            "references first with `await doc.select_related()` / `await qs.select_related()`"
        )

    def __repr__(self) -> str:
        return f"<AwaitableReference {self._doc_cls.__name__} {self._dbref.id!r}>"


# -- containers ----------------------------------------------------------------------
class ReferenceList(BaseList):
    """The list of a ``ListField`` of references: a list, and awaiting it gives itself."""

    def __await__(self) -> Generator[Any, None, Any]:
        return ready(self)

    # asyncio.gather() keys its awaitables in a dict: hashable by identity
    # (equal lists then count as distinct keys, which is all gather needs).
    __hash__ = object.__hash__  # type: ignore[assignment]


class ReferenceDict(BaseDict):
    """The dict of a ``DictField``/``MapField`` of references: awaiting it gives itself."""

    def __await__(self) -> Generator[Any, None, Any]:
        return ready(self)

    __hash__ = object.__hash__  # type: ignore[assignment]  # as ReferenceList's


def leaf_field(field: Any) -> Any:
    while isinstance(field, me_base_fields.ComplexBaseField):
        field = field.field
    return field


def _target_of(leaf: Any, raw: Any) -> tuple[Any, DBRef] | None:
    """(class, DBRef) a stored container element refers to, or None if it is no reference."""
    reference_target = getattr(leaf, "_reference_target", None)  # mongomotor's reference fields
    if reference_target is not None:
        return reference_target(raw)
    if isinstance(raw, dict) and "_ref" in raw and "_cls" in raw:
        return get_document(raw["_cls"]), raw["_ref"]
    if isinstance(raw, DBRef):
        cls_name = raw.as_doc().get("cls")
        return (get_document(cls_name) if cls_name else None), raw
    return None


class AwaitableElement(AwaitableReference):
    """One element of an unloaded list or dict of references: ``await`` it for the document.

        first = await post.tags[0]          # one query for that tag (batched)
        post.tags[0].id                     # the stored id, no query

    It gives what ``(await post.tags)[0]`` would: the document, or the DBRef of
    a dangling reference (as MongoEngine leaves it in a list). Awaiting it
    loads that document only; the list stays unloaded (``await post.tags``
    loads it). If the list was loaded or changed since, it gives what the list
    holds at that place now.
    """

    __slots__ = ("_key", "_container")

    def __init__(
        self, field: Any, instance: Any, raw: Any, target: tuple[Any, DBRef], key: Any
    ) -> None:
        super().__init__(field, instance, raw, target[0], target[1])
        self._key = key
        self._container = instance._data.get(field.name)

    def __getattr__(self, attr: str) -> Any:
        if self._doc_cls is None:  # a bare DBRef in an untyped container
            return _NotLoaded.__getattr__(self, attr)
        return super().__getattr__(attr)

    async def _load(self) -> Any:
        instance, name, key = self._instance, self._field.name, self._key
        container = instance._data.get(name)
        if container is not self._container or self._doc_cls is None or not self._in_place():
            return (await getattr(instance, name))[key]
        doc = await self._fetch()
        return self._dbref if doc is None else doc

    def _in_place(self) -> bool:
        try:
            return self._container[self._key] is self._raw
        except (IndexError, KeyError):
            return False

    def _hint(self) -> str:
        where, name = owner_name(self._field, self._instance), self._field.name
        return (
            f"{where}[{self._key!r}] is not loaded: use `(await doc.{name}[{self._key!r}])"
            f".{{attr}}`, or load the list with `await doc.{name}` (or `select_related()`) first"
        )

    def __repr__(self) -> str:
        cls_name = self._doc_cls.__name__ if self._doc_cls is not None else "?"
        return f"<AwaitableElement {cls_name} {self._dbref.id!r}>"


def _refusing(use: str) -> Any:
    """An operator of AwaitableContainer that says to await the container, then ``use`` it."""

    def refuse(self: AwaitableContainer, *_: Any) -> Any:
        raise TypeError(self._whole_hint(use))

    return refuse


class AwaitableContainer(_NotLoaded):
    """A list/dict of references not loaded yet: ``await`` it to get it loaded.

        tags = await post.tags
        first = await post.tags[0]          # one element, as a single reference

    Indexing gives awaitable elements that know their ids (slicing a list of
    them); changing it, ``+``, ``<`` and iterating raise ``TypeError`` saying
    to await it first.
    """

    __slots__ = ("_field", "_instance", "_owner")

    def __init__(self, field: Any, instance: Any, owner: Any) -> None:
        self._field = field
        self._instance = instance
        self._owner = owner

    def __await__(self) -> Generator[Any, None, Any]:
        return run_sync(self._field.__get__, self._instance, self._owner).__await__()

    def _hint(self) -> str:
        where, name = owner_name(self._field, self._instance), self._field.name
        return (
            f"{where} holds references that are not loaded: use `(await doc.{name})`, "
            "or `await doc.select_related()` / `await qs.select_related()` first"
        )

    # Questions about the stored ids need no query: ``user in post.likes``,
    # ``len(post.tags)``, ``post.tags == [a, b]``.
    def _raw(self) -> Any:
        return self._instance._data.get(self._field.name)

    def _matches(self, raw: Any, other: Any) -> Any:
        if isinstance(raw, BaseDocument) or raw is None:
            return raw == other
        target = _target_of(leaf_field(self._field.field), raw)
        if target is None:
            return raw == other
        return _points_to(target[0], target[1], other) is True

    def __len__(self) -> int:
        return len(self._raw())

    def __contains__(self, item: Any) -> bool:
        raw = self._raw()
        values = raw.values() if isinstance(raw, dict) else raw
        return any(self._matches(value, item) for value in values)

    def __eq__(self, other: object) -> Any:
        raw = self._raw()
        if isinstance(raw, dict):
            if not isinstance(other, dict):
                return NotImplemented
            return raw.keys() == other.keys() and all(
                self._matches(value, other[key]) for key, value in raw.items()
            )
        if not isinstance(other, list):  # as a list: never equal to a tuple
            return NotImplemented
        return len(raw) == len(other) and all(map(self._matches, raw, other))

    def __ne__(self, other: object) -> Any:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    # Hashable by identity: asyncio.gather() keys its awaitables in a dict. (It
    # equals only lists and dicts, which are unhashable, so the rule holds.)
    __hash__ = object.__hash__

    def __getitem__(self, key: Any) -> Any:
        raw = self._raw()
        if isinstance(key, slice) and not isinstance(raw, dict):
            indexes = range(*key.indices(len(raw)))
            return [self._element(index, raw[index]) for index in indexes]
        return self._element(key, raw[key])

    def _element(self, key: Any, value: Any) -> Any:
        if value is None or isinstance(value, BaseDocument):
            return as_awaitable(value)
        if isinstance(value, (list, tuple)) or (isinstance(value, dict) and "_ref" not in value):
            raise TypeError(self._whole_hint(f"[{key!r}]"))  # a container in a container
        target = _target_of(leaf_field(self._field.field), value)
        if target is not None:
            return AwaitableElement(self._field, self._instance, value, target, key)
        return Ready(value)

    def _whole_hint(self, use: str) -> str:
        where, name = owner_name(self._field, self._instance), self._field.name
        return (
            f"{where} holds references that are not loaded: await it first, "
            f"`(await doc.{name}){use}` (or `select_related()`); the loaded "
            "list or dict is the value itself"
        )

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("_"):
            raise AttributeError(attr)
        raise AttributeError(self._whole_hint(f".{attr}(...)"))

    # A change, a concatenation or an ordering needs the loaded values: each says so.
    __add__ = __radd__ = __iadd__ = _refusing(" + [...]")
    __mul__ = __rmul__ = __imul__ = _refusing(" * n")
    __lt__ = __le__ = __gt__ = __ge__ = _refusing(" < other")
    __setitem__ = _refusing("[key] = value")
    __delitem__ = _refusing(".pop(key)")

    def __iter__(self) -> Any:
        raise TypeError(self._hint())

    def __reversed__(self) -> Any:
        raise TypeError(self._hint())

    def __repr__(self) -> str:
        return f"<AwaitableContainer {owner_name(self._field, self._instance)}>"
