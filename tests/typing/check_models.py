"""What mypy and pyright see of documents, fields and QuerySets (checked, never run)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from bson import ObjectId
from models import Comment, Post, Settings, Status, User, VideoPost
from typing_extensions import assert_type

from mongomotor import GridFSProxy, ImageGridFsProxy, QuerySet, QuerySetNoCache, StringField
from mongomotor.fields import EmbeddedDocumentList
from mongomotor.odm.references.fields import (
    AsyncLazyReference,
    AwaitableContainer,
    AwaitableReference,
)


def fields_on_an_instance(post: Post) -> None:
    assert_type(post.title, str)
    assert_type(post.body, str | None)
    assert_type(post.likes, int)
    assert_type(post.views, int | None)
    assert_type(post.score, float | None)
    assert_type(post.price, Decimal | None)
    assert_type(post.exact, Decimal | None)
    assert_type(post.published, bool)
    assert_type(post.created, datetime | None)
    assert_type(post.day, date | None)
    assert_type(post.precise, datetime | None)
    assert_type(post.tags, list[str])
    assert_type(post.sorted_tags, list[str])
    assert_type(post.extra, dict[str, Any])
    assert_type(post.counts, dict[str, int])
    assert_type(post.main_comment, Comment | None)
    assert_type(post.pinned, Comment)
    assert_type(post.comments, list[Comment])
    assert_type(post.notes, EmbeddedDocumentList[Comment])
    assert_type(post.ref_id, ObjectId | None)
    assert_type(post.token, UUID | None)
    assert_type(post.raw, bytes | None)
    assert_type(post.status, Status)
    assert_type(post.maybe_status, Status | None)
    assert_type(post.number, int)
    assert_type(post.attachment, GridFSProxy)
    assert_type(post.cover, ImageGridFsProxy)
    author, editor, readers = post.author, post.editor, post.readers
    _ = assert_type(author, AwaitableReference[User])
    _ = assert_type(editor, AwaitableReference[User | None])
    _ = assert_type(readers, AwaitableContainer[User])
    assert_type(post.lazy_author, AsyncLazyReference[User] | None)
    assert_type(post.pinned.who, str)
    assert_type(post.pinned.at, datetime)


def fields_on_the_class() -> None:
    assert_type(Post.title, StringField[str])
    assert_type(Post.body, StringField[str | None])
    assert_type(Post.title.name, str)


def setting_fields(post: Post, user: User) -> None:
    post.title = "New"
    post.likes += 1
    post.tags = ["a", "b"]
    post.author = user
    post.editor = None
    post.title = 3  # type: ignore[assignment]  # pyright: ignore[reportAttributeAccessIssue]


async def references(post: Post) -> None:
    assert_type(await post.author, User)
    assert_type(await post.editor, User | None)
    assert_type(await post.readers, list[User])
    assert_type(post.author.id, Any)
    assert_type(post.author.pk, Any)
    lazy = post.lazy_author
    if lazy is not None:
        assert_type(await lazy.fetch(), User)
    loaded = await post.select_related()
    assert_type(loaded, Post)
    for reader in loaded.readers:  # loaded: the documents themselves
        assert_type(reader, User)
    assert_type(loaded.author.name, Any)  # whether it is loaded is not in the type
    assert_type((await loaded.author).name, str)  # precise, and no query once loaded


async def querysets() -> None:
    qs = Post.objects
    assert_type(qs, QuerySet[Post])
    assert_type(Post.objects(title="x"), QuerySet[Post])
    assert_type(qs.filter(likes__gt=1).order_by("-likes").only("title"), QuerySet[Post])
    assert_type(qs.exclude("body").limit(3).skip(1), QuerySet[Post])
    assert_type(qs[1:3], QuerySet[Post])
    assert_type(qs.no_cache(), QuerySetNoCache[Post])
    assert_type(qs.no_cache().filter(title="x"), QuerySetNoCache[Post])
    assert_type(await qs[0], Post)
    assert_type(await qs.get(title="x"), Post)
    assert_type(await qs.with_id(ObjectId()), Post | None)
    assert_type(await qs.first(), Post | None)
    assert_type(await qs.to_list(), list[Post])
    assert_type(await qs.count(), int)
    assert_type(await qs.in_bulk([ObjectId()]), dict[Any, Post])
    assert_type(await qs.create(title="x"), Post)
    assert_type(await qs.select_related(), list[Post])
    assert_type(await qs.delete(), int)
    async for post in qs.filter(published=True):
        assert_type(post, Post)
    assert_type(VideoPost.objects, QuerySet[VideoPost])
    assert_type(await VideoPost.objects.get(), VideoPost)
    assert_type(qs.as_pymongo(), QuerySet[dict[str, Any]])
    assert_type(Post.live, QuerySet[Post])
    assert_type(VideoPost.live, QuerySet[VideoPost])
    assert_type(await qs.update(inc__likes=1), int)
    result = await qs.update(full_result=True, inc__likes=1)
    assert_type(result.modified_count, int)


async def documents(post: Post, video: VideoPost, settings: Settings) -> None:
    assert_type(await post.save(), Post)
    assert_type(await post.reload(), Post)
    assert_type(await video.save(), VideoPost)
    assert_type(await video.reload("title"), VideoPost)
    assert_type(video.seconds, int)
    assert_type(await post.delete(), None)
    assert_type(await post.modify(likes=2), bool)
    assert_type(settings.anything_at_all, Any)
    settings.colour = "blue"
    assert_type(await Post.drop_collection(), None)


async def files(post: Post) -> None:
    await post.attachment.put(b"data", content_type="text/plain")
    assert_type(await post.attachment.read(), bytes | None)
    async for chunk in post.attachment:
        assert_type(chunk, bytes)


def sync_iteration_is_an_error() -> None:
    # It would block the event loop (and raises at run time): `async for` instead.
    for _post in Post.objects:  # type: ignore[misc]  # pyright: ignore[reportGeneralTypeIssues, reportUnknownVariableType]
        pass


async def forgotten_awaits(post: Post) -> None:
    post.save()  # type: ignore[unused-coroutine]  # pyright: ignore[reportUnusedCoroutine]
    Post.objects.count()  # type: ignore[unused-coroutine]  # pyright: ignore[reportUnusedCoroutine]
    post.author  # type: ignore[unused-awaitable]  # noqa: B018
