# Types of the package's top level (``from mongomotor import ...``); each name
# is declared where it lives (see docs/guide/typing.rst for the layout).
from typing import Any

from mongomotor import monkey as monkey
from mongomotor import signals as signals
from mongomotor.bridge import await_ as await_
from mongomotor.bridge import run_sync as run_sync
from mongomotor.change_streams import ChangeEvent as ChangeEvent
from mongomotor.change_streams import ChangeStream as ChangeStream
from mongomotor.connection import DEFAULT_CONNECTION_NAME as DEFAULT_CONNECTION_NAME
from mongomotor.connection import connect as connect
from mongomotor.connection import disconnect as disconnect
from mongomotor.connection import disconnect_all as disconnect_all
from mongomotor.connection import get_connection as get_connection
from mongomotor.connection import get_db as get_db
from mongomotor.connection import get_db_version as get_db_version
from mongomotor.connection import get_mongodb_version as get_mongodb_version
from mongomotor.connection import register_connection as register_connection
from mongomotor.context_managers import no_dereference as no_dereference
from mongomotor.context_managers import no_sub_classes as no_sub_classes
from mongomotor.context_managers import query_counter as query_counter
from mongomotor.context_managers import switch_collection as switch_collection
from mongomotor.context_managers import switch_db as switch_db
from mongomotor.cursor import AsyncCursor as AsyncCursor
from mongomotor.document import Document as Document
from mongomotor.document import DynamicDocument as DynamicDocument
from mongomotor.document import DynamicEmbeddedDocument as DynamicEmbeddedDocument
from mongomotor.document import EmbeddedDocument as EmbeddedDocument
from mongomotor.document import MapReduceDocument as MapReduceDocument
from mongomotor.exceptions import BulkWriteError as BulkWriteError
from mongomotor.exceptions import DeprecatedError as DeprecatedError
from mongomotor.exceptions import DoesNotExist as DoesNotExist
from mongomotor.exceptions import FieldDoesNotExist as FieldDoesNotExist
from mongomotor.exceptions import InvalidDocumentError as InvalidDocumentError
from mongomotor.exceptions import InvalidQueryError as InvalidQueryError
from mongomotor.exceptions import LookUpError as LookUpError
from mongomotor.exceptions import MultipleObjectsReturned as MultipleObjectsReturned
from mongomotor.exceptions import NotRegistered as NotRegistered
from mongomotor.exceptions import NotUniqueError as NotUniqueError
from mongomotor.exceptions import OperationError as OperationError
from mongomotor.exceptions import SaveConditionError as SaveConditionError
from mongomotor.exceptions import ValidationError as ValidationError
from mongomotor.fields import BinaryField as BinaryField
from mongomotor.fields import BooleanField as BooleanField
from mongomotor.fields import CachedReferenceField as CachedReferenceField
from mongomotor.fields import ComplexDateTimeField as ComplexDateTimeField
from mongomotor.fields import DateField as DateField
from mongomotor.fields import DateTimeField as DateTimeField
from mongomotor.fields import Decimal128Field as Decimal128Field
from mongomotor.fields import DecimalField as DecimalField
from mongomotor.fields import DictField as DictField
from mongomotor.fields import DynamicField as DynamicField
from mongomotor.fields import EmailField as EmailField
from mongomotor.fields import EmbeddedDocumentField as EmbeddedDocumentField
from mongomotor.fields import EmbeddedDocumentListField as EmbeddedDocumentListField
from mongomotor.fields import EnumField as EnumField
from mongomotor.fields import FileField as FileField
from mongomotor.fields import FloatField as FloatField
from mongomotor.fields import GenericEmbeddedDocumentField as GenericEmbeddedDocumentField
from mongomotor.fields import GenericLazyReferenceField as GenericLazyReferenceField
from mongomotor.fields import GenericReferenceField as GenericReferenceField
from mongomotor.fields import GeoJsonBaseField as GeoJsonBaseField
from mongomotor.fields import GeoPointField as GeoPointField
from mongomotor.fields import GridFSError as GridFSError
from mongomotor.fields import GridFSProxy as GridFSProxy
from mongomotor.fields import ImageField as ImageField
from mongomotor.fields import ImageGridFsProxy as ImageGridFsProxy
from mongomotor.fields import ImproperlyConfigured as ImproperlyConfigured
from mongomotor.fields import IntField as IntField
from mongomotor.fields import LazyReferenceField as LazyReferenceField
from mongomotor.fields import LineStringField as LineStringField
from mongomotor.fields import ListField as ListField
from mongomotor.fields import LongField as LongField
from mongomotor.fields import MapField as MapField
from mongomotor.fields import MultiLineStringField as MultiLineStringField
from mongomotor.fields import MultiPointField as MultiPointField
from mongomotor.fields import MultiPolygonField as MultiPolygonField
from mongomotor.fields import ObjectIdField as ObjectIdField
from mongomotor.fields import PointField as PointField
from mongomotor.fields import PolygonField as PolygonField
from mongomotor.fields import ReferenceField as ReferenceField
from mongomotor.fields import SequenceField as SequenceField
from mongomotor.fields import SortedListField as SortedListField
from mongomotor.fields import StringField as StringField
from mongomotor.fields import URLField as URLField
from mongomotor.fields import UUIDField as UUIDField
from mongomotor.queryset import CASCADE as CASCADE
from mongomotor.queryset import DENY as DENY
from mongomotor.queryset import DO_NOTHING as DO_NOTHING
from mongomotor.queryset import NULLIFY as NULLIFY
from mongomotor.queryset import PULL as PULL
from mongomotor.queryset import QuerySet as QuerySet
from mongomotor.queryset import QuerySetManager as QuerySetManager
from mongomotor.queryset import QuerySetNoCache as QuerySetNoCache
from mongomotor.queryset import queryset_manager as queryset_manager
from mongomotor.readiness import ping as ping
from mongomotor.sessions import run_in_transaction as run_in_transaction
from mongomotor.sessions import run_transaction as run_transaction
from mongomotor.sessions import start_session as start_session
from mongomotor.sessions import transactional as transactional
from mongomotor.signals import post_delete as post_delete
from mongomotor.signals import post_init as post_init
from mongomotor.signals import post_save as post_save
from mongomotor.signals import pre_delete as pre_delete
from mongomotor.signals import pre_init as pre_init
from mongomotor.signals import pre_save as pre_save
from mongomotor.signals import pre_save_post_validation as pre_save_post_validation

