"""The benchmark's data: authors, posts and inserted entries, in three collections.

Each contestant gets its own document classes (one per connection alias) over
the same collections, built by :func:`make_models` from either ``mongomotor``
or plain ``mongoengine``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pymongo
from bson import ObjectId

AUTHORS = "bench_author"
POSTS = "bench_post"
ENTRIES = "bench_entry"

N_AUTHORS = 100
N_POSTS = 10_000


@dataclass
class Models:
    Author: Any
    Post: Any
    Entry: Any


def make_models(document_base: type, fields: Any, alias: str, suffix: str) -> Models:
    """Author/Post/Entry classes for ``alias`` (class names are unique per contestant)."""

    def meta(collection: str) -> dict:
        return {"collection": collection, "db_alias": alias, "auto_create_index": False}

    author = type(f"BenchAuthor{suffix}", (document_base,), {
        "name": fields.StringField(required=True),
        "bio": fields.StringField(),
        "meta": meta(AUTHORS),
    })  # fmt: skip
    post = type(f"BenchPost{suffix}", (document_base,), {
        "title": fields.StringField(required=True),
        "author": fields.ReferenceField(author),
        "tags": fields.ListField(fields.StringField()),
        "body": fields.StringField(),
        "likes": fields.IntField(default=0),
        "meta": meta(POSTS),
    })  # fmt: skip
    entry = type(f"BenchEntry{suffix}", (document_base,), {
        "title": fields.StringField(required=True),
        "n": fields.IntField(),
        "tags": fields.ListField(fields.StringField()),
        "meta": meta(ENTRIES),
    })  # fmt: skip
    return Models(author, post, entry)


def entry_values(i: int) -> dict[str, Any]:
    return {"title": f"entry {i}", "n": i, "tags": ["bench", f"t{i % 7}"]}


def seed(uri: str, db_name: str) -> list[ObjectId]:
    """Fill the database with authors and posts (sync PyMongo, untimed); the post ids."""
    client: pymongo.MongoClient = pymongo.MongoClient(uri)
    try:
        client.drop_database(db_name)
        db = client[db_name]
        authors = [{"_id": ObjectId(), "name": f"author {i}", "bio": "x" * 80}
                   for i in range(N_AUTHORS)]
        db[AUTHORS].insert_many(authors)
        posts = [
            {
                "_id": ObjectId(),
                "title": f"post {i}",
                "author": authors[i % N_AUTHORS]["_id"],
                "tags": ["python", f"t{i % 13}"],
                "body": "lorem ipsum " * 20,
                "likes": i % 50,
            }
            for i in range(N_POSTS)
        ]
        for start in range(0, N_POSTS, 1000):
            db[POSTS].insert_many(posts[start:start + 1000])
        return [post["_id"] for post in posts]
    finally:
        client.close()


def drop(uri: str, db_name: str) -> None:
    client: pymongo.MongoClient = pymongo.MongoClient(uri)
    try:
        client.drop_database(db_name)
    finally:
        client.close()
