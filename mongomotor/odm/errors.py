"""mongomotor's own exceptions (MongoEngine's are used as they are).

    raise BadAsyncFrameworkError("async_framework='trio' is not supported")
"""

from __future__ import annotations

__all__ = ["BadAsyncFrameworkError", "ConfusionError", "MissingFramework"]


class BadAsyncFrameworkError(Exception):
    """``connect(async_framework=...)`` names a framework mongomotor does not support."""


class MissingFramework(Exception):
    """The requested async framework is not installed."""


class ConfusionError(Exception):
    """Kept for compatibility with the 0.17 API; mongomotor no longer raises it."""
