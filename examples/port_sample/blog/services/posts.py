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


def set_reviewers(title: str, names: list[str]) -> None:
    post = find(title)
    reviewers = [users.find(name) for name in names]
    post.update(set__reviewers=reviewers)


def reviewer_names(post: Post) -> list[str]:
    return [reviewer.name for reviewer in post.reviewers]


def by_author(author: User) -> list[Post]:
    return list(Post.objects(author=author).order_by("title"))


def retitle(old: str, new: str) -> int:
    return Post.objects(title=old).update(set__title=new)


def remove(slug: str) -> None:
    Post.objects.get(slug=slug).delete()


def by_author_names() -> list[str]:
    names = []
    for user in User.objects.order_by("name"):
        for post in by_author(user):
            names.append(f"{user.name}:{post.title}")
    return names
