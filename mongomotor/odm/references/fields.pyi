# pyright: reportPrivateUsage=false
# (_Field is the stub-only base of every field, declared in fields.pyi)
# Types of mongomotor.odm.references.fields: a reference reads as an awaitable that
# knows its id; awaiting it gives the document (see docs/guide/typing.rst).
from collections.abc import Awaitable, Generator, Iterator
from typing import Any, Generic, Literal, SupportsIndex, TypeVar, overload

from bson import DBRef, ObjectId

from mongomotor.document import Document, NoDerefInitMixin
from mongomotor.fields import _Field

__all__ = [
    "AwaitableReference",
    "AsyncLazyReference",
    "BaseAsyncReferenceField",
    "CachedReferenceField",
    "ComplexBaseField",
    "DictField",
    "GenericLazyReferenceField",
    "GenericReferenceField",
    "LazyReferenceField",
    "ListField",
    "MapField",
    "NO_REFERENCE",
    "ReferenceDict",
    "ReferenceList",
    "ReferenceField",
    "SortedListField",
]

_T = TypeVar("_T")
_V = TypeVar("_V")
_R = TypeVar("_R")
_R_co = TypeVar("_R_co", covariant=True)
_D = TypeVar("_D", bound=Document)
_D_co = TypeVar("_D_co", bound=Document, covariant=True)

class AwaitableReference(Generic[_R_co]):
    """``post.author``: ``await`` it for the document; ``.id``/``.pk`` need no query.

    Once loaded (``select_related``) the value is the document itself: attribute
    access other than ``id``/``pk`` is typed ``Any``; ``await`` stays precise.
    """

    @property
    def pk(self) -> Any: ...
    @property
    def id(self) -> Any: ...
    def __await__(self) -> Generator[Any, None, _R_co]: ...
    def __getattr__(self, name: str) -> Any: ...
    def __bool__(self) -> bool: ...

class AwaitableContainer(Generic[_D_co]):
    """``post.tags`` for ``ListField(ReferenceField(Tag))``: ``await`` it for ``list[Tag]``.

    ``post.tags[0]`` is a reference (``await`` it; ``.id`` needs no query), loaded
    or not; a slice a list of them. Iterating works once loaded
    (``select_related``) and raises before; ``+``, ordering and changes need
    ``await post.tags`` first (they are not declared).
    """

    def __await__(self) -> Generator[Any, None, list[_D_co]]: ...
    def __iter__(self) -> Iterator[_D_co]: ...
    @overload
    def __getitem__(self, index: SupportsIndex) -> AwaitableReference[_D_co]: ...
    @overload
    def __getitem__(self, index: slice) -> list[AwaitableReference[_D_co]]: ...
    def __len__(self) -> int: ...
    def __contains__(self, item: object) -> bool: ...

class AsyncLazyReference(DBRef, Generic[_D_co]):
    """A ``LazyReferenceField`` value: ``await ref.fetch()`` loads the document."""

    pk: Any
    document_type: type[_D_co]
    passthrough: bool
    def fetch(self, force: bool = False) -> Awaitable[_D_co]: ...
    def __getitem__(self, name: str) -> Any: ...
    def __getattr__(self, name: str) -> Any: ...

class ReferenceList(list[_T]):
    def __await__(self) -> Generator[Any, None, list[Any]]: ...

class ReferenceDict(dict[str, _T]):
    def __await__(self) -> Generator[Any, None, dict[str, Any]]: ...

class _NoReference:
    def __await__(self) -> Generator[Any]: ...
    def __bool__(self) -> Literal[False]: ...

NO_REFERENCE: _NoReference

class BaseAsyncReferenceField: ...

class ReferenceField(_Field[AwaitableReference[_R]], Generic[_R]):
    """``ReferenceField(User)``: awaiting the value gives ``User | None``;
    ``ReferenceField(User, required=True)`` gives ``User``."""

    document_type: type[Any]
    @overload
    def __init__(
        self: ReferenceField[_D],
        document_type: type[_D],
        *args: Any,
        required: Literal[True],
        **kwargs: Any,
    ) -> None: ...
    @overload
    def __init__(
        self: ReferenceField[_D | None],
        document_type: type[_D],
        *args: Any,
        required: bool = False,
        **kwargs: Any,
    ) -> None: ...
    @overload
    def __init__(
        self: ReferenceField[Any], document_type: str, *args: Any, **kwargs: Any
    ) -> None: ...
    def __set__(
        self,
        instance: NoDerefInitMixin,
        value: Document | AwaitableReference[Any] | ObjectId | DBRef | None,
    ) -> None: ...

