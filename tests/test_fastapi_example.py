"""The FastAPI example (examples/fastapi_app) through httpx over ASGI, on every lane.

It uses the ``mongomotor_db`` fixture of the ``mongomotor.testing`` plugin the
way an app's own tests would; ``mongomotor_settings`` points it at the lane.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from gridfs.errors import NoFile

import mongomotor
from mongomotor.odm.files.gridfs import GridFS

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "examples"))
from fastapi_app.app import MongoConfig, create_app  # noqa: E402
from fastapi_app.models import Post  # noqa: E402


@pytest.fixture
def mongomotor_settings(lane) -> dict[str, Any]:
    settings: dict[str, Any] = {"host": lane.host, "uuidRepresentation": "standard"}
    if lane.driver:
        settings["driver"] = lane.driver
    return settings


@pytest.fixture
async def client(mongomotor_db, mongomotor_settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(MongoConfig(mongomotor_db.name, mongomotor_settings), manage_connection=False)
    async with app.router.lifespan_context(app):  # ASGITransport sends no lifespan events
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://blog") as http:
            yield http


async def new_post(client: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    body = {"title": "Hello", "author": "ann", "tags": [], **fields}
    response = await client.post("/posts", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def test_health_reports_the_pinged_server_version(client):
    response = await client.get("/health")
    assert response.status_code == 200
    version = await mongomotor.get_db_version()
    assert response.json() == {"mongodb": ".".join(map(str, version))}


async def test_crud(client):
    created = await new_post(client, title="First", body="text", tags=["intro"])
    assert created["likes"] == 0 and created["comments"] == [] and created["attachment"] is None
    url = f"/posts/{created['id']}"
    assert (await client.get(url)).json() == created
    patched = await client.patch(url, json={"title": "First, edited"})
    assert patched.status_code == 200
    assert patched.json()["title"] == "First, edited" and patched.json()["body"] == "text"
    assert (await client.get(url)).json()["title"] == "First, edited"
    assert (await client.delete(url)).status_code == 204
    assert (await client.get(url)).status_code == 404
    assert await Post.objects.count() == 0


async def test_list_filters_and_pages(client):
    for n in range(7):
        await new_post(
            client, title=f"post {n}", author="ann" if n % 2 else "bob",
            tags=["even"] if n % 2 == 0 else ["odd"],
        )
    first = (await client.get("/posts", params={"per_page": 3})).json()
    assert first["total"] == 7 and [p["title"] for p in first["items"]] == [
        "post 6", "post 5", "post 4"
    ]
    last = (await client.get("/posts", params={"per_page": 3, "page": 3})).json()
    assert [p["title"] for p in last["items"]] == ["post 0"]
    odd = (await client.get("/posts", params={"tag": "odd"})).json()
    assert odd["total"] == 3 and {p["author"] for p in odd["items"]} == {"ann"}
    bob_even = (await client.get("/posts", params={"author": "bob", "tag": "even"})).json()
    assert bob_even["total"] == 4
    bad = await client.get("/posts", params={"per_page": 1000})
    assert bad.status_code == 422


@pytest.mark.requires("find_and_modify_projection", "concurrent_updates")  # modify() with only()
async def test_likes_are_atomic(client):
    post = await new_post(client)
    url = f"/posts/{post['id']}/like"
    results = await asyncio.gather(*(client.post(url) for _ in range(10)))
    assert sorted(r.json()["likes"] for r in results) == list(range(1, 11))
    assert (await client.get(f"/posts/{post['id']}")).json()["likes"] == 10
    popular = (await client.get("/posts", params={"min_likes": 5})).json()
    assert popular["total"] == 1


@pytest.mark.requires("push_subdocument")
async def test_comments_are_pushed(client):
    post = await new_post(client)
    url = f"/posts/{post['id']}/comments"
    assert (await client.post(url, json={"author": "bob", "text": "nice"})).status_code == 201
    response = await client.post(url, json={"author": "cy", "text": "agreed"})
    assert response.json()["comments"] == [
        {"author": "bob", "text": "nice"}, {"author": "cy", "text": "agreed"}
    ]
    too_long = await client.post(url, json={"author": "x" * 41, "text": "hi"})
    assert too_long.status_code == 422
    assert len((await client.get(f"/posts/{post['id']}")).json()["comments"]) == 2


async def test_attachment_streams_up_and_down(client):
    post = await new_post(client)
    url = f"/posts/{post['id']}/attachment"
    pieces = [bytes([n]) * 100_000 for n in range(7)]  # 700 kB: several GridFS chunks

    async def body() -> AsyncIterator[bytes]:
        for piece in pieces:
            yield piece

    uploaded = await client.put(
        url, params={"filename": "data.bin"}, content=body(),
        headers={"content-type": "application/x-test"},
    )
    assert uploaded.status_code == 200, uploaded.text
    assert uploaded.json()["attachment"] == {
        "filename": "data.bin", "content_type": "application/x-test", "length": 700_000
    }
    received = b""
    async with client.stream("GET", url) as response:
        assert response.headers["content-type"] == "application/x-test"
        assert 'filename="data.bin"' in response.headers["content-disposition"]
        async for chunk in response.aiter_bytes():
            received += chunk
    assert received == b"".join(pieces)
    # Replacing the attachment removes the old file; deleting the post removes the new one.
    old_id = (await Post.objects.get(id=post["id"])).attachment.file_id
    await client.put(url, params={"filename": "small.txt"}, content=b"tiny")
    assert (await client.get(url)).content == b"tiny"
    new_id = (await Post.objects.get(id=post["id"])).attachment.file_id
    fs = GridFS("default", "attachments")
    with pytest.raises(NoFile):
        await fs.get(old_id)
    assert await (await fs.get(new_id)).read() == b"tiny"
    assert (await client.delete(f"/posts/{post['id']}")).status_code == 204
    with pytest.raises(NoFile):
        await fs.get(new_id)


@pytest.mark.requires("if_null")  # item_frequencies
async def test_tag_statistics(client, lane):
    await new_post(client, tags=["python", "mongodb"])
    await new_post(client, tags=["python"])
    liked = await new_post(client, tags=["asyncio", "python"])
    await client.post(f"/posts/{liked['id']}/like")
    stats = (await client.get("/stats/tags")).json()
    expected = [
        {"tag": "python", "posts": 3, "likes": 1},
        {"tag": "asyncio", "posts": 1, "likes": 1},
        {"tag": "mongodb", "posts": 1, "likes": 0},
    ]
    by_tag = sorted(expected, key=lambda row: row["tag"])
    assert sorted(stats, key=lambda row: row["tag"]) == by_tag
    if lane.supports("group_sort"):  # nx-27017 ignores $sort after $group (probed)
        assert stats == expected


@pytest.mark.requires("find_and_modify_projection")  # modify() with only()
async def test_errors_map_to_http_statuses(client):
    missing = await client.get("/posts/5f0000000000000000000000")
    assert missing.status_code == 404
    assert (await client.post("/posts/5f0000000000000000000000/like")).status_code == 404
    not_an_id = await client.get("/posts/not-an-id")
    assert not_an_id.status_code == 422
    too_long = await client.post("/posts", json={"title": "x" * 121, "author": "ann"})
    assert too_long.status_code == 422 and "title" in too_long.json()["detail"]
    assert await Post.objects.count() == 0


async def test_each_tenant_has_its_own_database(client, mongomotor_db):
    await new_post(client, title="main")
    acme = await client.post(
        "/posts", json={"title": "acme only", "author": "ann"}, headers={"X-Tenant": "acme"}
    )
    assert acme.status_code == 201

    async def titles(tenant: str | None) -> list[str]:
        headers = {"X-Tenant": tenant} if tenant else {}
        page = (await client.get("/posts", headers=headers)).json()
        return [p["title"] for p in page["items"]]

    main, in_acme, in_globex = await asyncio.gather(titles(None), titles("acme"), titles("globex"))
    assert (main, in_acme, in_globex) == (["main"], ["acme only"], [])
    assert (await client.get("/posts", headers={"X-Tenant": "Bad Name"})).status_code == 400
    client_db = mongomotor.get_connection()
    names = client_db.list_database_names()
    names = await names if inspect.isawaitable(names) else names
    assert f"{mongomotor_db.name}_acme" in names  # dropped with the test's database


async def test_lifespan_connects_pings_and_disconnects(lane, monkeypatch):
    if lane.is_wire:
        monkeypatch.setenv("MONGOMOTOR_URI", lane.host)
        monkeypatch.setenv("MONGOMOTOR_DRIVER", lane.driver)
    else:
        monkeypatch.delenv("MONGOMOTOR_URI", raising=False)
        monkeypatch.delenv("MONGOMOTOR_DRIVER", raising=False)
    monkeypatch.setenv("MONGOMOTOR_DB", f"{lane.db_name}_lifespan")
    lane.databases.append(f"{lane.db_name}_lifespan")
    await mongomotor.disconnect_all()
    app = create_app()
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://blog") as http:
            assert (await new_post(http, title="served"))["title"] == "served"
            assert (await http.get("/health")).status_code == 200
    with pytest.raises(mongomotor.connection.ConnectionFailure, match="connect"):
        mongomotor.get_connection()


def serve_command(port: int) -> list[str]:
    """The command ``make serve`` runs (read from the Makefile), for this interpreter."""
    lines = (ROOT / "Makefile").read_text().splitlines()
    recipe = lines[lines.index("serve: $(SERVE_STAMP)") + 1].strip()
    recipe = recipe.replace("$(BIN)/", str(Path(sys.executable).parent) + "/")
    recipe = recipe.replace("$(HOST)", "127.0.0.1").replace("$(PORT)", str(port))
    return recipe.split()


async def test_make_serve_runs_the_app_with_uvicorn(lane):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("MONGOMOTOR_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["MONGOMOTOR_DB"] = f"{lane.db_name}_served"
    lane.databases.append(env["MONGOMOTOR_DB"])
    if lane.is_wire:
        env["MONGOMOTOR_URI"] = lane.host
        env["MONGOMOTOR_DRIVER"] = lane.driver
    server = subprocess.Popen(
        serve_command(port), cwd=ROOT, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            health = None
            for _ in range(600):  # until uvicorn listens (or exits)
                if server.poll() is not None:
                    break
                try:
                    health = await http.get("/health")
                    break
                except httpx.TransportError:
                    await asyncio.sleep(0.05)
            assert server.poll() is None, server.communicate()[0]
            assert health is not None, "uvicorn did not start listening"
            assert health.status_code == 200 and health.json()["mongodb"]
            created = await http.post("/posts", json={"title": "served", "author": "ann"})
            assert created.status_code == 201
    finally:
        server.send_signal(signal.SIGINT)
        output, _ = server.communicate(timeout=60)
    assert "Application shutdown complete" in output, output
