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

from typing import Any

from bson import DBRef
from mongoengine import fields as me_fields
from mongoengine.base import fields as me_base_fields
from mongoengine.base import get_document
from mongoengine.base.datastructures import BaseDict, BaseList, LazyReference
from mongoengine.base.document import BaseDocument

from mongomotor.odm.no_dereference import no_dereferencing_active_for_class
from mongomotor.odm.references.awaitables import (
    NO_REFERENCE,
    AwaitableContainer,
    AwaitableReference,
    Ready,
    ReferenceDict,
    ReferenceList,
    as_awaitable,
    leaf_field,
)
from mongomotor.odm.references.dereference import get_loader, id_key
from mongomotor.runtime.bridge import in_bridge, require_loop

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


def _dereferencing(field: Any, instance: Any) -> bool:
    """MongoEngine's test for dereferencing this field of this instance, plus no_dereference."""
    if not instance._fields.get(field.name, field)._auto_dereference:
        return False
    return not no_dereferencing_active_for_class(type(instance))


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
            return as_awaitable(value)
        target = self._reference_target(value)
        if target is None:
            return Ready(value)
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
            return Ready(self._cached_doc)
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


class ComplexBaseField(me_base_fields.ComplexBaseField):
    """Lists and dicts that may hold references: awaitable in user code when they do.

    A container typed with references (``ListField(ReferenceField(X))``) or
    untyped reads as an awaitable: ``await post.tags`` loads what is missing
    (one query per referenced collection) and gives the list, which stays
    loaded (it is itself awaitable). Containers of other values read as usual.
    """

    def _holds_references(self) -> bool:
        leaf = leaf_field(self.field) if self.field is not None else None
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
        if _unresolved(instance._data.get(self.name), leaf_field(self.field)):
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
