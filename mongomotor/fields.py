"""Every MongoEngine field, importable from one place.

    from mongomotor.fields import StringField, ReferenceField, ListField

MongoEngine's fields as they are, and mongomotor's wherever a value needs I/O
(references, files, sequences).
"""

# EmbeddedDocumentList: the value of an EmbeddedDocumentListField, named for annotations.
from mongoengine.base.datastructures import EmbeddedDocumentList  # noqa: F401
from mongoengine.fields import *  # noqa: F401,F403
from mongoengine.fields import __all__ as _mongoengine_fields

from mongomotor.odm.files.fields import (
    FileField,
    FileMetadataNotLoaded,
    GridFSProxy,
    ImageField,
    ImageGridFsProxy,
)
from mongomotor.odm.files.metadata import load_file_metadata
from mongomotor.odm.references.awaitables import AwaitableContainer, AwaitableReference
from mongomotor.odm.references.fields import (
    AsyncLazyReference,
    BaseAsyncReferenceField,
    CachedReferenceField,
    ComplexBaseField,
    DictField,
    GenericLazyReferenceField,
    GenericReferenceField,
    LazyReferenceField,
    ListField,
    MapField,
    ReferenceField,
    SortedListField,
)
from mongomotor.odm.sequences import SequenceField
from mongomotor.runtime.naming import publish

__all__ = list(_mongoengine_fields)

publish(
    __name__,
    AsyncLazyReference, AwaitableContainer, AwaitableReference, BaseAsyncReferenceField,
    CachedReferenceField, ComplexBaseField, DictField, FileField, FileMetadataNotLoaded,
    GenericLazyReferenceField, GenericReferenceField, GridFSProxy, ImageField, ImageGridFsProxy,
    LazyReferenceField, ListField, MapField, ReferenceField, SequenceField, SortedListField,
    load_file_metadata,
)  # fmt: skip
