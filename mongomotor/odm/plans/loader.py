"""Compiled document loading: MongoEngine's ``_from_son``, built once per class and data shape.

    post = loading.from_son(Post, son)          # what Post._from_son(son) gives
    posts = loading.from_sons(Post, sons)       # a whole batch

MongoEngine builds a document from stored data by calling the class with
every value (``Document.__init__``): two signal sends, a ``setattr`` through
``BaseDocument.__setattr__`` and the field's descriptor for every field, the
defaults of missing fields looked up one by one. That is ~90% of the time
spent reading documents.

Here, the first time a class sees a document with a given set of keys, that
shape is *planned*: replaying ``_from_son``'s own key handling on the keys
tells which field converts which value, which fields take their default and in
which order ``_data`` is filled. The plan is compiled into a small Python
function that converts the values and sets the document's state directly.
The result is the state ``_from_son`` leaves, key order of ``_data`` included
(``tests/test_loading_equivalence.py`` compares the two).

Whenever the plan cannot promise that, MongoEngine's own ``_from_son`` runs:
receivers on ``pre_init``/``post_init``; ``_auto_dereference=False``; keys
that are not fields (``strict: False`` extras, ``_text_score``; a dynamic
document's data is set as ``__init__`` sets it); fields whose
descriptors or conversion are not MongoEngine's plain ones (custom fields,
file, enum, sequence, binary, complex datetime, cached reference); classes with their own
``__init__``/``__setattr__`` or ``STRICT``; any exception while converting
(MongoEngine raises its own error). ``MONGOMOTOR_LOADER=0`` in the environment,
or ``loading.enabled = False``, sends every load to MongoEngine.
"""

from __future__ import annotations

import datetime
import weakref
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

from bson import SON, DBRef, ObjectId
from mongoengine import fields as me_fields
from mongoengine import signals as me_signals
from mongoengine.base import fields as me_base_fields
from mongoengine.base.common import get_document
from mongoengine.base.document import BaseDocument
from mongoengine.document import EmbeddedDocument

from mongomotor.odm.plans.compiler import (
    MAX_PLANS,
    NO_PLAN,
    STALE,
    UNPLANNED_FIELDS,
    Unplannable,
    behaves_as,
    build_function,
    is_library_code,
    none_to_default,
    switched_on,
)

__all__ = ["enabled", "from_son", "from_sons", "forget_plans"]

#: Switch the compiled loader off (``MONGOMOTOR_LOADER=0``) to load every
#: document through MongoEngine's own ``_from_son``.
enabled: bool = switched_on("MONGOMOTOR_LOADER")

_me_from_son = BaseDocument.__dict__["_from_son"].__func__
_me_init = BaseDocument.__dict__["__init__"]
_me_embedded_init = EmbeddedDocument.__dict__["__init__"]

# Conversions that give back a value of this exact type unchanged: the
# plan skips the call when the stored value already has that type.
_IDENTITY_TYPES: dict[Any, type] = {
    me_fields.StringField.to_python: str,
    me_fields.IntField.to_python: int,
    me_fields.FloatField.to_python: float,
    me_fields.BooleanField.to_python: bool,
    me_base_fields.ObjectIdField.to_python: ObjectId,
}

_plans: dict[tuple, Any] = {}
_NO_CLS = object()  # a son without "_cls"

_set_data = BaseDocument.__dict__["_data"].__set__
_set_initialised = BaseDocument.__dict__["_initialised"].__set__
_set_created = BaseDocument.__dict__["_created"].__set__
_set_dynamic_fields = BaseDocument.__dict__["_dynamic_fields"].__set__
_set_changed_fields = BaseDocument.__dict__["_changed_fields"].__set__
_set_instance = EmbeddedDocument.__dict__["_instance"].__set__
_dict_new = dict.__new__
_pre_init = me_signals.pre_init
_post_init = me_signals.post_init


def forget_plans() -> None:
    """Drop every compiled plan (they are rebuilt on the next load)."""
    _plans.clear()


