"""Cost of the cold-topology cancellation guard (``drivers/pymongo_async.py``).

    python -m tests.support.guard_cost

Prints the per-call cost of the readiness check every PyMongo operation pays,
of running one operation in a task of its own (what a guarded call pays), and
sequential ``find_one`` round trips through mongomotor with and without the
check, against a throwaway nx-27017.
"""

from __future__ import annotations

import asyncio
import inspect
import statistics
import time

import mongomotor
from mongomotor import Document
from mongomotor.drivers import pymongo_async
from mongomotor.drivers.facade import SyncClient
from mongomotor.fields import IntField

from .server import start_wire_server


class GuardCost(Document):
    n = IntField()


def per_call(fn, repeat: int = 200_000) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - started) / repeat * 1e6


async def round_trips(count: int) -> float:
    started = time.perf_counter()
    for _ in range(count):
        await GuardCost.objects(n=1).first()
    return (time.perf_counter() - started) / count * 1e6


async def main() -> None:
    server = start_wire_server()
    try:
        mongomotor.connect("guard_cost", host=server.uri)
        await GuardCost(n=1).save()
        client = mongomotor.get_connection()
        check = per_call(lambda: pymongo_async.selection_may_wait(client))
        print(f"readiness check: {check:.3f} us per operation")

        async def noop() -> int:
            return 1

        async def direct(count: int) -> float:
            started = time.perf_counter()
            for _ in range(count):
                await noop()
            return (time.perf_counter() - started) / count * 1e6

        async def guarded(count: int) -> float:
            started = time.perf_counter()
            for _ in range(count):
                await pymongo_async.cancel_once(noop())
            return (time.perf_counter() - started) / count * 1e6

        d, g = await direct(50_000), await guarded(50_000)
        print(f"own task per guarded call: {g - d:.2f} us (direct await {d:.2f}, guarded {g:.2f})")

        facade = mongomotor.odm.registry.registered_client("default")
        coro = noop()
        added = per_call(lambda: facade.adapt(1)) - per_call(lambda: SyncClient.adapt(facade, 1))
        added += per_call(lambda: inspect.iscoroutine(coro)) + per_call(facade.for_running_loop)
        coro.close()
        print(f"added to each operation's adapt: {added:.3f} us")

        rounds: dict[str, list[float]] = {"with check": [], "without": []}
        original = pymongo_async.PyMongoAsyncClient.adapt
        for i in range(10):
            order = ["with check", "without"] if i % 2 else ["without", "with check"]
            for label in order:
                pymongo_async.PyMongoAsyncClient.adapt = (
                    original if label == "with check" else SyncClient.adapt
                )
                rounds[label].append(await round_trips(1000))
        pymongo_async.PyMongoAsyncClient.adapt = original
        for label, values in rounds.items():
            print(f"find_one round trip {label}: median {statistics.median(values):.1f} us")
        mongomotor.disconnect()
    finally:
        server.stop()


if __name__ == "__main__":
    asyncio.run(main())
