# Types of mongomotor.fields: every field is a descriptor generic over the value
# an instance holds. The class attribute is the field itself; on an instance the
# value is ``T`` when the field is ``required=True`` or has a default, else
# ``T | None``. How this works and what it cannot express: docs/guide/typing.rst.
from collections.abc import Callable, Coroutine
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, Generic, Literal, TypeVar, overload
from uuid import UUID

from bson import ObjectId
from typing_extensions import Self

from mongomotor.document import NoDerefInitMixin
from mongomotor.odm.files.fields import FileField as FileField
from mongomotor.odm.files.fields import FileMetadataNotLoaded as FileMetadataNotLoaded
from mongomotor.odm.files.fields import GridFSError as GridFSError
from mongomotor.odm.files.fields import GridFSProxy as GridFSProxy
from mongomotor.odm.files.fields import ImageField as ImageField
from mongomotor.odm.files.fields import ImageGridFsProxy as ImageGridFsProxy
from mongomotor.odm.files.metadata import load_file_metadata as load_file_metadata
from mongomotor.odm.references.fields import AsyncLazyReference as AsyncLazyReference
from mongomotor.odm.references.fields import AwaitableContainer as AwaitableContainer
from mongomotor.odm.references.fields import AwaitableReference as AwaitableReference
from mongomotor.odm.references.fields import CachedReferenceField as CachedReferenceField
from mongomotor.odm.references.fields import DictField as DictField
from mongomotor.odm.references.fields import GenericLazyReferenceField as GenericLazyReferenceField
from mongomotor.odm.references.fields import GenericReferenceField as GenericReferenceField
from mongomotor.odm.references.fields import LazyReferenceField as LazyReferenceField
from mongomotor.odm.references.fields import ListField as ListField
from mongomotor.odm.references.fields import MapField as MapField
from mongomotor.odm.references.fields import ReferenceField as ReferenceField
from mongomotor.odm.references.fields import SortedListField as SortedListField

__all__ = [
    "StringField",
    "URLField",
    "EmailField",
    "IntField",
    "LongField",
    "FloatField",
    "DecimalField",
    "BooleanField",
    "DateTimeField",
    "DateField",
    "ComplexDateTimeField",
    "EmbeddedDocumentField",
    "ObjectIdField",
    "GenericEmbeddedDocumentField",
    "DynamicField",
    "ListField",
    "SortedListField",
    "EmbeddedDocumentListField",
    "DictField",
    "MapField",
    "ReferenceField",
    "CachedReferenceField",
    "LazyReferenceField",
    "GenericLazyReferenceField",
    "GenericReferenceField",
    "BinaryField",
    "GridFSError",
    "GridFSProxy",
    "FileField",
    "ImageGridFsProxy",
    "ImproperlyConfigured",
    "ImageField",
    "GeoPointField",
    "PointField",
    "LineStringField",
    "PolygonField",
    "SequenceField",
    "UUIDField",
    "EnumField",
    "MultiPointField",
    "MultiLineStringField",
    "MultiPolygonField",
    "GeoJsonBaseField",
    "Decimal128Field",
]

_T = TypeVar("_T")
_E = TypeVar("_E", bound=Enum)
_ED = TypeVar("_ED", bound=NoDerefInitMixin)

class _Field(Generic[_T]):
    """Stub-only base (MongoEngine's ``BaseField``): ``_T`` is an instance's value."""

    name: str
    db_field: str
    required: bool
    default: Any
    primary_key: bool
    unique: bool
    null: bool
    choices: Any
    owner_document: Any
    def __init__(self, *args: Any, **kwargs: Any) -> None: ...
    @overload
    def __get__(self, instance: None, owner: Any) -> Self: ...
    @overload
    def __get__(self, instance: NoDerefInitMixin, owner: Any) -> _T: ...
    def __set__(self, instance: NoDerefInitMixin, value: _T | None) -> None: ...
    def validate(self, value: Any, clean: bool = True) -> None: ...
    def error(
        self, message: str = "", errors: Any = None, field_name: str | None = None
    ) -> None: ...
    def to_python(self, value: Any) -> Any: ...
    def to_mongo(self, value: Any) -> Any: ...
    def prepare_query_value(self, op: str, value: Any) -> Any: ...

