# Types of the package's top level (``from mongomotor import ...``); each name
# is declared where it lives (see docs/guide/typing.rst for the layout).
from typing import Any

from mongomotor import signals as signals
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
from mongomotor.document import Document as Document
from mongomotor.document import DynamicDocument as DynamicDocument
from mongomotor.document import DynamicEmbeddedDocument as DynamicEmbeddedDocument
from mongomotor.document import EmbeddedDocument as EmbeddedDocument
from mongomotor.document import MapReduceDocument as MapReduceDocument
from mongomotor.exceptions import *  # noqa: F403  (a stub re-exports a star import's names)
from mongomotor.fields import *  # noqa: F403
from mongomotor.odm.files.gridfs import GridFS as GridFS
from mongomotor.odm.querying.change_streams import ChangeEvent as ChangeEvent
from mongomotor.odm.querying.change_streams import ChangeStream as ChangeStream
from mongomotor.odm.querying.change_streams import (
    ChangeStreamUnavailable as ChangeStreamUnavailable,
)
from mongomotor.odm.readiness import ServerNotReady as ServerNotReady
from mongomotor.odm.readiness import ping as ping
from mongomotor.odm.transactions import TransactionsNotSupported as TransactionsNotSupported
from mongomotor.odm.transactions import current_session as current_session
from mongomotor.odm.transactions import run_in_transaction as run_in_transaction
from mongomotor.odm.transactions import run_transaction as run_transaction
from mongomotor.odm.transactions import start_session as start_session
from mongomotor.odm.transactions import transactional as transactional
from mongomotor.queryset import CASCADE as CASCADE
from mongomotor.queryset import DENY as DENY
from mongomotor.queryset import DO_NOTHING as DO_NOTHING
from mongomotor.queryset import NULLIFY as NULLIFY
from mongomotor.queryset import PULL as PULL
from mongomotor.queryset import AsyncCursor as AsyncCursor
from mongomotor.queryset import QuerySet as QuerySet
from mongomotor.queryset import QuerySetManager as QuerySetManager
from mongomotor.queryset import QuerySetNoCache as QuerySetNoCache
from mongomotor.queryset import queryset_manager as queryset_manager
from mongomotor.runtime.bridge import await_ as await_
from mongomotor.runtime.bridge import run_sync as run_sync
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
