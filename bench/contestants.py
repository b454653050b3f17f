"""The four ways of talking to the server that the benchmark compares.

Every contestant has the same workload methods; each returns a small number
(documents seen, pairs built) so the runner can check they all did the same
work. Async contestants return coroutines, sync MongoEngine plain values.
"""

from __future__ import annotations

import asyncio
from typing import Any

import mongoengine
import mongoengine.fields
import pymongo
from bson import ObjectId

import mongomotor
import mongomotor.fields
from bench.models import AUTHORS, ENTRIES, POSTS, entry_values, make_models

GET_BY_ID = 1000
INSERTS = 1000
CONCURRENT = 100
WITH_AUTHORS = 1000


class Contestant:
    name = ""
    is_async = True

    def __init__(self, uri: str, db_name: str, post_ids: list[ObjectId]) -> None:
        self.uri = uri
        self.db_name = db_name
        self.post_ids = post_ids

    def open(self) -> Any: ...

    def close(self) -> Any: ...


class RawPyMongo(Contestant):
    """PyMongo's own ``AsyncMongoClient``, no ODM: the floor."""

    name = "raw PyMongo async"

    async def open(self) -> None:
        self.client: pymongo.AsyncMongoClient = pymongo.AsyncMongoClient(self.uri)
        self.db = self.client[self.db_name]

    async def close(self) -> None:
        await self.client.close()

    async def get_by_id(self) -> int:
        posts = self.db[POSTS]
        found = 0
        for post_id in self.post_ids[:GET_BY_ID]:
            found += await posts.find_one({"_id": post_id}) is not None
        return found

    async def iterate(self) -> int:
        return sum([1 async for _ in self.db[POSTS].find({})])

    async def insert(self) -> int:
        entries = self.db[ENTRIES]
        for i in range(INSERTS):
            await entries.insert_one(entry_values(i))
        return INSERTS

    async def concurrent_get(self) -> int:
        posts = self.db[POSTS]
        found = await asyncio.gather(
            *(posts.find_one({"_id": post_id}) for post_id in self.post_ids[:CONCURRENT])
        )
        return sum(doc is not None for doc in found)

    async def with_authors(self) -> int:
        posts = await self.db[POSTS].find({}).limit(WITH_AUTHORS).to_list(None)
        author_ids = list({post["author"] for post in posts})
        authors = {
            author["_id"]: author
            async for author in self.db[AUTHORS].find({"_id": {"$in": author_ids}})
        }
        pairs = [(post["title"], authors[post["author"]]["name"]) for post in posts]
        return len(pairs)


class MongoMotor(Contestant):
    """mongomotor documents on one driver (``'pymongo'`` or ``'motor'``)."""

    def __init__(self, driver: str, *args: Any) -> None:
        super().__init__(*args)
        self.driver = driver
        self.name = f"mongomotor ({driver})"
        self.alias = f"bench_{driver}"
        self.models = make_models(
            mongomotor.Document, mongomotor.fields, self.alias, driver.capitalize()
        )

    async def open(self) -> None:
        mongomotor.connect(self.db_name, alias=self.alias, host=self.uri, driver=self.driver)

    async def close(self) -> None:
        mongomotor.disconnect(self.alias)

    async def get_by_id(self) -> int:
        Post = self.models.Post
        found = 0
        for post_id in self.post_ids[:GET_BY_ID]:
            found += await Post.objects.get(id=post_id) is not None
        return found

    async def iterate(self) -> int:
        return sum([1 async for _ in self.models.Post.objects])

    async def insert(self) -> int:
        Entry = self.models.Entry
        for i in range(INSERTS):
            await Entry(**entry_values(i)).save()
        return INSERTS

    async def concurrent_get(self) -> int:
        Post = self.models.Post
        found = await asyncio.gather(
            *(Post.objects.get(id=post_id) for post_id in self.post_ids[:CONCURRENT])
        )
        return sum(doc is not None for doc in found)

    async def with_authors(self) -> int:
        posts = await self.models.Post.objects.limit(WITH_AUTHORS).select_related()
        pairs = [(post.title, post.author.name) for post in posts]
        return len(pairs)


class SyncMongoEngine(Contestant):
    """Plain MongoEngine over a sync ``pymongo.MongoClient`` (no event loop)."""

    name = "MongoEngine (sync)"
    is_async = False
    alias = "bench_sync"

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.models = make_models(mongoengine.Document, mongoengine.fields, self.alias, "Sync")

    def open(self) -> None:
        mongoengine.connect(
            self.db_name, alias=self.alias, host=self.uri, mongo_client_class=pymongo.MongoClient
        )

    def close(self) -> None:
        mongoengine.disconnect(self.alias)

    def get_by_id(self) -> int:
        Post = self.models.Post
        return sum(Post.objects.get(id=i) is not None for i in self.post_ids[:GET_BY_ID])

    def iterate(self) -> int:
        return sum(1 for _ in self.models.Post.objects)

    def insert(self) -> int:
        Entry = self.models.Entry
        for i in range(INSERTS):
            Entry(**entry_values(i)).save()
        return INSERTS

    def concurrent_get(self) -> int:
        # No event loop: the same 100 reads, one after the other.
        Post = self.models.Post
        return sum(Post.objects.get(id=i) is not None for i in self.post_ids[:CONCURRENT])

    def with_authors(self) -> int:
        posts = self.models.Post.objects.limit(WITH_AUTHORS).select_related()
        pairs = [(post.title, post.author.name) for post in posts]
        return len(pairs)


# (method, label, expected result, needs an empty entries collection)
WORKLOADS = [
    ("get_by_id", f"get by id x{GET_BY_ID}", GET_BY_ID, False),
    ("iterate", "iterate 10k documents", None, False),
    ("insert", f"insert {INSERTS}, one by one", INSERTS, True),
    ("concurrent_get", f"{CONCURRENT} concurrent get by id*", CONCURRENT, False),
    ("with_authors", f"{WITH_AUTHORS} posts with their authors", WITH_AUTHORS, False),
]
