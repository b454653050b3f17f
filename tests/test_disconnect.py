"""``await disconnect()`` closes the driver's client before it returns; no Unclosed client."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import mongoengine.connection as me_connection
import pytest

import mongomotor
from mongomotor import Document, run_sync
from mongomotor.fields import StringField

ROOT = Path(__file__).resolve().parents[1]


class DiscNote(Document):
    text = StringField()


def unclosed(driver_client) -> bool:
    """What makes PyMongo warn "Unclosed ... client" when the client is collected."""
    client = getattr(driver_client, "delegate", driver_client)  # Motor wraps a MongoClient
    if not hasattr(client, "_closed"):
        return False  # mongomock: nothing to close
    return client._opened and not client._closed


async def test_awaited_disconnect_returns_once_the_client_is_closed(lane):
    await DiscNote(text="a").save()
    client = mongomotor.get_connection().delegate
    await mongomotor.disconnect()
    assert not unclosed(client)
    assert "default" not in me_connection._connection_settings
    with pytest.raises(mongomotor.connection.ConnectionFailure, match="connect"):
        await DiscNote.objects.count()


async def test_awaited_disconnect_all_closes_every_alias(lane):
    lane.connect("disc_other")
    await DiscNote(text="a").save()
    clients = [mongomotor.get_connection().delegate,
               mongomotor.get_connection("disc_other").delegate]
    await mongomotor.disconnect_all()
    assert not any(unclosed(client) for client in clients)
    assert me_connection._connection_settings == {}


async def test_disconnect_in_sync_code_under_run_sync_closes_before_returning(lane):
    await DiscNote(text="a").save()
    client = mongomotor.get_connection().delegate
    returned = await run_sync(mongomotor.disconnect)
    assert not unclosed(client)
    assert returned.done
    await returned  # waits for nothing


async def test_cancelling_the_awaiting_task_leaves_the_close_running(lane):
    await DiscNote(text="a").save()
    client = mongomotor.get_connection().delegate
    closing = mongomotor.disconnect()
    waiter = asyncio.ensure_future(closing)
    await asyncio.sleep(0)  # the waiter now waits (Motor and mongomock close at once)
    waiter.cancel()
    await asyncio.gather(waiter, return_exceptions=True)
    await closing  # the close went on: awaiting it again waits for its end
    assert not unclosed(client)


def test_disconnect_without_a_running_loop_closes_on_return(lane):
    async def save():
        await DiscNote(text="a").save()
        return mongomotor.get_connection().delegate

    loop = asyncio.new_event_loop()
    try:
        client = loop.run_until_complete(save())
        returned = mongomotor.disconnect()  # the loop is alive but not running
        assert not unclosed(client)
        assert returned.done
    finally:
        loop.close()


SCRIPT = textwrap.dedent(
    """
    import asyncio, gc, os
    import mongomotor
    from mongomotor import Document
    from mongomotor.fields import StringField

    class Note(Document):
        text = StringField()

    async def main():
        mongomotor.connect(os.environ["DB"], host=os.environ["HOST"],
                           driver=os.environ["DRIVER"] or None, uuidRepresentation="standard")
        mongomotor.connect(os.environ["DB"], alias="other", host=os.environ["HOST"],
                           driver=os.environ["DRIVER"] or None, uuidRepresentation="standard")
        await Note(text="x").save()
        await Note.objects.count()
        {how}

    asyncio.run(main())
    gc.collect()
    print("ok")
    """
)


@pytest.mark.parametrize("how", [
    "await mongomotor.disconnect(); await mongomotor.disconnect('other')",
    "await mongomotor.disconnect_all()",
    # not awaited: the close tasks run, and asyncio.run's shutdown ends any it cancels
    "mongomotor.disconnect(); mongomotor.disconnect('other')",
])
def test_a_script_that_disconnects_leaves_no_unclosed_client_or_socket(lane, how):
    env = dict(os.environ, HOST=lane.host, DRIVER=lane.driver or "", DB=lane.db_name,
               PYTHONPATH=str(ROOT))
    done = subprocess.run(
        [sys.executable, "-X", "dev", "-W", "error::ResourceWarning", "-c",
         SCRIPT.replace("{how}", how)],
        capture_output=True, text=True, env=env, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
    assert "ResourceWarning" not in done.stderr, done.stderr
    assert "Unclosed" not in done.stderr, done.stderr