class ImproperlyConfigured(Exception): ...

class StringField(_Field[_T]):
    @overload
    def __init__(
        self: StringField[str], *args: Any, required: Literal[True], **kwargs: Any
    ) -> None: ...
    @overload
    def __init__(
        self: StringField[str], *args: Any, default: str | Callable[[], str], **kwargs: Any
    ) -> None: ...
    @overload
    def __init__(
        self: StringField[str | None],
        *args: Any,
        required: bool = False,
        default: None = None,
        **kwargs: Any,
    ) -> None: ...

class URLField(_Field[_T]):
    @overload
    def __init__(
        self: URLField[str], *args: Any, required: Literal[True], **kwargs: Any
    ) -> None: ...
    @overload
    def __init__(
        self: URLField[str], *args: Any, default: str | Callable[[], str], **kwargs: Any
    ) -> None: ...
    @overload
    def __init__(
        self: URLField[str | None],
        *args: Any,
        required: bool = False,
        default: None = None,
        **kwargs: Any,
    ) -> None: ...

class EmailField(_Field[_T]):
    @overload
    def __init__(
        self: EmailField[str], *args: Any, required: Literal[True], **kwargs: Any
    ) -> None: ...
    @overload
    def __init__(
        self: EmailField[str], *args: Any, default: str | Callable[[], str], **kwargs: Any
    ) -> None: ...
    @overload
    def __init__(
        self: EmailField[str | None],
        *args: Any,
        required: bool = False,
        default: None = None,
        **kwargs: Any,
    ) -> None: ...

class IntField(_Field[_T]):
    @overload
    def __init__(
        self: IntField[int], *args: Any, required: Literal[True], **kwargs: Any
    ) -> None: ...
    @overload
    def __init__(
        self: IntField[int], *args: Any, default: int | Callable[[], int], **kwargs: Any
    ) -> None: ...
    @overload
    def __init__(
        self: IntField[int | None],
        *args: Any,
        required: bool = False,
        default: None = None,
        **kwargs: Any,
    ) -> None: ...

class LongField(_Field[_T]):
    @overload
    def __init__(
        self: LongField[int], *args: Any, required: Literal[True], **kwargs: Any
    ) -> None: ...
    @overload
    def __init__(
        self: LongField[int], *args: Any, default: int | Callable[[], int], **kwargs: Any
    ) -> None: ...
    @overload
    def __init__(
        self: LongField[int | None],
        *args: Any,
        required: bool = False,
        default: None = None,
        **kwargs: Any,
    ) -> None: ...

class FloatField(_Field[_T]):
    @overload
    def __init__(
        self: FloatField[float], *args: Any, required: Literal[True], **kwargs: Any
    ) -> None: ...
    @overload
    def __init__(
        self: FloatField[float], *args: Any, default: float | Callable[[], float], **kwargs: Any
    ) -> None: ...
    @overload
    def __init__(
        self: FloatField[float | None],
        *args: Any,
        required: bool = False,
        default: None = None,
        **kwargs: Any,
    ) -> None: ...

class DecimalField(_Field[_T]):
    @overload
    def __init__(
        self: DecimalField[Decimal], *args: Any, required: Literal[True], **kwargs: Any
    ) -> None: ...
    @overload
    def __init__(
        self: DecimalField[Decimal],
        *args: Any,
        default: Decimal | Callable[[], Decimal],
        **kwargs: Any,
    ) -> None: ...
    @overload
    def __init__(
        self: DecimalField[Decimal | None],
        *args: Any,
        required: bool = False,
        default: None = None,
        **kwargs: Any,
    ) -> None: ...

