"""Documented code that must type-check: reference lists, embedded lists, files, fields."""

from __future__ import annotations

from typing import Any

from models import Comment, Post, User
from typing_extensions import assert_type

from mongomotor import Document, GenericReferenceField, ListField, ReferenceField, StringField
from mongomotor.fields import (
    AsyncLazyReference,
    AwaitableContainer,
    AwaitableReference,
    EmbeddedDocumentList,
    LazyReferenceField,
)
from mongomotor.odm.files.gridfs import GridOut


class Team(Document):
    name = StringField(required=True)
    members = ListField(GenericReferenceField())
    captain = ReferenceField("Player")
    coach: ReferenceField[Player | None] = ReferenceField("Player")
    owner: ReferenceField[Player] = ReferenceField("Player", required=True)
    squad: ListField[AwaitableContainer[Player]] = ListField(ReferenceField("Player"))
    mascot = LazyReferenceField("Player")
    manager: LazyReferenceField[Player] = LazyReferenceField("Player")


class Player(Document):
    name = StringField(required=True)


async def generic_list(team: Team) -> None:
    assert_type(await team.members, list[Any])


async def embedded_lists(post: Post) -> None:
    found = post.notes.filter(who="ann")
    assert_type(found, EmbeddedDocumentList[Comment])
    assert_type(post.notes.exclude(who="x").count(), int)
    assert_type(post.notes.get(who="ann"), Comment)
    assert_type(post.notes.first(), Comment | None)
    assert_type(post.notes.create(who="bob"), Comment)
    await post.notes.save()
    assert_type(post.notes.delete(), int)
    assert_type(post.notes.update(text="x"), int)
    post.notes = [Comment(who="ann")]


def fields() -> None:
    assert_type(Post.readers.field, Any)
    assert_type(Post.lazy_author.document_type, type[User])
    assert_type(Post._fields_ordered, tuple[str, ...])


def files(post: Post) -> None:
    assert_type(post.attachment.gridout, GridOut | None)


async def by_name(team: Team) -> None:
    _ = assert_type(team.captain, AwaitableReference[Any])
    assert_type(await team.captain, Any)  # the class is not known: unchecked from here
    assert_type(await team.coach, Player | None)  # annotated: checked
    assert_type(await team.squad, list[Player])
    assert_type(await team.owner, Player)
    assert_type(team.mascot, AsyncLazyReference[Any] | None)
    assert_type(team.manager, AsyncLazyReference[Player] | None)
    coach = await team.coach
    if coach is not None:
        coach.save()  # type: ignore[unused-coroutine]  # pyright: ignore[reportUnusedCoroutine]
    (await team.captain).save()  # forgotten, but Any: neither checker sees it


async def elements(post: Post) -> None:
    _ = assert_type(post.readers[0], AwaitableReference[User])
    assert_type(await post.readers[0], User)
    assert_type(post.readers[1:], list[AwaitableReference[User]])
    # Concatenating (or changing) needs the loaded list: `(await post.readers) + [...]`.
    _ = post.readers + []  # type: ignore[operator]  # pyright: ignore[reportOperatorIssue, reportUnknownVariableType]
