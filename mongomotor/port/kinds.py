"""What the analysis knows an expression is: a document class, a document, a QuerySet...

Each kind is a small frozen value; ``None`` means "not known", and the rules leave
such code alone (or report it when a name suggests I/O).
"""

from __future__ import annotations

from dataclasses import dataclass

UNKNOWN_DOCUMENT = "?"


@dataclass(frozen=True)
class DocClass:
    """A document class (``Post``, ``cls`` in its classmethods)."""

    name: str


@dataclass(frozen=True)
class Doc:
    """A document (``Post(...)``, ``Post.objects.get()``, ``self`` in its methods)."""

    name: str
    embedded: bool = False


@dataclass(frozen=True)
class QS:
    """A QuerySet of ``name``; ``bounded`` is True after skip/limit/slice, None if not known."""

    name: str
    bounded: bool | None = None


@dataclass(frozen=True)
class Ref:
    """A reference attribute (``post.author``): awaitable in mongomotor."""

    name: str


@dataclass(frozen=True)
class RefList:
    """A list field of references (``post.tags``): await it before iterating or indexing."""

    name: str


@dataclass(frozen=True)
class LazyRef:
    """A lazy reference: ``ref.fetch()`` is awaited."""

    name: str


@dataclass(frozen=True)
class File:
    """A FileField's value (GridFS proxy); ``image`` for an ImageField."""

    image: bool = False


@dataclass(frozen=True)
class Cursor:
    """What ``aggregate`` gives: iterated with ``async for``."""


@dataclass(frozen=True)
class ListOf:
    """A plain list whose items are ``item``."""

    item: object


@dataclass(frozen=True)
class Instance:
    """An instance of a class of the project that is not a document."""

    name: str


@dataclass(frozen=True)
class ClassRef:
    """A class of the project that is not a document."""

    name: str


@dataclass(frozen=True)
class Module:
    """A module of the project (``import app.services as services``)."""

    name: str


Kind = (
    DocClass
    | Doc
    | QS
    | Ref
    | RefList
    | LazyRef
    | File
    | Cursor
    | ListOf
    | Instance
    | ClassRef
    | Module
)


def document_of(kind: object) -> str | None:
    """The document class a document-like value has (a reference counts: it is awaited)."""
    if isinstance(kind, (Doc, Ref)) and not getattr(kind, "embedded", False):
        return kind.name
    return None


def iterated_item(kind: object) -> object:
    """What iterating ``kind`` gives, or None."""
    if isinstance(kind, QS):
        return Doc(kind.name)
    if isinstance(kind, (RefList,)):
        return Doc(kind.name)
    if isinstance(kind, ListOf):
        return kind.item
    return None