class Decimal128Field(_Field[_T]):
    @overload
    def __init__(
        self: Decimal128Field[Decimal], *args: Any, required: Literal[True], **kwargs: Any
    ) -> None: ...
    @overload
    def __init__(
        self: Decimal128Field[Decimal],
        *args: Any,
        default: Decimal | Callable[[], Decimal],
        **kwargs: Any,
    ) -> None: ...
    @overload
    def __init__(
        self: Decimal128Field[Decimal | None],
        *args: Any,
        required: bool = False,
        default: None = None,
        **kwargs: Any,
    ) -> None: ...

class BooleanField(_Field[_T]):
    @overload
    def __init__(
        self: BooleanField[bool], *args: Any, required: Literal[True], **kwargs: Any
    ) -> None: ...
    @overload
    def __init__(
        self: BooleanField[bool], *args: Any, default: bool | Callable[[], bool], **kwargs: Any
    ) -> None: ...
    @overload
    def __init__(
        self: BooleanField[bool | None],
        *args: Any,
        required: bool = False,
        default: None = None,
        **kwargs: Any,
    ) -> None: ...

class DateTimeField(_Field[_T]):
    @overload
    def __init__(
        self: DateTimeField[datetime], *args: Any, required: Literal[True], **kwargs: Any
    ) -> None: ...
    @overload
    def __init__(
        self: DateTimeField[datetime],
        *args: Any,
        default: datetime | Callable[[], datetime],
        **kwargs: Any,
    ) -> None: ...
    @overload
    def __init__(
        self: DateTimeField[datetime | None],
        *args: Any,
        required: bool = False,
        default: None = None,
        **kwargs: Any,
    ) -> None: ...

class ComplexDateTimeField(_Field[_T]):
    @overload
    def __init__(
        self: ComplexDateTimeField[datetime], *args: Any, required: Literal[True], **kwargs: Any
    ) -> None: ...
    @overload
    def __init__(
        self: ComplexDateTimeField[datetime],
        *args: Any,
        default: datetime | Callable[[], datetime],
        **kwargs: Any,
    ) -> None: ...
    @overload
    def __init__(
        self: ComplexDateTimeField[datetime | None],
        *args: Any,
        required: bool = False,
        default: None = None,
        **kwargs: Any,
    ) -> None: ...

class DateField(_Field[_T]):
    @overload
    def __init__(
        self: DateField[date], *args: Any, required: Literal[True], **kwargs: Any
    ) -> None: ...
    @overload
    def __init__(
        self: DateField[date], *args: Any, default: date | Callable[[], date], **kwargs: Any
    ) -> None: ...
    @overload
    def __init__(
        self: DateField[date | None],
        *args: Any,
        required: bool = False,
        default: None = None,
        **kwargs: Any,
    ) -> None: ...

class ObjectIdField(_Field[_T]):
    @overload
    def __init__(
        self: ObjectIdField[ObjectId], *args: Any, required: Literal[True], **kwargs: Any
    ) -> None: ...
    @overload
    def __init__(
        self: ObjectIdField[ObjectId],
        *args: Any,
        default: ObjectId | Callable[[], ObjectId],
        **kwargs: Any,
    ) -> None: ...
    @overload
    def __init__(
        self: ObjectIdField[ObjectId | None],
        *args: Any,
        required: bool = False,
        default: None = None,
        **kwargs: Any,
    ) -> None: ...

class UUIDField(_Field[_T]):
    @overload
    def __init__(
        self: UUIDField[UUID], *args: Any, required: Literal[True], **kwargs: Any
    ) -> None: ...
    @overload
    def __init__(
        self: UUIDField[UUID], *args: Any, default: UUID | Callable[[], UUID], **kwargs: Any
    ) -> None: ...
    @overload
    def __init__(
        self: UUIDField[UUID | None],
        *args: Any,
        required: bool = False,
        default: None = None,
        **kwargs: Any,
    ) -> None: ...

