"""Comments on posts, anonymous or not."""

from __future__ import annotations

from typing import Any

from blog.models import Comment
from blog.services import posts, users


def comment(title: str, text: str, author_name: str | None = None) -> Comment:
    post = posts.find(title)
    author = users.find_or_none(author_name) if author_name else None
    return Comment(post=post, author=author, text=text).save()


def thread(title: str) -> list[dict[str, Any]]:
    post = posts.find(title)
    found = []
    for item in Comment.objects(post=post).order_by("text"):
        found.append(item.describe())
    return found
