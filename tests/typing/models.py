"""A model set with every field kind, inheritance, embedded documents and references."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from mongomotor import (
    BinaryField,
    BooleanField,
    ComplexDateTimeField,
    DateField,
    DateTimeField,
    Decimal128Field,
    DecimalField,
    DictField,
    Document,
    DynamicDocument,
    DynamicField,
    EmailField,
    EmbeddedDocument,
    EmbeddedDocumentField,
    EmbeddedDocumentListField,
    EnumField,
    FileField,
    FloatField,
    GenericEmbeddedDocumentField,
    GenericLazyReferenceField,
    GenericReferenceField,
    ImageField,
    IntField,
    LazyReferenceField,
    ListField,
    LongField,
    MapField,
    ObjectIdField,
    PointField,
    QuerySet,
    ReferenceField,
    SequenceField,
    SortedListField,
    StringField,
    URLField,
    UUIDField,
    queryset_manager,
)


class Status(enum.Enum):
    DRAFT = "draft"
    LIVE = "live"


class User(Document):
    name = StringField(required=True)
    email = EmailField()
    homepage = URLField()
    karma = IntField(default=0)


class Comment(EmbeddedDocument):
    who = StringField(required=True)
    text = StringField()
    at = DateTimeField(default=datetime.now)


class Post(Document):
    title = StringField(required=True, max_length=120)
    body = StringField()
    author = ReferenceField(User, required=True)
    editor = ReferenceField(User)
    readers = ListField(ReferenceField(User))
    tags = ListField(StringField())
    sorted_tags = SortedListField(StringField())
    likes = IntField(default=0)
    views = LongField()
    score = FloatField()
    price = DecimalField()
    exact = Decimal128Field()
    published = BooleanField(default=False)
    created = DateTimeField()
    day = DateField()
    precise = ComplexDateTimeField()
    extra = DictField()
    counts = MapField(IntField())
    main_comment = EmbeddedDocumentField(Comment)
    pinned = EmbeddedDocumentField(Comment, required=True)
    comments = ListField(EmbeddedDocumentField(Comment))
    notes = EmbeddedDocumentListField(Comment)
    anything = DynamicField()
    generic_embedded = GenericEmbeddedDocumentField()
    related = GenericReferenceField()
    lazy_author = LazyReferenceField(User)
    generic_lazy = GenericLazyReferenceField()
    attachment = FileField()
    cover = ImageField()
    ref_id = ObjectIdField()
    token = UUIDField()
    raw = BinaryField()
    status = EnumField(Status, default=Status.DRAFT)
    maybe_status = EnumField(Status)
    where = PointField()
    number = SequenceField()

    meta = {"collection": "typing_post", "allow_inheritance": True}

    @queryset_manager
    def live(doc_cls: Any, queryset: QuerySet[Post]) -> QuerySet[Post]:  # doc_cls: the class
        return queryset.filter(status=Status.LIVE)


class VideoPost(Post):
    seconds = IntField(required=True)


class Settings(DynamicDocument):
    owner = StringField()
