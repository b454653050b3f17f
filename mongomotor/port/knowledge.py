"""What mongomotor awaits, and which names it exports: the tables the rewrite rules read.

The port tool reads code and never imports mongomotor's runtime, so these facts are
written down here; tests/test_port_knowledge.py checks them against the package and
its stubs, so a new awaitable method cannot be forgotten.
"""

from __future__ import annotations

# Instance methods of a document that do I/O (coroutines in mongomotor).
DOCUMENT_IO = frozenset(
    {
        "save",
        "delete",
        "reload",
        "modify",
        "update",
        "cascade_save",
        "select_related",
    }
)
# Class-level I/O on a document class.
CLASS_IO = frozenset(
    {
        "drop_collection",
        "ensure_indexes",
        "ensure_index",
        "create_index",
        "compare_indexes",
    }
)
# QuerySet methods that do I/O.
QUERYSET_IO = frozenset(
    {
        "first",
        "get",
        "count",
        "with_id",
        "in_bulk",
        "distinct",
        "explain",
        "sum",
        "average",
        "item_frequencies",
        "map_reduce",
        "exec_js",
        "to_json",
        "aggregate",
        "select_related",
        "to_list",
        "create",
        "insert",
        "update",
        "update_one",
        "upsert_one",
        "modify",
        "delete",
    }
)
# QuerySet I/O whose result is one document of the QuerySet's class.
QUERYSET_ONE = frozenset({"first", "get", "with_id", "create", "upsert_one", "modify"})
# QuerySet I/O whose result is a list of documents.
QUERYSET_MANY = frozenset({"to_list", "select_related"})
# QuerySet methods that build another QuerySet (no I/O).
QUERYSET_CHAIN = frozenset(
    {
        "filter",
        "all",
        "clone",
        "order_by",
        "only",
        "exclude",
        "fields",
        "all_fields",
        "limit",
        "skip",
        "hint",
        "collation",
        "batch_size",
        "timeout",
        "allow_disk_use",
        "max_time_ms",
        "comment",
        "read_preference",
        "read_concern",
        "using",
        "no_dereference",
        "no_sub_classes",
        "clear_cls_query",
        "search_text",
        "where",
        "snapshot",
        "none",
        "as_pymongo",
        "scalar",
        "values_list",
        "no_cache",
        "cache",
    }
)
# Chained calls after which ``count()`` differs between MongoEngine and mongomotor.
QUERYSET_BOUNDING = frozenset({"limit", "skip"})
# GridFS proxy (FileField value) I/O methods, and ImageField properties that do I/O.
FILE_IO = frozenset({"get", "put", "write", "writelines", "close", "read", "delete", "replace"})
IMAGE_IO_PROPERTIES = frozenset({"size", "format", "thumbnail"})
# Attributes of a file proxy that need no GridFS read (the rest are the stored file's).
FILE_FREE_ATTRIBUTES = frozenset(
    {
        "grid_id",
        "key",
        "instance",
        "db_alias",
        "collection_name",
        "fs",
        "proxy_class",
    }
)
# Attributes of a reference that need no query.
REFERENCE_FREE_ATTRIBUTES = frozenset({"id", "pk"})
# Functions of mongomotor's connection module that return an awaitable.
CONNECTION_IO = frozenset({"disconnect", "disconnect_all"})
# Builtins that iterate their positional arguments at once.
ITERATING_BUILTINS = frozenset(
    {
        "sorted",
        "set",
        "frozenset",
        "tuple",
        "sum",
        "max",
        "min",
        "any",
        "all",
        "enumerate",
        "zip",
        "map",
        "filter",
        "dict",
        "iter",
        "reversed",
    }
)
# Methods MongoEngine calls itself, from its sync code (inside the bridge in mongomotor):
# they stay sync, and sync I/O there keeps working.
BRIDGE_METHODS = frozenset({"clean", "validate", "to_mongo", "to_python", "from_son"})
# Receivers connected here are awaited by mongomotor when they are coroutine functions.
SIGNALS = frozenset(
    {
        "pre_init",
        "post_init",
        "pre_save",
        "pre_save_post_validation",
        "post_save",
        "pre_delete",
        "post_delete",
        "pre_bulk_insert",
        "post_bulk_insert",
    }
)
# Calls on an unknown receiver whose name is distinctive enough to be worth a review note.
DISTINCTIVE_IO = frozenset(
    {
        "save",
        "reload",
        "first",
        "item_frequencies",
        "in_bulk",
        "with_id",
        "upsert_one",
        "update_one",
        "drop_collection",
        "ensure_indexes",
        "create_index",
        "compare_indexes",
        "select_related",
        "cascade_save",
        "aggregate",
        "distinct",
        "average",
    }
)

