"""async_framework='tornado': Tornado 6 runs on asyncio, so documents work from its IOLoop."""

from __future__ import annotations

import mongoengine.connection as me_connection
import tornado.ioloop

import mongomotor
from mongomotor import Document
from mongomotor.fields import IntField, StringField


class TornadoPost(Document):
    title = StringField()
    views = IntField(default=0)
    meta = {"db_alias": "tornado_app"}


def test_save_and_get_from_a_tornado_ioloop_coroutine(lane):
    lane.connect("tornado_app", async_framework="tornado")

    async def handler():
        post = await TornadoPost(title="from tornado").save()
        await TornadoPost.objects(id=post.id).update_one(inc__views=1)
        again = await TornadoPost.objects.get(id=post.id)
        return again.title, again.views, await TornadoPost.objects.count()

    io_loop = tornado.ioloop.IOLoop(make_current=False)
    try:
        assert io_loop.run_sync(handler) == ("from tornado", 1, 1)
        # a second run on the same IOLoop reuses what the first one set up
        assert io_loop.run_sync(TornadoPost.objects.count) == 1
    finally:
        # IOLoop.close() does not finalize the loop: close the clients on it first
        mongomotor.disconnect_all()
        io_loop.close()


def test_tornado_and_asyncio_loops_one_after_the_other(lane):
    import asyncio

    lane.connect("tornado_app", async_framework="tornado")

    async def count():
        return await TornadoPost.objects.count()

    async def add():
        await TornadoPost(title="t").save()

    io_loop = tornado.ioloop.IOLoop(make_current=False)
    try:
        io_loop.run_sync(add)
        # another loop meanwhile (the IOLoop is idle, not closed) has its own client
        assert asyncio.run(count()) == 1
        assert io_loop.run_sync(count) == 1
    finally:
        mongomotor.disconnect_all()
        io_loop.close()
    assert me_connection._connection_settings == {}
