"""Reference fields whose values are awaited in user code.

    class Post(Document):
        author = ReferenceField(Author)
        tags = ListField(ReferenceField(Tag))

    author = await post.author      # one query (shared with concurrent awaits)
    tags = await post.tags          # one query per referenced collection
    post.author = other_author      # setting never needs await

Inside the bridge (MongoEngine's own code, ``run_sync``) these fields are
MongoEngine's: reading one dereferences synchronously. In user code, reading
a reference gives an awaitable; a loaded reference is the document itself
(documents are awaitable and give themselves), so ``await post.author`` works
either way and ``post.author.name`` works once it is loaded. An unloaded
reference already knows its id and compares like the document it points to:

    if post.author != current_user: raise Forbidden   # no query
    post.author.id                                     # the stored id, no query
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from bson import DBRef
from mongoengine import fields as me_fields
from mongoengine.base import fields as me_base_fields
from mongoengine.base import get_document
from mongoengine.base.datastructures import BaseDict, BaseList, LazyReference
from mongoengine.base.document import BaseDocument
from mongoengine.document import Document as MEDocument

from mongomotor.bridge import in_bridge, require_loop, run_sync
from mongomotor.dereference import get_loader, id_key, no_dereferencing_active_for_class

__all__ = [
    "AwaitableReference",
    "AsyncLazyReference",
    "BaseAsyncReferenceField",
    "CachedReferenceField",
    "ComplexBaseField",
    "DictField",
    "GenericLazyReferenceField",
    "GenericReferenceField",
    "LazyReferenceField",
    "ListField",
    "MapField",
    "NO_REFERENCE",
    "ReferenceDict",
    "ReferenceList",
    "ReferenceField",
    "SortedListField",
]


def _ready(value: Any) -> Generator[Any, None, Any]:
    """``__await__`` of something already loaded: gives ``value`` without suspending."""
    return value
    yield  # pragma: no cover - makes this a generator


class _NoReference:
    """What an empty reference reads as in user code: falsy, and ``await`` gives None."""

    __slots__ = ()

    def __await__(self) -> Generator[Any, None, None]:
        return _ready(None)

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


class _Ready:
    """An awaitable that gives a value already at hand (for values that are not awaitable)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __await__(self) -> Generator[Any, None, Any]:
        return _ready(self.value)

    def __repr__(self) -> str:
        return f"<loaded {self.value!r}>"


def _as_awaitable(value: Any) -> Any:
    if value is None:
        return NO_REFERENCE
    if hasattr(type(value), "__await__"):
        return value
    return _Ready(value)


def _dereferencing(field: Any, instance: Any) -> bool:
    """MongoEngine's test for dereferencing this field of this instance, plus no_dereference."""
    if not instance._fields.get(field.name, field)._auto_dereference:
        return False
    return not no_dereferencing_active_for_class(type(instance))


def _owner_name(field: Any, instance: Any) -> str:
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
        db = doc_cls._get_db()
        database = getattr(dbref, "database", None)
        if database and database != db.name:
            db = db.client[database]
        found = await get_loader().load(db, dbref.collection, [dbref.id], doc_cls._from_son)
        doc = found.get(id_key(dbref.id))
        if doc is None:
            raise doc_cls.DoesNotExist(
                f"{_owner_name(self._field, instance)} refers to {doc_cls.__name__} "
                f"{dbref.id!r}, which does not exist (trying to dereference unknown "
                f"document {dbref})"
            )
        if instance._data.get(name) is self._raw:
            instance._data[name] = doc
        return doc

    def _hint(self) -> str:
        where, name = _owner_name(self._field, self._instance), self._field.name
        return (
            f"{where} is not loaded: use `(await doc.{name}).{{attr}}`, or load the "
            "references first with `await doc.select_related()` / `await qs.select_related()`"
        )

    def __repr__(self) -> str:
        return f"<AwaitableReference {self._doc_cls.__name__} {self._dbref.id!r}>"


class BaseAsyncReferenceField:
    """Base class for async reference fields: sync in the bridge, awaitable in user code.

        author = await post.author
    """

    def __get__(self, instance: Any, owner: Any) -> Any:
        if (
            instance is None
            or in_bridge()
            or not getattr(instance, "_initialised", False)
            or not _dereferencing(self, instance)
        ):
            return super().__get__(instance, owner)  # type: ignore[misc]
        return self._user_get(instance, owner)

    def _user_get(self, instance: Any, owner: Any) -> Any:
        value = instance._data.get(self.name)  # type: ignore[attr-defined]
        if value is None or isinstance(value, BaseDocument):
            return _as_awaitable(value)
        target = self._reference_target(value)
        if target is None:
            return _Ready(value)
        doc_cls, dbref = target
        return AwaitableReference(self, instance, value, doc_cls, dbref)

    def _reference_target(self, value: Any) -> tuple[Any, DBRef] | None:
        """(document class, DBRef) to load for a stored ``value``; None if not a reference."""
        return None


