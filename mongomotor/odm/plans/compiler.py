"""What compiled plans share: switches, telling library code from a user's, building functions.

    load = build_function("loader Post", "load(son, created)", body, env)
    if not switched_on("MONGOMOTOR_LOADER"): ...

A plan is Python source generated once per class (and data shape), compiled
here, and checked at every call against the class it was made for. Anything a
plan cannot prove equal to MongoEngine's result raises :class:`Unplannable`
while planning (MongoEngine's own method then runs every time).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from mongoengine import fields as me_fields
from mongoengine.base import fields as me_base_fields
from mongoengine.base.document import BaseDocument

__all__ = [
    "none_to_default",
    "add_hook",
    "behaves_as",
    "check_plannable_class",
    "class_guard",
    "plain_field",
    "stands_for",
    "MAX_PLANS",
    "NO_PLAN",
    "STALE",
    "UNPLANNED_FIELDS",
    "Unplannable",
    "build_function",
    "is_library_code",
    "plan_or_none",
    "switched_on",
]

MAX_PLANS = 4096  # plans kept per kind; past it they are all dropped and made again
NO_PLAN = object()  # what a plan cache holds for a key MongoEngine must serve
STALE = object()  # what a plan returns when its class changed since it was made

# Field classes whose descriptors do work of their own when a document is
# built, or whose conversion is more than a type mapping (a cached reference
# reads the referenced document).
UNPLANNED_FIELDS = (
    me_fields.CachedReferenceField,
    me_fields.FileField,
    me_fields.EnumField,
    me_fields.SequenceField,
    me_fields.BinaryField,
    me_fields.ComplexDateTimeField,
)


class Unplannable(Exception):
    """Raised while planning: this class (or shape) is left to MongoEngine."""


def switched_on(variable: str) -> bool:
    """False when the environment variable says 0, off, false or no; True otherwise."""
    return os.environ.get(variable, "1").strip().lower() not in ("0", "off", "false", "no")


def is_library_code(fn: Any) -> bool:
    """True if ``fn`` (a function or class) is MongoEngine's or mongomotor's own, not a user's."""
    module = getattr(fn, "__module__", None) or ""
    return module.startswith(("mongoengine.", "mongomotor."))


def plan_or_none(compiler: Callable[..., Any], *key: Any) -> Any:
    """``compiler(*key)``, or :data:`NO_PLAN` if planning fails for any reason."""
    try:
        return compiler(*key)
    except Exception:
        return NO_PLAN


def build_function(label: str, signature: str, body: list[str], env: dict) -> Callable[..., Any]:
    """Compile ``def signature:`` with ``body`` (lines) in ``env``; the function made.

    Its source is kept in ``__source__`` for debugging (``print(fn.__source__)``).
    """
    source = "\n".join([f"def {signature}:"] + ["    " + line for line in body])
    exec(compile(source, f"<mongomotor plan {label}>", "exec"), env)
    fn = env[signature.split("(")[0]]
    fn.__source__ = source
    return fn


# -- classes whose document methods a plan replaces (encoder, checks) -------------------

_me_iter = BaseDocument.__dict__["__iter__"]


def plain_field(field: Any) -> bool:
    """True if the field's conversion and checks are MongoEngine's own."""
    if isinstance(field, UNPLANNED_FIELDS):  # the loader's list: more than a value mapping
        return False
    kind = type(field)
    names = ("to_mongo", "to_python", "validate", "_validate", "generate")
    if any(name in getattr(field, "__dict__", {}) for name in names):
        return False  # a method set on the field object itself
    if not all(is_library_code(getattr(kind, name, None)) for name in names if hasattr(kind, name)):
        return False
    inner = getattr(field, "field", None)
    if isinstance(field, me_base_fields.ComplexBaseField) and inner is not None:
        return plain_field(inner)
    return True


def next_after(cls: type, name: str, after: type) -> Any:
    """The ``name`` attribute ``super(after, instance)`` finds on an instance of ``cls``."""
    mro = cls.__mro__
    for klass in mro[mro.index(after) + 1 :]:
        if name in klass.__dict__:
            return klass.__dict__[name]
    return None


# The document methods that call the encoder, each with the MongoEngine method it stands
# for (None: whichever comes next in the class's MRO, as ``super()`` finds it).
_hooks: list[tuple[Any, Any]] = []


def add_hook(method: Any, stands_for: Any = None) -> None:
    """Declare ``method`` a caller of the encoder that gives ``stands_for``'s result.

        add_hook(NoDerefInitMixin.__dict__["to_mongo"])   # stands for the next in the MRO
    """
    _hooks.append((method, stands_for))


def stands_for(cls: type, name: str) -> Any:
    """The MongoEngine method whose result the hook ``cls`` reaches for ``name`` must give."""
    for klass in cls.__mro__:
        fn = klass.__dict__.get(name)
        for hook, original in _hooks:
            if fn is hook:
                if original is not None:
                    return original
                after = next_after(cls, name, klass)
                # A hook standing for MongoEngine's method (test support) stands for it here too.
                return next((o for h, o in _hooks if h is after and o is not None), after)
    return None


def behaves_as(cls: type, name: str) -> Any:
    """The method whose result ``cls.<name>`` gives: itself, or what the hook it is stands for.

        behaves_as(Post, "__init__")  # BaseDocument.__init__ (mongomotor's gives its result)
    """
    fn = getattr(cls, name, None)
    if any(fn is hook for hook, _ in _hooks):
        return stands_for(cls, name)
    return fn


def check_plannable_class(cls: type) -> None:
    """Raises if instances of ``cls`` cannot be encoded by a plan."""
    if cls._dynamic or cls._meta.get("abstract") or cls.__iter__ is not _me_iter:
        raise Unplannable
    for name, field in cls._fields.items():
        if not plain_field(field) or field.name != name:
            raise Unplannable


def class_guard(cls: type) -> tuple[str, dict]:
    env = {"C": cls, "C_fields": cls._fields, "C_order": cls._fields_ordered}
    guard = (
        f"C._fields is not C_fields or len(C_fields) != {len(cls._fields)}"
        " or C._fields_ordered is not C_order"
    )
    return guard, env


def none_to_default(var: str, fvar: str, indent: str) -> list[str]:
    """Plan lines doing what ``BaseField.__set__`` does with None in ``var`` for field ``fvar``.

    A field that is not ``null`` takes its default (called if callable), linked to ``obj``.
    """
    return [
        f"{indent}if not {fvar}.null:",
        f"{indent}    {var} = {fvar}.default",
        f"{indent}    if {var} is not None:",
        f"{indent}        if callable({var}):",
        f"{indent}            {var} = {var}()",
        f"{indent}        link({var}, obj)",
    ]
