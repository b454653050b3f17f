"""A small blog on mongomotor: authors, posts, tags, references, an update, a delete, a file.

    python examples/blog.py                      # in memory, no server needed
    MONGOMOTOR_URI=mongodb://localhost:27017/blog python examples/blog.py
    MONGOMOTOR_DRIVER=motor MONGOMOTOR_URI=... python examples/blog.py

Every step prints what it did. With ``MONGOMOTOR_URI`` the demo empties its
own collections (``blog_author``, ``blog_post`` and the posts' files) first,
so it can be rerun.
"""

from __future__ import annotations

import asyncio
import os
from datetime import datetime, timezone

from mongomotor import Document, EmbeddedDocument, connect, disconnect
from mongomotor.fields import (
    DateTimeField,
    EmbeddedDocumentField,
    FileField,
    IntField,
    ListField,
    ReferenceField,
    StringField,
)

MEMORY_URI = "mongomock://localhost/blog"


class Author(Document):
    name = StringField(required=True, unique=True)
    bio = StringField()

    meta = {"collection": "blog_author"}


class Comment(EmbeddedDocument):
    who = StringField(required=True)
    text = StringField(required=True)


class Post(Document):
    title = StringField(required=True, max_length=120)
    author = ReferenceField(Author, required=True)
    tags = ListField(StringField())
    likes = IntField(default=0)
    comments = ListField(EmbeddedDocumentField(Comment))
    published = DateTimeField()
    attachment = FileField()

    meta = {"collection": "blog_post", "ordering": ["title"]}


def step(text: str) -> None:
    print(f"\n== {text}")


async def main(uri: str | None = None, driver: str | None = None) -> None:
    """Run the demo on ``uri`` (default: in memory) with ``driver`` (default: pymongo)."""
    uri = uri or MEMORY_URI
    connect(host=uri, driver=None if uri.startswith("mongomock://") else driver)
    try:
        await run_blog(uri, driver or "pymongo")
    finally:
        await disconnect()


async def run_blog(uri: str, driver: str) -> None:
    where = "in memory" if uri.startswith("mongomock://") else f"{uri} (driver {driver})"
    step(f"Connected to {where}")
    async for old in Post.objects:
        await old.delete()  # Document.delete also deletes its GridFS file
    await Post.drop_collection()
    await Author.drop_collection()
    print("emptied the blog_post and blog_author collections")

    step("Authors")
    ada = await Author(name="Ada", bio="Writes about engines.").save()
    grace = await Author(name="Grace", bio="Compilers, mostly.").save()
    print(f"saved {ada.name} and {grace.name}; {await Author.objects.count()} authors")

    step("Posts")
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    drafts = [
        ("Awaiting documents", ada, ["python", "asyncio", "mongodb"]),
        ("Greenlets in practice", ada, ["python", "greenlet"]),
        ("A compiler in a weekend", grace, ["compilers", "python"]),
        ("Indexes that matter", grace, ["mongodb", "performance"]),
    ]
    for title, author, tags in drafts:
        post = await Post(title=title, author=author, tags=tags, published=now).save()
        print(f"saved {post.title!r} by {author.name}, tags {', '.join(tags)}")

    step("Querying")
    async for post in Post.objects(tags="python"):
        print(f"tagged python: {post.title}")
    both = await Post.objects(tags__all=["python", "asyncio"]).count()
    print(f"{both} post(s) tagged both python and asyncio")
    latest = await Post.objects.order_by("-title").first()
    print(f"last by title: {latest.title if latest else '(none)'}")

    step("References")
    post = await Post.objects.get(title="A compiler in a weekend")
    author = await post.author
    print(f"{post.title!r} was written by {author.name} ({author.bio})")
    for post in await Post.objects.order_by("title").select_related():
        print(f"{post.title} - {post.author.name}")

    step("Tag frequencies (item_frequencies)")
    frequencies = await Post.objects.item_frequencies("tags")
    for tag, count in sorted(frequencies.items(), key=lambda item: (-item[1], item[0])):
        print(f"{tag:12} {'#' * count} {count}")

    step("Update")
    updated = await Post.objects(tags="mongodb").update(inc__likes=1)
    print(f"liked the {updated} posts tagged mongodb")
    post = await Post.objects.get(title="Awaiting documents")
    post.comments.append(Comment(who="Grace", text="Nice, no callbacks!"))
    post.likes += 10
    await post.save()
    await post.reload()
    print(f"{post.title!r}: {post.likes} likes, {len(post.comments)} comment(s)")

    step("Likes per tag (aggregate)")
    cursor = await Post.objects.aggregate(
        [{"$unwind": "$tags"}, {"$group": {"_id": "$tags", "likes": {"$sum": "$likes"}}}]
    )
    rows = await cursor.to_list(None)
    for row in sorted(rows, key=lambda row: (-row["likes"], row["_id"])):
        if row["likes"]:
            print(f"{row['_id']:12} {row['likes']} likes")

    step("Delete")
    gone = await Post.objects.get(title="Indexes that matter")
    await gone.delete()
    remaining = [p.title for p in await Post.objects.to_list(None)]
    print(f"deleted {gone.title!r}; {len(remaining)} posts left: {', '.join(remaining)}")

    step("A file (GridFS)")
    post = await Post.objects.get(title="Greenlets in practice")
    await post.attachment.put(b"slides: greenlets, switches, loops", content_type="text/plain")
    await post.save()
    again = await Post.objects.get(title="Greenlets in practice")
    data = await again.attachment.read() or b""
    print(f"attached {len(data)} bytes to {again.title!r}; read back: {data.decode()}")



if __name__ == "__main__":
    asyncio.run(main(os.environ.get("MONGOMOTOR_URI"), os.environ.get("MONGOMOTOR_DRIVER")))