class ReferenceField(BaseAsyncReferenceField, me_fields.ReferenceField):
    """A reference to a document; ``await doc.field`` loads it.

        author = ReferenceField(Author, reverse_delete_rule=CASCADE)
        a = await post.author

    A dangling reference raises ``Author.DoesNotExist`` (as MongoEngine does).
    Setting an ObjectId and then awaiting loads the document it names.
    """

    def _reference_target(self, value: Any) -> tuple[Any, DBRef] | None:
        if isinstance(value, DBRef):
            cls_name = value.as_doc().get("cls")
            return (get_document(cls_name) if cls_name else self.document_type), value
        doc_cls = self.document_type
        return doc_cls, DBRef(doc_cls._get_collection_name(), value)


class GenericReferenceField(BaseAsyncReferenceField, me_fields.GenericReferenceField):
    """A reference to a document of any class; ``await doc.field`` loads it.

        target = GenericReferenceField()
        obj = await bookmark.target
    """

    def _reference_target(self, value: Any) -> tuple[Any, DBRef] | None:
        if isinstance(value, dict) and "_ref" in value and "_cls" in value:
            return get_document(value["_cls"]), value["_ref"]
        return None


class CachedReferenceField(BaseAsyncReferenceField, me_fields.CachedReferenceField):
    """A reference that stores copies of some fields; ``await doc.field`` gives the document.

        author = CachedReferenceField(Author, fields=["name"])

    The cached fields are kept in sync on save of the referenced document,
    as in MongoEngine (``auto_sync``).
    """

    def _reference_target(self, value: Any) -> tuple[Any, DBRef] | None:
        if isinstance(value, DBRef):
            return self.document_type, value
        return None


# -- lazy references -------------------------------------------------------------
class AsyncLazyReference(LazyReference):
    """A LazyReference whose ``fetch()`` is awaitable in user code.

        doc = await post.author.fetch()
        doc = await post.author.fetch(force=True)
    """

    __slots__ = ()

    def __hash__(self) -> int:
        # The document's hash (its pk), so ``doc in {ref}`` and ``ref in {doc}``
        # agree with ``==`` (MongoEngine's LazyReference hashes as a DBRef).
        return hash(id_key(self.pk))

    def fetch(self, force: bool = False) -> Any:
        """The referenced document (awaitable in user code; cached unless ``force``)."""
        if in_bridge():
            return super().fetch(force)
        if self._cached_doc is not None and not force:
            return _Ready(self._cached_doc)
        require_loop("LazyReference.fetch()")
        return self._fetch()

    async def _fetch(self) -> Any:
        doc_cls = self.document_type
        db = doc_cls._get_db()
        found = await get_loader().load(db, self.collection, [self.pk], doc_cls._from_son)
        doc = found.get(id_key(self.pk))
        if doc is None:
            raise doc_cls.DoesNotExist(
                f"{doc_cls.__name__} {self.pk!r} does not exist "
                f"(trying to dereference unknown document {self!r})"
            )
        self._cached_doc = doc
        return doc

    def _passthrough_doc(self, name: Any) -> Any:
        cached = self._cached_doc
        if cached is None:
            raise AttributeError(
                f"{self!r} is not fetched: `await ref.fetch()` before reading {name!r} through it"
            )
        return cached

    def __getitem__(self, name: Any) -> Any:
        if in_bridge() or not self.passthrough:
            return super().__getitem__(name)
        return self._passthrough_doc(name)[name]

    def __getattr__(self, name: str) -> Any:
        if in_bridge() or not object.__getattribute__(self, "passthrough"):
            return super().__getattr__(name)
        try:
            return self._passthrough_doc(name)[name]
        except KeyError:
            raise AttributeError(name) from None


def _async_lazyref(value: Any) -> Any:
    if isinstance(value, LazyReference) and not isinstance(value, AsyncLazyReference):
        return AsyncLazyReference(
            value.document_type, value.pk, cached_doc=value._cached_doc,
            passthrough=value.passthrough,
        )
    return value


class LazyReferenceField(me_fields.LazyReferenceField):
    """A reference read as a LazyReference (no query); ``await ref.fetch()`` loads it.

        ref = post.author           # AsyncLazyReference, ref.pk known
        author = await ref.fetch()
    """

    def build_lazyref(self, value: Any) -> Any:
        return _async_lazyref(super().build_lazyref(value))


class GenericLazyReferenceField(me_fields.GenericLazyReferenceField):
    """A reference to any class, read as a LazyReference; ``await ref.fetch()`` loads it."""

    def build_lazyref(self, value: Any) -> Any:
        return _async_lazyref(super().build_lazyref(value))


# -- containers ----------------------------------------------------------------------
class ReferenceList(BaseList):
    """The list of a ``ListField`` of references: a list, and awaiting it gives itself."""

    def __await__(self) -> Generator[Any, None, Any]:
        return _ready(self)

    # asyncio.gather() keys its awaitables in a dict: hashable by identity
    # (equal lists then count as distinct keys, which is all gather needs).
    __hash__ = object.__hash__  # type: ignore[assignment]


class ReferenceDict(BaseDict):
    """The dict of a ``DictField``/``MapField`` of references: awaiting it gives itself."""

    def __await__(self) -> Generator[Any, None, Any]:
        return _ready(self)

    __hash__ = object.__hash__  # type: ignore[assignment]  # as ReferenceList's