# Names mongomotor's public modules export, by the MongoEngine module a port comes from.
_FIELDS = frozenset(
    {
        "BinaryField",
        "BooleanField",
        "CachedReferenceField",
        "ComplexDateTimeField",
        "DateField",
        "DateTimeField",
        "Decimal128Field",
        "DecimalField",
        "DictField",
        "DynamicField",
        "EmailField",
        "EmbeddedDocumentField",
        "EmbeddedDocumentListField",
        "EnumField",
        "FileField",
        "FloatField",
        "GenericEmbeddedDocumentField",
        "GenericLazyReferenceField",
        "GenericReferenceField",
        "GeoJsonBaseField",
        "GeoPointField",
        "GridFSError",
        "GridFSProxy",
        "ImageField",
        "ImageGridFsProxy",
        "ImproperlyConfigured",
        "IntField",
        "LazyReferenceField",
        "LineStringField",
        "ListField",
        "LongField",
        "MapField",
        "MultiLineStringField",
        "MultiPointField",
        "MultiPolygonField",
        "ObjectIdField",
        "PointField",
        "PolygonField",
        "ReferenceField",
        "SequenceField",
        "SortedListField",
        "StringField",
        "URLField",
        "UUIDField",
    }
)
_EXCEPTIONS = frozenset(
    {
        "BulkWriteError",
        "DeprecatedError",
        "DoesNotExist",
        "FieldDoesNotExist",
        "InvalidDocumentError",
        "InvalidQueryError",
        "LookUpError",
        "MultipleObjectsReturned",
        "NotRegistered",
        "NotUniqueError",
        "OperationError",
        "SaveConditionError",
        "ValidationError",
    }
)
_SIGNALS = SIGNALS | {"signals_available"}
_DOCUMENTS = frozenset(
    {
        "Document",
        "DynamicDocument",
        "EmbeddedDocument",
        "DynamicEmbeddedDocument",
        "MapReduceDocument",
    }
)
_QUERYSETS = frozenset(
    {
        "QuerySet",
        "QuerySetNoCache",
        "QuerySetManager",
        "queryset_manager",
        "DO_NOTHING",
        "NULLIFY",
        "CASCADE",
        "DENY",
        "PULL",
    }
)
_CONNECTION = frozenset(
    {
        "connect",
        "disconnect",
        "disconnect_all",
        "get_connection",
        "get_db",
        "register_connection",
        "DEFAULT_CONNECTION_NAME",
    }
)
_CONTEXT_MANAGERS = frozenset(
    {
        "switch_db",
        "switch_collection",
        "no_dereference",
        "no_sub_classes",
        "query_counter",
    }
)
TOP_LEVEL = (
    _FIELDS
    | _EXCEPTIONS
    | _DOCUMENTS
    | _QUERYSETS
    | _CONNECTION
    | _CONTEXT_MANAGERS
    | (SIGNALS - {"pre_bulk_insert", "post_bulk_insert"})
    | {
        "signals",
        "Q",
        "QueryFieldList",
        "ValidationError",
        "DEFAULT_DATABASE_NAME",
        "InvalidCollectionError",
        "ConnectionFailure",
    }
)
# MongoEngine module -> (mongomotor module, the names it has).
MODULES: dict[str, tuple[str, frozenset[str]]] = {
    "mongoengine": ("mongomotor", TOP_LEVEL),
    "mongoengine.fields": ("mongomotor.fields", _FIELDS),
    "mongoengine.document": ("mongomotor.document", _DOCUMENTS),
    "mongoengine.errors": ("mongomotor.exceptions", _EXCEPTIONS),
    "mongoengine.signals": ("mongomotor.signals", _SIGNALS),
    "mongoengine.connection": ("mongomotor.connection", _CONNECTION),
    "mongoengine.context_managers": ("mongomotor.context_managers", _CONTEXT_MANAGERS),
    "mongoengine.queryset": ("mongomotor.queryset", _QUERYSETS),
    "mongoengine.queryset.queryset": ("mongomotor.queryset", _QUERYSETS),
    "mongoengine.queryset.manager": ("mongomotor.queryset", _QUERYSETS),
    "mongoengine.queryset.visitor": ("mongomotor", frozenset({"Q"})),
}

# Names a ``from mongoengine import *`` brings that the analysis cares about.
STAR_NAMES = TOP_LEVEL

# What a class name from MongoEngine or mongomotor is to the analysis.
DOCUMENT_BASES = frozenset({"Document", "DynamicDocument"})
EMBEDDED_BASES = frozenset({"EmbeddedDocument", "DynamicEmbeddedDocument"})
REFERENCE_FIELDS = frozenset({"ReferenceField", "CachedReferenceField", "GenericReferenceField"})
LAZY_REFERENCE_FIELDS = frozenset({"LazyReferenceField", "GenericLazyReferenceField"})
LIST_FIELDS = frozenset({"ListField", "SortedListField"})
EMBEDDED_FIELDS = frozenset({"EmbeddedDocumentField", "GenericEmbeddedDocumentField"})
EMBEDDED_LIST_FIELDS = frozenset({"EmbeddedDocumentListField"})
FILE_FIELDS = frozenset({"FileField"})
IMAGE_FIELDS = frozenset({"ImageField"})
QUERYSET_CLASSES = frozenset({"QuerySet", "QuerySetNoCache"})
EXTERNAL_PACKAGES = ("mongoengine", "mongomotor")
# Objects that offer MongoEngine's names as attributes (``db.Document``, ``db.StringField``).
MONGOENGINE_NAMESPACES = frozenset(
    {"flask_mongoengine.MongoEngine", "flask.ext.mongoengine.MongoEngine"}
)
