"""FastAPI: connect and disconnect in the lifespan; switch_db in an async dependency."""

from __future__ import annotations

import asyncio
import warnings
from contextlib import asynccontextmanager
from typing import Annotated

import pytest

fastapi = pytest.importorskip("fastapi", reason="the test extra installs fastapi")
httpx = pytest.importorskip("httpx", reason="the test extra installs httpx")

from fastapi import Depends, FastAPI, Header  # noqa: E402

with warnings.catch_warnings():  # Starlette now prefers httpx2; httpx still works
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient  # noqa: E402
from mongoengine.context_managers import switch_db  # noqa: E402  (a port keeps this line)

import mongomotor  # noqa: E402
from mongomotor import Document  # noqa: E402
from mongomotor.fields import IntField, StringField  # noqa: E402
from tests.test_disconnect import unclosed  # noqa: E402

TENANTS = ("fa_a", "fa_b")
Tenant = Annotated[str, Header()]


class FaNote(Document):
    tenant = StringField()
    n = IntField()


async def tenant_notes(x_tenant: Tenant):
    with switch_db(FaNote, x_tenant) as Note:
        yield Note


def tenant_notes_in_a_thread(x_tenant: Tenant):
    with switch_db(FaNote, x_tenant) as Note:  # runs in a worker thread: switches nothing here
        yield Note


TenantNotes = Annotated[type[FaNote], Depends(tenant_notes)]
ThreadNotes = Annotated[type[FaNote], Depends(tenant_notes_in_a_thread)]


class Gate:
    """Lets ``count`` requests through once all of them have arrived."""

    def __init__(self, count: int) -> None:
        self.count, self.arrived, self.open = count, 0, asyncio.Event()

    async def wait(self) -> None:
        self.arrived += 1
        if self.arrived == self.count:
            self.open.set()
        await self.open.wait()


def make_app(lane, gate: Gate | None = None) -> tuple[FastAPI, list]:
    clients: list = []

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        for alias in ("default", *TENANTS):
            lane.connect(alias)
        yield
        await mongomotor.disconnect_all()

    app = FastAPI(lifespan=lifespan)

    @app.post("/notes/{n}")
    async def create(n: int, x_tenant: Tenant, Note: TenantNotes):
        if gate is not None:
            await gate.wait()  # every request is inside its tenant's block at once
        note = await Note(tenant=x_tenant, n=n).save()
        clients.append(mongomotor.get_connection(x_tenant).delegate)
        return {"n": note.n}

    @app.get("/notes")
    async def list_notes(Note: TenantNotes):
        return sorted([(note.tenant, note.n) async for note in Note.objects])

    @app.post("/sync-dependency/{n}")
    async def create_with_sync_dependency(n: int, Note: ThreadNotes):
        await Note(tenant="?", n=n).save()
        return {"n": n}

    return app, clients


def test_testclient_runs_the_lifespan_and_closes_every_client(lane):
    app, clients = make_app(lane)
    with TestClient(app) as client:
        assert client.post("/notes/1", headers={"X-Tenant": "fa_a"}).json() == {"n": 1}
        assert client.post("/notes/2", headers={"X-Tenant": "fa_b"}).json() == {"n": 2}
        assert client.get("/notes", headers={"X-Tenant": "fa_a"}).json() == [["fa_a", 1]]
        assert client.get("/notes", headers={"X-Tenant": "fa_b"}).json() == [["fa_b", 2]]
    assert clients and not any(unclosed(c) for c in clients)  # shutdown awaited the close
    with pytest.raises(mongomotor.connection.ConnectionFailure):
        mongomotor.get_connection("fa_a")


async def test_concurrent_requests_never_see_another_tenants_switch(lane):
    requests = 40
    app, _ = make_app(lane, Gate(requests))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            sent = await asyncio.gather(*(
                client.post(f"/notes/{i}", headers={"X-Tenant": TENANTS[i % 2]})
                for i in range(requests)
            ))
            assert all(response.status_code == 200 for response in sent)
            for k, alias in enumerate(TENANTS):
                listed = (await client.get("/notes", headers={"X-Tenant": alias})).json()
                assert listed == [[alias, i] for i in range(k, requests, 2)]
        assert await FaNote.objects.count() == 0  # nothing landed in the default database


def test_a_sync_dependency_cannot_switch_the_requests_database(lane):
    app, _ = make_app(lane)
    with TestClient(app) as client:
        client.post("/sync-dependency/7", headers={"X-Tenant": "fa_a"})
        assert client.get("/notes", headers={"X-Tenant": "fa_a"}).json() == []

        async def in_default() -> list:
            return [note.n async for note in FaNote.objects]

        assert client.portal.call(in_default) == [7]  # the write went to the default alias