def _leaf_field(field: Any) -> Any:
    while isinstance(field, me_base_fields.ComplexBaseField):
        field = field.field
    return field


def _target_of(leaf: Any, raw: Any) -> tuple[Any, DBRef] | None:
    """(class, DBRef) a stored container element refers to, or None if it is no reference."""
    if isinstance(leaf, BaseAsyncReferenceField):
        return leaf._reference_target(raw)
    if isinstance(raw, dict) and "_ref" in raw and "_cls" in raw:
        return get_document(raw["_cls"]), raw["_ref"]
    if isinstance(raw, DBRef):
        cls_name = raw.as_doc().get("cls")
        return (get_document(cls_name) if cls_name else None), raw
    return None


def _unresolved(value: Any, leaf: Any) -> bool:
    """True if ``value`` holds references not loaded yet."""
    if isinstance(value, LazyReference):
        return False
    if isinstance(value, DBRef):
        return True
    if isinstance(value, BaseDocument):
        return False
    if isinstance(value, dict):
        if "_ref" in value and "_cls" in value:
            return True
        return any(_unresolved(v, leaf) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_unresolved(v, leaf) for v in value)
    # A bare id in a list of ReferenceField (assigned by the user).
    return value is not None and isinstance(leaf, me_fields.ReferenceField)


class AwaitableContainer(_NotLoaded):
    """A list/dict of references not loaded yet: ``await`` it to get it loaded.

        tags = await post.tags
    """

    __slots__ = ("_field", "_instance", "_owner")

    def __init__(self, field: Any, instance: Any, owner: Any) -> None:
        self._field = field
        self._instance = instance
        self._owner = owner

    def __await__(self) -> Generator[Any, None, Any]:
        return run_sync(self._field.__get__, self._instance, self._owner).__await__()

    def _hint(self) -> str:
        where, name = _owner_name(self._field, self._instance), self._field.name
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
        target = _target_of(_leaf_field(self._field.field), raw)
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

    def __iter__(self) -> Any:
        raise TypeError(self._hint())

    def __repr__(self) -> str:
        return f"<AwaitableContainer {_owner_name(self._field, self._instance)}>"


class ComplexBaseField(me_base_fields.ComplexBaseField):
    """Lists and dicts that may hold references: awaitable in user code when they do.

    A container typed with references (``ListField(ReferenceField(X))``) or
    untyped reads as an awaitable: ``await post.tags`` loads what is missing
    (one query per referenced collection) and gives the list, which stays
    loaded (it is itself awaitable). Containers of other values read as usual.
    """

    def _holds_references(self) -> bool:
        leaf = _leaf_field(self.field) if self.field is not None else None
        if leaf is None:
            return True
        return isinstance(
            leaf, (me_fields.ReferenceField, me_fields.GenericReferenceField)
        ) and not isinstance(leaf, me_fields.GenericLazyReferenceField)

    def __get__(self, instance: Any, owner: Any) -> Any:
        if instance is None or not self._holds_references():
            return super().__get__(instance, owner)
        if (
            in_bridge()
            or not getattr(instance, "_initialised", False)
            or not _dereferencing(self, instance)
        ):
            return self._awaitable_value(instance, super().__get__(instance, owner))
        if _unresolved(instance._data.get(self.name), _leaf_field(self.field)):
            return AwaitableContainer(self, instance, owner)
        # Nothing to fetch: MongoEngine's conversion (its DeReference fetches
        # nothing in user code).
        return self._awaitable_value(instance, super().__get__(instance, owner))

    def _awaitable_value(self, instance: Any, value: Any) -> Any:
        if not getattr(instance, "_initialised", False) or not _dereferencing(self, instance):
            return value
        if type(value) is BaseList:
            new: Any = ReferenceList(value, instance, self.name)
            new._dereferenced = value._dereferenced
            instance._data[self.name] = value = new
        elif isinstance(value, BaseDict) and type(value) is BaseDict:
            new = ReferenceDict(value, instance, self.name)
            new._dereferenced = value._dereferenced
            instance._data[self.name] = value = new
        return value


class ListField(ComplexBaseField, me_fields.ListField):
    """A list; of references, ``await doc.field`` loads them in one query per collection.

        tags = ListField(ReferenceField(Tag, reverse_delete_rule=PULL))
        for tag in await post.tags: ...
    """


class SortedListField(ListField, me_fields.SortedListField):
    """A ListField kept sorted when saved; references in it load as in :class:`ListField`."""


class DictField(ComplexBaseField, me_fields.DictField):
    """A dict; of references, ``await doc.field`` loads them in one query per collection."""

    def __init__(self, field: Any = None, *args: Any, **kwargs: Any) -> None:
        super().__init__(field, *args, **kwargs)
        # MongoEngine switches a DictField's dereferencing off at definition and
        # back on at the first document loaded from the database; start on, so
        # reads do not depend on what was loaded before.
        self.set_auto_dereferencing(True)


class MapField(DictField, me_fields.MapField):
    """A dict whose values are of one field type (``MapField(ReferenceField(User))``)."""