class BinaryField(_Field[_T]):
    @overload
    def __init__(
        self: BinaryField[bytes], *args: Any, required: Literal[True], **kwargs: Any
    ) -> None: ...
    @overload
    def __init__(
        self: BinaryField[bytes], *args: Any, default: bytes | Callable[[], bytes], **kwargs: Any
    ) -> None: ...
    @overload
    def __init__(
        self: BinaryField[bytes | None],
        *args: Any,
        required: bool = False,
        default: None = None,
        **kwargs: Any,
    ) -> None: ...

class EnumField(_Field[_T]):
    @overload
    def __init__(
        self: EnumField[_E], enum: type[_E], *, required: Literal[True], **kwargs: Any
    ) -> None: ...
    @overload
    def __init__(
        self: EnumField[_E], enum: type[_E], *, default: _E | Callable[[], _E], **kwargs: Any
    ) -> None: ...
    @overload
    def __init__(
        self: EnumField[_E | None],
        enum: type[_E],
        *,
        required: bool = False,
        default: None = None,
        **kwargs: Any,
    ) -> None: ...

class EmbeddedDocumentField(_Field[_T]):
    document_type: type[Any]
    @overload
    def __init__(
        self: EmbeddedDocumentField[_ED],
        document_type: type[_ED],
        *,
        required: Literal[True],
        **kwargs: Any,
    ) -> None: ...
    @overload
    def __init__(
        self: EmbeddedDocumentField[_ED],
        document_type: type[_ED],
        *,
        default: _ED | Callable[[], _ED],
        **kwargs: Any,
    ) -> None: ...
    @overload
    def __init__(
        self: EmbeddedDocumentField[_ED | None],
        document_type: type[_ED],
        *,
        required: bool = False,
        default: None = None,
        **kwargs: Any,
    ) -> None: ...
    @overload
    def __init__(self: EmbeddedDocumentField[Any], document_type: str, **kwargs: Any) -> None: ...

class EmbeddedDocumentList(list[_ED]):
    """The value of an ``EmbeddedDocumentListField``: a list with MongoEngine's helpers.

        ann = post.notes.filter(who="ann").first()
        await post.notes.save()            # saves (and gives) the parent document
    """

    def filter(self, **kwargs: Any) -> EmbeddedDocumentList[_ED]: ...
    def exclude(self, **kwargs: Any) -> EmbeddedDocumentList[_ED]: ...
    # MongoEngine's count() takes no value: the number of documents, as len().
    def count(self) -> int: ...  # type: ignore[override]  # pyright: ignore[reportIncompatibleMethodOverride]
    def get(self, **kwargs: Any) -> _ED: ...
    def first(self) -> _ED | None: ...
    def create(self, **values: Any) -> _ED: ...
    def save(self, *args: Any, **kwargs: Any) -> Coroutine[Any, Any, Any]: ...
    def delete(self) -> int: ...
    def update(self, **update: Any) -> int: ...

class EmbeddedDocumentListField(_Field[EmbeddedDocumentList[_ED]]):
    def __init__(self, document_type: type[_ED], **kwargs: Any) -> None: ...
    def __set__(self, instance: NoDerefInitMixin, value: list[_ED] | None) -> None: ...

class GenericEmbeddedDocumentField(_Field[Any]): ...
class DynamicField(_Field[Any]): ...

class SequenceField(_Field[int]):
    """The next value is taken on save: reading it before the first save raises."""

    def set_next_value(self, value: int) -> Coroutine[Any, Any, int]: ...
    def get_next_value(self) -> Coroutine[Any, Any, int]: ...

# Geo values are GeoJSON dicts or coordinate lists: not typed further.
class GeoJsonBaseField(_Field[Any]): ...
class GeoPointField(_Field[Any]): ...
class PointField(GeoJsonBaseField): ...
class LineStringField(GeoJsonBaseField): ...
class PolygonField(GeoJsonBaseField): ...
class MultiPointField(GeoJsonBaseField): ...
class MultiLineStringField(GeoJsonBaseField): ...
class MultiPolygonField(GeoJsonBaseField): ...
