"""Compiled ``validate``, ``_clear_changed_fields`` and ``_get_changed_fields`` of plain values.

    check = compile_validator(Post)  # check(doc, clean): True, False (ask MongoEngine) or STALE
    clear = compile_clearer(Post)  # clear(doc): True, False or STALE
    changes = compile_changes(Post)  # changes(doc): the list, False or STALE

Used by :mod:`mongomotor.odm.plans.encoder`, which runs them and falls back to
MongoEngine's methods.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

from bson import ObjectId
from mongoengine import fields as me_fields
from mongoengine.base import fields as me_base_fields
from mongoengine.base.datastructures import BaseList
from mongoengine.base.document import BaseDocument

from mongomotor.odm.plans.compiler import (
    STALE,
    Unplannable,
    behaves_as,
    build_function,
    check_plannable_class,
    class_guard,
    stands_for,
)

__all__ = ["compile_changes", "compile_clearer", "compile_validator"]

_BaseField = me_base_fields.BaseField
_me_validate = BaseDocument.__dict__["validate"]
_me_clean = BaseDocument.__dict__["clean"]

# Field checks that pass for a value of this exact type when the attributes
# listed are None (no bounds, no pattern).
_VALID_AS_IS: dict[Any, tuple[type, tuple[str, ...]]] = {
    me_fields.StringField.validate: (str, ("max_length", "min_length", "regex")),
    me_fields.IntField.validate: (int, ("min_value", "max_value")),
    me_fields.FloatField.validate: (float, ("min_value", "max_value")),
    me_fields.BooleanField.validate: (bool, ()),
    me_base_fields.ObjectIdField.validate: (ObjectId, ()),
    me_fields.DateTimeField.validate: (datetime.datetime, ()),
}

def _valid_as_is(field: Any) -> type | None:
    """The type whose values pass this field's checks whatever they are, if any."""
    kind = type(field)
    valid = _VALID_AS_IS.get(kind.validate)
    if (
        valid is None
        or kind._validate is not _BaseField._validate
        or field.choices
        or field.validation is not None
        or any(getattr(field, attr, None) is not None for attr in valid[1])
    ):
        return None
    if kind.validate is me_fields.DateTimeField.validate:
        if kind.to_mongo is not me_fields.DateTimeField.to_mongo:
            return None  # its check converts the value with to_mongo
    return valid[0]


def _list_items_valid_as_is(field: Any) -> type | None:
    """The item type of a ``ListField`` whose items of that type pass every check."""
    kind = type(field)
    if (
        kind.validate is not me_fields.ListField.validate
        or kind._validate is not _BaseField._validate
        or field.choices
        or field.validation is not None
        or field.max_length is not None
        or field.field is None
    ):
        return None
    return _valid_as_is(field.field)


def compile_validator(cls: type) -> Callable[[Any, bool], Any]:
    check_plannable_class(cls)
    if stands_for(cls, "validate") is not _me_validate:
        raise Unplannable
    guard, env = class_guard(cls)
    env["STALE"] = STALE
    env["BaseList"] = BaseList
    body = [f"if {guard}:", "    return STALE"]
    if cls.clean is not _me_clean:
        body.append("if clean:")
        body.append("    return False  # the class's own clean() runs in MongoEngine's method")
    body.append("data = doc._data")
    embedded_kinds = (me_fields.EmbeddedDocumentField, me_fields.GenericEmbeddedDocumentField)
    for i, name in enumerate(cls._fields_ordered):
        field = cls._fields[name]
        fvar = f"f{i}"
        env[fvar] = field
        body.append(f"v = data.get({name!r})")
        body.append("if v is None:")
        if field.required and not getattr(field, "_auto_gen", False):
            body.append("    return False  # MongoEngine reports the missing value")
        else:
            body.append("    pass")
        valid_as = _valid_as_is(field)
        item_valid_as = _list_items_valid_as_is(field)
        if valid_as is not None:
            tname = f"t{i}"
            env[tname] = valid_as
            body.append(f"elif type(v) is not {tname}:")
            body.append(f"    {fvar}._validate(v)")
        elif item_valid_as is not None:
            # A list of plain values of the exact type: every check passes.
            tname = f"t{i}"
            env[tname] = item_valid_as
            body.append("elif type(v) is BaseList or type(v) is list:")
            if field.required:
                body.append("    if not v:")
                body.append(f"        {fvar}._validate(v)")
            body.append("    for x in v:")
            body.append(f"        if type(x) is not {tname}:")
            body.append(f"            {fvar}._validate(v)")
            body.append("            break")
            body.append("else:")
            body.append(f"    {fvar}._validate(v)")
        elif isinstance(field, embedded_kinds):
            body.append("else:")
            body.append(f"    {fvar}._validate(v, clean=clean)")
        else:
            body.append("else:")
            body.append(f"    {fvar}._validate(v)")
    body.append("return True")
    return build_function(f"validate {cls._class_name}", "check(doc, clean)", body, env)


