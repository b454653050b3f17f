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

import functools
import itertools
import sys
from typing import Any, ClassVar

from pymongo.errors import OperationFailure

from mongomotor.bridge import await_
from mongomotor.drivers import memory_changes
from mongomotor.drivers.facade import YIELD, Backend, SyncClient

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


def _mongomock() -> Any:
    try:
        import mongomock
    except ImportError:  # pragma: no cover - depends on the install
        raise ImportError(
            "the in-memory driver needs mongomock: pip install 'mongomotor[mock]'"
        ) from None
    return mongomock


class MemoryBackend(Backend):
    name = "memory"
    default_batch_size = None  # batches are cut by ``fetch_batch`` below

    def __init__(self) -> None:
        mongomock = _mongomock()
        from mongomock.command_cursor import CommandCursor

        self._client_class = mongomock.MongoClient
        self._cursor_types = (mongomock.collection.Cursor, CommandCursor)

    def create_client(self, settings: dict[str, Any]) -> Any:
        settings.pop("driver", None)
        return self._client_class(**settings)

    async def close_client(self, client: Any) -> None:
        client.close()

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


_BACKEND: MemoryBackend | None = None


class MemoryClient(SyncClient):
    """MongoEngine's client for a ``mongomock://`` host."""

    checks_calls = True

    def before_call(self, name: str, args: tuple, kwargs: dict) -> None:
        # Yield first: an operation cancelled here has not happened. Outside
        # the bridge, await_ refuses the call as the wire drivers' I/O does.
        await_(YIELD)
        check_operation(name, args, kwargs)

    def __getattr__(self, name: str) -> Any:
        if name in ("options", "_options"):
            raise AttributeError(
                f"the in-memory driver (mongomock) has no client {name}: "
                "connect to a server to read them"
            )
        return super().__getattr__(name)

    @property
    def backend(self) -> Backend:  # type: ignore[override]
        global _BACKEND
        if _BACKEND is None:
            _BACKEND = MemoryBackend()
        return _BACKEND

    # mongomock's client class, when the app named one (mongo_client_class=...).
    mongomock_class: ClassVar[type | None] = None

    def for_running_loop(self) -> Any:
        client = self.__dict__.get("_shared")
        if client is None:
            self._refuse_if_closed()
            if self.mongomock_class is None:
                client = self.backend.create_client(dict(self._settings))
            else:
                settings = dict(self._settings)
                settings.pop("driver", None)
                client = self.mongomock_class(**settings)
            self._shared = client
        gate = self.__dict__.get("_gate")
        if gate is not None and gate.owner is not None:
            gate.wait_turn()  # another task's transaction runs: see memory_transactions
        return client

    def transaction_gate(self) -> Any:
        """The slot transactions on this client take turns in (``memory_transactions``)."""
        gate = self.__dict__.get("_gate")
        if gate is None:
            from mongomotor.drivers.memory_transactions import TransactionGate

            gate = self._gate = TransactionGate()
        return gate

    emulates_transactions = True

    def start_emulated_session(self, client: Any) -> Any:
        """A session of ``client`` (this facade's mongomock) whose transactions are emulated."""
        from mongomotor.drivers.memory_transactions import MemorySession

        return MemorySession(client, self.transaction_gate())

    def add_session(self, kwargs: dict[str, Any]) -> None:
        """mongomock refuses ``session=``: in-memory sessions are never sent with operations."""

    _facade_target = for_running_loop

    def close(self) -> None:
        self._closed = True
        client = self.__dict__.pop("_shared", None)
        if client is not None:
            memory_changes.forget(client)
            client.close()


def is_mongomock_class(client_class: Any) -> bool:
    """True for ``mongomock.MongoClient`` (or a subclass) given as ``mongo_client_class``."""
    mongomock = sys.modules.get("mongomock")
    return (
        mongomock is not None
        and isinstance(client_class, type)
        and issubclass(client_class, mongomock.MongoClient)
    )


@functools.lru_cache(maxsize=8)
def client_class_for(mongomock_class: type) -> type[MemoryClient]:
    """The in-memory facade for ``connect(..., mongo_client_class=mongomock.MongoClient)``.

    A ported app's tests name mongomock's class, as MongoEngine asks; they get
    the in-memory driver (it yields, refuses sync I/O on the loop) and a client
    that still passes ``isinstance(client, mongomock.MongoClient)``.
    """
    return type(
        "MongomockClient",
        (MemoryClient,),
        {
            "__module__": __name__,
            "__doc__": client_class_for.__doc__,
            "mongomock_class": mongomock_class,
            "__class__": property(lambda self: mongomock_class),
        },
    )
