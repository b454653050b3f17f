"""Posts: publish, like, attach files, review; each looks its users up through users."""

from __future__ import annotations

from blog.models import Post, User
from blog.services import users


def publish(author_name: str, title: str, tags: list[str]) -> Post:
    author = users.find(author_name)
    return Post(title=title, author=author, tags=tags).save()


def find(title: str) -> Post:
    return Post.objects.get(title=title)


def like(title: str, times: int = 1) -> Post:
    post = find(title)
    for _ in range(times):
        post = post.like()
    return post


def attach(title: str, data: bytes) -> None:
    post = find(title)
    post.attachment.put(data, content_type="text/plain")
    post.save()


def attachment_text(post: Post) -> str | None:
    if not post.attachment:
        return None
    data = post.attachment.read()
    return data.decode() if data is not None else None


def add_reviewer(title: str, reviewer_name: str) -> None:
    post = find(title)
    reviewer = users.find(reviewer_name)
    post.update(push__reviewers=reviewer)


def reviewer_names(post: Post) -> list[str]:
    return [reviewer.name for reviewer in post.reviewers]


def by_author(author: User) -> list[Post]:
    return list(Post.objects(author=author).order_by("title"))


def retitle(old: str, new: str) -> int:
    return Post.objects(title=old).update(set__title=new)


def remove(title: str) -> None:
    find(title).delete()


def by_author_names() -> list[str]:
    names = []
    for user in User.objects.order_by("name"):
        for post in by_author(user):
            names.append(f"{user.name}:{post.title}")
    return names
