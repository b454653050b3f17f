"""PyMongo's asyncio locks, entered without a coroutine when nobody holds or waits for them.

    lock = QuickLock()
    async with lock: ...   # free: no coroutine frame; held or awaited: PyMongo's acquire

On Python < 3.13 PyMongo uses its own pure-Python copy of asyncio's lock, and
``async with lock`` runs three coroutines (``__aenter__``, ``acquire``,
``__aexit__``) even when the lock is free. These subclasses take a free lock
the way PyMongo's ``acquire`` does when it does not wait (set the flag, no
suspension), and hand anything else to PyMongo's ``acquire``, so the order of
waiters, cancellation while waiting and ``Condition.wait`` are PyMongo's.
"""

from __future__ import annotations

from typing import Any

import pymongo.lock


class _Ready(tuple):
    """An awaitable that is already done, all in C: ``await READY`` gives ``None`` at once."""

    __slots__ = ()
    __await__ = tuple.__iter__


READY = _Ready()


def _enter(lock: Any) -> Any:
    # PyMongo's acquire skips the queue also when every waiter is cancelled;
    # that rare case goes to it.
    if lock._locked or lock._waiters:
        return lock.acquire()
    lock._locked = True
    return READY


class QuickLock(pymongo.lock.Lock):
    """PyMongo's asyncio ``Lock`` whose ``async with`` costs no coroutine when it is free."""

    def __aenter__(self) -> Any:
        return _enter(self)

    def __aexit__(self, *exc_info: object) -> Any:
        self.release()
        return READY


class QuickCondition(pymongo.lock.Condition):
    """PyMongo's asyncio ``Condition`` on a :class:`QuickLock`, entered the same way."""

    def __aenter__(self) -> Any:
        return _enter(self._lock)

    def __aexit__(self, *exc_info: object) -> Any:
        self._lock.release()
        return READY


def is_free(lock: Any, *conditions: Any) -> bool:
    """True when nobody holds ``lock`` and nobody waits for it or for ``conditions``."""
    return not (lock._locked or lock._waiters or any(c._waiters for c in conditions))


def quicken_topology(client: Any) -> bool:
    """Give a client's topology a :class:`QuickLock` before it is first used; True if done.

    A topology already opened (or of another lock type) keeps its lock: tasks
    may hold it or wait on its condition.
    """
    topology = getattr(client, "_topology", None)
    if topology is None or getattr(topology, "_opened", True):
        return False
    lock, condition = topology._lock, topology._condition
    if type(lock) is not pymongo.lock.Lock or type(condition) is not pymongo.lock.Condition:
        return False
    if not is_free(lock, condition):
        return False
    topology._lock = quick = QuickLock()
    topology._condition = QuickCondition(quick)
    return True
