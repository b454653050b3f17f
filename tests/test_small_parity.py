"""Small differences from MongoEngine: forgotten awaits, introspection, test servers.

Every awaitable QuerySet entry point is a coroutine function to ``inspect``
and, never awaited, is reported under its own name; the test suite's wire
servers never depend on a pid file another server holds.
"""

from __future__ import annotations

import gc
import inspect
import warnings

import pymongo

from mongomotor import Document, QuerySet
from mongomotor.fields import IntField
from tests.support.server import start_wire_server


class SmallNote(Document):
    n = IntField()


def _never_awaited_messages(make) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        make()
        gc.collect()
    return [str(w.message) for w in caught if w.category is RuntimeWarning]


async def test_a_forgotten_await_of_an_index_names_getitem(lane):
    await SmallNote(n=1).save()
    messages = _never_awaited_messages(lambda: SmallNote.objects[0])
    assert messages == ["coroutine 'QuerySet.__getitem__' was never awaited"]
    assert (await SmallNote.objects[0]).n == 1


async def test_a_forgotten_await_of_aggregate_names_aggregate(lane):
    messages = _never_awaited_messages(lambda: SmallNote.objects.aggregate([]))
    assert messages == ["coroutine 'QuerySet.aggregate' was never awaited"]


async def test_aggregate_is_a_coroutine_function_and_still_a_cursor(lane):
    assert inspect.iscoroutinefunction(QuerySet.aggregate)
    assert inspect.iscoroutinefunction(SmallNote.objects.aggregate)
    await SmallNote(n=2).save()
    cursor = await SmallNote.objects.aggregate([{"$project": {"_id": 0, "n": 1}}])
    assert [row async for row in cursor] == [{"n": 2}]


def test_two_test_servers_run_at_once_each_with_its_own_pid_file():
    # nx-27017 refuses to start while its pid file names a live process: a
    # server started by the tests must never use the shared default one.
    first = start_wire_server()
    try:
        second = start_wire_server()
        try:
            assert first.pid_file != second.pid_file
            for server in (first, second):
                with pymongo.MongoClient(server.uri, serverSelectionTimeoutMS=5000) as client:
                    assert client.admin.command("ping")["ok"] == 1
        finally:
            second.stop()
    finally:
        first.stop()
