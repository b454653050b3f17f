"""Runs the benchmark's workloads on mongomotor 0.17.3 (from PyPI), in its own venv.

    bench/.venv-0173/bin/python -I bench/legacy_runner.py URI SIZES_JSON

``-I`` keeps this tree's ``mongomotor`` off ``sys.path``. The runner reads one
workload name per line on stdin and answers each with one line,
``result {"wall": ..., "cpu": ..., "result": ..., "stall": ...}`` or
``result {"error": ...}`` (after a first line, ``ready``), so the bench can
interleave its rounds with the contestants of its own process. An empty line
or EOF ends it.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import sys
import traceback
from pathlib import Path
from types import ModuleType
from typing import Any

HERE = Path(__file__).resolve().parent


def load(name: str) -> ModuleType:
    """A sibling module of the bench, loaded by path (the bench package is not importable)."""
    spec = importlib.util.spec_from_file_location(f"bench_{name}", HERE / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


harness = load("harness")
models = load("models")
odm_workloads = load("odm_workloads")


class Legacy(odm_workloads.OdmWorkloads):
    """The workloads on mongomotor 0.17.3 (its select_related differs: see with_authors)."""

    alias = "bench_legacy"
    entry_values = staticmethod(models.entry_values)

    def __init__(self, uri: str, sizes: Any) -> None:
        import mongomotor
        import mongomotor.fields

        self.mongomotor = mongomotor
        self.uri = uri
        self.sizes = sizes
        self.post_ids = models.post_ids(sizes.posts)
        self.models = models.make_models(
            mongomotor.Document, mongomotor.fields, self.alias, "Legacy"
        )

    async def open(self) -> None:
        from mongoengine.connection import get_connection

        import mongomotor.connection

        def server_version(alias: str) -> tuple[int, ...]:
            # 0.17.3 reads versionArray from server_info(), which nx-27017
            # does not send; its buildInfo "version" string says the same.
            client = get_connection(alias)
            info = client.server_info()
            if "versionArray" in info:
                return tuple(info["versionArray"][:2])
            version = client.admin.command("buildInfo")["version"]
            return tuple(int(part) for part in version.split(".")[:2])

        mongomotor.connection.get_mongodb_version = server_version
        self.mongomotor.connect(models.DB_NAME, alias=self.alias, host=self.uri)

    async def with_authors(self) -> int:
        # 0.17.3's QuerySet.select_related() reads only its first 100 documents
        # (to_list's default length), so the posts are read first and the
        # list is dereferenced: the same two queries as everyone else's.
        n = self.sizes.with_authors
        Post = self.models.Post
        posts = await Post.objects.limit(n).to_list(n)
        posts = await Post.objects._dereference(posts, max_depth=2)
        pairs = [(post.title, (await post.author).name) for post in posts]
        return len(pairs)


def main(argv: list[str]) -> int:
    uri, sizes_json = argv
    sizes = harness.Sizes(**json.loads(sizes_json))
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    legacy = Legacy(uri, sizes)
    loop.run_until_complete(legacy.open())
    print("ready", flush=True)
    for line in sys.stdin:
        method = line.strip()
        if not method:
            break
        try:
            if method == "loop_stall":
                run = loop.run_until_complete(harness.watch_loop(legacy.iterate_big))
            else:
                run = loop.run_until_complete(harness.measure_async(getattr(legacy, method)))
            answer = run.as_dict()
        except Exception as exc:
            traceback.print_exc(file=sys.stderr)
            answer = {"error": f"{type(exc).__name__}: {exc}"}
        print("result " + json.dumps(answer), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
