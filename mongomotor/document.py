"""The awaitable documents: MongoEngine's, with I/O methods to ``await``.

    class Post(Document):
        title = StringField()
"""

from mongomotor.odm.documents import (
    Document,
    DynamicDocument,
    DynamicEmbeddedDocument,
    EmbeddedDocument,
    NoDerefInitMixin,
)
from mongomotor.odm.querying.map_reduce import MapReduceDocument
from mongomotor.runtime.naming import publish

__all__ = [
    "Document",
    "DynamicDocument",
    "EmbeddedDocument",
    "DynamicEmbeddedDocument",
    "MapReduceDocument",
    "NoDerefInitMixin",
]

publish(
    __name__,
    Document, DynamicDocument, DynamicEmbeddedDocument, EmbeddedDocument, MapReduceDocument,
    NoDerefInitMixin,
)  # fmt: skip
