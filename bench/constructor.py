"""``python -m bench.constructor``: documents built from keyword arguments, ``Document(**values)``.

Builds the bench's ``Entry`` (``Entry(title=..., n=..., tags=[...])``, what
the insert workload builds) and a blog ``Post`` with three embedded comments,
by sync MongoEngine's classes, by mongomotor with the compiled constructor
off (``MONGOMOTOR_CONSTRUCTOR=0``: MongoEngine's ``__init__``) and on.

    python -m bench.constructor            # CPU µs per document: median (min, max) of 7 runs
    python -m bench.constructor --icount   # instructions per document under valgrind

``--icount`` runs each case in a fresh process under ``valgrind --tool=callgrind``
with N and 3N constructions and prints (I(3N) − I(N)) / 2N, which leaves out
start-up and repeats to within a few instructions; it asserts nothing.
"""

from __future__ import annotations

import argparse
import datetime
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
from collections.abc import Callable
from typing import Any

RUNS = 7
ICOUNT_N = 2_000
CASES = ("entry", "post")
KINDS = ("mongoengine", "mongomotor-off", "mongomotor")


def builder(kind: str, case: str) -> Callable[[int], Any]:
    """A function building the ``i``-th document of ``case`` with ``kind``'s classes."""
    if kind == "mongoengine":
        import mongoengine as odm
        from mongoengine import fields
    else:
        from mongomotor.odm.plans import constructor

        constructor.enabled = kind == "mongomotor"
        import mongomotor as odm
        from mongomotor import fields

    class Comment(odm.EmbeddedDocument):
        author = fields.StringField()
        body = fields.StringField()
        created = fields.DateTimeField()

    class Entry(odm.Document):
        meta = {"collection": "bench_entry"}
        title = fields.StringField(required=True)
        n = fields.IntField()
        tags = fields.ListField(fields.StringField())

    class Post(odm.Document):
        meta = {"collection": "bench_post"}
        title = fields.StringField(required=True)
        body = fields.StringField()
        likes = fields.IntField(default=0)
        published = fields.DateTimeField()
        tags = fields.ListField(fields.StringField())
        comments = fields.EmbeddedDocumentListField(Comment)

    when = datetime.datetime(2024, 1, 1)
    if case == "entry":
        return lambda i: Entry(title=f"entry {i}", n=i, tags=["bench", f"t{i % 7}"])
    return lambda i: Post(
        title=f"post {i}",
        body="lorem ipsum",
        published=when,
        tags=["python", "mongodb"],
        comments=[Comment(author=f"u{k}", body="nice", created=when) for k in range(3)],
    )


def run(kind: str, case: str, n: int) -> None:
    build = builder(kind, case)
    for i in range(n):
        build(i)


def icount(kind: str, case: str, n: int) -> int:
    """Instructions of one process building ``n`` documents, counted by callgrind."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "callgrind.out")
        command = [
            "valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
            sys.executable, "-m", "bench.constructor", "--run", kind, case, str(n),
        ]  # fmt: skip
        subprocess.run(command, check=True, capture_output=True)
        with open(out) as fh:
            text = fh.read()
    return int(re.search(r"^(?:summary|totals): (\d+)", text, re.M).group(1))


def per_document_instructions() -> None:
    print(f"instructions per document, (I({3 * ICOUNT_N}) - I({ICOUNT_N})) / {2 * ICOUNT_N}:")
    for case in CASES:
        figures = {}
        for kind in KINDS:
            low, high = icount(kind, case, ICOUNT_N), icount(kind, case, 3 * ICOUNT_N)
            figures[kind] = (high - low) / (2 * ICOUNT_N)
            print(f"  {case:6} {kind:15} {figures[kind] / 1e3:8.1f} k")
        ratio = figures["mongomotor"] / figures["mongoengine"]
        print(f"  {case:6} mongomotor / sync MongoEngine: {ratio:.2f}x")


def per_document_times() -> None:
    number = 20_000
    print(f"CPU µs per document, median (min, max) of {RUNS} runs of {number}:")
    for case in CASES:
        for kind in KINDS:
            build = builder(kind, case)
            runs = timeit.repeat(
                lambda b=build: b(1), number=number, repeat=RUNS, timer=time.process_time
            )
            samples = [t / number * 1e6 for t in runs]
            print(
                f"  {case:6} {kind:15} {statistics.median(samples):7.2f}"
                f"  ({min(samples):.2f}, {max(samples):.2f})"
            )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.constructor")
    parser.add_argument("--icount", action="store_true", help="count instructions (valgrind)")
    parser.add_argument("--run", nargs=3, metavar=("KIND", "CASE", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        kind, case, n = args.run
        run(kind, case, int(n))
    elif args.icount:
        per_document_instructions()
    else:
        per_document_times()


if __name__ == "__main__":
    main()
