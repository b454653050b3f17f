"""The scenario: what a day of the blog does, and the data it leaves behind."""

from __future__ import annotations

from typing import Any

from blog import reports
from blog.models import Comment, Post, User
from blog.services import comments, posts, users
from blog.signals import connect_signals, disconnect_signals


def reset() -> None:
    for cls in (User, Post, Comment):
        cls.drop_collection()


def scenario() -> dict[str, Any]:
    reset()
    connect_signals()
    try:
        users.register("ann", "Ann@Example.com")
        users.register("bob", "bob@example.com")
        users.register_quietly("cid", "CID@example.com")
        posts.publish("ann", "Hello", ["intro", "python"])
        posts.publish("ann", "Hello", ["intro"])
        posts.publish("bob", "Async", ["python", "asyncio", "python"])
        posts.publish("cid", "Draft", [])
        posts.like("Async", times=3)
        posts.like("Draft")
        posts.attach("Async", b"await everything")
        posts.set_reviewers("Async", ["ann", "cid"])
        comments.comment("Async", "nice", "ann")
        comments.comment("Async", "anonymous words")
        users.rename("cid", "cyd")
        changed = posts.retitle("Draft", "Final")
        posts.remove("hello-1")
        best = users.most_karma()
        return {
            "retitled": changed,
            "summary": reports.summary(),
            "detail": reports.detail(),
            "thread": comments.thread("Async"),
            "users": reports.users_by_name(),
            "liked_titles": reports.liked_titles(),
            "shouted": reports.shouted_titles(),
            "titles": Post.titles(),
            "missing": users.find_or_none("nobody") is None,
            "karma": best.name if best else None,
        }
    finally:
        disconnect_signals()
