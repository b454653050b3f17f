"""MongoEngine's signals, whose receivers may also be coroutine functions.

    @signals.pre_save.connect_via(Post)
    async def stamp(sender, document, **kwargs):
        document.slug = await make_unique_slug(document.title)

These are the very objects MongoEngine sends (``mongoengine.signals.pre_save
is mongomotor.odm.signals.pre_save``), so a receiver connected through either
module fires. MongoEngine sends them from its own sync code, which runs inside
the bridge: a coroutine receiver is awaited right there, before MongoEngine
goes on, and its exception aborts the operation as a sync receiver's does.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Coroutine
from typing import Any

import blinker
import mongoengine.signals as me_signals

from mongomotor.runtime.bridge import await_, in_bridge

SIGNAL_NAMES = (
    "pre_init",
    "post_init",
    "pre_save",
    "pre_save_post_validation",
    "post_save",
    "pre_delete",
    "post_delete",
    "pre_bulk_insert",
    "post_bulk_insert",
)

__all__ = ["Namespace", "Signal", "signals_available", *SIGNAL_NAMES]

signals_available = True


def _await_in_bridge(receiver: Callable[..., Coroutine[Any, Any, Any]]) -> Callable[..., Any]:
    def call(*args: Any, **kwargs: Any) -> Any:
        return await_(receiver(*args, **kwargs))

    return call


def _refuse_outside_bridge(receiver: Callable[..., Any]) -> Callable[..., Any]:
    name = getattr(receiver, "__qualname__", repr(receiver))

    def call(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(
            f"signal receiver {name} is a coroutine function, but the signal was sent "
            "from sync code that cannot wait for it (e.g. a Document built in plain "
            "code fires pre_init/post_init). Await the signal with "
            "`await signal.send_async(sender, ...)`, run the sync code with "
            "`await mongomotor.run_sync(fn)`, or connect a plain function."
        )

    return call


def _as_coroutine(receiver: Callable[..., Any]) -> Callable[..., Coroutine[Any, Any, Any]]:
    async def call(*args: Any, **kwargs: Any) -> Any:
        result = receiver(*args, **kwargs)
        return await result if inspect.isawaitable(result) else result

    return call


class Signal(blinker.NamedSignal):
    """A blinker signal whose coroutine receivers are awaited where it is sent.

        signal.connect(receiver, sender=Post)   # receiver: def or async def
        await signal.send_async(Post, document=post)
    """

    def send(
        self,
        sender: Any | None = None,
        /,
        *,
        _async_wrapper: Callable[[Callable[..., Coroutine[Any, Any, Any]]], Callable[..., Any]]
        | None = None,
        **kwargs: Any,
    ) -> list[tuple[Callable[..., Any], Any]]:
        """Call every receiver; inside the bridge, coroutine receivers are awaited in turn."""
        if not self.receivers:
            return []  # MongoEngine sends five signals per save: keep the empty case free
        if _async_wrapper is None:
            _async_wrapper = _await_in_bridge if in_bridge() else _refuse_outside_bridge
        return super().send(sender, _async_wrapper=_async_wrapper, **kwargs)

    async def send_async(
        self,
        sender: Any | None = None,
        /,
        *,
        _sync_wrapper: Callable[[Callable[..., Any]], Callable[..., Coroutine[Any, Any, Any]]]
        | None = None,
        **kwargs: Any,
    ) -> list[tuple[Callable[..., Any], Any]]:
        """Await every receiver in turn; plain receivers are simply called."""
        return await super().send_async(
            sender, _sync_wrapper=_sync_wrapper or _as_coroutine, **kwargs
        )


class Namespace(blinker.Namespace):
    """A namespace of :class:`Signal` for your own signals.

        my_signals = Namespace()
        published = my_signals.signal("published")
    """

    def signal(self, name: str, doc: str | None = None) -> Signal:  # type: ignore[override]
        if name not in self:
            self[name] = Signal(name, doc)
        return self[name]  # type: ignore[return-value]


# MongoEngine sends the objects below from its own code; mongomotor.install.install
# (run when the package is imported) makes them instances of our Signal class.
pre_init: Signal = me_signals.pre_init
post_init: Signal = me_signals.post_init
pre_save: Signal = me_signals.pre_save
pre_save_post_validation: Signal = me_signals.pre_save_post_validation
post_save: Signal = me_signals.post_save
pre_delete: Signal = me_signals.pre_delete
post_delete: Signal = me_signals.post_delete
pre_bulk_insert: Signal = me_signals.pre_bulk_insert
post_bulk_insert: Signal = me_signals.post_bulk_insert
