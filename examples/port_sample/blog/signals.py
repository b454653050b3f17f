"""Signal receivers: a post's slug counts the posts with the same title."""

from __future__ import annotations

from typing import Any

from mongoengine import signals

from blog.models import Post


def set_slug(sender: type[Post], document: Post, **kwargs: Any) -> None:
    if document.slug:
        return
    base = document.title.lower().replace(" ", "-")
    taken = Post.objects(title=document.title).count()
    document.slug = f"{base}-{taken}"


def connect_signals() -> None:
    signals.pre_save.connect(set_slug, sender=Post)


def disconnect_signals() -> None:
    signals.pre_save.disconnect(set_slug, sender=Post)
