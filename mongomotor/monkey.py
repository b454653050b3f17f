"""The one place where MongoEngine's module attributes are replaced, reversibly.

    with MonkeyPatcher() as patcher:
        patcher.patch_get_mongodb_version()
        ...  # patched here
    # restored here

Patches made with ``undo=False`` stay after the block (used at import time for
what mongomotor needs permanently; each says why).
"""

from __future__ import annotations

from typing import Any

import mongoengine.connection as me_connection
import mongoengine.mongodb_support as me_mongodb_support

from mongomotor.drivers import SyncClient

__all__ = ["MonkeyPatcher"]

_MISSING = object()


class MonkeyPatcher:
    """Replace attributes of MongoEngine modules and put them back on exit."""

    def __init__(self) -> None:
        self._undo: list[tuple[Any, str, Any]] = []

    def __enter__(self) -> MonkeyPatcher:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.undo()

    def undo(self) -> None:
        """Restore everything patched with ``undo=True``, newest first."""
        while self._undo:
            obj, attr, old = self._undo.pop()
            if old is _MISSING:
                delattr(obj, attr)
            else:
                setattr(obj, attr, old)

    def patch_item(self, obj: Any, attr: str, newitem: Any, undo: bool = True) -> None:
        """Set ``obj.attr = newitem``; restored on exit unless ``undo`` is False."""
        old = obj.__dict__.get(attr, _MISSING) if hasattr(obj, "__dict__") else _MISSING
        setattr(obj, attr, newitem)
        if undo:
            self._undo.append((obj, attr, old))

    def patch_db_clients(self, client: Any) -> None:
        """Make MongoEngine build ``client`` where it would build ``pymongo.MongoClient``."""
        self.patch_item(me_connection, "MongoClient", client)

    def patch_get_mongodb_version(self) -> None:
        """``mongoengine.mongodb_support.get_mongodb_version`` reads mongomotor's version.

        It parses ``buildInfo.version`` when ``versionArray`` is missing and is
        awaitable outside the bridge.
        """
        from mongomotor.connection import get_mongodb_version

        self.patch_item(me_mongodb_support, "get_mongodb_version", get_mongodb_version)

    def patch_sync_connections(self) -> None:
        """Hide MongoEngine's sync connections (keep only mongomotor's facades)."""
        self._filter_connections(keep_async=True)

    def patch_async_connections(self) -> None:
        """Hide mongomotor's connections, so a sync MongoEngine alias gets its own client."""
        self._filter_connections(keep_async=False)

    def _filter_connections(self, keep_async: bool) -> None:
        kept = {
            alias: client
            for alias, client in me_connection._connections.items()
            if isinstance(client, SyncClient) == keep_async
        }
        self.patch_item(me_connection, "_connections", kept)

    def patch_qs_stop_iteration(self) -> None:
        """Nothing to patch: a queryset's StopIteration stays inside the bridge.

        Older designs ran MongoEngine's iteration inside futures, where a
        StopIteration is an error; under the greenlet bridge it never reaches
        a future, so MongoEngine's own iteration is kept as it is.
        """
