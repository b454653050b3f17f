"""The in-memory driver: ``connect(host='mongomock://localhost/db')``.

mongomock does no I/O, but it is driven as a server would be, so that tests
passing here pass against MongoDB:

* every operation (and every batch a cursor reads) first yields to the event
  loop once, so other tasks run and ``asyncio.wait_for`` can time it out;
  cancelled there, the operation has not happened;
* like every driver's, its I/O works only inside the bridge: plain MongoEngine
  code that does I/O in a coroutine without ``run_sync`` is refused;
* what a server refuses is refused (a negative skip, a negative ``$limit``);
* ``explain()`` answers the plan mongomock follows: a collection scan.

One mongomock client per alias serves every event loop (its data outlives
``asyncio.run``).
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from pymongo.errors import OperationFailure

from mongomotor.drivers.backend import Backend
from mongomotor.drivers.facade import SyncClient
from mongomotor.drivers.memory import changes
from mongomotor.drivers.memory.gridfs import MemoryGridFS
from mongomotor.drivers.memory.transactions import MemorySession, TransactionGate
from mongomotor.runtime.aio import YIELD
from mongomotor.runtime.bridge import await_
from mongomotor.runtime.optional import require

SCHEME = "mongomock://"
BATCH = 1000
_RESULT_NEUTRAL_OPTIONS = frozenset({"comment", "max_await_time_ms", "max_scan"})


BAD_VALUE = 2  # the server's error code for an invalid argument


def _refuse(message: str) -> OperationFailure:
    return OperationFailure(message, BAD_VALUE, {"ok": 0, "errmsg": message, "code": BAD_VALUE})


def _check_count(name: str, value: Any, stage: str) -> None:
    if isinstance(value, (int, float)) and value < 0:
        raise _refuse(f"{stage} must be a non-negative number, got {value!r}")


def check_operation(name: str, args: tuple, kwargs: dict) -> None:
    """Refuse what MongoDB refuses and mongomock would accept."""
    if name == "count_documents":
        _check_count(name, kwargs.get("skip", 0), "skip")
        _check_count(name, kwargs.get("limit", 0), "limit")
    elif name == "aggregate":
        pipeline = args[0] if args else kwargs.get("pipeline", ())
        for stage in pipeline or ():
            if isinstance(stage, dict):
                for op in ("$skip", "$limit"):
                    if op in stage:
                        _check_count(name, stage[op], f"the {op} stage")


def is_memory_host(host: Any) -> bool:
    hosts = host if isinstance(host, (list, tuple)) else [host]
    return any(isinstance(h, str) and h.startswith(SCHEME) for h in hosts)


def as_mongodb_uri(host: Any) -> Any:
    """mongomock parses ``mongodb://`` URIs: translate our scheme for it."""
    if isinstance(host, (list, tuple)):
        return [as_mongodb_uri(h) for h in host]
    if isinstance(host, str) and host.startswith(SCHEME):
        return "mongodb://" + host[len(SCHEME):]
    return host


