"""The published API reference is a contract: every name it lists exists and works."""

from __future__ import annotations

import importlib
import inspect

import mongoengine
import pytest

import mongomotor
from mongomotor.decorators import aiter_compat
from mongomotor.monkey import MonkeyPatcher
from mongomotor.utils import get_alias_for_db, get_sync_alias, is_main_thread

# (module, attribute path) pairs named in the API reference.
SEED_NAMES = [
    ("mongomotor.connection", "connect"),
    ("mongomotor.connection", "disconnect"),
    ("mongomotor.connection", "get_db_version"),
    ("mongomotor.connection", "get_mongodb_version"),
    ("mongomotor.context_managers", "no_dereferencing_active_for_class"),
    ("mongomotor.decorators", "aiter_compat"),
    ("mongomotor.dereference", "MongoMotorDeReference"),
    ("mongomotor.document", "Document"),
    ("mongomotor.document", "DynamicDocument"),
    ("mongomotor.document", "DynamicEmbeddedDocument"),
    ("mongomotor.document", "EmbeddedDocument"),
    ("mongomotor.document", "NoDerefInitMixin"),
    ("mongomotor.exceptions", "BadAsyncFrameworkError"),
    ("mongomotor.exceptions", "ConfusionError"),
    ("mongomotor.exceptions", "MissingFramework"),
    ("mongomotor.fields", "BaseAsyncReferenceField"),
    ("mongomotor.fields", "ComplexBaseField"),
    ("mongomotor.fields", "DictField"),
    ("mongomotor.fields", "FileField"),
    ("mongomotor.fields", "GenericReferenceField"),
    ("mongomotor.fields", "GridFSProxy"),
    ("mongomotor.fields", "ListField"),
    ("mongomotor.fields", "ReferenceField"),
    ("mongomotor.monkey", "MonkeyPatcher"),
    ("mongomotor.queryset", "QuerySet"),
    ("mongomotor.queryset", "QuerySetNoCache"),
    ("mongomotor.signals", "pre_save"),
    ("mongomotor.utils", "get_alias_for_db"),
    ("mongomotor.utils", "get_sync_alias"),
    ("mongomotor.utils", "is_main_thread"),
    ("mongomotor", "Document"),
    ("mongomotor", "DynamicDocument"),
    ("mongomotor", "DynamicEmbeddedDocument"),
    ("mongomotor", "EmbeddedDocument"),
    ("mongomotor", "MapReduceDocument"),
    ("mongomotor", "connect"),
    ("mongomotor", "disconnect"),
]

DOCUMENT_METHODS = [
    "compare_indexes", "delete", "drop_collection", "ensure_indexes", "modify",
    "register_delete_rule", "reload", "save",
]
QUERYSET_METHODS = [
    "aggregate", "average", "count", "delete", "distinct", "explain", "first", "get",
    "in_bulk", "insert", "item_frequencies", "map_reduce", "modify", "next_object",
    "no_cache", "sum", "to_list", "update", "upsert_one",
]
PROXY_METHODS = ["close", "delete", "get", "put", "read", "replace", "write"]
PATCHER_METHODS = [
    "patch_async_connections", "patch_db_clients", "patch_dereference",
    "patch_get_mongodb_version", "patch_item", "patch_no_dereferencing_active_for_class",
    "patch_qs_stop_iteration", "patch_signals", "patch_sync_connections",
]


@pytest.mark.parametrize(("module", "name"), SEED_NAMES)
def test_every_listed_name_exists(module, name):
    assert hasattr(importlib.import_module(module), name), f"{module}.{name}"


@pytest.mark.parametrize("name", DOCUMENT_METHODS)
def test_document_methods_exist(name):
    assert callable(getattr(mongomotor.Document, name))


@pytest.mark.parametrize("name", QUERYSET_METHODS)
def test_queryset_methods_exist(name):
    assert callable(getattr(mongomotor.QuerySet, name))


