"""Plan code shared by the loader and the constructor: field checks and value conversions.

    if all(conversions.plannable_field(f) for f in cls._fields.values()): ...
    lines = conversions.fast_conversion(field, "v0", "f0", env, once)

A plan is Python source compiled in an environment (``env``); every plan's
environment starts from :func:`plan_env`, so names such as ``link``,
``set_data`` or ``new`` mean the same in each.
"""

from __future__ import annotations

import datetime
import weakref
from functools import partial
from typing import Any

from bson import SON, DBRef, ObjectId
from mongoengine import fields as me_fields
from mongoengine.base import fields as me_base_fields
from mongoengine.base.document import BaseDocument
from mongoengine.document import EmbeddedDocument

from mongomotor.odm.plans.compiler import UNPLANNED_FIELDS, is_library_code

# Conversions that give back a value of this exact type unchanged: the
# plan skips the call when the stored value already has that type.
IDENTITY_TYPES: dict[Any, type] = {
    me_fields.StringField.to_python: str,
    me_fields.IntField.to_python: int,
    me_fields.FloatField.to_python: float,
    me_fields.BooleanField.to_python: bool,
    me_base_fields.ObjectIdField.to_python: ObjectId,
}


def plannable_field(field: Any) -> bool:
    """True if building with this field is the plain conversion the plan does."""
    if isinstance(field, UNPLANNED_FIELDS):
        return False
    kind = type(field)
    if not all(is_library_code(getattr(kind, n)) for n in ("__get__", "__set__", "to_python")):
        return False
    if kind.set_auto_dereferencing is not me_base_fields.BaseField.set_auto_dereferencing:
        return False
    inner = getattr(field, "field", None)
    if isinstance(field, me_base_fields.ComplexBaseField) and inner is not None:
        return plannable_field(inner)
    return True


def class_attribute(doc_cls: Any, name: str) -> Any:
    for klass in doc_cls.__mro__:
        if name in klass.__dict__:
            return klass.__dict__[name]
    return None


def state_lines(
    cls: Any,
    field_vars: dict[str, str],
    dict_attrs: list[tuple[str, str]],
    dynamic: list[tuple[str, str]],
    mark_unchanged: bool,
) -> list[str]:
    """Plan lines giving a document (``obj``, its ``_data`` set) the rest of its state.

        body += state_lines(Post, {"title": "f0"}, [("_cls", "'Post'")], [], True)

    ``_dynamic_fields`` (an empty SON), ``dict_attrs`` (name, expression) in the
    instance dict, ``get_<field>_display`` for fields with choices, the dynamic
    values (name, expression) set through the document's own ``__setattr__`` as
    ``__init__`` does, then ``_initialised``, ``_created`` (from ``created``),
    ``_instance`` for embedded documents and, if ``mark_unchanged``, ``_changed_fields``.
    """
    fields = cls._fields
    # SON() is an empty dict with an empty key list.
    lines = ["ds = dict_new(SON)", "ds._SON__keys = []", "set_dynamic_fields(obj, ds)"]
    if dict_attrs or any(f.choices for f in fields.values()) or cls._dynamic:
        lines.append("d = obj.__dict__")
        lines += [f"d[{attr!r}] = {expr}" for attr, expr in dict_attrs]
        for name, field in fields.items():
            if field.choices:
                lines.append(
                    f"d['get_{name}_display'] = "
                    f"partial(obj._BaseDocument__get_field_display, field={field_vars[name]})"
                )
        if cls._dynamic:
            lines.append("d['_dynamic_lock'] = False")
            lines += [f"setattr(obj, {name!r}, {expr})" for name, expr in dynamic]
    lines += ["set_initialised(obj, True)", "set_created(obj, created)"]
    if issubclass(cls, EmbeddedDocument):
        lines.append("set_instance(obj, None)")
    if mark_unchanged:
        lines.append("set_changed_fields(obj, [])")
    return lines


def builds_documents(field: Any) -> bool:
    """True if the plan's conversion for ``field`` may build embedded documents."""
    return isinstance(field, me_fields.ListField) and isinstance(
        field.field, me_fields.EmbeddedDocumentField
    )


