"""Errors say what to do: unconnected aliases, calls outside a loop, blocking calls."""

from __future__ import annotations

import asyncio

import pytest
from mongoengine.connection import ConnectionFailure

import mongomotor
from mongomotor import Document
from mongomotor.fields import IntField, StringField


class ErrThing(Document):
    name = StringField()
    n = IntField()


class ErrAway(Document):
    name = StringField()
    meta = {"db_alias": "err_nowhere"}


# -- not connected ---------------------------------------------------------------


async def test_a_document_used_before_connect_names_the_alias_and_connect(lane):
    mongomotor.disconnect_all()
    with pytest.raises(ConnectionFailure) as info:
        await ErrThing.objects.count()
    message = str(info.value)
    assert "'default'" in message and "mongomotor.connect(" in message
    with pytest.raises(ConnectionFailure, match="ErrThing"):
        await ErrThing(name="x").save()


async def test_an_unconnected_db_alias_is_named(lane):
    with pytest.raises(ConnectionFailure, match="'err_nowhere'.*connect\\("):
        await ErrAway(name="x").save()
    with pytest.raises(ConnectionFailure, match="err_nowhere"):
        mongomotor.get_db("err_nowhere")


# -- awaitable calls outside a running loop --------------------------------------------


def test_bridged_calls_outside_a_loop_say_to_await_them(lane):
    with pytest.raises(RuntimeError, match=r"await QuerySet.count\(\)` inside a coroutine"):
        ErrThing.objects.count()
    with pytest.raises(RuntimeError, match=r"await ErrThing.save\(\)"):
        ErrThing(name="x").save()
    with pytest.raises(RuntimeError, match="asyncio.run"):
        ErrThing.objects.first()
    with pytest.raises(RuntimeError, match="await"):
        ErrThing.objects[0]
    with pytest.raises(RuntimeError, match="aggregate"):
        ErrThing.objects.aggregate([])
    with pytest.raises(RuntimeError, match="ensure_indexes"):
        ErrThing.ensure_indexes()


def test_the_calls_work_once_awaited(lane):
    async def main():
        await ErrThing(name="ok", n=1).save()
        return await ErrThing.objects.count()

    assert asyncio.run(main()) == 1


def test_await_outside_the_bridge_points_to_run_sync():
    async def nothing():
        return 1

    with pytest.raises(RuntimeError, match="run_sync"):
        mongomotor.await_(nothing())


# -- sync calls that would block ---------------------------------------------------------


@pytest.mark.parametrize("call, twin", [
    (len, "await qs.count()"),
    (list, "async for doc in qs"),
    (iter, "await qs.to_list(None)"),
    (bool, "await qs.first() is not None"),
])
async def test_blocking_sync_calls_name_the_awaitable_twin(lane, call, twin):
    await ErrThing(name="a").save()
    with pytest.raises(TypeError, match="would block the event loop") as info:
        call(ErrThing.objects(name="a"))
    assert twin in str(info.value)


async def test_a_for_loop_over_a_queryset_names_async_for(lane):
    with pytest.raises(TypeError, match="async for"):
        for _ in ErrThing.objects:
            pass


async def test_errors_from_the_server_keep_their_type(lane):
    from mongoengine.errors import ValidationError

    with pytest.raises(ValidationError):
        await ErrThing(n="not a number").save()
    with pytest.raises(ErrThing.DoesNotExist):
        await ErrThing.objects.get(name="missing")
