"""The cursor facade: a ``find`` description until read, then one server batch per switch.

    cursor = collection.find({}).sort("n").limit(10)   # no I/O
    for doc in cursor: ...                             # in the bridge
"""

from __future__ import annotations

import collections
import functools
import inspect
from typing import TYPE_CHECKING, Any

from pymongo.errors import InvalidOperation

from mongomotor.drivers.chunked_batches import DocumentBatch
from mongomotor.runtime.observers import record_operation

if TYPE_CHECKING:
    from mongomotor.drivers.facade.client import SyncClient
    from mongomotor.drivers.facade.collection import SyncCollection


def _check_count(what: str) -> Any:
    def check(value: Any) -> None:
        if not isinstance(value, int):
            raise TypeError(f"{what} must be an integer, not {type(value)}")
        if what != "limit" and value < 0:
            raise ValueError(f"{what} must be >= 0")

    return check


def _check_milliseconds(what: str) -> Any:
    def check(value: Any) -> None:
        if value is not None and not isinstance(value, int):
            raise TypeError(f"{what} must be an integer or None, not {type(value)}")

    return check


# Checks PyMongo's sync cursor makes when an option is chained (a negative
# limit is allowed: it asks for a single batch).
_CHAIN_CHECKS = {
    "skip": _check_count("skip"),
    "limit": _check_count("limit"),
    "batch_size": _check_count("batch_size"),
    "max_time_ms": _check_milliseconds("max_time_ms"),
    "max_await_time_ms": _check_milliseconds("max_await_time_ms"),
}

_CHAINABLE = frozenset(
    {
        "sort", "limit", "skip", "hint", "collation", "batch_size", "comment",
        "where", "max_time_ms", "max_await_time_ms", "allow_disk_use", "max_scan",
        "max", "min", "remove_option",
    }
)


