"""connect / disconnect / get_db / get_connection / versions, on every lane."""

from __future__ import annotations

import asyncio
import re
import socket
import sys
import threading
import time

import mongoengine.connection as me_connection
import pytest
from bson.binary import UuidRepresentation
from motor.motor_asyncio import AsyncIOMotorClient
from pymongo import AsyncMongoClient, ReadPreference
from pymongo.errors import ServerSelectionTimeoutError

import mongomotor
from mongomotor import Document
from mongomotor.drivers import SyncClient
from mongomotor.exceptions import BadAsyncFrameworkError, MissingFramework
from mongomotor.fields import IntField, StringField, UUIDField


class ConnNote(Document):
    text = StringField()
    n = IntField()


class ConnElsewhere(Document):
    text = StringField()
    meta = {"db_alias": "conn_other"}


class ConnUuidDoc(Document):
    key = UUIDField(binary=True)


def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def dead_uri() -> str:
    return f"mongodb://127.0.0.1:{unused_port()}"


# -- connect: settings, no I/O ---------------------------------------------------


@pytest.mark.parametrize("driver, client_type", [
    ("pymongo", AsyncMongoClient), (None, AsyncMongoClient), ("motor", AsyncIOMotorClient)
])
async def test_get_connection_gives_the_chosen_drivers_client(driver, client_type):
    mongomotor.connect("db", alias="conn_drv", host=dead_uri(), driver=driver,
                       uuidRepresentation="standard")
    try:
        client = mongomotor.get_connection("conn_drv")
        assert type(client.delegate) is client_type
        assert mongomotor.get_connection("conn_drv") is client
        assert mongomotor.get_connection("conn_drv").delegate is client.delegate
        db = mongomotor.get_db("conn_drv")
        assert db.name == "db"
    finally:
        mongomotor.disconnect("conn_drv")


def test_unknown_driver_is_refused():
    with pytest.raises(ValueError, match="pymongo, motor"):
        mongomotor.connect("db", alias="conn_bad", host=dead_uri(), driver="tokio")
    assert "conn_bad" not in me_connection._connection_settings


@pytest.mark.parametrize("driver", ["pymongo", "motor"])
async def test_connect_to_a_dead_port_is_instant_and_fails_on_first_await(driver):
    started = time.monotonic()
    mongomotor.connect("db", alias="default", host=dead_uri(), driver=driver,
                       serverSelectionTimeoutMS=200, uuidRepresentation="standard")
    try:
        # defining a query and building the client need no server either
        qs = ConnNote.objects(text="x").order_by("-n").limit(3)
        mongomotor.get_connection()
        assert time.monotonic() - started < 0.15
        with pytest.raises(ServerSelectionTimeoutError):
            await qs.count()
    finally:
        mongomotor.disconnect()


async def test_uri_settings_are_registered_like_mongoengine():
    uri = (f"mongodb://alice:s3cret@127.0.0.1:{unused_port()}/blog"
           "?replicaSet=rs0&authSource=admin&readPreference=secondaryPreferred"
           "&uuidRepresentation=standard")
    mongomotor.connect(alias="conn_uri", host=uri)
    try:
        settings = me_connection._connection_settings["conn_uri"]
        assert settings["name"] == "blog"
        assert settings["username"] == "alice"
        assert settings["password"] == "s3cret"
        assert settings["replicaSet"] == "rs0"
        assert settings["authentication_source"] == "admin"
        assert settings["read_preference"] == ReadPreference.SECONDARY_PREFERRED
        client = mongomotor.get_connection("conn_uri")
        assert client.options.replica_set_name == "rs0"
        assert client.options.pool_options._credentials.username == "alice"
        assert client.options.pool_options._credentials.source == "admin"
        assert client.read_preference == ReadPreference.SECONDARY_PREFERRED
        assert client.codec_options.uuid_representation == UuidRepresentation.STANDARD
        assert mongomotor.get_db("conn_uri").name == "blog"
    finally:
        mongomotor.disconnect("conn_uri")


