# ruff: noqa: F405  (__all__ names what the two star imports below bring)
"""mongomotor: MongoEngine documents, awaited on asyncio.

    from mongomotor import Document, connect
    from mongomotor.fields import StringField

    connect("blog", host="mongodb://localhost:27017")
    post = await Post(title="Hello").save()

``from mongomotor import *`` gives every name of ``mongoengine.__all__``
(mongomotor's version wherever one exists: documents, fields, QuerySet,
connection functions) plus mongomotor's own (``run_sync``, context managers,
transactions), so a port changes only its import lines.
"""

from mongoengine.connection import DEFAULT_DATABASE_NAME, ConnectionFailure
from mongoengine.document import InvalidCollectionError
from mongoengine.queryset import Q, QueryFieldList

from mongomotor import exceptions, fields, install, signals
from mongomotor.connection import (
    DEFAULT_CONNECTION_NAME,
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
from mongomotor.document import (
    Document,
    DynamicDocument,
    DynamicEmbeddedDocument,
    EmbeddedDocument,
    MapReduceDocument,
)
from mongomotor.exceptions import *  # noqa: F403  (mongomotor's and MongoEngine's exceptions)
from mongomotor.fields import *  # noqa: F403  (every field; mongomotor's where a value needs I/O)
from mongomotor.odm.files.gridfs import GridFS
from mongomotor.odm.querying.change_streams import (
    ChangeEvent,
    ChangeStream,
    ChangeStreamUnavailable,
)
from mongomotor.odm.readiness import ServerNotReady, ping
from mongomotor.odm.transactions import (
    TransactionsNotSupported,
    current_session,
    run_in_transaction,
    run_transaction,
    start_session,
    transactional,
)
from mongomotor.queryset import (
    CASCADE,
    DENY,
    DO_NOTHING,
    NULLIFY,
    PULL,
    AsyncCursor,
    QuerySet,
    QuerySetManager,
    QuerySetNoCache,
    queryset_manager,
)
from mongomotor.runtime.bridge import await_, run_sync
from mongomotor.runtime.naming import publish
from mongomotor.signals import (
    post_delete,
    post_init,
    post_save,
    pre_delete,
    pre_init,
    pre_save,
    pre_save_post_validation,
)

install.install()

publish(
    __name__,
    ChangeEvent, ChangeStream, ChangeStreamUnavailable, GridFS, ServerNotReady,
    TransactionsNotSupported, await_, current_session, ping, run_in_transaction, run_sync,
    run_transaction, start_session, transactional,
)  # fmt: skip

__version__ = "0.1.0"

__all__ = [
    "AsyncCursor",
    "await_",
    "CASCADE",
    "ChangeEvent",
    "ChangeStream",
    "ChangeStreamUnavailable",
    "connect",
    "current_session",
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
    "GridFS",
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
    "ServerNotReady",
    "signals",
    "start_session",
    "switch_collection",
    "switch_db",
    "TransactionsNotSupported",
    "transactional",
    *fields.__all__,  # every field: mongomotor's where a value needs I/O
    *exceptions.__all__,  # mongomotor's exceptions and MongoEngine's
]