class SyncCursor:
    """A sync cursor that reads one server batch per greenlet switch.

    A ``find`` cursor is only a description (filter, options, chained calls)
    until the first document is asked for; ``clone``, slicing and indexing work
    on that description, as PyMongo's sync cursor does.
    """

    def __init__(
        self,
        client: SyncClient,
        collection: SyncCollection | None = None,
        args: tuple = (),
        kwargs: dict | None = None,
        real: Any = None,
    ) -> None:
        self._client = client
        self._collection = collection
        # A command cursor (aggregate, list_indexes) exists only as the driver's.
        self._command = real is not None
        self._args = args
        self._kwargs = kwargs or {}
        self._ops: list[tuple[str, tuple, dict]] = []
        self._real = real
        self._buffer: collections.deque = collections.deque()
        # The rest of a batch the driver keeps as bytes: decoded into _buffer a
        # chunk at a time, so its documents die young (see drivers.chunked_batches).
        self._undecoded: DocumentBatch | None = None
        self._exhausted = False
        self._empty = False
        self._interrupted = False
        self._skip = self._kwargs.get("skip", 0) or 0
        self._limit = self._kwargs.get("limit", 0) or 0

    # -- description ----------------------------------------------------------
    def __getattr__(self, name: str) -> Any:
        if name in _CHAINABLE:
            return functools.partial(self._chain, name)
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._materialize(), name)

    def _chain(self, name: str, *args: Any, **kwargs: Any) -> SyncCursor:
        if self._real is not None:
            if self._command and name == "batch_size":
                return self
            raise InvalidOperation("cannot set options after executing query")
        check = _CHAIN_CHECKS.get(name)
        if check is not None and args:
            # PyMongo's sync cursor refuses a bad value here, when it is given.
            check(args[0])
        if name == "skip":
            self._skip = args[0]
        elif name == "limit":
            self._limit = args[0]
        self._ops.append((name, args, kwargs))
        return self

    def clone(self) -> SyncCursor:
        if self._command:
            raise InvalidOperation("a command cursor cannot be cloned")
        twin = SyncCursor(self._client, self._collection, self._args, dict(self._kwargs))
        twin._ops = list(self._ops)
        twin._skip, twin._limit, twin._empty = self._skip, self._limit, self._empty
        return twin

    __copy__ = clone

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            if index.step is not None:
                raise IndexError("cursors do not support slice steps")
            start = index.start or 0
            if start < 0 or (index.stop is not None and index.stop < start):
                raise IndexError("cursors do not support negative or reversed slices")
            self._chain("skip", start)
            self._chain("limit", 0 if index.stop is None else index.stop - start)
            self._empty = index.stop is not None and index.stop == start
            return self
        if isinstance(index, int):
            for doc in self.at(index):
                return doc
            raise IndexError("no such item for cursor instance")
        raise TypeError(f"index {index!r} cannot be applied to a cursor")

    def at(self, index: int) -> SyncCursor:
        """A new cursor reading only the document at ``index`` (no I/O yet).

            doc = next(cursor.at(3), None)
        """
        if index < 0:
            raise IndexError("cursors do not support negative indices")
        one = self.clone()
        one._chain("skip", self._skip + index)
        one._chain("limit", -1)
        return one

    def _materialize(self) -> Any:
        if self._real is None:
            assert self._collection is not None
            kwargs = dict(self._kwargs)
            self._client.add_session(kwargs)
            backend = self._client.backend
            target = self._collection._facade_target()
            real = backend.open_find_cursor(target, self._args, kwargs, self._limit)
            batch_size = backend.default_batch_size
            for name, op_args, op_kwargs in self._ops:
                backend.apply_cursor_option(real, name, op_args, op_kwargs)
                if name == "batch_size":
                    batch_size = None
            if batch_size and "batch_size" not in kwargs:
                backend.apply_cursor_option(real, "batch_size", (batch_size,), {})
            self._real = real
        return self._real

    # -- reading --------------------------------------------------------------
    def __iter__(self) -> SyncCursor:
        return self

    def __next__(self) -> Any:
        if self._buffer:
            return self._buffer.popleft()
        if self._undecoded is not None:
            if self._undecoded.decode_into(self._buffer):
                return self._buffer.popleft()
            self._undecoded = None
        call = self._fetch_call()
        if call is None:
            raise StopIteration
        try:
            batch = self._client.adapt(call)
        except BaseException as exc:
            if not isinstance(exc, Exception):  # cancelled mid-read, not a server error
                self._interrupt()
            raise
        if not self._keep(batch):
            raise StopIteration
        return self._buffer.popleft()

    async def fill(self) -> bool:
        """Outside the bridge: await the next server batch into the buffer; False at the end.

            while cursor.buffered or await cursor.fill(): doc = next(cursor)
        """
        call = self._fetch_call()
        if call is None:
            return False
        try:
            batch = await call if inspect.isawaitable(call) else call
        except BaseException as exc:
            if not isinstance(exc, Exception):
                self._interrupt()
            raise
        return self._keep(batch)

    def _fetch_call(self) -> Any:
        """The driver's call giving the next batch (an awaitable or the batch); None at the end."""
        if self._interrupted:
            raise InvalidOperation(
                "this cursor was interrupted (its task was cancelled or timed out) while "
                "reading a batch, which is lost: run the query again"
            )
        if self._exhausted or self._empty:
            return None
        first = self._real is None
        real = self._materialize()
        if not first and not real.alive:
            # The server closed the cursor with the last batch: no round trip left.
            self._exhausted = True
            return None
        record_operation("find" if first else "getMore")
        return self._client.backend.fetch_batch(real)

    def _keep(self, batch: Any) -> bool:
        """Buffer a batch the driver gave; False (and exhausted) if it is empty."""
        if not batch:
            self._exhausted = True
            return False
        if type(batch) is DocumentBatch:
            self._undecoded = batch
            batch.decode_into(self._buffer)
        else:
            self._buffer.extend(batch)
        return True

    next = __next__

    def _interrupt(self) -> None:
        # Reading on would silently skip the lost batch, or end early. Dropping
        # the driver's cursor lets the driver kill it on the server.
        self._interrupted = True
        self._real = None
        self._buffer.clear()
        self._undecoded = None

    @property
    def buffered(self) -> int:
        """Documents already received: readable without a round trip."""
        undecoded = self._undecoded
        return len(self._buffer) + (undecoded.remaining if undecoded is not None else 0)

    def take_buffered(self, count: int) -> list[Any]:
        """Up to ``count`` of the documents already received, taken in order (no I/O).

            docs = [next(cursor)] + cursor.take_buffered(31)
        """
        buffer = self._buffer
        if len(buffer) < count and self._undecoded is not None:
            if not self._undecoded.decode_into(buffer):
                self._undecoded = None
        popleft = buffer.popleft
        return [popleft() for _ in range(min(count, len(buffer)))]

    def buffered_documents(self) -> collections.deque:
        """The documents received and not read yet (no I/O; not a copy: do not change it)."""
        if self._undecoded is not None:
            self._undecoded.decode_all(self._buffer)  # look-ahead: the rest of the batch at once
            self._undecoded = None
        return self._buffer

    @property
    def alive(self) -> bool:
        return bool(self.buffered) or not (self._exhausted or self._empty or self._interrupted)

    @property
    def collection(self) -> SyncCollection | None:
        return self._collection

    def rewind(self) -> SyncCursor:
        if self._command:
            raise InvalidOperation("a command cursor cannot be rewound")
        self._real = None
        self._buffer.clear()
        self._undecoded = None
        self._exhausted = self._interrupted = False
        return self

    def explain(self) -> Any:
        record_operation("explain")
        real = self.clone()._materialize()
        backend = self._client.backend
        if backend.checks_calls:
            backend.before_call(self._client, "explain", (), {})
        return self._client.adapt(self._client.backend.explain(real))

    def distinct(self, key: str) -> Any:
        record_operation("distinct")
        real = self.clone()._materialize()
        backend = self._client.backend
        if backend.checks_calls:
            backend.before_call(self._client, "distinct", (key,), {})
        return self._client.adapt(real.distinct(key))

    def close(self) -> None:
        real, self._real = self._real, None
        self._buffer.clear()
        self._undecoded = None
        self._exhausted = True
        if real is not None:
            self._client.adapt(real.close())

    def __repr__(self) -> str:
        return f"<mongomotor cursor on {self._collection!r}>"