def from_son(cls: Any, son: Any, _auto_dereference: bool = True, created: bool = False) -> Any:
    """``cls._from_son(son)``, through the compiled plan of the document's shape.

        post = from_son(Post, {"_id": oid, "title": "Hi"})
    """
    if (
        enabled
        and _auto_dereference
        and type(son) is dict
        and not _pre_init.receivers
        and not _post_init.receivers
    ):
        cls_value = son.get("_cls", _NO_CLS)
        if cls_value.__class__ is not str and cls_value is not _NO_CLS:
            return _me_from_son(cls, son, _auto_dereference, created)  # None, or not a name
        key = (cls, tuple(son), cls_value)
        load = _plans.get(key)
        if load is None:
            if len(_plans) >= MAX_PLANS:
                _plans.clear()  # shapes without end (dynamic documents): start again
            load = _plans[key] = _plan(cls, key[1], key[2])
        if load is not NO_PLAN:
            try:
                obj = load(son, created)
            except Exception:
                # MongoEngine's path raises its own error for this value.
                return _me_from_son(cls, son, _auto_dereference, created)
            if obj is not STALE:
                return obj
            # The class changed (fields added or removed) since it was planned.
            _plans[key] = _plan(cls, key[1], key[2])
            return from_son(cls, son, _auto_dereference, created)
    return _me_from_son(cls, son, _auto_dereference, created)


def from_sons(
    cls: Any, sons: Iterable[Any], _auto_dereference: bool = True, created: bool = False
) -> list[Any]:
    """``[cls._from_son(son) for son in sons]``, one batch at a time.

        posts = from_sons(Post, raw_documents)
    """
    load = cls._from_son
    if getattr(load, "__func__", None) is from_son:
        # The class loads through this module: skip the classmethod call per document.
        return [from_son(cls, son, _auto_dereference, created) for son in sons]
    return [load(son, _auto_dereference=_auto_dereference, created=created) for son in sons]


# -- planning -------------------------------------------------------------------------


def _plannable_field(field: Any) -> bool:
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
        return _plannable_field(inner)
    return True


def _class_attribute(doc_cls: Any, name: str) -> Any:
    for klass in doc_cls.__mro__:
        if name in klass.__dict__:
            return klass.__dict__[name]
    return None


def _plannable_class(doc_cls: Any) -> bool:
    init = _me_embedded_init if issubclass(doc_cls, EmbeddedDocument) else _me_init
    return (
        behaves_as(doc_cls, "__init__") is init
        and doc_cls.__setattr__ is BaseDocument.__setattr__
        and type(doc_cls).__call__ is type.__call__
        and doc_cls.__new__ is object.__new__
        and not doc_cls.STRICT
        and doc_cls.__dictoffset__ != 0
    )


def _plan(doc_cls: Any, keys: tuple, cls_value: Any) -> Any:
    """The compiled loader of one (class, keys, ``_cls``) shape, or ``NO_PLAN``."""
    target = doc_cls
    class_name = doc_cls._class_name if cls_value is _NO_CLS else cls_value
    try:
        if class_name != doc_cls._class_name:
            target = get_document(class_name)
        return _compile(doc_cls, target, keys)
    except Exception:
        # Unplannable shape, or an error MongoEngine's path reports its own way.
        return NO_PLAN


