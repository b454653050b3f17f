"""Decorators kept for compatibility with code written for older Pythons.

    @aiter_compat
    def __aiter__(self): return self
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

F = TypeVar("F", bound=Callable)

__all__ = ["aiter_compat"]


def aiter_compat(func: F) -> F:
    """Mark an ``__aiter__`` method; on Python 3.7+ it is returned unchanged.

    Python 3.5.2 changed ``__aiter__`` from a coroutine to a plain method; the
    decorator papered over that. Every Python mongomotor supports has the new
    protocol, so it only keeps old class definitions importable.
    """
    return func
