"""The collection facade: a lazy stand-in for ``pymongo.collection.Collection``.

    posts = db["post"]                     # no I/O
    posts.find({"published": True})        # a SyncCursor, still no I/O
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pymongo.collection import Collection

from mongomotor.drivers.facade.cursor import SyncCursor
from mongomotor.drivers.facade.dispatch import _Nested

if TYPE_CHECKING:
    from mongomotor.drivers.facade.database import SyncDatabase


class SyncCollection(_Nested):
    """A lazy stand-in for ``pymongo.collection.Collection``."""

    def __init__(self, database: SyncDatabase, name: str, options: dict | None = None):
        self._database = database
        self._client = database._client
        self.name = name
        self._options = options or {}
        self._derived: list[tuple[dict[str, Any], SyncCollection]] = []

    @property  # type: ignore[misc]
    def __class__(self) -> type:  # isinstance(coll, pymongo.collection.Collection)
        return Collection

    def _facade_target(self) -> Any:
        return self._driver_object_under(self._database._facade_target())

    def _build(self, real_db: Any) -> Any:
        return real_db.get_collection(self.name, **self._options)

    @property
    def database(self) -> SyncDatabase:
        return self._database

    @property
    def full_name(self) -> str:
        return f"{self._database.name}.{self.name}"

    def __getitem__(self, name: str) -> SyncCollection:
        return SyncCollection(self._database, f"{self.name}.{name}", self._options)

    def with_options(self, **options: Any) -> SyncCollection:
        merged = {**self._options, **{k: v for k, v in options.items() if v is not None}}
        # MongoEngine asks for the same options on every save: reuse the facade
        # (and the driver collection it caches) instead of rebuilding both.
        # Options (WriteConcern, ReadPreference) are unhashable but compare equal.
        for known, derived in self._derived:
            if known == merged:
                return derived
        if len(self._derived) >= 32:
            self._derived.clear()
        derived = SyncCollection(self._database, self.name, merged)
        self._derived.append((merged, derived))
        return derived

    def find(self, *args: Any, **kwargs: Any) -> SyncCursor:
        return SyncCursor(self._client, collection=self, args=args, kwargs=kwargs)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, SyncCollection)
            and other._database == self._database
            and other.name == self.name
        )

    def __hash__(self) -> int:
        return hash((self._database, self.name))

    def __repr__(self) -> str:
        return f"<mongomotor collection {self.full_name!r}>"