async def test_keyword_settings_reach_the_client():
    mongomotor.connect("kw", alias="conn_kw", host="127.0.0.1", port=unused_port(),
                       username="bob", password="pw", authentication_source="admin",
                       authentication_mechanism="SCRAM-SHA-256",
                       replicaSet="rs1", uuidRepresentation="javaLegacy", tz_aware=True,
                       maxPoolSize=7)
    try:
        client = mongomotor.get_connection("conn_kw")
        assert client.options.replica_set_name == "rs1"
        assert client.options.pool_options.max_pool_size == 7
        assert client.codec_options.tz_aware is True
        assert client.codec_options.uuid_representation == UuidRepresentation.JAVA_LEGACY
        assert client.options.pool_options._credentials.username == "bob"
        assert client.options.pool_options._credentials.mechanism == "SCRAM-SHA-256"
    finally:
        mongomotor.disconnect("conn_kw")


async def test_srv_uri_is_registered_without_a_dns_lookup():
    # example.invalid can never resolve: registering must not try.
    mongomotor.connect(alias="conn_srv", host="mongodb+srv://u:p@cluster0.example.invalid/shop"
                       "?retryWrites=true&uuidRepresentation=standard")
    try:
        settings = me_connection._connection_settings["conn_srv"]
        assert settings["name"] == "shop"
        assert settings["username"] == "u"
        assert isinstance(me_connection.get_connection("conn_srv"), SyncClient)
        # PyMongo's async client resolves the SRV record itself, on first use
        assert type(mongomotor.get_connection("conn_srv").delegate) is AsyncMongoClient
    finally:
        mongomotor.disconnect("conn_srv")


async def test_same_settings_can_connect_twice_different_ones_cannot(lane):
    lane.connect("conn_other")
    lane.connect("conn_other")  # identical settings: accepted, as in MongoEngine
    with pytest.raises(mongomotor.connection.ConnectionFailure, match="disconnect"):
        mongomotor.connect("another_db", alias="conn_other", host=lane.host, driver=lane.driver,
                           uuidRepresentation="standard")


async def test_uuid_representation_setting_round_trips(lane):
    lane.require("uuid_binary")
    import uuid

    key = uuid.uuid4()
    await ConnUuidDoc(key=key).save()
    assert (await ConnUuidDoc.objects.get(key=key)).key == key


# -- framework -----------------------------------------------------------------


def test_unknown_framework_raises_bad_async_framework():
    with pytest.raises(BadAsyncFrameworkError, match="asyncio, tornado"):
        mongomotor.connect("db", alias="conn_fw", host=dead_uri(), async_framework="trio")
    assert "conn_fw" not in me_connection._connection_settings


def test_tornado_not_importable_raises_missing_framework(monkeypatch):
    monkeypatch.setitem(sys.modules, "tornado", None)
    with pytest.raises(MissingFramework, match="pip install tornado"):
        mongomotor.connect("db", alias="conn_fw", host=dead_uri(), async_framework="tornado")
    assert "conn_fw" not in me_connection._connection_settings


# -- clients per (alias, loop) -------------------------------------------------------


def test_asyncio_run_twice_gets_a_client_per_loop(lane):
    async def step(n: int):
        await ConnNote(text="step", n=n).save()
        return mongomotor.get_connection().delegate, await ConnNote.objects.count()

    first_client, first_count = asyncio.run(step(1))
    second_client, second_count = asyncio.run(step(2))
    assert (first_count, second_count) == (1, 2)
    if lane.is_wire:
        assert first_client is not second_client
    else:  # the in-memory data lives in one client shared by every loop
        assert first_client is second_client


async def test_a_thread_with_its_own_loop_gets_its_own_client(lane):
    await ConnNote(text="main", n=0).save()
    main_client = mongomotor.get_connection().delegate
    seen = {}

    async def in_thread():
        await ConnNote(text="thread", n=1).save()
        seen["client"] = mongomotor.get_connection().delegate
        seen["texts"] = sorted(await ConnNote.objects.scalar("text").to_list(None))

    thread = threading.Thread(target=lambda: asyncio.run(in_thread()))
    thread.start()
    thread.join(30)
    assert seen["texts"] == ["main", "thread"]
    assert (seen["client"] is main_client) == (not lane.is_wire)
    # the main loop's client still works after the thread's loop is gone
    assert await ConnNote.objects.count() == 2