__version__: str
DEFAULT_DATABASE_NAME: str

class ConnectionFailure(Exception):
    """MongoEngine's: an alias is not connected (or cannot be)."""

class InvalidCollectionError(Exception): ...

class Q:
    """A query condition; combine with ``&`` and ``|``: ``Post.objects(Q(a=1) | Q(b=2))``."""

    query: dict[str, Any]
    def __init__(self, **query: Any) -> None: ...
    def __and__(self, other: Q) -> Q: ...
    def __or__(self, other: Q) -> Q: ...
    @property
    def empty(self) -> bool: ...

class QueryFieldList:
    def __init__(
        self,
        fields: list[str] | None = None,
        value: int = 1,
        always_include: list[str] | None = None,
        _only_called: bool = False,
    ) -> None: ...
    def as_dict(self) -> dict[str, Any]: ...

__all__ = [
    "AsyncCursor",
    "await_",
    "CASCADE",
    "ChangeEvent",
    "ChangeStream",
    "connect",
    "ConnectionFailure",
    "DEFAULT_CONNECTION_NAME",
    "DEFAULT_DATABASE_NAME",
    "DENY",
    "disconnect",
    "disconnect_all",
    "DO_NOTHING",
    "Document",
    "DynamicDocument",
    "DynamicEmbeddedDocument",
    "EmbeddedDocument",
    "get_connection",
    "get_db",
    "get_db_version",
    "get_mongodb_version",
    "InvalidCollectionError",
    "MapReduceDocument",
    "no_dereference",
    "no_sub_classes",
    "ping",
    "NULLIFY",
    "post_delete",
    "post_init",
    "post_save",
    "pre_delete",
    "pre_init",
    "pre_save",
    "pre_save_post_validation",
    "PULL",
    "Q",
    "query_counter",
    "QueryFieldList",
    "QuerySet",
    "queryset_manager",
    "QuerySetManager",
    "QuerySetNoCache",
    "register_connection",
    "run_in_transaction",
    "run_sync",
    "run_transaction",
    "signals",
    "start_session",
    "switch_collection",
    "switch_db",
    "transactional",
    # every field (mongoengine.fields.__all__)
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
    # MongoEngine's exceptions (mongoengine.errors.__all__)
    "NotRegistered",
    "InvalidDocumentError",
    "LookUpError",
    "DoesNotExist",
    "MultipleObjectsReturned",
    "InvalidQueryError",
    "OperationError",
    "NotUniqueError",
    "BulkWriteError",
    "FieldDoesNotExist",
    "ValidationError",
    "SaveConditionError",
    "DeprecatedError",
]
