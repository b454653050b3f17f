"""Reports: iteration, len and list of QuerySets, counts, references, files."""

from __future__ import annotations

from typing import Any

from blog.models import Comment, Post, User
from blog.services import posts


def post_line(post: Post) -> str:
    return f"{post.title} by {post.author.name} ({post.likes})"


def summary() -> dict[str, Any]:
    every = Post.objects.order_by("title")
    top_two = Post.objects.order_by("-likes", "title").limit(2)
    lines = []
    for post in every:
        lines.append(post_line(post))
    return {
        "posts": len(every),
        "lines": lines,
        "top_two_len": len(top_two),
        # MongoEngine's count() ignores limit: the port keeps that meaning.
        "top_two_count": top_two.count(),
        "liked": [p.title for p in Post.liked],
        "first_liked": Post.liked[0].title,
        "likes": sum(p.likes for p in Post.objects),
        "any_popular": bool(Post.objects(likes__gte=3)),
        "authors": sorted(posts.by_author_names()),
        "tagged_python": Post.objects(tags="python").count(),
        "tags": sorted(Post.objects.distinct("tags")),
        "comments": Comment.objects.count(),
        "best_user": best_user_name(),
    }


def best_user_name() -> str:
    user = User.objects.order_by("-karma", "name").first()
    if user is None:
        return "-"
    return user.name


def detail() -> list[dict[str, Any]]:
    found = []
    for post in Post.objects.order_by("title"):
        found.append({
            "title": post.title,
            "slug": post.slug,
            "author": post.author_name(),
            "email": post.author.email,
            "reviewers": posts.reviewer_names(post),
            "tags": post.tags,
            "likes": post.likes,
            "attachment": posts.attachment_text(post),
        })
    return found


def users_by_name() -> list[tuple[str, int]]:
    return [(u.name, u.karma) for u in list(User.objects.order_by("name"))]


def liked_titles() -> list[str]:
    titles = []
    for row in Post.objects.aggregate([{"$match": {"likes": {"$gt": 0}}}]):
        titles.append(row["title"])
    return sorted(titles)


def shouted_titles() -> list[str]:
    # A second read of the same QuerySet gives MongoEngine's cached, changed documents.
    posts = Post.objects.order_by("title")
    for post in posts:
        post.title = post.title.upper()
    return [post.title for post in posts]