class MemoryBackend(Backend):
    """A ``mongomock://`` host: mongomock, driven as a server would be (see the module)."""

    name = "memory"
    default_batch_size = None  # batches are cut by ``fetch_batch`` below
    loop_bound = False  # one mongomock client per alias serves every loop
    checks_calls = True
    emulates_transactions = True

    def __init__(self, client_class: type | None = None) -> None:
        mongomock = require("mongomock", "the in-memory driver", "mock")
        # optional package, imported with mongomock above
        from mongomock.command_cursor import CommandCursor

        self._client_class = client_class or mongomock.MongoClient
        self._cursor_types = (mongomock.collection.Cursor, CommandCursor)
        self._gridfs = MemoryGridFS()

    # -- clients
    def create_client(self, settings: dict[str, Any]) -> Any:
        settings.pop("driver", None)
        return self._client_class(**settings)

    async def close_client(self, client: Any) -> None:
        client.close()

    def shared_client(self, facade: Any) -> Any:
        client = super().shared_client(facade)
        gate = facade.__dict__.get("_gate")
        if gate is not None and gate.owner is not None:
            gate.wait_turn()  # another task's transaction runs: see transactions
        return client

    def discard_shared_client(self, client: Any) -> None:
        changes.forget(client)
        client.close()

    # -- operations
    def before_call(self, facade: Any, name: str, args: tuple, kwargs: dict) -> None:
        # Yield first: an operation cancelled here has not happened. Outside
        # the bridge, await_ refuses the call as the wire drivers' I/O does.
        await_(YIELD)
        check_operation(name, args, kwargs)

    @property
    def observes_writes(self) -> bool:  # type: ignore[override]
        return changes.WATCHING  # an in-memory change stream is open

    def observe_write(
        self, target: Any, name: str, method: Callable[..., Any], args: tuple, kwargs: dict
    ) -> Any:
        return changes.observe(target, name, method, args, kwargs)

    # -- cursors
    def is_cursor(self, value: Any) -> bool:
        return isinstance(value, self._cursor_types)

    def apply_cursor_option(self, cursor: Any, name: str, args: tuple, kwargs: dict) -> None:
        # Annotations and server tuning change no result; mongomock lacks some.
        if name in _RESULT_NEUTRAL_OPTIONS and not hasattr(cursor, name):
            return
        super().apply_cursor_option(cursor, name, args, kwargs)

    async def fetch_batch(self, cursor: Any) -> list[Any]:
        await YIELD
        if getattr(cursor, "_skip", 0) < 0:  # find(skip=-1): the server refuses it
            raise _refuse(f"skip must be a non-negative number, got {cursor._skip!r}")
        return list(itertools.islice(cursor, BATCH))

    def explain(self, cursor: Any) -> dict[str, Any]:  # the facade yielded before
        collection = cursor.collection
        spec = dict(cursor._spec or {})
        returned = sum(1 for _ in cursor.clone())
        # mongomock uses no index: every query scans the whole collection.
        return {
            "queryPlanner": {
                "namespace": collection.full_name,
                "indexFilterSet": False,
                "parsedQuery": spec,
                "winningPlan": {"stage": "COLLSCAN", "filter": spec, "direction": "forward"},
                "rejectedPlans": [],
            },
            "executionStats": {
                "nReturned": returned,
                "totalKeysExamined": 0,
                "totalDocsExamined": collection.estimated_document_count(),
            },
            "ok": 1.0,
        }

    # -- sessions and transactions
    def start_emulated_session(self, facade: Any, client: Any) -> MemorySession:
        gate = facade.__dict__.get("_gate")
        if gate is None:
            gate = facade._gate = TransactionGate()  # the slot its transactions take turns in
        return MemorySession(client, gate)

    def start_driver_session(self, client: Any, options: dict[str, Any]) -> Any:
        raise NotImplementedError(
            "the in-memory driver has no driver sessions: open one with "
            "`async with mongomotor.start_session():` or `mongomotor.run_in_transaction()`; "
            "every operation in the block joins it, raw ones included (no session= argument)"
        )

    # -- server facts, change streams, GridFS
    def server_info(self, client: Any) -> dict[str, Any]:
        return client.server_info()  # mongomock knows no buildInfo command

    async def open_change_stream(self, collection: Any, pipeline: list, options: dict) -> Any:
        return changes.open_stream(collection, pipeline, options)

    def new_grid_file(self, db: Any, collection: str, **kwargs: Any) -> Any:
        return self._gridfs.new_file(db, collection, **kwargs)

    def delete_grid_file(self, db: Any, collection: str, file_id: Any) -> Awaitable[None]:
        return self._gridfs.delete(db, collection, file_id)


def facade_class(mongomock_class: type | None = None) -> type[SyncClient]:
    """The facade client class of the in-memory driver (made once per mongomock class).

    A ported app's tests may name mongomock's class, as MongoEngine asks
    (``connect(..., mongo_client_class=mongomock.MongoClient)``): they get the
    in-memory driver (it yields, refuses sync I/O on the loop) and a client
    that still passes ``isinstance(client, mongomock.MongoClient)``.
    """
    cls = _facade_classes.get(mongomock_class)
    if cls is None:
        namespace: dict[str, Any] = {
            "__module__": __name__,
            "__doc__": "MongoEngine's client for a ``mongomock://`` host.",
            "backend": MemoryBackend(mongomock_class),
        }
        if mongomock_class is not None:
            namespace["__class__"] = property(lambda self: mongomock_class)
        name = "MemoryClient" if mongomock_class is None else "MongomockClient"
        cls = _facade_classes[mongomock_class] = type(name, (SyncClient,), namespace)
    return cls


_facade_classes: dict[type | None, type[SyncClient]] = {}


def is_mongomock_class(client_class: Any) -> bool:
    """True for ``mongomock.MongoClient`` (or a subclass) given as ``mongo_client_class``."""
    mongomock = sys.modules.get("mongomock")
    return (
        mongomock is not None
        and isinstance(client_class, type)
        and issubclass(client_class, mongomock.MongoClient)
    )
