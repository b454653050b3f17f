"""Conformance adapter: mongomotor, with every MongoEngine document built by the constructor.

MongoEngine's own tests define plain ``mongoengine.Document`` classes, whose
``__init__`` is MongoEngine's; this adapter sends it (and
``EmbeddedDocument.__init__``) through :mod:`mongomotor.odm.plans.constructor`
first, and loads documents through the compiled loader as
``loader_everywhere`` does, so the conformance suite checks both against all of
them. Test support only: it replaces MongoEngine's methods for the whole process.

    WORK=/tmp/mongoengine-suite  # after one run of run-mongoengine-suite
    PYTHONPATH=$PWD NX_BIN=.venv/bin/nx-27017 MESUITE_BASELINE=cache \\
      bash $WORK/tool/run.sh $PWD/tests/support/constructor_everywhere.py start \\
      $WORK/me/tests .venv/bin/python
"""

from typing import Any

from mongoengine.base.document import BaseDocument
from mongoengine.document import EmbeddedDocument

import mongomotor
from mongomotor.odm.plans import constructor
from mongomotor.odm.plans import loader as loading
from mongomotor.odm.plans.compiler import add_hook

BaseDocument._from_son = classmethod(loading.from_son)


def _hook(owner: type) -> None:
    """``owner.__init__`` builds through the constructor, else runs the original."""
    original = owner.__dict__["__init__"]

    def __init__(self: Any, *args: Any, **values: Any) -> None:
        if args or not constructor.construct(self, values):
            original(self, *args, **values)

    owner.__init__ = __init__  # type: ignore[misc]
    add_hook(__init__, original)


_hook(BaseDocument)
_hook(EmbeddedDocument)

run_sync = mongomotor.run_sync
connect = mongomotor.connect
