"""The sync/async seam: run MongoEngine's sync code on the event loop.

``await run_sync(fn, *args)`` runs ``fn`` in a greenlet. Whenever the sync code
reaches I/O, the driver facade calls ``await_(coroutine)``, which switches back
to ``run_sync``; the coroutine is awaited on the loop and its result (or
exception) is switched back into the greenlet, which goes on as if the call
had blocked.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import inspect
import threading
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import greenlet

__all__ = [
    "run_sync", "await_", "in_bridge", "awaitable_method", "coroutine_function", "named",
    "require_loop", "loop_is_running",
]

T = TypeVar("T")


class _BridgeGreenlet(greenlet.greenlet):
    """A worker greenlet of :func:`run_sync`: inside it I/O may switch out.

    Workers are reused (a new greenlet costs ~20 times a switch into an idle
    one), so each serves jobs in a loop: it takes each job from ``job`` and
    reports its outcome in ``outcome`` before switching back with ``_DONE``.
    """

    __slots__ = ("outcome", "job")


_DONE = object()
# Enough for a server's usual concurrency: under it no greenlet is made per call
# (100 operations in flight with 64 kept made and threw away 36 per batch).
_MAX_IDLE_WORKERS = 256
_idle = threading.local()


def _next_job() -> tuple[Callable[..., Any], tuple, dict]:
    me = greenlet.getcurrent()
    job, me.job = me.job, None
    return job


def _serve() -> None:
    # No local may refer to the worker itself: a suspended greenlet whose frame
    # does is a cycle the garbage collector never frees (nor ends). Jobs come
    # through ``job``, not as switch arguments: greenlet keeps the arguments
    # that started it for as long as it lives.
    while True:
        fn, args, kwargs = _next_job()
        try:
            outcome = (True, fn(*args, **kwargs))
        except greenlet.GreenletExit:
            raise  # the worker is being discarded
        except BaseException as exc:  # handed to run_sync, which raises it
            outcome = (False, exc)
        greenlet.getcurrent().outcome = outcome
        fn = args = kwargs = outcome = None  # type: ignore[assignment]  # hold nothing while idle
        greenlet.getcurrent().parent.switch(_DONE)


def _take_worker() -> _BridgeGreenlet:
    pool = getattr(_idle, "workers", None)
    if pool:
        return pool.pop()
    return _BridgeGreenlet(_serve)


def _release_worker(worker: _BridgeGreenlet) -> None:
    pool = getattr(_idle, "workers", None)
    if pool is None:
        pool = _idle.workers = []
    worker.gr_context = _EMPTY_CONTEXT  # the job's contextvars go with the job
    if len(pool) < _MAX_IDLE_WORKERS:
        pool.append(worker)
    else:
        worker.throw(greenlet.GreenletExit)  # ends it now rather than whenever it is freed


_EMPTY_CONTEXT = contextvars.Context()


_getcurrent = greenlet.getcurrent
_get_running_loop = asyncio._get_running_loop  # None outside a loop; no exception to raise


def in_bridge() -> bool:
    """True while running sync code under :func:`run_sync` (I/O can be awaited)."""
    return isinstance(greenlet.getcurrent(), _BridgeGreenlet)


async def run_sync(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run sync (MongoEngine) code without blocking the event loop.

        count = await run_sync(lambda: MyMongoEngineDoc.objects.count())
        await run_sync(doc.save)
    """
    worker = _take_worker()
    worker.parent = greenlet.getcurrent()
    # The caller's contextvars (switch_db, sessions, ...) are visible inside.
    worker.gr_context = contextvars.copy_context()
    worker.job = (fn, args, kwargs)
    pending = worker.switch()
    while pending is not _DONE:
        try:
            value = await pending
        except BaseException as exc:  # CancelledError included: raise it at the I/O point
            pending = worker.throw(type(exc), exc, exc.__traceback__)
        else:
            pending = worker.switch(value)
    succeeded, result = worker.outcome
    worker.outcome = None
    _release_worker(worker)
    if succeeded:
        return result
    try:
        raise result
    finally:
        result = None