_SCALARS = frozenset({type(None), str, int, float, bool, ObjectId, datetime.datetime})
_me_clear_changed_fields = BaseDocument.__dict__["_clear_changed_fields"]
_me_get_changed_fields = BaseDocument.__dict__["_get_changed_fields"]
_set_changed_fields = BaseDocument.__dict__["_changed_fields"].__set__


def compile_clearer(cls: type) -> Callable[[Any], Any]:
    check_plannable_class(cls)
    if (
        stands_for(cls, "_clear_changed_fields") is not _me_clear_changed_fields
        or behaves_as(cls, "_get_changed_fields") is not _me_get_changed_fields
        or cls.__setattr__ is not BaseDocument.__setattr__
        or "_changed_fields" in cls._meta.get("shard_key", ())
        or any(
            isinstance(f, me_fields.SortedListField) and f._ordering
            for f in cls._fields.values()
        )
    ):
        raise Unplannable
    guard, env = class_guard(cls)
    env.update(
        {
            "STALE": STALE,
            "BaseList": BaseList,
            "SCALARS": _SCALARS,
            "set_changed_fields": _set_changed_fields,
        }
    )
    body = [f"if {guard}:", "    return STALE"]
    # Nothing marked as changed, and no value that could hold changes of its
    # own (embedded documents, nested containers): only the mark is reset.
    body.append("if getattr(doc, '_changed_fields', None):")
    body.append("    return False")
    body.append("data = doc._data")
    for name in cls._fields_ordered:
        body += _holds_no_changes(name)
    body.append("set_changed_fields(doc, [])")
    body.append("return True")
    return build_function(f"clear {cls._class_name}", "clear(doc)", body, env)


def _holds_no_changes(name: str) -> list[str]:
    """Plan lines returning False unless ``data[name]`` is a scalar or a list of scalars."""
    return [
        f"v = data.get({name!r})",
        "if type(v) not in SCALARS:",
        "    if type(v) is not BaseList and type(v) is not list:",
        "        return False",
        "    for x in v:",
        "        if type(x) not in SCALARS:",
        "            return False",
    ]


_REFERENCE_FIELDS = (
    me_fields.ReferenceField,
    me_fields.LazyReferenceField,
    me_fields.GenericReferenceField,
    me_fields.GenericLazyReferenceField,
)


def compile_changes(cls: type) -> Callable[[Any], Any]:
    """``_get_changed_fields`` of documents whose values hold no changes of their own.

    MongoEngine's method starts from ``_changed_fields`` and walks each value
    for nested changes (embedded documents, containers), skipping references.
    Scalars and lists of scalars add nothing, so the result is a copy of
    ``_changed_fields``; any other value is left to MongoEngine (False).
    """
    check_plannable_class(cls)
    if (
        stands_for(cls, "_get_changed_fields") is not _me_get_changed_fields
        or cls._nestable_types_changed_fields
        is not BaseDocument._nestable_types_changed_fields
        or any(
            isinstance(f, me_fields.SortedListField) and f._ordering
            for f in cls._fields.values()
        )
    ):
        raise Unplannable
    guard, env = class_guard(cls)
    env.update({"STALE": STALE, "BaseList": BaseList, "SCALARS": _SCALARS})
    body = [f"if {guard}:", "    return STALE", "data = doc._data"]
    for name in cls._fields_ordered:
        field = cls._fields[name]
        inner = getattr(field, "field", None)
        if isinstance(field, me_fields.ReferenceField) or (
            isinstance(field, me_base_fields.ComplexBaseField)
            and isinstance(inner, _REFERENCE_FIELDS)
        ):
            continue  # MongoEngine does not look into references
        body += _holds_no_changes(name)
    body.append("return list(getattr(doc, '_changed_fields', []))")
    return build_function(f"changes {cls._class_name}", "changes(doc)", body, env)
