"""The functions around documents: connections, transactions, context managers,
signals, change streams, drivers and exceptions (checked, never run)."""

from __future__ import annotations

from typing import Any

from models import Post, User
from typing_extensions import assert_type

from mongomotor import (
    ChangeEvent,
    ChangeStream,
    ConnectionFailure,
    DoesNotExist,
    NotUniqueError,
    OperationError,
    Q,
    QuerySet,
    ValidationError,
    connect,
    disconnect,
    disconnect_all,
    no_dereference,
    ping,
    query_counter,
    run_in_transaction,
    run_sync,
    run_transaction,
    signals,
    switch_collection,
    switch_db,
    transactional,
)
from mongomotor.drivers import register_driver
from mongomotor.drivers.pymongo_async import PyMongoAsyncBackend


def count_titles(prefix: str) -> int:
    return len(prefix)


async def connections() -> None:
    connect("blog", host="mongomock://localhost")
    connect(host="mongodb://localhost:27017/blog", alias="archive", driver="motor")
    assert_type(await ping(), tuple[int, ...])
    await ping("archive", timeout=2.5)
    await disconnect("archive")
    await disconnect_all()
    assert_type(await run_sync(count_titles, "abc"), int)


async def transactions(post: Post) -> None:
    async with run_in_transaction() as session:
        await post.save(session=session)

    async def publish(title: str) -> Post:
        return await Post.objects.get(title=title)

    assert_type(await run_transaction(publish, "Hello"), Post)

    @transactional()
    async def rename(post_id: Any, title: str) -> int:
        return await Post.objects(id=post_id).update(set__title=title)

    assert_type(await rename(post.id, "New"), int)
    rename(post.id, "x")  # type: ignore[unused-coroutine]  # pyright: ignore[reportUnusedCoroutine]


async def context_managers() -> None:
    async with switch_db(Post, "archive") as archived:
        assert_type(archived, type[Post])
        assert_type(await archived.objects.count(), int)
    with switch_collection(User, "old_users") as old:
        assert_type(await old.objects.first(), User | None)
    with no_dereference(Post) as plain:
        assert_type(plain, type[Post])
    async with query_counter() as queries:
        await Post.objects.count()
        assert queries == 1
        assert_type(int(queries), int)


def receiver(sender: Any, document: Post, **kwargs: Any) -> None:
    document.title = document.title.strip()


async def async_receiver(sender: Any, document: Post, **kwargs: Any) -> None:
    await document.reload()


def signal_hooks() -> None:
    signals.pre_save.connect(receiver, sender=Post)
    signals.post_save.connect(async_receiver, sender=Post)

    @signals.post_delete.connect_via(Post)
    def deleted(sender: Any, document: Post, **kwargs: Any) -> None:
        print(document.title)


async def change_streams() -> None:
    stream = Post.objects(published=True).watch(full_document="updateLookup")
    _ = assert_type(stream, ChangeStream[Post])
    async with stream:
        async for change in stream:
            assert_type(change, ChangeEvent[Post])
            assert_type(change.document, Post | None)
            assert_type(change.operation, str | None)
    whole = Post.watch()
    _ = assert_type(whole, ChangeStream[Post])
    event = await whole.try_next()
    assert_type(event, ChangeEvent[Post] | None)


class LoggedBackend(PyMongoAsyncBackend):
    name = "logged"


def drivers() -> None:
    register_driver("logged", LoggedBackend)


async def exceptions() -> None:
    try:
        await Post.objects.get(title="missing")
    except Post.DoesNotExist:
        pass
    except DoesNotExist:
        pass
    try:
        await User(name="Ada").save()
    except NotUniqueError as exc:
        assert_type(exc, NotUniqueError)
        assert isinstance(exc, OperationError)
    except ValidationError as exc:
        assert_type(exc.to_dict(), dict[str, Any])
    except ConnectionFailure:
        raise


def queries() -> None:
    either = Q(title="a") | Q(likes__gt=3)
    assert_type(Post.objects(either & Q(published=True)).order_by("title"), QuerySet[Post])
