"""Documents: users, posts (with a reference, reviewers and an attachment), comments."""

from __future__ import annotations

from typing import Any

from mongoengine import Document, queryset_manager
from mongoengine.fields import (
    FileField,
    IntField,
    ListField,
    ReferenceField,
    StringField,
)
from mongoengine.queryset import QuerySet


class User(Document):
    name = StringField(required=True, unique=True)
    email = StringField(required=True)
    karma = IntField(default=0)

    def save(self, *args: Any, **kwargs: Any) -> User:
        # Also runs when MongoEngine saves from its own code (QuerySet.create).
        self.email = self.email.lower()
        return super().save(*args, **kwargs)


class Post(Document):
    title = StringField(required=True)
    slug = StringField()
    author = ReferenceField(User, required=True)
    reviewers = ListField(ReferenceField(User))
    tags = ListField(StringField())
    likes = IntField(default=0)
    attachment = FileField()

    @queryset_manager
    def liked(doc_cls: type[Post], queryset: QuerySet[Post]) -> QuerySet[Post]:
        return queryset.filter(likes__gt=0).order_by("-likes", "title")

    def like(self) -> Post:
        self.update(inc__likes=1)
        self.author.update(inc__karma=1)
        return self.reload()

    def author_name(self) -> str:
        return self.author.name

    @classmethod
    def titles(cls) -> list[str]:
        return [post.title for post in cls.objects.order_by("title")]

    def clean(self) -> None:
        # MongoEngine calls clean() from its own sync code: it stays sync.
        self.tags = sorted(set(self.tags))


class Comment(Document):
    post = ReferenceField(Post, required=True)
    author = ReferenceField(User)
    text = StringField(required=True)

    def describe(self) -> dict[str, Any]:
        author = self.author
        who = "anonymous" if author is None else author.name
        signed = self.author is not None
        return {"post": self.post.title, "by": who, "signed": signed, "text": self.text}
