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

from collections.abc import Callable, Iterable
from typing import Any

from mongoengine import signals as me_signals
from mongoengine.base.common import get_document
from mongoengine.base.document import BaseDocument
from mongoengine.document import EmbeddedDocument

from mongomotor.odm.plans import conversions
from mongomotor.odm.plans.compiler import (
    MAX_PLANS,
    NO_PLAN,
    STALE,
    Unplannable,
    behaves_as,
    build_function,
    none_to_default,
    switched_on,
)

__all__ = ["enabled", "from_son", "from_sons", "planned_only", "forget_plans"]

#: Switch the compiled loader off (``MONGOMOTOR_LOADER=0``) to load every
#: document through MongoEngine's own ``_from_son``.
enabled: bool = switched_on("MONGOMOTOR_LOADER")

_me_from_son = BaseDocument.__dict__["_from_son"].__func__
_me_init = BaseDocument.__dict__["__init__"]
_me_embedded_init = EmbeddedDocument.__dict__["__init__"]

_plans: dict[tuple, Any] = {}
_NO_CLS = object()  # a son without "_cls"

_dict_new = dict.__new__
_pre_init = me_signals.pre_init
_post_init = me_signals.post_init


def forget_plans() -> None:
    """Drop every compiled plan (they are rebuilt on the next load)."""
    _plans.clear()


def _plan_of(cls: Any, son: dict) -> Any:
    """The compiled loader of ``son``'s shape for ``cls`` (made on first sight), or NO_PLAN."""
    cls_value = son.get("_cls", _NO_CLS)
    if cls_value.__class__ is not str and cls_value is not _NO_CLS:
        return NO_PLAN  # None, or not a name
    key = (cls, tuple(son), cls_value)
    load = _plans.get(key)
    if load is None:
        if len(_plans) >= MAX_PLANS:
            _plans.clear()  # shapes without end (dynamic documents): start again
        load = _plans[key] = _plan(cls, key[1], key[2])
    return load


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
        load = _plan_of(cls, son)
        if load is not NO_PLAN:
            try:
                obj = load(son, created)
            except Exception:
                # MongoEngine's path raises its own error for this value.
                return _me_from_son(cls, son, _auto_dereference, created)
            if obj is not STALE:
                return obj
            # The class changed (fields added or removed) since it was planned.
            cls_value = son.get("_cls", _NO_CLS)
            _plans[(cls, tuple(son), cls_value)] = _plan(cls, tuple(son), cls_value)
            return from_son(cls, son, _auto_dereference, created)
    return _me_from_son(cls, son, _auto_dereference, created)


def from_sons(
    cls: Any, sons: Iterable[Any], _auto_dereference: bool = True, created: bool = False
) -> list[Any]:
    """``[cls._from_son(son) for son in sons]``, one batch at a time.

        posts = from_sons(Post, raw_documents)
    """
    load = cls._from_son
    if getattr(load, "__func__", None) is not from_son:
        return [load(son, _auto_dereference=_auto_dereference, created=created) for son in sons]
    # The class loads through this module: no classmethod call per document, and
    # runs of documents of one shape go through the plan's batch loop.
    if not (enabled and _auto_dereference) or _pre_init.receivers or _post_init.receivers:
        return [from_son(cls, son, _auto_dereference, created) for son in sons]
    if type(sons) is not list:
        sons = list(sons)
    if len(sons) < 2:  # no batch to share the run's set-up with
        return [from_son(cls, son, _auto_dereference, created) for son in sons]
    out: list[Any] = []
    i, n = 0, len(sons)
    while i < n:
        son = sons[i]
        if type(son) is dict:
            plan = _plan_of(cls, son)
            if plan is not NO_PLAN:
                i = plan.run(sons, i, created, out)
                if i < 0:  # a value the plan could not convert
                    i = ~i
                    out.append(_me_from_son(cls, sons[i], _auto_dereference, created))
                    i += 1
                    continue
                if i == n:
                    break
                son = sons[i]
        # A document the run stopped at: another shape, or a class changed since planned.
        out.append(from_son(cls, son, _auto_dereference, created))
        i += 1
    return out


