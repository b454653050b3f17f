"""Every MongoEngine field, importable from one place.

    from mongomotor.fields import StringField, ReferenceField, ListField
"""

from mongoengine.fields import *  # noqa: F401,F403
from mongoengine.fields import __all__ as _mongoengine_fields

__all__ = list(_mongoengine_fields)
