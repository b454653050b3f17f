"""The benchmark's data: authors, posts, a big post set and inserted entries.

The documents are the same on every run (ids are derived from their index), so
the fake server, a seeded nx-27017 server and the mongomotor 0.17.3 runner in
its own venv all agree on them without talking. Each contestant gets its own
document classes (one per connection alias) over the same collections, built
by :func:`make_models` from ``mongomotor``, plain ``mongoengine`` or
mongomotor 0.17.3.

This module must import with only ``bson``/``pymongo`` installed: the 0.17.3
runner loads it by path from another venv.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bson import ObjectId

DB_NAME = "mongomotor_bench"
AUTHORS = "bench_author"
POSTS = "bench_post"
BIG = "bench_post_big"
ENTRIES = "bench_entry"

N_AUTHORS = 100
N_POSTS = 10_000
N_BIG = 100_000


@dataclass
class Models:
    Author: Any
    Post: Any
    BigPost: Any
    Entry: Any


def make_models(document_base: type, fields: Any, alias: str, suffix: str) -> Models:
    """Author/Post/BigPost/Entry classes for ``alias`` (class names unique per contestant)."""

    def meta(collection: str) -> dict:
        return {"collection": collection, "db_alias": alias, "auto_create_index": False}

    author = type(f"BenchAuthor{suffix}", (document_base,), {
        "name": fields.StringField(required=True),
        "bio": fields.StringField(),
        "meta": meta(AUTHORS),
    })  # fmt: skip

    def post_fields(collection: str) -> dict:
        return {
            "title": fields.StringField(required=True),
            "author": fields.ReferenceField(author),
            "tags": fields.ListField(fields.StringField()),
            "body": fields.StringField(),
            "likes": fields.IntField(default=0),
            "meta": meta(collection),
        }

    post = type(f"BenchPost{suffix}", (document_base,), post_fields(POSTS))
    big = type(f"BenchBigPost{suffix}", (document_base,), post_fields(BIG))
    entry = type(f"BenchEntry{suffix}", (document_base,), {
        "title": fields.StringField(required=True),
        "n": fields.IntField(),
        "tags": fields.ListField(fields.StringField()),
        "meta": meta(ENTRIES),
    })  # fmt: skip
    return Models(author, post, big, entry)


def object_id(kind: int, i: int) -> ObjectId:
    """A fixed ObjectId per (collection kind, index)."""
    return ObjectId(kind.to_bytes(4, "big") + i.to_bytes(8, "big"))


def authors() -> list[dict[str, Any]]:
    return [
        {"_id": object_id(1, i), "name": f"author {i}", "bio": "x" * 80}
        for i in range(N_AUTHORS)
    ]


def posts(n: int = N_POSTS, kind: int = 2) -> list[dict[str, Any]]:
    return [
        {
            "_id": object_id(kind, i),
            "title": f"post {i}",
            "author": object_id(1, i % N_AUTHORS),
            "tags": ["python", f"t{i % 13}"],
            "body": "lorem ipsum " * 20,
            "likes": i % 50,
        }
        for i in range(n)
    ]


def big_posts(n: int = N_BIG) -> list[dict[str, Any]]:
    return posts(n, kind=3)


def post_ids(n: int = N_POSTS) -> list[ObjectId]:
    return [object_id(2, i) for i in range(n)]


def entry_values(i: int) -> dict[str, Any]:
    return {"title": f"entry {i}", "n": i, "tags": ["bench", f"t{i % 7}"]}


def seed(uri: str, n_posts: int = N_POSTS, n_big: int = N_BIG, db_name: str = DB_NAME) -> None:
    """Fill a real server with the authors, posts and big posts (sync PyMongo, untimed)."""
    import pymongo

    client: pymongo.MongoClient = pymongo.MongoClient(uri)
    try:
        client.drop_database(db_name)
        db = client[db_name]
        db[AUTHORS].insert_many(authors())
        for name, docs in ((POSTS, posts(n_posts)), (BIG, big_posts(n_big))):
            for start in range(0, len(docs), 5000):
                db[name].insert_many(docs[start : start + 5000])
    finally:
        client.close()


def drop(uri: str, db_name: str = DB_NAME) -> None:
    import pymongo

    client: pymongo.MongoClient = pymongo.MongoClient(uri)
    try:
        client.drop_database(db_name)
    finally:
        client.close()
