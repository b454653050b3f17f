"""The awaitable QuerySet, its manager, and the delete rules.

    posts = await Post.objects(author=user).order_by("-date").to_list(10)
"""

from mongomotor.odm.querying.cursor import AsyncCursor
from mongomotor.odm.querying.queryset import (
    CASCADE,
    DENY,
    DO_NOTHING,
    NULLIFY,
    PULL,
    AsyncQuerySetMixin,
    QuerySet,
    QuerySetManager,
    QuerySetNoCache,
    queryset_manager,
)
from mongomotor.runtime.naming import publish

__all__ = [
    "QuerySet",
    "QuerySetNoCache",
    "QuerySetManager",
    "queryset_manager",
    "AsyncCursor",
    "DO_NOTHING",
    "NULLIFY",
    "CASCADE",
    "DENY",
    "PULL",
]

publish(
    __name__,
    AsyncCursor, AsyncQuerySetMixin, QuerySet, QuerySetNoCache, QuerySetManager, queryset_manager,
)  # fmt: skip