def _compile(doc_cls: Any, target: Any, keys: tuple) -> Callable[[dict, bool], Any]:
    if not _plannable_class(target) or not all(type(k) is str for k in keys):
        raise Unplannable
    fields = target._fields

    # Replay _from_son's key handling: son keys become data keys (through the
    # *given* class's field map), then each field present converts its value
    # under the field's name (a renamed field moves to the end).
    data: dict[str, tuple] = {}
    for son_key in keys:
        data[doc_cls._db_field_map.get(son_key, son_key)] = ("raw", son_key)
    for name, field in fields.items():
        if field.db_field in data:
            source = data[field.db_field]
            if source[0] != "raw":
                raise Unplannable  # one value converted by two fields
            data[name] = ("convert", field, source[1])
            if name != field.db_field:
                del data[field.db_field]
    dynamic: list[tuple[str, str]] = []  # (name, son key) of values that are not fields
    for name, step in data.items():
        if step[0] == "raw" and name != "_cls":
            if not target._dynamic or name.startswith("_") or name in ("id", "pk"):
                raise Unplannable  # strict: False extras, _text_score, ...
            dynamic.append((name, step[1]))
    # Missing fields go through their descriptors too (defaults): every field counts,
    # and each must be the class attribute its name reads (__init__ sets it by name).
    for name, field in fields.items():
        if not _plannable_field(field) or _class_attribute(target, name) is not field:
            raise Unplannable

    env: dict[str, Any] = {
        "new": object.__new__,
        "T": target,
        "SON": SON,
        "dict_new": _dict_new,
        "from_son": from_son,
        "DBRef": DBRef,
        "t_oid": ObjectId,
        "OID_TO_PYTHON": me_base_fields.ObjectIdField.to_python,
        "STALE": STALE,
        "S": doc_cls,
        "S_fields": doc_cls._fields,
        "S_map": doc_cls._db_field_map,
        "T_fields": target._fields,
        "partial": partial,
        "proxy": weakref.proxy,
        "link": _link,
        "set_data": _set_data,
        "set_initialised": _set_initialised,
        "set_created": _set_created,
        "set_dynamic_fields": _set_dynamic_fields,
        "set_changed_fields": _set_changed_fields,
        "set_instance": _set_instance,
        "callable": callable,
    }
    field_vars: dict[str, str] = {}
    for i, (name, field) in enumerate(fields.items()):
        field_vars[name] = f"f{i}"
        env[f"f{i}"] = field

    # A class that gains or loses fields after it was planned is planned again.
    guard = f"T._fields is not T_fields or len(T_fields) != {len(fields)}"
    guard += " or S._db_field_map is not S_map"
    if doc_cls is not target:
        guard += f" or S._fields is not S_fields or len(S_fields) != {len(doc_cls._fields)}"
    body: list[str] = [f"if {guard}:", "    return STALE"]
    # _from_son turns every field's auto-dereferencing on (a DictField starts off).
    for name in fields:
        body.append(f"{field_vars[name]}._BaseField__auto_dereference = True")
    body.append("obj = new(T)")

    values: dict[str, str] = {}  # field name -> local holding its final value
    dict_attrs: list[tuple[str, str]] = []
    n = 0

    # Defaults, in the order of the class's fields.
    for name in fields:
        if name in data:
            continue
        var = f"v{n}"
        n += 1
        body.append(f"{var} = None")
        body.extend(none_to_default(var, field_vars[name], ""))
        values[name] = var
    if "_cls" not in data:
        if "_cls" in fields:
            values["_cls"] = "_class_name"
            env["_class_name"] = target._class_name
        else:
            dict_attrs.append(("_cls", repr(target._class_name)))

    # Stored values, in the order _from_son hands them to __init__.
    for name, step in data.items():
        if step[0] == "raw" and name != "_cls":
            continue  # dynamic data: set last, below
        var = f"v{n}"
        n += 1
        body.append(f"{var} = son[{step[-1]!r}]")
        if step[0] == "raw":  # _cls that is not a field
            dict_attrs.append(("_cls", var))
            continue
        field = step[1]
        fvar = field_vars[name]
        body.append(f"if {var} is None:")
        body.extend(none_to_default(var, fvar, "    "))
        fast = _fast_conversion(field, var, fvar, env)
        if fast:
            body.extend(fast)
        else:
            body.append("else:")
            body.append(f"    {var} = {fvar}.to_python({var})")
            body.append(f"    link({var}, obj)")
        values[name] = var

    items = ", ".join(f"{name!r}: {var}" for name, var in values.items())
    body.append(f"set_data(obj, {{{items}}})")
    # SON() is an empty dict with an empty key list.
    body.append("ds = dict_new(SON)")
    body.append("ds._SON__keys = []")
    body.append("set_dynamic_fields(obj, ds)")
    if dict_attrs or any(f.choices for f in fields.values()) or target._dynamic:
        body.append("d = obj.__dict__")
        for attr, expr in dict_attrs:
            body.append(f"d[{attr!r}] = {expr}")
        for name, field in fields.items():
            if field.choices:
                body.append(
                    f"d['get_{name}_display'] = "
                    f"partial(obj._BaseDocument__get_field_display, field={field_vars[name]})"
                )
        if target._dynamic:
            body.append("d['_dynamic_lock'] = False")
            # As __init__ does, with the document not yet initialised: the
            # document's own __setattr__ registers each dynamic field.
            for name, son_key in dynamic:
                body.append(f"setattr(obj, {name!r}, son[{son_key!r}])")
    body.append("set_initialised(obj, True)")
    body.append("set_created(obj, created)")
    if issubclass(target, EmbeddedDocument):
        body.append("set_instance(obj, None)")
    body.append("set_changed_fields(obj, [])")
    body.append("return obj")
    return build_function(f"loader {target._class_name}", "load(son, created)", body, env)


