"""``make demo`` works: the blog example runs on every lane and leaves the blog it describes.

The demo runs in a child process, exactly as ``make demo`` runs it, so its
``Author`` / ``Post`` classes never enter this process's document registry.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.server import with_database

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "examples" / "blog.py"


def run_demo(uri: str | None = None, driver: str | None = None) -> str:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.pop("MONGOMOTOR_URI", None)
    env.pop("MONGOMOTOR_DRIVER", None)
    if uri:
        env["MONGOMOTOR_URI"] = uri
    if driver:
        env["MONGOMOTOR_DRIVER"] = driver
    done = subprocess.run(
        [sys.executable, str(DEMO)], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.requires("if_null")  # the demo prints item_frequencies
async def test_demo_tells_the_blog_story(lane):
    if lane.is_wire:
        uri = with_database(lane.server_uri, lane.db_name)
        if lane.driver == "pymongo":
            run_demo(uri, lane.driver)  # a rerun starts from a clean slate (any driver: once)
        out = run_demo(uri, lane.driver)
        assert f"(driver {lane.driver})" in out
    else:
        out = run_demo()
        assert "Connected to in memory" in out
    assert "saved Ada and Grace; 2 authors" in out
    assert "saved 'Indexes that matter' by Grace, tags mongodb, performance" in out
    tagged_python = [line for line in out.splitlines() if line.startswith("tagged python: ")]
    assert tagged_python == [
        "tagged python: A compiler in a weekend",
        "tagged python: Awaiting documents",
        "tagged python: Greenlets in practice",
    ]
    assert "python       ### 3" in out
    assert "mongodb      ## 2" in out
    assert "liked the 2 posts tagged mongodb" in out
    assert "'Awaiting documents': 11 likes, 1 comment(s)" in out
    assert "mongodb      12 likes" in out
    assert "'A compiler in a weekend' was written by Grace (Compilers, mostly.)" in out
    assert "Indexes that matter - Grace" in out  # select_related
    assert "attached 34 bytes to 'Greenlets in practice'; read back: slides: greenlets," in out
    assert "3 posts left: A compiler in a weekend, Awaiting documents, Greenlets in practice" in out

    if lane.is_wire:
        db = lane.admin[lane.db_name]
        assert sorted(a["name"] for a in db.blog_author.find()) == ["Ada", "Grace"]
        stored = {p["title"]: p for p in db.blog_post.find()}
        assert sorted(stored) == [
            "A compiler in a weekend", "Awaiting documents", "Greenlets in practice"
        ]
        assert stored["Awaiting documents"]["likes"] == 11
        assert stored["Awaiting documents"]["comments"] == [
            {"who": "Grace", "text": "Nice, no callbacks!"}
        ]
        assert stored["Greenlets in practice"]["author"] == stored["Awaiting documents"]["author"]
        files = list(db["fs.files"].find())
        assert [f["_id"] for f in files] == [stored["Greenlets in practice"]["attachment"]]
        assert files[0]["length"] == 34
