"""The database facade: a lazy stand-in for ``pymongo.database.Database``.

    db = client["blog"]          # no I/O
    db.command("ping")           # in the bridge
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pymongo.database import Database

from mongomotor.drivers.facade.collection import SyncCollection
from mongomotor.drivers.facade.dispatch import _Nested

if TYPE_CHECKING:
    from mongomotor.drivers.facade.client import SyncClient


class SyncDatabase(_Nested):
    """A lazy stand-in for ``pymongo.database.Database``."""

    def __init__(self, client: SyncClient, name: str | None, options: dict | None = None):
        self._client = client
        self.name = name
        self._options = options or {}
        # One facade per name, so its per-loop driver collection is built once.
        self._collections: dict[str, SyncCollection] = {}

    @property  # type: ignore[misc]
    def __class__(self) -> type:  # isinstance(db, pymongo.database.Database)
        return Database

    def _facade_target(self) -> Any:
        return self._driver_object_under(self._client.for_running_loop())

    def _build(self, real_client: Any) -> Any:
        return real_client.get_database(self.name, **self._options)

    @property
    def client(self) -> SyncClient:
        return self._client

    def __getitem__(self, name: str) -> SyncCollection:
        collection = self._collections.get(name)
        if collection is None:
            collection = self._collections[name] = SyncCollection(self, name)
        return collection

    def get_collection(self, name: str, **options: Any) -> SyncCollection:
        return SyncCollection(self, name, {k: v for k, v in options.items() if v is not None})

    def with_options(self, **options: Any) -> SyncDatabase:
        """This database with other codec options, read preference or concerns (no I/O)."""
        merged = {**self._options, **{k: v for k, v in options.items() if v is not None}}
        return SyncDatabase(self._client, self.name, merged)

    def create_collection(self, name: str, **kwargs: Any) -> SyncCollection:
        self._call("create_collection", name, **kwargs)
        return SyncCollection(self, name)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, SyncDatabase)
            and other._client is self._client
            and other.name == self.name
        )

    def __hash__(self) -> int:
        return hash((id(self._client), self.name))

    def __repr__(self) -> str:
        return f"<mongomotor database {self.name!r} of {self._client!r}>"
