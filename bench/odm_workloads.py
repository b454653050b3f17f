"""The workloads as an async MongoEngine-style ODM runs them (this mongomotor and 0.17.3).

    class MongoMotor(AsyncContestant, OdmWorkloads): ...

It imports nothing from the bench, so the 0.17.3 runner, which loads the
bench's modules by path in a venv of its own, shares it. A subclass sets
``models`` (:func:`bench.models.make_models`), ``post_ids``, ``sizes`` and
``entry_values`` (:func:`bench.models.entry_values`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any


class OdmWorkloads:
    """get, iterate, insert and concurrent gets through ``Document`` classes."""

    models: Any
    post_ids: list[Any]
    sizes: Any
    entry_values: Callable[[int], dict[str, Any]]

    async def get_by_id(self) -> int:
        Post = self.models.Post
        found = 0
        for post_id in self.post_ids[: self.sizes.get]:
            found += await Post.objects.get(id=post_id) is not None
        return found

    async def iterate(self) -> int:
        return sum([1 async for _ in self.models.Post.objects])

    async def iterate_big(self) -> int:
        n = 0
        async for _ in self.models.BigPost.objects:
            n += 1
        return n

    async def insert(self) -> int:
        Entry = self.models.Entry
        done = 0
        for i in range(self.sizes.inserts):
            done += (await Entry(**self.entry_values(i)).save()).pk is not None
        return done

    async def concurrent_get(self) -> int:
        Post = self.models.Post
        ids = self.post_ids[: self.sizes.concurrent]
        found = await asyncio.gather(*(Post.objects.get(id=i) for i in ids))
        return sum(doc is not None for doc in found)
