"""Every MongoEngine field, importable from one place.

    from mongomotor.fields import StringField, ReferenceField, ListField
"""

from mongoengine.fields import *  # noqa: F401,F403
from mongoengine.fields import __all__ as _mongoengine_fields

from mongomotor.file_fields import FileField, GridFSProxy, ImageField, ImageGridFsProxy  # noqa: F401
from mongomotor.reference_fields import (  # noqa: F401
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

__all__ = list(_mongoengine_fields)
