"""``await qs.get(...)``, ``first()`` and ``with_id()`` without the bridge, when no user code runs.

    if awaited_reads.applies(qs): doc = await awaited_reads.get(qs, id=oid)

A ``get`` in user code normally runs MongoEngine's ``get`` in a bridge
greenlet, which switches out to the loop for the one round trip. When every
step but that round trip is MongoEngine's and mongomotor's own code (the
QuerySet's methods, the document classes' loading hooks, every field class,
no ``pre_init``/``post_init`` receiver, the collection already created and
indexed), no step can do I/O of its own, so the coroutine here takes the same
steps without a greenlet: the one-clone query state of
:mod:`mongomotor.odm.plans.reads`, MongoEngine's cursor for it, the batch
awaited directly, the documents built by the compiled loader. A document the
loader's plans cannot build is built inside the bridge, as before. The
result and every error are ``BaseQuerySet.get``'s; ``first`` and ``with_id``
go the same way (``tests/test_queryset_fastpath.py`` compares the paths).
"""

from __future__ import annotations

from typing import Any

from mongoengine.base.common import get_document
from mongoengine.base.fields import ComplexBaseField
from mongoengine.fields import (
    CachedReferenceField,
    EmbeddedDocumentField,
    GenericEmbeddedDocumentField,
)
from mongoengine.queryset.base import BaseQuerySet

from mongomotor.odm.files import metadata as files
from mongomotor.odm.plans import loader
from mongomotor.odm.plans import reads as one_clone
from mongomotor.odm.plans.compiler import is_library_code
from mongomotor.runtime.bridge import run_sync

__all__ = ["applies", "get", "first", "with_id"]

# QuerySet methods the awaited get stands in for, besides reads.takes_fast_path's.
_QUERYSET_STEPS = ("get", "first", "with_id", "_query", "_cursor_args", "_get_scalar",
                   "_collection")
# Field methods a query or a load may call.
_FIELD_HOOKS = ("to_python", "to_mongo", "prepare_query_value", "lookup_member", "validate",
                "__get__", "__set__")
# Document class methods a load may call.
_CLASS_HOOKS = ("__init__", "__setattr__", "__new__", "_from_son", "_lookup_field",
                "_translate_field_name")

_library_classes: dict[type, tuple[Any, Any, bool]] = {}
_plain_querysets: dict[type, bool] = {}


def applies(queryset: BaseQuerySet) -> bool:
    """True if ``await awaited_reads.get(queryset, ...)`` gives what the bridge's get gives."""
    kind = type(queryset)
    plain = _plain_querysets.get(kind)
    if plain is None:
        plain = _plain_querysets[kind] = one_clone.takes_fast_path(queryset) and all(
            _library_attribute(kind, name) for name in _QUERYSET_STEPS
        )
    document = queryset._document
    prepared = getattr(document, "_collection_prepared", None)  # a mongomotor Document's
    return (
        plain
        and prepared is not None
        and not loader._pre_init.receivers
        and not loader._post_init.receivers
        and _library_only(document)
        and not files.loads_with_documents(document)
        and prepared()
    )


async def get(queryset: BaseQuerySet, *q_objs: Any, **query: Any) -> Any:
    """``BaseQuerySet.get`` awaited: the match, ``DoesNotExist`` or ``MultipleObjectsReturned``."""
    clone = one_clone.narrowed(queryset, q_objs, query, limit=2)
    raw: list[Any] = []
    if not (clone._none or clone._empty):
        cursor = clone._cursor
        while len(raw) < 2 and (cursor.buffered or await cursor.fill()):
            raw.append(next(cursor))
    document = clone._document
    if not raw:
        raise document.DoesNotExist(f"{document._class_name} matching query does not exist.")
    if clone._as_pymongo:
        results = raw
    else:
        results = await _documents(clone, raw)
        if clone._scalar:
            results = [clone._get_scalar(doc) for doc in results]
    if len(results) > 1:
        raise document.MultipleObjectsReturned("2 or more items returned, instead of 1")
    return results[0]


async def first(queryset: BaseQuerySet) -> Any:
    """``BaseQuerySet.first`` awaited: the first match, or None."""
    if queryset._none or queryset._empty:
        return None
    return await _first_of(queryset.clone())


async def with_id(queryset: BaseQuerySet, object_id: Any) -> Any:
    """``BaseQuerySet.with_id`` awaited: the document of that primary key, or None."""
    return await _first_of(one_clone.with_id_clone(queryset, object_id))


async def _first_of(clone: BaseQuerySet) -> Any:
    # The steps of reads._first_of, with the read awaited.
    if clone._none or clone._empty:
        return None
    cursor = clone._cursor.at(0)
    if not (cursor.buffered or await cursor.fill()):
        return None
    raw = next(cursor)
    if clone._scalar:
        return clone._get_scalar((await _documents(clone, [raw]))[0])
    if clone._as_pymongo:
        return raw
    return (await _documents(clone, [raw]))[0]


async def _documents(clone: BaseQuerySet, raw: list[Any]) -> list[Any]:
    """``_from_son`` of each stored document: by compiled plans, or by MongoEngine in the bridge."""
    document, dereference = clone._document, clone._auto_dereference
    built = loader.planned_only(document, raw, dereference)
    if built is None:
        built = await run_sync(loader.from_sons, document, raw, dereference)
    return built


def _library_attribute(kind: type, name: str) -> bool:
    for klass in kind.__mro__:
        if name in klass.__dict__:
            return klass is object or is_library_code(klass)
    return True


def _library_only(document: Any) -> bool:
    """True if querying and loading ``document`` (and its subclasses) runs no user code."""
    cached = _library_classes.get(document)
    if cached is not None and cached[0] is document._fields and cached[1] is document._subclasses:
        return cached[2]
    _library_classes[document] = (document._fields, document._subclasses, False)  # cycles
    try:
        classes = [get_document(name) for name in document._subclasses]
    except Exception:  # a subclass not registered (yet): MongoEngine's path decides
        classes = []
    result = bool(classes) and all(_library_class(cls) for cls in classes)
    _library_classes[document] = (document._fields, document._subclasses, result)
    return result


def _library_class(cls: Any) -> bool:
    return (
        (is_library_code(type(cls).__call__) or type(cls).__call__ is type.__call__)
        and all(_library_attribute(cls, name) for name in _CLASS_HOOKS)
        and all(_library_field(field) for field in cls._fields.values())
    )


def _library_field(field: Any) -> bool:
    kind = type(field)
    if not is_library_code(kind) or any(name in vars(field) for name in _FIELD_HOOKS):
        return False
    if not all(_library_attribute(kind, name) for name in _FIELD_HOOKS):
        return False
    if isinstance(field, (EmbeddedDocumentField, CachedReferenceField)):
        return _library_only(field.document_type)
    inner = getattr(field, "field", None)
    if isinstance(field, ComplexBaseField) and inner is not None:
        return _library_field(inner)
    return not isinstance(field, GenericEmbeddedDocumentField)  # any class may come