class CachedReferenceField(ReferenceField[_R]):
    # document_type and __set__ as ReferenceField's; the overloads name this class.
    @overload
    def __init__(
        self: CachedReferenceField[_D],
        document_type: type[_D],
        *args: Any,
        required: Literal[True],
        **kwargs: Any,
    ) -> None: ...
    @overload
    def __init__(
        self: CachedReferenceField[_D | None],
        document_type: type[_D],
        *args: Any,
        required: bool = False,
        **kwargs: Any,
    ) -> None: ...
    @overload
    def __init__(
        self: CachedReferenceField[Any], document_type: str, *args: Any, **kwargs: Any
    ) -> None: ...

class GenericReferenceField(_Field[AwaitableReference[Any]]):
    def __set__(
        self,
        instance: NoDerefInitMixin,
        value: Document | AwaitableReference[Any] | DBRef | dict[str, Any] | None,
    ) -> None: ...

class LazyReferenceField(_Field[AsyncLazyReference[_D] | None]):
    document_type: type[_D]
    @overload
    def __init__(self, document_type: type[_D], *args: Any, **kwargs: Any) -> None: ...
    @overload
    def __init__(
        self: LazyReferenceField[Any], document_type: str, *args: Any, **kwargs: Any
    ) -> None: ...
    def __set__(
        self,
        instance: NoDerefInitMixin,
        value: Document | AsyncLazyReference[Any] | ObjectId | DBRef | None,
    ) -> None: ...

class GenericLazyReferenceField(_Field[Any]): ...
class ComplexBaseField(_Field[_T]):
    field: Any  # the field of the values (``ListField(IntField())``), or None

class ListField(ComplexBaseField[_T]):
    """``ListField(StringField())`` holds ``list[str]``; of references, an awaitable container."""

    @overload
    def __init__(
        self: ListField[AwaitableContainer[Any]], field: GenericReferenceField, **kwargs: Any
    ) -> None: ...
    @overload
    def __init__(
        self: ListField[AwaitableContainer[_D]], field: ReferenceField[_D], **kwargs: Any
    ) -> None: ...
    @overload
    def __init__(
        self: ListField[AwaitableContainer[_D]], field: ReferenceField[_D | None], **kwargs: Any
    ) -> None: ...
    @overload
    def __init__(self: ListField[list[_V]], field: _Field[_V | None], **kwargs: Any) -> None: ...
    @overload
    def __init__(self: ListField[list[_V]], field: _Field[_V], **kwargs: Any) -> None: ...
    @overload
    def __init__(self: ListField[list[Any]], field: None = None, **kwargs: Any) -> None: ...
    def __set__(self, instance: NoDerefInitMixin, value: Any) -> None: ...

class SortedListField(ListField[_T]):
    @overload
    def __init__(
        self: SortedListField[AwaitableContainer[Any]], field: GenericReferenceField, **kwargs: Any
    ) -> None: ...
    @overload
    def __init__(
        self: SortedListField[AwaitableContainer[_D]], field: ReferenceField[_D], **kwargs: Any
    ) -> None: ...
    @overload
    def __init__(
        self: SortedListField[AwaitableContainer[_D]],
        field: ReferenceField[_D | None],
        **kwargs: Any,
    ) -> None: ...
    @overload
    def __init__(
        self: SortedListField[list[_V]], field: _Field[_V | None], **kwargs: Any
    ) -> None: ...
    @overload
    def __init__(self: SortedListField[list[_V]], field: _Field[_V], **kwargs: Any) -> None: ...
    @overload
    def __init__(self: SortedListField[list[Any]], field: None = None, **kwargs: Any) -> None: ...
    def __set__(self, instance: NoDerefInitMixin, value: Any) -> None: ...

class DictField(ComplexBaseField[_T]):
    """``DictField()`` holds ``dict[str, Any]``; ``DictField(IntField())`` ``dict[str, int]``."""

    @overload
    def __init__(
        self: DictField[dict[str, _V]], field: _Field[_V | None], **kwargs: Any
    ) -> None: ...
    @overload
    def __init__(self: DictField[dict[str, _V]], field: _Field[_V], **kwargs: Any) -> None: ...
    @overload
    def __init__(self: DictField[dict[str, Any]], field: None = None, **kwargs: Any) -> None: ...

class MapField(DictField[_T]):
    @overload
    def __init__(
        self: MapField[dict[str, _V]], field: _Field[_V | None], **kwargs: Any
    ) -> None: ...
    @overload
    def __init__(self: MapField[dict[str, _V]], field: _Field[_V], **kwargs: Any) -> None: ...
    @overload
    def __init__(self: MapField[dict[str, Any]], field: None = None, **kwargs: Any) -> None: ...