def await_(awaitable: Awaitable[T]) -> T:
    """Wait for ``awaitable`` from sync code running under :func:`run_sync`.

        doc = await_(async_collection.find_one({"_id": 1}))
    """
    current = greenlet.getcurrent()
    if not isinstance(current, _BridgeGreenlet):
        close = getattr(awaitable, "close", None)
        if close is not None:
            close()
        raise RuntimeError(
            "mongomotor: this call does I/O and must be awaited from a coroutine; "
            "sync MongoEngine code can be run with `await mongomotor.run_sync(fn)`"
        )
    return current.parent.switch(awaitable)


def loop_is_running() -> bool:
    """True in code running on an event loop (a coroutine, a callback)."""
    return _get_running_loop() is not None


def require_loop(what: str) -> None:
    """Raise a RuntimeError that explains how to call ``what`` when no loop runs."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        raise RuntimeError(
            f"{what} is awaitable: call it as `await {what}` inside a coroutine "
            "running on an event loop (for a script, wrap it in `asyncio.run(main())`)"
        ) from None


def awaitable_method(fn: Callable[..., T]) -> Callable[..., Any]:
    """Expose a sync method as awaitable in user code, and plain inside the bridge.

    MongoEngine calls its own methods (``doc.save()`` in a cascade, ``qs.first()``
    in ``get``) from sync code: there they must return the value, not a coroutine.
    In user code the method is a coroutine function to ``inspect`` (and Sphinx),
    and a call never awaited is reported under its name ("coroutine
    'Document.save' was never awaited").
    """
    qualname = fn.__qualname__

    @functools.wraps(fn)
    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(_getcurrent(), _BridgeGreenlet):
            return fn(self, *args, **kwargs)
        if _get_running_loop() is None:
            require_loop(f"{_owner_name(self)}.{fn.__name__}()")
        coroutine = run_sync(fn, self, *args, **kwargs)
        coroutine.__qualname__ = qualname
        return coroutine

    method.__mongomotor_awaitable__ = True  # type: ignore[attr-defined]
    return coroutine_function(method)


def coroutine_function(method: Callable[..., Any]) -> Callable[..., Any]:
    """``method`` marked so that ``inspect.iscoroutinefunction`` says True (it returns awaitables).

        aggregate = coroutine_function(aggregate)   # in a class body
    """
    if _mark_coroutine_function is not None:
        return _mark_coroutine_function(method)
    return _coroutine_method(method)


def named(coroutine: Any, qualname: str) -> Any:
    """``coroutine`` renamed, so a forgotten ``await`` warns with the method's name.

        return named(run_sync(self._item, key), "QuerySet.__getitem__")
    """
    coroutine.__qualname__ = qualname
    return coroutine


# Python 3.12+ lets a plain function declare itself a coroutine function.
_mark_coroutine_function = getattr(inspect, "markcoroutinefunction", None)
_NOT_A_COROUTINE = inspect.CO_GENERATOR | inspect.CO_ASYNC_GENERATOR | inspect.CO_ITERABLE_COROUTINE


def _coroutine_method(method: Callable[..., Any]) -> Callable[..., Any]:
    """``method`` as a method ``inspect.iscoroutinefunction`` accepts, on Python 3.10 and 3.11.

    There inspect reads the CO_COROUTINE flag from a function's code, or from
    the ``__code__`` of a "function-like" callable that is not a function.
    ``lru_cache(maxsize=0)`` makes one that caches nothing, binds to instances
    and calls ``method`` in C (a Python ``__get__`` would double the cost of
    the call); the flagged code it carries only describes ``method``.
    """
    wrapper = functools.lru_cache(maxsize=0)(method)
    source = inspect.unwrap(method)
    code = getattr(source, "__code__", method.__code__)
    flags = (code.co_flags & ~_NOT_A_COROUTINE) | inspect.CO_COROUTINE
    wrapper.__code__ = code.replace(co_flags=flags)  # type: ignore[attr-defined]
    wrapper.__defaults__ = getattr(source, "__defaults__", None)  # type: ignore[attr-defined]
    wrapper.__kwdefaults__ = getattr(source, "__kwdefaults__", None)  # type: ignore[attr-defined]
    return wrapper


def _owner_name(obj: Any) -> str:
    return obj.__name__ if isinstance(obj, type) else type(obj).__name__