@pytest.mark.parametrize("name", PROXY_METHODS)
def test_gridfs_proxy_methods_exist(name):
    from mongomotor.fields import GridFSProxy

    assert callable(getattr(GridFSProxy, name))


@pytest.mark.parametrize("name", PATCHER_METHODS)
def test_monkey_patcher_methods_exist(name):
    assert callable(getattr(MonkeyPatcher, name))


def test_signatures_match_the_reference():
    connect = inspect.signature(mongomotor.connect).parameters
    assert list(connect)[:2] == ["db", "alias"] and connect["alias"].default == "default"
    assert connect["async_framework"].default == "asyncio"
    save = inspect.signature(mongomotor.Document.save)
    assert "self" in save.parameters
    to_list = inspect.signature(mongomotor.QuerySet.to_list).parameters
    assert to_list["length"].default == 100
    count = inspect.signature(mongomotor.QuerySet.count).parameters
    assert count["with_limit_and_skip"].default is True
    from mongomotor.fields import FileField

    file_field = inspect.signature(FileField.__init__).parameters
    assert file_field["db_alias"].default == "default"
    assert file_field["collection_name"].default == "fs"


def test_documents_subclass_mongoengine():
    assert issubclass(mongomotor.Document, mongoengine.Document)
    assert issubclass(mongomotor.Document, mongomotor.document.NoDerefInitMixin)
    assert issubclass(mongomotor.DynamicDocument, mongoengine.DynamicDocument)
    assert issubclass(mongomotor.EmbeddedDocument, mongoengine.EmbeddedDocument)
    assert issubclass(mongomotor.QuerySet, mongoengine.QuerySet)


def test_monkey_patcher_restores_what_it_patched():
    class Target:
        value = "original"

    with MonkeyPatcher() as patcher:
        patcher.patch_item(Target, "value", "patched")
        patcher.patch_item(Target, "extra", 1)
        assert (Target.value, Target.extra) == ("patched", 1)
    assert Target.value == "original"
    assert not hasattr(Target, "extra")

    with MonkeyPatcher() as patcher:
        patcher.patch_item(Target, "value", "kept", undo=False)
    assert Target.value == "kept"


def test_patch_db_clients_swaps_mongoengines_client_class():
    import mongoengine.connection as me_connection

    original = me_connection.MongoClient
    with MonkeyPatcher() as patcher:
        patcher.patch_db_clients(object)
        assert me_connection.MongoClient is object
    assert me_connection.MongoClient is original


def test_patch_sync_connections_hides_plain_pymongo_clients(lane):
    import mongoengine.connection as me_connection

    mongoengine.register_connection(
        "plain_sync", host="mongodb://127.0.0.1:1", uuidRepresentation="standard"
    )
    me_connection.get_connection("plain_sync")
    try:
        with MonkeyPatcher() as patcher:
            patcher.patch_sync_connections()
            assert "plain_sync" not in me_connection._connections
            assert "default" in me_connection._connections
        with MonkeyPatcher() as patcher:
            patcher.patch_async_connections()
            assert "plain_sync" in me_connection._connections
            assert "default" not in me_connection._connections
        assert {"plain_sync", "default"} <= set(me_connection._connections)
    finally:
        mongoengine.disconnect("plain_sync")


def test_aliases_and_threads(lane):
    import mongoengine.connection as me_connection

    db_name = me_connection._connection_settings["default"]["name"]
    assert get_alias_for_db(db_name) == "default"
    assert get_alias_for_db("no-such-db") is None
    assert get_sync_alias("default") != "default"
    assert is_main_thread()


def test_aiter_compat_keeps_async_iteration_working():
    class Counter:
        def __init__(self):
            self.n = 0

        @aiter_compat
        def __aiter__(self):
            return self

        async def __anext__(self):
            self.n += 1
            if self.n > 3:
                raise StopAsyncIteration
            return self.n

    async def collect():
        return [n async for n in Counter()]

    import asyncio

    assert asyncio.run(collect()) == [1, 2, 3]
