"""Public names for objects defined in the layers below the public modules.

    publish(__name__, Document, QuerySet)   # in mongomotor/document.py

A class or function users see keeps the path of the public module that offers
it (``mongomotor.document.Document``), wherever the package defines it: pickles,
Sphinx cross-references and ``repr`` stay the same as the code moves.
"""

from __future__ import annotations

from typing import Any

__all__ = ["publish"]


def publish(module: str, *objects: Any) -> None:
    """Give each class or function in ``objects`` the public ``module`` as its ``__module__``."""
    for obj in objects:
        obj.__module__ = module