def _fast_conversion(field: Any, var: str, fvar: str, env: dict) -> list[str] | None:
    """Code that skips ``to_python`` for values already of the type it gives back."""
    kind = _IDENTITY_TYPES.get(type(field).to_python)
    if kind is None and type(field).to_python is me_base_fields.BaseField.to_python:
        # DateTimeField and other fields that keep the stored value as it is.
        if isinstance(field, me_fields.DateTimeField) and not isinstance(
            field, me_fields.DateField
        ):
            kind = datetime.datetime
    if kind is not None:
        tname = f"t_{kind.__name__}"
        env[tname] = kind
        return [
            f"elif type({var}) is not {tname}:",
            f"    {var} = {fvar}.to_python({var})",
            f"    link({var}, obj)",
        ]
    if type(field).to_python is me_fields.ReferenceField.to_python:
        # A reference stored as its id becomes a DBRef: ReferenceField.to_python
        # with the id field's conversion skipped for an ObjectId id.
        return [
            f"elif type({var}) is t_oid and not {fvar}.dbref:",
            f"    dt = {fvar}.document_type",
            "    idf = dt.id",
            f"    {var} = DBRef(dt._get_collection_name(),"
            f" {var} if type(idf).to_python is OID_TO_PYTHON else idf.to_python({var}))",
            "else:",
            f"    {var} = {fvar}.to_python({var})",
            f"    link({var}, obj)",
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
                f"    {var} = {fvar}.to_python({var})",
                f"    link({var}, obj)",
            ]
        inner_kind = _IDENTITY_TYPES.get(type(inner).to_python)
        if inner_kind is not None:
            # A list of plain values: the items convert as ComplexBaseField does
            # (the inner field's auto-dereferencing does not change a plain value).
            tname = f"t_{inner_kind.__name__}"
            env[tname] = inner_kind
            return [
                f"elif type({var}) is list:",
                f"    {var} = [x if type(x) is {tname} else {ivar}.to_python(x) for x in {var}]",
                f"    link({var}, obj)",
                "else:",
                f"    {var} = {fvar}.to_python({var})",
                f"    link({var}, obj)",
            ]
    return None


def _link(value: Any, parent: Any) -> None:
    # BaseField.__set__: embedded documents (alone or in a list) point to their parent.
    if isinstance(value, EmbeddedDocument):
        _set_parent(value, weakref.proxy(parent))
    elif isinstance(value, (list, tuple)):
        ref = None
        for item in value:
            if isinstance(item, EmbeddedDocument):
                if ref is None:
                    ref = weakref.proxy(parent)
                _set_parent(item, ref)


def _set_parent(doc: Any, ref: Any) -> None:
    if type(doc).__setattr__ is _base_setattr:
        # BaseDocument.__setattr__ stores an underscore name of an embedded
        # document as it is: skip its checks.
        _set_instance(doc, ref)
    else:
        doc._instance = ref


_base_setattr = BaseDocument.__setattr__
