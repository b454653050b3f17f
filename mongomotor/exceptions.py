"""mongomotor's own exceptions; MongoEngine's errors are re-exported as they are.

    from mongomotor.exceptions import DoesNotExist, ValidationError
"""

from mongoengine.errors import *  # noqa: F401,F403
from mongoengine.errors import __all__ as _mongoengine_errors

from mongomotor.odm.errors import BadAsyncFrameworkError, ConfusionError, MissingFramework
from mongomotor.runtime.naming import publish

__all__ = ["BadAsyncFrameworkError", "MissingFramework", "ConfusionError", *_mongoengine_errors]

publish(__name__, BadAsyncFrameworkError, ConfusionError, MissingFramework)