def planned_only(cls: Any, sons: list[Any], _auto_dereference: bool = True) -> list[Any] | None:
    """``[cls._from_son(son) ...]`` if compiled plans build every one of ``sons``, else None.

        docs = planned_only(Post, raw)   # None: some document needs MongoEngine's _from_son

    Plans run only MongoEngine's and mongomotor's own code (no signal receiver,
    custom field or ``__init__``), so a caller outside the bridge can load
    through them and leave anything else to ``from_sons`` inside the bridge.
    """
    load = cls._from_son
    if (
        getattr(load, "__func__", None) is not from_son
        or not (enabled and _auto_dereference)
        or _pre_init.receivers
        or _post_init.receivers
    ):
        return None
    out: list[Any] = []
    for son in sons:
        if type(son) is not dict:
            return None
        plan = _plan_of(cls, son)
        if plan is NO_PLAN:
            return None
        try:
            obj = plan(son, False)
        except Exception:
            return None  # MongoEngine's path raises its own error for this value
        if obj is STALE:
            return None
        out.append(obj)
    return out


# -- planning -------------------------------------------------------------------------


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
        return _compile(doc_cls, target, keys, cls_value)
    except Exception:
        # Unplannable shape, or an error MongoEngine's path reports its own way.
        return NO_PLAN


def _compile(doc_cls: Any, target: Any, keys: tuple, cls_value: Any) -> Callable[[dict, bool], Any]:
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
        plain = conversions.plannable_field(field)
        if not plain or conversions.class_attribute(target, name) is not field:
            raise Unplannable

    env = conversions.plan_env()
    env.update(
        T=target,
        from_son=from_son,
        STALE=STALE,
        S=doc_cls,
        S_fields=doc_cls._fields,
        S_map=doc_cls._db_field_map,
        T_fields=target._fields,
    )
    field_vars: dict[str, str] = {}
    for i, (name, field) in enumerate(fields.items()):
        field_vars[name] = f"f{i}"
        env[f"f{i}"] = field

    # A class that gains or loses fields after it was planned is planned again.
    guard = f"T._fields is not T_fields or len(T_fields) != {len(fields)}"
    guard += " or S._db_field_map is not S_map"
    if doc_cls is not target:
        guard += f" or S._fields is not S_fields or len(S_fields) != {len(doc_cls._fields)}"
    # _from_son turns every field's auto-dereferencing on (a DictField starts off).
    dereferencing = [f"{field_vars[name]}._BaseField__auto_dereference = True" for name in fields]
    body: list[str] = ["obj = new(T)"]
    # Values that stay the same for a whole batch (a referenced class's collection
    # name, say), looked up the first time a document needs them.
    once: list[str] = []
    nested = False  # a conversion that may build other documents

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
        fast = conversions.fast_conversion(field, var, fvar, env, once)
        nested = nested or fast is None or conversions.builds_documents(field)
        if fast:
            body.extend(fast)
        else:
            body.append("else:")
            body.append(f"    {var} = {fvar}.to_python({var})")
            body.append(f"    link({var}, obj)")
        values[name] = var

    items = ", ".join(f"{name!r}: {var}" for name, var in values.items())
    body.append(f"set_data(obj, {{{items}}})")
    # A dynamic document's extra values go through its own __setattr__ (not yet
    # initialised), which registers each one as a dynamic field.
    extras = [(name, f"son[{son_key!r}]") for name, son_key in dynamic]
    body += conversions.state_lines(target, field_vars, dict_attrs, extras, mark_unchanged=True)

    label = f"loader {target._class_name}"
    load = build_function(
        label,
        "load(son, created)",
        [f"if {guard}:", "    return STALE", *dereferencing, *once, *body, "return obj"],
        env,
    )
    # The same steps over consecutive stored documents of this shape. Converting a
    # value that may build other documents can change the fields' flags, so those
    # classes set them again for every document, as the single load does.
    env["KEYS"] = keys
    env["CLS"] = cls_value
    shape = "type(son) is not dict or tuple(son) != KEYS"
    if "_cls" in keys:
        shape += " or type(son['_cls']) is not str or son['_cls'] != CLS"
    each = dereferencing if nested else []
    load.run = build_function(
        label,
        "run(sons, i, created, out)",
        [
            f"if {guard}:",
            "    return i",
            *dereferencing,
            *once,
            "n = len(sons)",
            "while i < n:",
            "    son = sons[i]",
            f"    if {shape}:",
            "        return i",
            "    try:",
            *("        " + line for line in each + body),
            "    except Exception:",
            "        return ~i  # MongoEngine's path raises its own error, or builds it",
            "    out.append(obj)",
            "    i += 1",
            "return i",
        ],
        env,
    )
    return load


