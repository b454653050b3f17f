"""One-clone reads: ``get``, ``first`` and ``with_id`` with the state MongoEngine reaches.

    doc = fastpath.get(qs, id=oid)       # same result and errors as BaseQuerySet.get
    new_qs = fastpath.clone_into(qs, QuerySet(Post, coll))

MongoEngine's ``get`` clones the QuerySet four times (``clone``, ``order_by()``,
``limit(2)``, ``filter``), ``with_id`` four times and ``first`` twice; each
clone rebuilds a QuerySet and ``copy.copy``-es 25 attributes. Here one clone
is made and the same attributes are set on it directly. A QuerySet class that
overrides one of the chained methods takes MongoEngine's path, so its override
still runs. ``tests/test_queryset_fastpath.py`` proves both paths agree.
"""

from __future__ import annotations

import copy
from typing import Any

from mongoengine.errors import InvalidQueryError, OperationError
from mongoengine.queryset.base import BaseQuerySet
from mongoengine.queryset.visitor import Q, QNode

from mongomotor.odm.plans.compiler import is_library_code

__all__ = ["clone_into", "narrowed", "with_id_clone", "get", "first", "with_id", "takes_fast_path"]

# What BaseQuerySet._clone_into copies (MongoEngine 0.29), in its order.
CLONED_STATE = (
    "_mongo_query", "_cls_query", "_none", "_query_obj", "_where_clause",
    "_loaded_fields", "_ordering", "_snapshot", "_timeout", "_allow_disk_use",
    "_read_preference", "_read_concern", "_iter", "_scalar", "_as_pymongo",
    "_limit", "_skip", "_empty", "_hint", "_collation", "_search_text",
    "_search_text_score", "_max_time_ms", "_comment", "_batch_size",
)
# copy.copy gives these back unchanged (its "immutable" table), so no call is needed.
_SHARED_AS_IS = frozenset({type(None), bool, int, float, str, bytes, tuple, frozenset})
_COPIED_BY_METHOD = frozenset({list, dict})

# Methods a QuerySet class must not override for the one-clone reads to be exact.
_CHAINED = ("clone", "_clone_into", "filter", "__call__", "order_by", "limit", "__getitem__",
            "__next__", "_cursor")
_fast_classes: dict[type, bool] = {}


def clone_into(source: BaseQuerySet, target: BaseQuerySet) -> BaseQuerySet:
    """Copy ``source``'s query state into ``target``, as ``BaseQuerySet._clone_into`` does."""
    if not isinstance(target, BaseQuerySet):
        raise OperationError(f"{target.__name__} is not a subclass of BaseQuerySet")
    state = source.__dict__
    for name in CLONED_STATE:
        value = state[name] if name in state else getattr(source, name)
        kind = type(value)
        if kind in _SHARED_AS_IS:
            pass
        elif kind in _COPIED_BY_METHOD:
            value = value.copy()
        elif _copies_as_plain_object(kind):
            twin = object.__new__(kind)
            twin.__dict__.update(value.__dict__)
            value = twin
        else:
            value = copy.copy(value)
        setattr(target, name, value)
    target._BaseQuerySet__auto_dereference = source._BaseQuerySet__auto_dereference
    if source._cursor_obj:
        target._cursor_obj = source._cursor_obj.clone()
    return target


_plain_copy: dict[type, bool] = {}


def _copies_as_plain_object(kind: type) -> bool:
    """True if ``copy.copy`` of a ``kind`` is a new object sharing a copy of its ``__dict__``.

    That is copy's default (``object.__reduce_ex__``) for a class that changes
    none of the hooks it consults; Q objects and QueryFieldList are such classes.
    """
    plain = _plain_copy.get(kind)
    if plain is None:
        plain = _plain_copy[kind] = (
            kind.__new__ is object.__new__
            and kind.__reduce_ex__ is object.__reduce_ex__
            and kind.__reduce__ is object.__reduce__
            and getattr(kind, "__getstate__", object.__getstate__) is object.__getstate__
            and not hasattr(kind, "__copy__")
            and not hasattr(kind, "__setstate__")
            and not any("__slots__" in klass.__dict__ for klass in kind.__mro__)
            and "__dict__" in dir(kind)
        )
    return plain


def takes_fast_path(queryset: BaseQuerySet) -> bool:
    """True unless ``queryset``'s class overrides a method the one-clone reads replace."""
    cls = type(queryset)
    fast = _fast_classes.get(cls)
    if fast is None:
        fast = _fast_classes[cls] = all(_defined_by_library(cls, name) for name in _CHAINED)
    return fast


def _defined_by_library(cls: type, name: str) -> bool:
    for klass in cls.__mro__:
        if name in klass.__dict__:
            return is_library_code(klass)
    return True


def _filter_q(q_obj: Any = None, **query: Any) -> Any:
    combined = Q(**query)
    if q_obj:
        if not isinstance(q_obj, QNode):
            raise InvalidQueryError(
                f"Not a query object: {q_obj}. Did you intend to use key=value?"
            )
        combined &= q_obj
    return combined


def narrowed(queryset: BaseQuerySet, q_objs: tuple, query: dict, limit: int | None) -> Any:
    """One clone of ``queryset`` with ``order_by()``, ``limit`` and ``filter(...)`` applied."""
    one = queryset.clone()
    one._ordering = []
    if limit is not None:
        one._limit = limit
        one._empty = False
    one._query_obj &= _filter_q(*q_objs, **query)
    one._mongo_query = None
    one._cursor_obj = None
    return one


def get(queryset: BaseQuerySet, *q_objs: Any, **query: Any) -> Any:
    """``BaseQuerySet.get`` with one clone."""
    one = narrowed(queryset, q_objs, query, limit=2)
    try:
        result = next(one)
    except StopIteration:
        document = one._document
        raise document.DoesNotExist(
            f"{document._class_name} matching query does not exist."
        ) from None
    try:
        next(one)
    except StopIteration:
        return result
    raise one._document.MultipleObjectsReturned("2 or more items returned, instead of 1")


def _first_of(queryset: BaseQuerySet) -> Any:
    """The document at index 0 of ``queryset`` (already a private clone), or None."""
    if queryset._none or queryset._empty:
        return None
    try:
        raw = queryset._cursor[0]
    except IndexError:
        return None
    if queryset._scalar:
        document = queryset._document
        return queryset._get_scalar(
            document._from_son(raw, _auto_dereference=queryset._auto_dereference)
        )
    if queryset._as_pymongo:
        return raw
    return queryset._document._from_son(raw, _auto_dereference=queryset._auto_dereference)


def first(queryset: BaseQuerySet) -> Any:
    """``BaseQuerySet.first`` with one clone."""
    if queryset._none or queryset._empty:
        return None
    return _first_of(queryset.clone())


def with_id(queryset: BaseQuerySet, object_id: Any) -> Any:
    """``BaseQuerySet.with_id`` with one clone."""
    return _first_of(with_id_clone(queryset, object_id))


def with_id_clone(queryset: BaseQuerySet, object_id: Any) -> Any:
    """The one clone ``with_id`` reads: ``queryset`` filtered by primary key."""
    if queryset._query_obj:
        raise InvalidQueryError("Cannot use a filter whilst using `with_id`")
    clone = queryset.clone()
    clone._query_obj &= Q(pk=object_id)
    clone._mongo_query = None
    clone._cursor_obj = None
    return clone
