"""``python -m bench.loading``: building documents, MongoEngine's ``_from_son`` against the loader.

Times, on this machine and in one run, (1) one blog ``Post`` (strings, an int,
a datetime, a list of strings, three embedded comments, a reference) built from
its stored form, and (2) ``to_list`` of 10,000 posts on the in-memory driver,
with the compiled loader (``mongomotor.odm.plans.loader``) off and on. Prints the median
and the spread of several runs of the process's CPU time (steady on a machine
shared with other work); it asserts nothing about time.

    python -m bench.loading
"""

from __future__ import annotations

import asyncio
import datetime
import statistics
import time
import timeit
from typing import Any

import bson
from bson import ObjectId

import mongomotor
from mongomotor import Document, EmbeddedDocument
from mongomotor.fields import (
    DateTimeField,
    EmbeddedDocumentListField,
    IntField,
    ListField,
    ReferenceField,
    StringField,
)
from mongomotor.odm.plans import loader as loading

RUNS = 7
N_DOCS = 10_000


class LoadAuthor(Document):
    name = StringField()


class LoadComment(EmbeddedDocument):
    author = StringField()
    body = StringField()
    created = DateTimeField()


class LoadPost(Document):
    title = StringField(required=True)
    body = StringField()
    likes = IntField(default=0)
    published = DateTimeField()
    tags = ListField(StringField())
    comments = EmbeddedDocumentListField(LoadComment)
    author = ReferenceField(LoadAuthor)


def stored_post(i: int = 0) -> dict:
    when = datetime.datetime(2024, 1, 1) + datetime.timedelta(minutes=i)
    return {
        "_id": ObjectId(),
        "title": f"Post {i}",
        "body": "Lorem ipsum " * 20,
        "likes": i,
        "published": when,
        "tags": ["python", "mongodb", f"t{i % 7}"],
        "comments": [{"author": f"u{k}", "body": "Nice post", "created": when} for k in range(3)],
        "author": ObjectId(),
    }


def spread(samples: list[float]) -> str:
    return f"{statistics.median(samples):8.2f}  (min {min(samples):.2f}, max {max(samples):.2f})"


def per_document() -> None:
    son = stored_post()
    raw = bson.encode(son)
    number = 20_000

    def timed(fn: Any) -> list[float]:
        runs = timeit.repeat(fn, number=number, repeat=RUNS, timer=time.process_time)
        return [t / number * 1e6 for t in runs]

    loading.enabled = False
    mongoengine = timed(lambda: LoadPost._from_son(son))
    loading.enabled = True
    loader = timed(lambda: LoadPost._from_son(son))
    decode = timed(lambda: bson.decode(raw))
    print(f"one Post, CPU µs per document, median of {RUNS} runs of {number}:")
    print(f"  bson.decode                 {spread(decode)}")
    print(f"  MongoEngine _from_son       {spread(mongoengine)}")
    print(f"  loader                      {spread(loader)}")
    ratio = statistics.median(mongoengine) / statistics.median(loader)
    print(f"  loader is {ratio:.1f}x faster")


async def iteration() -> None:
    mongomotor.connect("bench_loading", host="mongomock://localhost", alias="default")
    await LoadPost.drop_collection()
    await LoadPost.objects.insert(
        [LoadPost._from_son(stored_post(i), created=True) for i in range(N_DOCS)],
        load_bulk=False,
    )
    samples: dict[Any, list[float]] = {False: [], True: [], "raw": []}
    for _ in range(RUNS):
        start = time.process_time()
        await LoadPost.objects.as_pymongo().to_list(None)
        samples["raw"].append((time.process_time() - start) * 1e3)
        for on in (False, True):
            loading.enabled = on
            start = time.process_time()
            posts = await LoadPost.objects.to_list(None)
            samples[on].append((time.process_time() - start) * 1e3)
            assert len(posts) == N_DOCS
    loading.enabled = True
    print(f"to_list of {N_DOCS} Posts on the in-memory driver, CPU ms, median of {RUNS} runs:")
    print(f"  as_pymongo (no documents)   {spread(samples['raw'])}")
    print(f"  MongoEngine _from_son       {spread(samples[False])}")
    print(f"  loader                      {spread(samples[True])}")
    ratio = statistics.median(samples[False]) / statistics.median(samples[True])
    print(f"  loader is {ratio:.1f}x faster")
    mongomotor.disconnect_all()


if __name__ == "__main__":
    per_document()
    asyncio.run(iteration())
