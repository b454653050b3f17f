"""How a facade object reaches its driver object: attribute dispatch and unwrapping.

    collection.insert_one(doc)   # _Facade.__getattr__ -> _call -> the driver's, awaited
    unwrap(facade_db)            # the driver database behind it
"""

from __future__ import annotations

import functools
import types
from typing import TYPE_CHECKING, Any

from mongomotor.drivers.facade.sessions import prepare_call
from mongomotor.runtime.observers import record_operation
from mongomotor.runtime.task_state import sessions

if TYPE_CHECKING:
    from mongomotor.drivers.facade.client import SyncClient

_MISSING = object()
_COROUTINE = types.CoroutineType


def unwrap(value: Any) -> Any:
    """The driver object behind a facade object (facades handed back into the driver)."""
    target = getattr(value, "_facade_target", None)
    return target() if target is not None else value


_SETTINGS = frozenset({"write_concern", "read_concern", "read_preference", "codec_options"})


class _Facade:
    """Dispatch of any other driver attribute: awaitables are awaited in the bridge."""

    _client: SyncClient

    def _facade_target(self) -> Any:
        raise NotImplementedError

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        target = self._facade_target()
        kind = _attribute_kind(type(target), name)
        if kind is _METHOD:
            # Kept on the facade: a driver's method stays a method, and the next
            # ``collection.insert_one`` is a plain attribute read.
            operation = self.__dict__[name] = functools.partial(self._call, name)
            return operation
        if kind is _MISSING:
            return self._missing_attribute(name)
        value = self._client.adapt(getattr(target, name))
        if name in _SETTINGS:
            # Fixed by the client's settings and this facade's options, the same
            # for every loop's driver object: MongoEngine reads write_concern on
            # every save.
            self.__dict__[name] = value
        return value

    def _missing_attribute(self, name: str) -> Any:
        # As in PyMongo: ``client.admin`` is a database, ``db.things`` a collection.
        return self[name]  # type: ignore[index]

    def _call(self, name: str, /, *args: Any, **kwargs: Any) -> Any:
        # ``name`` is positional-only: operations take a ``name=`` keyword too
        # (``create_index(keys, name="by_date")``).
        if args:
            args = tuple(unwrap(a) for a in args)
        if kwargs:
            kwargs = {k: unwrap(v) for k, v in kwargs.items()}
        target = self._facade_target()
        if sessions.get():
            name, args = prepare_call(self._client, target, name, args, kwargs)
        record_operation(name)
        method = getattr(target, name)
        client = self._client
        backend = client.backend
        if backend.checks_calls:
            backend.before_call(client, name, args, kwargs)
        if backend.observes_writes:  # e.g. an in-memory change stream is open
            return client.adapt(backend.observe_write(target, name, method, args, kwargs), self)
        return client.adapt(method(*args, **kwargs), self)


_METHOD = object()
_VALUE = object()


@functools.lru_cache(maxsize=1024)
def _attribute_kind(driver_class: type, name: str) -> object:
    """Whether ``name`` is an operation, a plain value, or absent on a driver class.

    Collections and databases answer any name with a sub-object (and define
    ``__call__``), so only what the class itself defines counts, and a
    property is a value even when what it returns is callable.
    """
    attribute = getattr(driver_class, name, _MISSING)
    if attribute is _MISSING:
        return _MISSING
    if isinstance(attribute, property) or not callable(attribute):
        return _VALUE
    return _METHOD


class _Nested(_Facade):
    """A database or collection: its driver object is built from its parent's, per loop."""

    _cache: tuple[Any, Any] | None = None
    name: str | None

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        # ``coll.fnd({})`` reaches here: ``coll.fnd`` is a sub-collection.
        name = self.name or ""
        raise TypeError(
            f"{type(self).__name__} {name!r} is not callable: if {name.rpartition('.')[2]!r} "
            "was meant as a method, the driver has no method of that name"
        )

    def _build(self, parent: Any) -> Any:
        raise NotImplementedError

    def _driver_object_under(self, parent: Any) -> Any:
        # The parent changes only when another loop's client is in use.
        cache = self._cache
        if cache is not None and cache[0] is parent:
            return cache[1]
        real = self._build(parent)
        self._cache = (parent, real)
        return real
