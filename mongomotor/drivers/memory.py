"""The in-memory driver: ``connect(host='mongomock://localhost/db')``.

mongomock objects are sync and do no I/O, so MongoEngine uses them directly:
nothing switches to the loop, and one client serves every event loop.
"""

from __future__ import annotations

from typing import Any

SCHEME = "mongomock://"


def is_memory_host(host: Any) -> bool:
    hosts = host if isinstance(host, (list, tuple)) else [host]
    return any(isinstance(h, str) and h.startswith(SCHEME) for h in hosts)


def client_class() -> type:
    try:
        import mongomock
    except ImportError:  # pragma: no cover - depends on the install
        raise ImportError(
            "the in-memory driver needs mongomock: pip install 'mongomotor[mock]'"
        ) from None
    return mongomock.MongoClient


def as_mongodb_uri(host: Any) -> Any:
    """mongomock parses ``mongodb://`` URIs: translate our scheme for it."""
    if isinstance(host, (list, tuple)):
        return [as_mongodb_uri(h) for h in host]
    if isinstance(host, str) and host.startswith(SCHEME):
        return "mongodb://" + host[len(SCHEME):]
    return host
