"""The ways of talking to the server that the benchmark compares.

Every contestant offers the same workloads (:data:`WORKLOADS`); each returns a
small number (documents seen, writes done, pairs built) that the runner checks,
so a contestant that fails cannot pass for a fast one. Async contestants share
one event loop; sync ones have none and skip the loop-stall measure.
mongomotor 0.17.3 runs in a process of its own (:mod:`bench.legacy`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

import mongoengine
import mongoengine.fields
import pymongo

import mongomotor
import mongomotor.fields
from bench import models
from bench.harness import Run, Sizes, measure_async, measure_sync, watch_loop
from bench.odm_workloads import OdmWorkloads

# (method, label, unit, divisor): medians are shown per op / per doc where it helps.
WORKLOADS = [
    ("get_by_id", "get by id", "µs/op", "get"),
    ("iterate", "iterate {posts} docs", "µs/doc", "posts"),
    ("insert", "insert one by one", "µs/op", "inserts"),
    ("concurrent_get", "{concurrent} concurrent gets*", "ms", None),
    ("with_authors", "{with_authors} posts + authors", "ms", None),
    ("loop_stall", "iterate {big} docs, watched", "µs/doc", "big"),
]

class Contestant:
    key = ""  # column heading
    name = ""
    has_loop = True

    def __init__(self, uri: str, sizes: Sizes) -> None:
        self.uri = uri
        self.sizes = sizes
        self.post_ids = models.post_ids(sizes.posts)

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def run(self, method: str) -> Run:
        raise NotImplementedError


class SyncContestant(Contestant):
    has_loop = False

    def run(self, method: str) -> Run:
        return measure_sync(getattr(self, method))


class AsyncContestant(Contestant):
    """Runs its coroutines on the loop it is given (one loop for every async contestant)."""

    def __init__(self, uri: str, sizes: Sizes, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(uri, sizes)
        self.loop = loop

    async def open(self) -> None: ...

    async def close(self) -> None: ...

    def start(self) -> None:
        self.loop.run_until_complete(self.open())

    def stop(self) -> None:
        self.loop.run_until_complete(self.close())

    def run(self, method: str) -> Run:
        if method == "loop_stall":
            return self.loop.run_until_complete(watch_loop(self.iterate_big))
        return self.loop.run_until_complete(measure_async(getattr(self, method)))

    def iterate_big(self) -> Awaitable[int]:
        raise NotImplementedError


class RawPyMongoAsync(AsyncContestant):
    """PyMongo's own ``AsyncMongoClient``, no ODM: the floor."""

    key = "raw async"
    name = "raw PyMongo async (AsyncMongoClient)"

    async def open(self) -> None:
        self.client: pymongo.AsyncMongoClient = pymongo.AsyncMongoClient(self.uri)
        self.db = self.client[models.DB_NAME]

    async def close(self) -> None:
        await self.client.close()

    async def get_by_id(self) -> int:
        posts = self.db[models.POSTS]
        found = 0
        for post_id in self.post_ids[: self.sizes.get]:
            found += await posts.find_one({"_id": post_id}) is not None
        return found

    async def iterate(self) -> int:
        return sum([1 async for _ in self.db[models.POSTS].find({})])

    async def iterate_big(self) -> int:
        n = 0
        async for _ in self.db[models.BIG].find({}):
            n += 1
        return n

    async def insert(self) -> int:
        entries = self.db[models.ENTRIES]
        done = 0
        for i in range(self.sizes.inserts):
            done += (await entries.insert_one(models.entry_values(i))).acknowledged
        return done

    async def concurrent_get(self) -> int:
        posts = self.db[models.POSTS]
        ids = self.post_ids[: self.sizes.concurrent]
        found = await asyncio.gather(*(posts.find_one({"_id": i}) for i in ids))
        return sum(doc is not None for doc in found)

    async def with_authors(self) -> int:
        posts = await self.db[models.POSTS].find({}).limit(self.sizes.with_authors).to_list(None)
        author_ids = list({post["author"] for post in posts})
        authors = {
            author["_id"]: author
            async for author in self.db[models.AUTHORS].find({"_id": {"$in": author_ids}})
        }
        return len([(post["title"], authors[post["author"]]["name"]) for post in posts])


class RawPyMongoAsyncLean(RawPyMongoAsync):
    """``AsyncMongoClient`` on mongomotor's lean transport, no ODM: the transport's own cost."""

    key = "raw lean"
    name = "raw PyMongo async on mongomotor's lean transport"

    async def open(self) -> None:
        from mongomotor.drivers.lean_transport import LeanPool, adopt

        self.client = adopt(pymongo.AsyncMongoClient(self.uri, _pool_class=LeanPool))
        self.db = self.client[models.DB_NAME]


