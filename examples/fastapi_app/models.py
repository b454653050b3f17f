"""The example's documents: posts with embedded comments and a GridFS attachment."""

from __future__ import annotations

from datetime import datetime, timezone

from mongomotor import Document, EmbeddedDocument
from mongomotor.fields import (
    DateTimeField,
    EmbeddedDocumentField,
    EmbeddedDocumentListField,
    IntField,
    ListField,
    ObjectIdField,
    StringField,
)


def now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0, tzinfo=None)


class Comment(EmbeddedDocument):
    author = StringField(required=True, max_length=40)
    text = StringField(required=True, max_length=2000)
    created = DateTimeField(default=now)


class Attachment(EmbeddedDocument):
    """Where a post's file lives: a GridFS file of the post's database."""

    file_id = ObjectIdField(required=True)
    filename = StringField()
    content_type = StringField()
    length = IntField()


class Post(Document):
    title = StringField(required=True, max_length=120)
    body = StringField(default="")
    author = StringField(required=True, max_length=40)
    tags = ListField(StringField(max_length=30))
    likes = IntField(default=0, min_value=0)
    comments = EmbeddedDocumentListField(Comment)
    attachment = EmbeddedDocumentField(Attachment)
    created = DateTimeField(default=now)

    meta = {"indexes": ["author", "-created"]}
