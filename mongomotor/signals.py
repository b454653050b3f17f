"""MongoEngine's signals, whose receivers may also be coroutine functions.

    @signals.pre_save.connect_via(Post)
    async def stamp(sender, document, **kwargs): ...

These are the very objects MongoEngine sends (``mongoengine.signals.pre_save
is mongomotor.signals.pre_save``).
"""

from mongomotor.odm.signals import (
    SIGNAL_NAMES,
    Namespace,
    Signal,
    post_bulk_insert,
    post_delete,
    post_init,
    post_save,
    pre_bulk_insert,
    pre_delete,
    pre_init,
    pre_save,
    pre_save_post_validation,
    signals_available,
)
from mongomotor.runtime.naming import publish

__all__ = [
    "SIGNAL_NAMES",
    "Namespace",
    "Signal",
    "signals_available",
    "pre_init",
    "post_init",
    "pre_save",
    "pre_save_post_validation",
    "post_save",
    "pre_delete",
    "post_delete",
    "pre_bulk_insert",
    "post_bulk_insert",
]

publish(__name__, Namespace, Signal)
