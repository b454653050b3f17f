"""Compiled document construction: ``Document(**values)``, built once per class and set of names.

    if not constructor.construct(post, values):   # from Document.__init__
        ...  # MongoEngine's BaseDocument.__init__ builds it

MongoEngine's ``BaseDocument.__init__`` sends ``pre_init`` and ``post_init``,
checks the names against the class's fields, then sets every field through
``BaseDocument.__setattr__`` and the field's descriptor: first each missing
field's default, then each given value, converted by the field's
``to_python``. Here, the first time a class is built with a given tuple of
names, that work is *planned* and compiled into a small function that computes
the same values in the same order (defaults, callables included, then the given
values) and sets the document's state directly: ``_data`` with its key order,
``_dynamic_fields``, ``_cls``, the ``get_<field>_display`` methods,
``_initialised``, ``_created``, and for embedded documents ``_instance`` and
``_changed_fields``. A conversion that raises raises the same error at the same
point (``tests/test_constructor_equivalence.py`` compares the two paths).

MongoEngine's own ``__init__`` runs instead when: a receiver is connected to
``pre_init`` or ``post_init``; positional arguments are given; a name is not a
field (unknown names raise MongoEngine's ``FieldDoesNotExist``; ``strict:
False`` extras, ``_text_score``, ``pk``, and a dynamic document's names that
start with ``_``); a field or the class is not plain MongoEngine (its own
``__setattr__``, ``STRICT``, a field with its own descriptor or conversion); an
``__init__`` between mongomotor's and MongoEngine's. ``MONGOMOTOR_CONSTRUCTOR=0``
in the environment, or ``constructor.enabled = False``, switches it off.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mongoengine import signals as me_signals
from mongoengine.base.document import BaseDocument
from mongoengine.document import EmbeddedDocument

from mongomotor.odm.plans import conversions, loader
from mongomotor.odm.plans.compiler import (
    MAX_PLANS,
    NO_PLAN,
    STALE,
    Unplannable,
    build_function,
    none_to_default,
    plan_or_none,
    stands_for,
    switched_on,
)

__all__ = ["construct", "enabled", "forget_plans"]

#: Switch the compiled constructor off (``MONGOMOTOR_CONSTRUCTOR=0``) to build every
#: document through MongoEngine's own ``__init__``.
enabled: bool = switched_on("MONGOMOTOR_CONSTRUCTOR")

_plans: dict[tuple, Any] = {}
_pre_init = me_signals.pre_init
_post_init = me_signals.post_init
_dict_new = dict.__new__
_PARAMETERS = ("_created", "__auto_convert")  # names __init__ takes out of the values
_me_init = BaseDocument.__dict__["__init__"]
_me_embedded_init = EmbeddedDocument.__dict__["__init__"]


def forget_plans() -> None:
    """Drop every compiled constructor (they are rebuilt on the next construction)."""
    _plans.clear()


def construct(doc: Any, values: dict) -> bool:
    """Build ``doc`` from ``values`` as MongoEngine's ``__init__`` does; False: it must.

        if not construct(self, values):
            super().__init__(**values)
    """
    if not enabled or _pre_init.receivers or _post_init.receivers:
        return False
    key = (doc.__class__, tuple(values))
    init = _plans.get(key)
    if init is None:
        if len(_plans) >= MAX_PLANS:
            _plans.clear()  # name sets without end (dynamic documents): start again
        init = _plans[key] = plan_or_none(_compile, key[0], key[1])
    if init is NO_PLAN:
        return False
    done = init(doc, values)
    if done is STALE:  # the class gained or lost fields since it was planned
        _plans[key] = plan_or_none(_compile, key[0], key[1])
        return construct(doc, values)
    return done


# -- planning -------------------------------------------------------------------------


def _check_class(cls: Any) -> None:
    init = _me_embedded_init if issubclass(cls, EmbeddedDocument) else _me_init
    if (
        stands_for(cls, "__init__") is not init
        or cls.__setattr__ is not BaseDocument.__setattr__
        or cls.STRICT
        or cls.__dictoffset__ == 0
    ):
        raise Unplannable
    for name, field in cls._fields.items():
        if (
            not conversions.plannable_field(field)
            or field.name != name
            or conversions.class_attribute(cls, name) is not field
        ):
            raise Unplannable


def _compile(cls: Any, names: tuple) -> Callable[[Any, dict], Any]:
    _check_class(cls)
    fields = cls._fields
    given = [name for name in names if name not in _PARAMETERS]
    dynamic = []  # names set last, through the document's own __setattr__
    for name in given:
        if name in fields or name == "_cls":
            continue
        if not cls._dynamic or name.startswith("_") or name in ("id", "pk"):
            raise Unplannable  # MongoEngine's error, strict: False extras, pk, ...
        dynamic.append(name)
    # _from_son passes __auto_convert=False; anything else is planned for the default.
    auto_convert = "__auto_convert" not in names

    env = conversions.plan_env()
    env.update(
        STALE=STALE,
        C=cls,
        C_fields=fields,
        from_son=loader.from_son,
        class_name=cls._class_name,
    )
    field_vars = {}
    for i, (name, field) in enumerate(fields.items()):
        field_vars[name] = f"f{i}"
        env[f"f{i}"] = field

    head = [f"if C._fields is not C_fields or len(C_fields) != {len(fields)}:", "    return STALE"]
    once: list[str] = []  # lookups the conversions make at most once per call
    body: list[str] = []
    if not auto_convert:
        body += ["if values['__auto_convert'] is not False:", "    return False"]
    body.append("created = values['_created']" if "_created" in names else "created = True")

    data: dict[str, str] = {}  # field name -> local holding its value, in _data's order
    # Missing fields: the descriptor reads None (nothing set yet), __set__ gives the default.
    for name in fields:
        if name not in given:
            var = data[name] = f"v{len(data)}"
            body.append(f"{var} = None")
            body.extend(none_to_default(var, field_vars[name], ""))
    # __init__ then sets _cls: through its field (classes that allow inheritance), or as is.
    cls_expr = None if "_cls" in given else "class_name"
    if "_cls" in fields and cls_expr:
        body.append(f"{data['_cls']} = class_name")
        cls_expr = None
    # Given values, in the order given, converted unless they are None.
    for name in given:
        if name == "_cls" and name not in fields:
            cls_expr = "values['_cls']"
            continue
        if name in dynamic:
            continue
        var = data[name] = f"v{len(data)}"
        fvar = field_vars[name]
        body.append(f"{var} = values[{name!r}]")
        body.append(f"if {var} is None:")
        body.extend(none_to_default(var, fvar, "    "))
        fast = (
            conversions.fast_conversion(fields[name], var, fvar, env, once)
            if auto_convert
            else None
        )
        if fast:
            body.extend(fast)
        else:
            body.append("else:")
            if auto_convert:
                body.append(f"    {var} = {fvar}.to_python({var})")
            body.append(f"    link({var}, obj)")

    items = ", ".join(f"{name!r}: {var}" for name, var in data.items())
    body.append(f"set_data(obj, {{{items}}})")
    dict_attrs = [("_cls", cls_expr)] if cls_expr else []
    extras = [(name, f"values[{name!r}]") for name in dynamic]
    embedded = issubclass(cls, EmbeddedDocument)
    body += conversions.state_lines(cls, field_vars, dict_attrs, extras, mark_unchanged=embedded)
    body.append("return True")
    label = f"constructor {cls._class_name}"
    return build_function(label, "init(obj, values)", head + once + body, env)
