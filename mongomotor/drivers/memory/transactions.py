"""Sessions and transactions on the in-memory driver (``mongomock://``).

mongomock has neither, so mongomotor emulates what a user's test can notice:

    async with run_in_transaction():          # on connect(host="mongomock://localhost")
        await Account.objects(id=a).update(dec__balance=10)
        raise Refused()                       # every collection is as before the block

* A transaction holds its client's *gate*: transactions on one in-memory
  client run one at a time, and an operation of any other task on that client
  waits (inside the bridge) until the transaction ends, so nobody sees
  uncommitted writes and a rollback never undoes another task's write.
* Starting a transaction copies the documents of every collection of the
  client; an abort, an exception or a cancellation puts them back, GridFS
  files included, and empties collections the transaction filled. Indexes
  and created collections stay, as on a server (mongomotor sends that DDL
  outside the transaction). Cost: a deep copy of all the documents the client
  holds, once per transaction: fine for test data, not for gigabytes.
* Not emulated: the errors a server gives inside a transaction (implicit
  collection creation, DDL, write conflicts, time limits), read and write
  concerns, causal consistency; a ``drop`` or ``rename`` in a transaction is
  not undone.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import threading
from collections import OrderedDict
from collections.abc import Awaitable
from typing import Any

from pymongo.errors import InvalidOperation

from mongomotor.runtime.aio import wake
from mongomotor.runtime.bridge import await_, in_bridge
from mongomotor.runtime.task_state import active_sessions

_session_numbers = itertools.count(1)


class TransactionGate:
    """One in-memory client's transaction slot: who holds it, who waits for it."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self.owner: MemorySession | None = None
        self._owner_loop: asyncio.AbstractEventLoop | None = None
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future]] = []

    async def acquire(self, session: MemorySession) -> None:
        """Wait until no other transaction runs on the client, then hold the slot."""
        loop = asyncio.get_running_loop()
        while True:
            with self._mutex:
                self._drop_abandoned()
                if self.owner is None:
                    self.owner, self._owner_loop = session, loop
                    return
                waiter = loop.create_future()
                self._waiters.append((loop, waiter))
            await waiter

    def release(self, session: MemorySession) -> None:
        with self._mutex:
            if self.owner is not session:
                return
            self.owner = self._owner_loop = None
            waiters, self._waiters = self._waiters, []
        for loop, waiter in waiters:  # each re-checks; cancelled ones just stay away
            if not loop.is_closed():
                loop.call_soon_threadsafe(wake, waiter)

    def wait_turn(self) -> None:
        """Called before each operation on the client: wait while another task's transaction runs.

        Only code in the bridge can wait; the transaction's own task (and the
        tasks it started) go straight on.
        """
        owner = self.owner
        if owner is None or owner.is_current() or not in_bridge():
            return
        await_(self._wait_until_free())

    async def _wait_until_free(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            with self._mutex:
                self._drop_abandoned()
                if self.owner is None or self.owner.is_current():
                    return
                waiter = loop.create_future()
                self._waiters.append((loop, waiter))
            await waiter

    def _drop_abandoned(self) -> None:
        # A transaction whose loop closed without ending it can never end: undo it.
        if self.owner is not None and self._owner_loop is not None and self._owner_loop.is_closed():
            owner, self.owner, self._owner_loop = self.owner, None, None
            owner._rollback()


class MemorySession:
    """A client session of the in-memory driver, with PyMongo's session methods.

        async with start_session() as session:      # a MemorySession on mongomock://
            assert not session.in_transaction
    """

    sent_to_driver = False  # mongomock refuses session=: operations go without it

    def __init__(self, client: Any, gate: TransactionGate) -> None:
        self.client = client
        self._gate = gate
        self._snapshot: _Snapshot | None = None
        self._ended = False
        self.session_id = {"id": f"mongomotor-memory-{next(_session_numbers)}"}

    @property
    def in_transaction(self) -> bool:
        return self._snapshot is not None

    @property
    def has_ended(self) -> bool:
        return self._ended

    def is_current(self) -> bool:
        """Whether the running task works in this session (it or its parent opened it)."""
        return any(entry.session is self for entry in active_sessions())

    async def start_transaction(self, **options: Any) -> None:
        """Wait for the client's other transaction (if any) to end, then snapshot its data."""
        if self._ended:
            raise InvalidOperation("cannot start a transaction on an ended session")
        if self._snapshot is not None:
            raise InvalidOperation("Transaction already in progress")
        await self._gate.acquire(self)
        try:
            self._snapshot = _Snapshot(self.client._store)
        except BaseException:
            self._gate.release(self)
            raise

    def commit_transaction(self) -> Awaitable[None]:
        """Keep the transaction's writes and let the next transaction run."""
        if self._snapshot is None:
            raise InvalidOperation("No transaction started")
        self._snapshot = None
        self._gate.release(self)
        return _done()

    def abort_transaction(self) -> Awaitable[None]:
        """Put every database of the client back as it was when the transaction started."""
        if self._snapshot is None:
            raise InvalidOperation("No transaction started")
        self._rollback()
        self._gate.release(self)
        return _done()

    def _rollback(self) -> None:
        snapshot, self._snapshot = self._snapshot, None
        if snapshot is not None:
            snapshot.restore()

    def end_session(self) -> Awaitable[None]:
        if self._snapshot is not None:
            self.abort_transaction()
        self._ended = True
        return _done()

    def __repr__(self) -> str:
        state = "in a transaction" if self.in_transaction else "idle"
        return f"<mongomotor in-memory session {self.session_id['id']} ({state})>"


async def _done() -> None:
    return None


class _Snapshot:
    """The documents of every collection of a mongomock client; ``restore`` puts them back.

    Only documents are restored: indexes and collection creation are DDL,
    which mongomotor never sends inside a transaction (a class prepares its
    collection outside it), so on a server they outlive an abort too.
    """

    def __init__(self, server_store: Any) -> None:
        self._server = server_store
        self._documents = {
            id(coll): (coll, copy.deepcopy(coll._documents))
            for db_store in server_store._databases.values()
            for coll in db_store._collections.values()
        }

    def restore(self) -> None:
        for db_store in list(self._server._databases.values()):
            for coll in list(db_store._collections.values()):
                saved = self._documents.get(id(coll))
                coll._documents = (
                    saved[1] if saved is not None and saved[0] is coll else OrderedDict()
                )
