"""mongomotor's own exceptions; MongoEngine's errors are re-exported as they are."""

from mongoengine.errors import *  # noqa: F401,F403
from mongoengine.errors import __all__ as _mongoengine_errors


class BadAsyncFrameworkError(Exception):
    """``connect(async_framework=...)`` names a framework mongomotor does not support."""


class MissingFramework(Exception):
    """The requested async framework is not installed."""


class ConfusionError(Exception):
    """A sync and an async use of the same thing were mixed up."""


__all__ = ["BadAsyncFrameworkError", "MissingFramework", "ConfusionError", *_mongoengine_errors]
