"""mongomotor: MongoEngine documents, awaited on asyncio.

    from mongomotor import Document, connect
    from mongomotor.fields import StringField

    connect("blog", host="mongodb://localhost:27017")
    post = await Post(title="Hello").save()
"""

from mongomotor.bridge import await_, run_sync
from mongomotor.connection import (
    connect,
    disconnect,
    disconnect_all,
    get_connection,
    get_db,
    get_db_version,
    get_mongodb_version,
    register_connection,
)
from mongomotor.cursor import AsyncCursor
from mongomotor.document import (
    Document,
    DynamicDocument,
    DynamicEmbeddedDocument,
    EmbeddedDocument,
    MapReduceDocument,
)
from mongomotor.queryset import QuerySet, QuerySetNoCache, queryset_manager

__version__ = "0.1.0"

__all__ = [
    "AsyncCursor",
    "Document",
    "DynamicDocument",
    "DynamicEmbeddedDocument",
    "EmbeddedDocument",
    "MapReduceDocument",
    "QuerySet",
    "QuerySetNoCache",
    "await_",
    "connect",
    "disconnect",
    "disconnect_all",
    "get_connection",
    "get_db",
    "get_db_version",
    "get_mongodb_version",
    "queryset_manager",
    "register_connection",
    "run_sync",
]
