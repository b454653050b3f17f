"""A live feed of posts: one task writes, another watches the live posts change.

    python examples/watch.py                      # in memory, no server needed
    MONGOMOTOR_URI=mongodb://localhost:27017/feed?replicaSet=rs0 python examples/watch.py
    MONGOMOTOR_DRIVER=motor MONGOMOTOR_URI=... python examples/watch.py

Change streams need a replica set (a one-member one is enough:
``mongod --replSet rs0`` and ``rs.initiate()`` once). The feed stops after the
writer's last step; a second stream then resumes from a saved token.
"""

from __future__ import annotations

import asyncio
import os

from mongomotor import ChangeEvent, Document, connect, disconnect
from mongomotor.fields import IntField, StringField

MEMORY_URI = "mongomock://localhost/feed"


class Post(Document):
    title = StringField(required=True)
    status = StringField(default="draft", choices=("draft", "live"))
    likes = IntField(default=0, db_field="n_likes")

    meta = {"collection": "feed_post", "allow_inheritance": True}


class Announcement(Post):
    banner = StringField()


def describe(change: ChangeEvent[Post]) -> str:
    if change.operation == "delete":
        return f"delete   {change.pk} (drop it from the page if shown)"
    if change.document is None:
        return f"{change.operation:<8} {change.pk}"
    kind = type(change.document).__name__
    details = f" changed {change.updated_fields}" if change.updated_fields else ""
    return f"{change.operation:<8} {kind} {change.document.title!r}{details}"


async def writer(ready: asyncio.Event) -> None:
    await ready.wait()
    hello = await Post(title="Hello", status="live").save()
    draft = await Post(title="Work in progress").save()          # not live: not shown
    await Announcement(title="Launch", status="live", banner="today").save()
    await Post.objects(id=hello.id).update(inc__likes=3)          # updated_fields: likes
    await Post.objects(id=draft.id).update(set__status="live")   # becomes live: shown
    await hello.delete()
    await Post(title="Last one", status="live").save()


async def main() -> None:
    uri = os.environ.get("MONGOMOTOR_URI", MEMORY_URI)
    connect(host=uri, driver=os.environ.get("MONGOMOTOR_DRIVER"))
    await Post.drop_collection()
    ready = asyncio.Event()
    task = asyncio.create_task(writer(ready))
    token = None
    live = Post.objects(status="live")
    async with live.watch(full_document="updateLookup") as stream:
        ready.set()
        async for change in stream:
            print(describe(change))
            inserted = change.document if change.operation == "insert" else None
            if inserted is not None and inserted.title == "Hello":
                token = stream.resume_token          # a consumer saves its progress
            if change.document is not None and change.document.title == "Last one":
                break
    await task

    print("-- resumed after the first event:")
    async with live.watch(full_document="updateLookup", resume_after=token) as stream:
        for _ in range(2):
            print(describe(await stream.next()))
    await disconnect()


if __name__ == "__main__":
    asyncio.run(main())
