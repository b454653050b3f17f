"""mongomotor: MongoEngine documents, awaited on asyncio.

    from mongomotor import Document, connect
    from mongomotor.fields import StringField

    connect("blog", host="mongodb://localhost:27017")
    post = await Post(title="Hello").save()
"""

from mongomotor import monkey, signals
from mongomotor.bridge import await_, run_sync
from mongomotor.change_streams import ChangeEvent, ChangeStream
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
from mongomotor.context_managers import (
    no_dereference,
    no_sub_classes,
    query_counter,
    switch_collection,
    switch_db,
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
from mongomotor.sessions import (
    run_in_transaction,
    run_transaction,
    start_session,
    transactional,
)

monkey.install()

__version__ = "0.1.0"

__all__ = [
    "AsyncCursor",
    "ChangeEvent",
    "ChangeStream",
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
    "no_dereference",
    "no_sub_classes",
    "query_counter",
    "queryset_manager",
    "register_connection",
    "run_in_transaction",
    "run_sync",
    "run_transaction",
    "signals",
    "start_session",
    "switch_collection",
    "switch_db",
    "transactional",
]
