"""Compiled document encoding: MongoEngine's ``to_mongo`` and ``validate``, built once per class.

    son = encoding.to_mongo(post)       # what post.to_mongo() gives, or None
    done = encoding.validate(post)      # True: valid; False: ask MongoEngine

``Document.save`` calls ``to_mongo`` twice and ``validate`` once. MongoEngine's
``to_mongo`` inspects every field's ``to_mongo`` signature on each call and
builds its ``SON`` key by key; ``validate`` builds a list of pairs and calls
each field's checks, even for a plain string.

Here each (class, ``use_db_field``, ``fields``) is *planned* once: the fields
the call would visit, the keyword arguments each field's ``to_mongo`` takes
and the key it is stored under are worked out as MongoEngine's own loop does,
and compiled into a small function. Values of the exact type a plain field
stores as they are (``str`` in a ``StringField``, ``int`` in an ``IntField``,
...) skip the call; every other value goes through the field's own method.
``tests/test_encoding_equivalence.py`` compares the results with MongoEngine's.

Whenever the plan cannot promise MongoEngine's result, these functions return
None/False and MongoEngine's own method runs (and raises its own error):
dynamic documents; classes whose ``to_mongo``, ``validate``, ``clean`` (when
cleaning) or iteration are not MongoEngine's; fields whose conversion or
checks are not MongoEngine's plain ones (custom fields, file, enum, sequence,
binary, complex datetime, cached reference); any
invalid value or exception. ``MONGOMOTOR_ENCODER=0`` in the environment, or
``encoding.enabled = False``, sends every call to MongoEngine.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import mongoengine
from bson import SON, ObjectId
from mongoengine import fields as me_fields
from mongoengine.base import fields as me_base_fields
from mongoengine.base.datastructures import BaseList

from mongomotor.odm.plans.checks import compile_changes, compile_clearer, compile_validator
from mongomotor.odm.plans.compiler import (
    MAX_PLANS,
    NO_PLAN,
    STALE,
    Unplannable,
    build_function,
    check_plannable_class,
    class_guard,
    plan_or_none,
    stands_for,
    switched_on,
)

__all__ = ["enabled", "to_mongo", "validate", "clear_changed_fields", "forget_plans"]

#: Switch the compiled encoder off (``MONGOMOTOR_ENCODER=0``) to encode and
#: validate every document through MongoEngine's own methods.
enabled: bool = switched_on("MONGOMOTOR_ENCODER")


_BaseField = me_base_fields.BaseField

# What a plain field stores a value of this exact type as: the value itself.
# BaseField.to_mongo calls to_python, so those fields are told by to_python.
_STORED_AS_IS_BY_TO_PYTHON: dict[Any, type] = {
    me_fields.StringField.to_python: str,
    me_fields.IntField.to_python: int,
    me_fields.FloatField.to_python: float,
    me_fields.BooleanField.to_python: bool,
}
_STORED_AS_IS_BY_TO_MONGO: dict[Any, type] = {
    me_base_fields.ObjectIdField.to_mongo: ObjectId,
    me_fields.DateTimeField.to_mongo: datetime.datetime,
}

_me_document_to_mongo = mongoengine.Document.__dict__["to_mongo"]
_me_embedded_to_mongo = mongoengine.EmbeddedDocument.__dict__["to_mongo"]

_encoders: dict[tuple, Any] = {}
_validators: dict[type, Any] = {}
_clearers: dict[type, Any] = {}
_changes: dict[type, Any] = {}


def forget_plans() -> None:
    """Drop every compiled plan (they are rebuilt on the next call)."""
    _encoders.clear()
    _validators.clear()
    _clearers.clear()
    _changes.clear()


def to_mongo(doc: Any, use_db_field: bool = True, fields: Any = None) -> SON | None:
    """``doc.to_mongo(use_db_field, fields)`` through the class's compiled plan, or None.

        son = to_mongo(post) or mongoengine.Document.to_mongo(post)
    """
    if not enabled or (use_db_field is not True and use_db_field is not False):
        return None
    if fields:
        if type(fields) is not list or not all(type(f) is str for f in fields):
            return None
        key = (type(doc), use_db_field, tuple(fields))
    else:
        key = (type(doc), use_db_field, ())
    encode = _encoders.get(key)
    if encode is None:
        if len(_encoders) >= MAX_PLANS:
            _encoders.clear()  # fields= lists without end: start again
        encode = _encoders[key] = plan_or_none(_compile_encoder, *key)
    if encode is NO_PLAN:
        return None
    try:
        son = encode(doc)
    except Exception:
        return None  # MongoEngine's method raises its own error for this value
    if son is STALE:
        # The class changed (fields added or removed) since it was planned.
        _encoders.pop(key, None)
        return to_mongo(doc, use_db_field, fields)
    return son


def validate(doc: Any, clean: bool = True) -> bool:
    """True if ``doc.validate(clean)`` passes, as the compiled checks prove; False: ask MongoEngine.

        if not validate(post): BaseDocument.validate(post)
    """
    return enabled and _run_class_plan(_validators, compile_validator, doc, clean)


def clear_changed_fields(doc: Any) -> bool:
    """True if ``doc._clear_changed_fields()`` was done here; False: ask MongoEngine.

        if not clear_changed_fields(post): BaseDocument._clear_changed_fields(post)
    """
    return enabled and _run_class_plan(_clearers, compile_clearer, doc)


def changed_fields(doc: Any) -> list | None:
    """``doc._get_changed_fields()`` as the class's compiled plan finds it; None: ask MongoEngine.

        changed = changed_fields(post)  # ["likes"]
    """
    if not enabled:
        return None
    found = _run_class_plan(_changes, compile_changes, doc)
    return None if found is False else found


def _run_class_plan(plans: dict, compiler: Callable[..., Any], doc: Any, *args: Any) -> Any:
    """What the plan of ``type(doc)`` returns for ``doc``; False when MongoEngine must do it."""
    cls = type(doc)
    plan = plans.get(cls)
    if plan is None:
        plan = plans[cls] = plan_or_none(compiler, cls)
    if plan is NO_PLAN:
        return False
    try:
        done = plan(doc, *args)
    except Exception:
        return False  # MongoEngine's method reports its own error
    if done is STALE:  # the class changed since it was planned
        plans.pop(cls, None)
        return _run_class_plan(plans, compiler, doc, *args)
    return done


# -- planning -------------------------------------------------------------------------


def _compile_encoder(cls: type, use_db_field: bool, fields: tuple) -> Callable[[Any], Any]:
    check_plannable_class(cls)
    after = stands_for(cls, "to_mongo")
    if issubclass(cls, mongoengine.Document) and after is _me_document_to_mongo:
        top_level = True
    elif issubclass(cls, mongoengine.EmbeddedDocument) and after is _me_embedded_to_mongo:
        top_level = False
    else:
        raise Unplannable
    guard, env = class_guard(cls)
    env.update(
        {
            "SON": SON,
            "dict_new": dict.__new__,
            "dict_update": dict.update,
            "list": list,
            "BaseList": BaseList,
        }
    )
    roots = {f.split(".")[0] for f in fields}
    body = [f"if {guard}:", "    return STALE", "data = doc._data"]
    env["STALE"] = STALE
    # MongoEngine's loop: "_id" first, "_cls" second (dropped below without
    # inheritance), then the fields in the class's order.
    body.append("d = {'_id': None, '_cls': CLASS_NAME}")
    env["CLASS_NAME"] = cls._class_name
    for i, name in enumerate(cls._fields_ordered):
        if roots and name not in roots:
            continue
        field = cls._fields[name]
        fvar = f"f{i}"
        env[fvar] = field
        key = field.db_field if use_db_field else field.name
        body.append(f"v = data.get({name!r})")
        body.append("if v is not None:")
        kind = type(field)
        stored_as = _stored_as_is(kind)
        item_stored_as = _list_items_stored_as_is(field)
        # As MongoEngine passes them: by the names the method's code has.
        varnames = kind.to_mongo.__code__.co_varnames
        args = []
        if fields and "fields" in varnames:
            prefix = f"{name}."
            sub = [f.replace(prefix, "") for f in fields if f.startswith(prefix)]
            args.append(f"fields=list({tuple(sub)!r})")
        if "use_db_field" in varnames:
            args.append(f"use_db_field={use_db_field!r}")
        call = f"v = {fvar}.to_mongo(v{', ' if args else ''}{', '.join(args)})"
        if stored_as is not None:
            tname = f"t{i}"
            env[tname] = stored_as
            body.append(f"    if type(v) is not {tname}:")
            body.append(f"        {call}")
        elif item_stored_as is not None:
            # A list of plain values of the exact type is stored as a plain copy.
            tname = f"t{i}"
            env[tname] = item_stored_as
            body.append("    if type(v) is BaseList or type(v) is list:")
            body.append("        for x in v:")
            body.append(f"            if type(x) is not {tname}:")
            body.append(f"                {call}")
            body.append("                break")
            body.append("        else:")
            body.append("            v = list(v)")
            body.append("    else:")
            body.append(f"        {call}")
        else:
            body.append(f"    {call}")
        if field._auto_gen:
            body.append(f"if v is None and {fvar}._auto_gen:")
            body.append(f"    v = {fvar}.generate()")
            body.append(f"    data[{name!r}] = v")
        body.append(f"if v is not None or {fvar}.null:")
        body.append(f"    d[{key!r}] = v")
    body.append("if not C._meta.get('allow_inheritance'):")
    body.append("    del d['_cls']")
    if top_level:
        body.append("if d['_id'] is None:")
        body.append("    if data.get('id') is None:")
        body.append("        del d['_id']")
        body.append("    else:")
        body.append("        d['_id'] = data['id']")
    else:
        body.append("if '_id' in d and d['_id'] is None:")
        body.append("    del d['_id']")
    # A SON holding d's items in d's order, without SON's per-key bookkeeping.
    body.append("son = dict_new(SON)")
    body.append("son._SON__keys = list(d)")
    body.append("dict_update(son, d)")
    body.append("return son")
    return build_function(f"to_mongo {cls._class_name}", "encode(doc)", body, env)


def _stored_as_is(kind: type) -> type | None:
    """The type whose values this field class stores unchanged, if any."""
    if kind.to_mongo is _BaseField.to_mongo:
        return _STORED_AS_IS_BY_TO_PYTHON.get(kind.to_python)
    return _STORED_AS_IS_BY_TO_MONGO.get(kind.to_mongo)


def _list_items_stored_as_is(field: Any) -> type | None:
    """The item type of a ``ListField`` that stores items of that type unchanged."""
    kind = type(field)
    inner = getattr(field, "field", None)
    if (
        not isinstance(field, me_fields.ListField)
        or kind.to_mongo is not me_base_fields.ComplexBaseField.to_mongo
        or inner is None
        or type(inner)._to_mongo_safe_call is not _BaseField._to_mongo_safe_call
    ):
        return None
    return _stored_as_is(type(inner))
