"""The default driver: PyMongo's native asyncio API (``AsyncMongoClient``)."""

from __future__ import annotations

from typing import Any

from pymongo import AsyncMongoClient
from pymongo.asynchronous.command_cursor import AsyncCommandCursor
from pymongo.asynchronous.cursor import AsyncCursor

from mongomotor.drivers.facade import Backend, SyncClient


class PyMongoAsyncBackend(Backend):
    name = "pymongo"

    def create_client(self, settings: dict[str, Any]) -> AsyncMongoClient:
        return AsyncMongoClient(**settings)

    async def close_client(self, client: AsyncMongoClient) -> None:
        await client.close()

    def is_cursor(self, value: Any) -> bool:
        return isinstance(value, (AsyncCursor, AsyncCommandCursor))

    async def fetch_batch(self, cursor: Any) -> list[Any]:
        batch: list[Any] = []
        await cursor._next_batch(batch)
        return batch


class PyMongoAsyncClient(SyncClient):
    """MongoEngine's client for ``connect(driver='pymongo')``."""

    backend = PyMongoAsyncBackend()