def fast_conversion(
    field: Any, var: str, fvar: str, env: dict, once: list[str]
) -> list[str] | None:
    """Code that skips ``to_python`` for values already of the type it gives back.

    Lines added to ``once`` run before the first document of a batch.
    """
    kind = IDENTITY_TYPES.get(type(field).to_python)
    if kind is None and type(field).to_python is me_base_fields.BaseField.to_python:
        # DateTimeField and other fields that keep the stored value as it is.
        if isinstance(field, me_fields.DateTimeField) and not isinstance(
            field, me_fields.DateField
        ):
            kind = datetime.datetime
    if kind is not None:
        return [f"elif type({var}) is not {_type_name(kind, env)}:", *_converted(var, fvar)]
    if type(field).to_python is me_fields.ReferenceField.to_python:
        # A reference stored as its id becomes a DBRef: ReferenceField.to_python
        # with the id field's conversion skipped for an ObjectId id.
        # The referenced class, its id field and its collection name are looked up
        # once per batch; the DBRef is made without its __init__'s checks, which the
        # collection name (a str) and the absent database and extras pass.
        c, i, p = f"{fvar}_coll", f"{fvar}_idf", f"{fvar}_plain"
        once.append(f"{c} = None")
        return [
            f"elif type({var}) is t_oid and not {fvar}.dbref:",
            f"    if {c} is None:",
            f"        dt = {fvar}.document_type",
            f"        {i} = dt.id",
            f"        {p} = type({i}).to_python is OID_TO_PYTHON",
            f"        {c} = dt._get_collection_name()",
            f"        if type({c}) is not str:",
            f"            {c} = None",
            "            raise TypeError('not a collection name')  # MongoEngine's path says why",
            "    ref = new(DBRef)",
            f"    set_ref_collection(ref, {c})",
            f"    set_ref_id(ref, {var} if {p} else {i}.to_python({var}))",
            "    set_ref_database(ref, None)",
            "    set_ref_extras(ref, {})",
            f"    {var} = ref",
            "else:",
            *_converted(var, fvar),
        ]
    if (
        type(field).to_python is me_base_fields.ComplexBaseField.to_python
        and isinstance(field, me_fields.ListField)
        and field.field is not None
    ):
        inner = field.field
        ivar = f"{fvar}_inner"
        env[ivar] = inner
        if type(inner).to_python is me_fields.EmbeddedDocumentField.to_python:
            # A list of embedded documents: ComplexBaseField.to_python hands the
            # inner field its own auto-dereferencing, then converts each item.
            return [
                f"elif type({var}) is list:",
                f"    {ivar}._BaseField__auto_dereference = {fvar}._auto_dereference",
                f"    if {var}:",
                f"        ad = {ivar}._auto_dereference",
                f"        dt = {ivar}.document_type",
                "        if getattr(dt._from_son, '__func__', None) is from_son:",
                # The embedded class loads through this module: no classmethod call per item.
                f"            {var} = [x if isinstance(x, dt) else from_son(dt, x, ad)"
                f" for x in {var}]",
                "        else:",
                f"            {var} = [x if isinstance(x, dt)"
                " else dt._from_son(x, _auto_dereference=ad)"
                f" for x in {var}]",
                "    else:",
                f"        {var} = []",
                f"    link({var}, obj)",
                "else:",
                *_converted(var, fvar),
            ]
        inner_kind = IDENTITY_TYPES.get(type(inner).to_python)
        if inner_kind is not None:
            # A list of plain values: the items convert as ComplexBaseField does
            # (the inner field's auto-dereferencing does not change a plain value).
            tname = _type_name(inner_kind, env)
            # A list whose items all have that type is copied as it is: nothing to
            # convert and no embedded document to link.
            return [
                f"elif type({var}) is list:",
                f"    for x in {var}:",
                f"        if type(x) is not {tname}:",
                f"            {var} = [x if type(x) is {tname} else {ivar}.to_python(x)"
                f" for x in {var}]",
                f"            link({var}, obj)",
                "            break",
                "    else:",
                f"        {var} = {var}[:]",
                "else:",
                *_converted(var, fvar),
            ]
    return None


def _type_name(kind: type, env: dict) -> str:
    """The plan's name for ``kind`` (put in ``env``)."""
    name = f"t_{kind.__name__}"
    env[name] = kind
    return name


def _converted(var: str, fvar: str) -> list[str]:
    """Plan lines (one level in) of the field's own conversion, linked to the document."""
    return [f"    {var} = {fvar}.to_python({var})", f"    link({var}, obj)"]


def link(value: Any, parent: Any) -> None:
    # BaseField.__set__: embedded documents (alone or in a list) point to their parent.
    if isinstance(value, EmbeddedDocument):
        set_parent(value, weakref.proxy(parent))
    elif isinstance(value, (list, tuple)):
        ref = None
        for item in value:
            if isinstance(item, EmbeddedDocument):
                if ref is None:
                    ref = weakref.proxy(parent)
                set_parent(item, ref)


def set_parent(doc: Any, ref: Any) -> None:
    if type(doc).__setattr__ is _base_setattr:
        # BaseDocument.__setattr__ stores an underscore name of an embedded
        # document as it is: skip its checks.
        _set_instance(doc, ref)
    else:
        doc._instance = ref


_base_setattr = BaseDocument.__setattr__

_set_data = BaseDocument.__dict__["_data"].__set__
_set_initialised = BaseDocument.__dict__["_initialised"].__set__
_set_created = BaseDocument.__dict__["_created"].__set__
_set_dynamic_fields = BaseDocument.__dict__["_dynamic_fields"].__set__
_set_changed_fields = BaseDocument.__dict__["_changed_fields"].__set__
_set_instance = EmbeddedDocument.__dict__["_instance"].__set__


def plan_env() -> dict[str, Any]:
    """The names every plan's code may use (a new dict: a plan adds its own)."""
    return {
        "new": object.__new__,
        "SON": SON,
        "dict_new": dict.__new__,
        "DBRef": DBRef,
        # A DBRef's slots, set without its __init__'s checks (see fast_conversion).
        "set_ref_collection": DBRef.__dict__["_DBRef__collection"].__set__,
        "set_ref_id": DBRef.__dict__["_DBRef__id"].__set__,
        "set_ref_database": DBRef.__dict__["_DBRef__database"].__set__,
        "set_ref_extras": DBRef.__dict__["_DBRef__kwargs"].__set__,
        "t_oid": ObjectId,
        "OID_TO_PYTHON": me_base_fields.ObjectIdField.to_python,
        "partial": partial,
        "proxy": weakref.proxy,
        "link": link,
        "callable": callable,
        "set_data": _set_data,
        "set_initialised": _set_initialised,
        "set_created": _set_created,
        "set_dynamic_fields": _set_dynamic_fields,
        "set_changed_fields": _set_changed_fields,
        "set_instance": _set_instance,
    }