async def test_disconnect_inside_a_running_loop_then_reconnect(lane):
    await ConnNote(text="a").save()
    mongomotor.disconnect()
    with pytest.raises(mongomotor.connection.ConnectionFailure, match="connect"):
        await ConnNote.objects.count()
    lane.connect()
    # wire data lives on the server; in-memory data lives as long as its connection
    assert await ConnNote.objects.count() == (1 if lane.is_wire else 0)


def test_disconnect_outside_a_loop(lane):
    async def save():
        await ConnNote(text="a").save()

    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(save())
        mongomotor.disconnect()  # this loop is alive but not running: closed on it
        assert "default" not in me_connection._connection_settings
    finally:
        loop.close()
    lane.connect()

    async def count():
        return await ConnNote.objects.count()

    assert asyncio.run(count()) == (1 if lane.is_wire else 0)
    mongomotor.disconnect_all()  # after asyncio.run the loop is closed: nothing to do
    assert me_connection._connection_settings == {}


async def test_disconnect_all_inside_a_running_loop(lane):
    lane.connect("conn_other")
    await ConnElsewhere(text="x").save()
    mongomotor.disconnect_all()
    assert me_connection._connection_settings == {}
    with pytest.raises(mongomotor.connection.ConnectionFailure, match="conn_other"):
        await ConnElsewhere.objects.count()


async def test_aliases_are_separate_databases(lane):
    lane.connect("conn_other")
    await ConnElsewhere(text="elsewhere").save()
    default_db = mongomotor.get_db()
    other_db = mongomotor.get_db("conn_other")
    assert default_db.name != other_db.name
    assert await other_db["conn_elsewhere"].count_documents({}) == 1
    assert await default_db["conn_elsewhere"].count_documents({}) == 0


async def test_get_db_is_the_drivers_database(lane):
    db = mongomotor.get_db()
    assert db.name == lane.db_name
    assert (await db.command("ping"))["ok"] == 1


def test_get_db_outside_a_loop_says_to_await(lane):
    if lane.is_wire:  # a wire client belongs to a loop
        with pytest.raises(RuntimeError, match="running event loop"):
            mongomotor.get_connection()
    else:  # the in-memory client is loop-free
        assert mongomotor.get_db().name == lane.db_name


# -- versions ----------------------------------------------------------------------


async def test_versions(lane):
    # nx-27017 reports only buildInfo.version (no versionArray): parsed from the string;
    # a real server may add a suffix ("8.0.0-rc1")
    numbers = re.match(r"\d+(\.\d+)*", lane.caps.server_version or "")
    assert numbers, lane.caps.server_version
    expected = tuple(int(p) for p in numbers.group().split("."))
    version = await mongomotor.get_db_version()
    assert version[: len(expected)] == expected  # MongoDB's versionArray has 4 parts
    assert await mongomotor.get_mongodb_version() == expected[:2]
    assert all(isinstance(p, int) for p in expected)


async def test_versions_of_another_alias(lane):
    lane.connect("conn_other")
    assert len(await mongomotor.get_mongodb_version("conn_other")) == 2


def test_version_outside_a_loop_says_to_await(lane):
    with pytest.raises(RuntimeError, match="await get_mongodb_version"):
        mongomotor.get_mongodb_version()
    with pytest.raises(RuntimeError, match="await get_db_version"):
        mongomotor.get_db_version()


async def test_version_of_an_unknown_alias_names_it(lane):
    with pytest.raises(mongomotor.connection.ConnectionFailure, match="nowhere_alias"):
        await mongomotor.get_db_version("nowhere_alias")


def test_versions_come_from_version_array_or_the_version_string():
    from mongomotor.odm.connections import version_tuple as _version_tuple

    assert _version_tuple({"versionArray": [7, 0, 14, 0], "version": "7.0.14"}) == (7, 0, 14, 0)
    assert _version_tuple({"version": "6.0.3"}) == (6, 0, 3)
    assert _version_tuple({"version": "8.0.0-rc1"})[:3] == (8, 0, 0)
    with pytest.raises(mongomotor.connection.ConnectionFailure, match="no version"):
        _version_tuple({"ok": 1})