class RawPyMongoSync(SyncContestant):
    """PyMongo's sync ``MongoClient``, no ODM: the sync floor."""

    key = "raw sync"
    name = "raw PyMongo sync (MongoClient)"

    def start(self) -> None:
        self.client: pymongo.MongoClient = pymongo.MongoClient(self.uri)
        self.db = self.client[models.DB_NAME]

    def stop(self) -> None:
        self.client.close()

    def get_by_id(self) -> int:
        posts = self.db[models.POSTS]
        return sum(posts.find_one({"_id": i}) is not None for i in self.post_ids[: self.sizes.get])

    def get_one(self, post_id: Any) -> Any:
        return self.db[models.POSTS].find_one({"_id": post_id})

    def iterate(self) -> int:
        return sum(1 for _ in self.db[models.POSTS].find({}))

    def insert(self) -> int:
        entries = self.db[models.ENTRIES]
        done = 0
        for i in range(self.sizes.inserts):
            done += entries.insert_one(models.entry_values(i)).acknowledged
        return done

    def concurrent_get(self) -> int:
        # No event loop: the same reads, one after the other.
        posts = self.db[models.POSTS]
        ids = self.post_ids[: self.sizes.concurrent]
        return sum(posts.find_one({"_id": i}) is not None for i in ids)

    def with_authors(self) -> int:
        posts = list(self.db[models.POSTS].find({}).limit(self.sizes.with_authors))
        author_ids = list({post["author"] for post in posts})
        authors = {a["_id"]: a for a in self.db[models.AUTHORS].find({"_id": {"$in": author_ids}})}
        return len([(post["title"], authors[post["author"]]["name"]) for post in posts])


class SyncMongoEngine(SyncContestant):
    """Plain MongoEngine over a sync ``pymongo.MongoClient``: the reference."""

    key = "ME sync"
    name = "MongoEngine 0.29.3 (sync)"
    alias = "bench_sync"

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.models = models.make_models(
            mongoengine.Document, mongoengine.fields, self.alias, "Sync"
        )

    def start(self) -> None:
        mongoengine.connect(
            models.DB_NAME, alias=self.alias, host=self.uri, mongo_client_class=pymongo.MongoClient
        )

    def stop(self) -> None:
        mongoengine.disconnect(self.alias)

    def get_by_id(self) -> int:
        Post = self.models.Post
        return sum(Post.objects.get(id=i) is not None for i in self.post_ids[: self.sizes.get])

    def get_one(self, post_id: Any) -> Any:
        return self.models.Post.objects.get(id=post_id)

    def iterate(self) -> int:
        return sum(1 for _ in self.models.Post.objects)

    def insert(self) -> int:
        Entry = self.models.Entry
        done = 0
        for i in range(self.sizes.inserts):
            done += Entry(**models.entry_values(i)).save().pk is not None
        return done

    def concurrent_get(self) -> int:
        # No event loop: the same reads, one after the other.
        Post = self.models.Post
        ids = self.post_ids[: self.sizes.concurrent]
        return sum(Post.objects.get(id=i) is not None for i in ids)

    def with_authors(self) -> int:
        posts = self.models.Post.objects.limit(self.sizes.with_authors).select_related()
        return len([(post.title, post.author.name) for post in posts])


class MongoMotor(OdmWorkloads, AsyncContestant):
    """This mongomotor, on one driver (``'pymongo'`` or ``'motor'``)."""

    entry_values = staticmethod(models.entry_values)

    def __init__(self, driver: str, *args: Any) -> None:
        super().__init__(*args)
        self.driver = driver
        self.key = f"mm/{driver}"
        self.name = f"mongomotor (this tree), {driver} driver"
        self.alias = f"bench_{driver}"
        self.models = models.make_models(
            mongomotor.Document, mongomotor.fields, self.alias, driver.capitalize()
        )

    async def open(self) -> None:
        mongomotor.connect(models.DB_NAME, alias=self.alias, host=self.uri, driver=self.driver)

    async def close(self) -> None:
        mongomotor.disconnect(self.alias)

    async def with_authors(self) -> int:
        posts = await self.models.Post.objects.limit(self.sizes.with_authors).select_related()
        return len([(post.title, post.author.name) for post in posts])


class MongoMotorStockTransport(MongoMotor):
    """This mongomotor on the pymongo driver, on PyMongo's own async transport."""

    def __init__(self, *args: Any) -> None:
        super().__init__("pymongo", *args)
        self.key = "mm/stock"
        self.name = "mongomotor (this tree), pymongo driver, PyMongo's own transport"
        self.alias = "bench_stock"
        self.models = models.make_models(
            mongomotor.Document, mongomotor.fields, self.alias, "Stock"
        )

    async def open(self) -> None:
        from pymongo.asynchronous.pool import Pool  # PyMongo's pool: the lean one stays out

        mongomotor.connect(
            models.DB_NAME, alias=self.alias, host=self.uri, driver="pymongo", _pool_class=Pool
        )


def local_contestants(
    uri: str, sizes: Sizes, loop: asyncio.AbstractEventLoop
) -> list[Contestant]:
    return [
        RawPyMongoAsync(uri, sizes, loop),
        RawPyMongoSync(uri, sizes),
        SyncMongoEngine(uri, sizes),
        MongoMotor("pymongo", uri, sizes, loop),
        MongoMotorStockTransport(uri, sizes, loop),
        MongoMotor("motor", uri, sizes, loop),
    ]


def every_contestant(
    uri: str, sizes: Sizes, loop: asyncio.AbstractEventLoop
) -> list[Contestant]:
    """The local contestants and those only the instruction counts show."""
    return local_contestants(uri, sizes, loop) + [RawPyMongoAsyncLean(uri, sizes, loop)]

