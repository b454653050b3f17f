"""``await mongomotor.ping()``: wait for an alias's server before serving requests."""

from __future__ import annotations

import socket

import mongoengine.connection as me_connection
import pytest
from pymongo.errors import AutoReconnect, ConnectionFailure

import mongomotor
from mongomotor.odm import readiness


async def test_ping_returns_the_server_version(lane):
    version = await mongomotor.ping()
    assert version == await mongomotor.get_db_version()
    assert all(isinstance(part, int) for part in version) and version[0] >= 3


async def test_ping_retries_until_the_server_answers(lane, monkeypatch):
    real = readiness.fetch_server_info
    attempts: list[str] = []

    async def flaky(alias: str):
        attempts.append(alias)
        if len(attempts) < 3:
            raise AutoReconnect(f"not yet ({len(attempts)})")
        return await real(alias)

    monkeypatch.setattr(readiness, "fetch_server_info", flaky)
    assert await mongomotor.ping(timeout=30) == await mongomotor.get_db_version()
    assert attempts == ["default"] * 3


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("lane", ["pymongo", "motor"], indirect=True)
async def test_ping_gives_up_naming_the_alias_the_masked_host_and_the_last_error(lane):
    host = f"mongodb://ann:s3cret@127.0.0.1:{closed_port()}/"
    mongomotor.connect(
        "down_db", alias="down", host=host, driver=lane.driver, uuidRepresentation="standard"
    )
    with pytest.raises(ConnectionFailure) as caught:
        await mongomotor.ping("down", timeout=0.5)
    message = str(caught.value)
    assert "alias 'down'" in message
    assert "mongodb://ann:***@127.0.0.1:" in message
    assert "s3cret" not in message
    assert "last error: " in message and "127.0.0.1" in message.split("last error: ")[1]
    # Both families of ConnectionFailure catch it.
    assert isinstance(caught.value, me_connection.ConnectionFailure)


async def test_ping_of_an_unknown_alias_fails_at_once(lane):
    with pytest.raises(me_connection.ConnectionFailure, match="connect"):
        await mongomotor.ping("never_connected", timeout=60)
    with pytest.raises(ValueError, match="positive"):
        await mongomotor.ping(timeout=0)
