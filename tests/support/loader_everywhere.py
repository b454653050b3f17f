"""Conformance adapter: mongomotor, with every MongoEngine document built by the compiled loader.

MongoEngine's own tests define plain ``mongoengine.Document`` classes, which
do not load through :mod:`mongomotor.odm.plans.loader`; this adapter makes them do, so
the conformance suite checks the loader against all of them. Test support
only: it replaces ``BaseDocument._from_son`` for the whole process.

    WORK=/tmp/mongoengine-suite  # after one run of run-mongoengine-suite
    PYTHONPATH=$PWD NX_BIN=.venv/bin/nx-27017 MESUITE_BASELINE=cache \\
      bash $WORK/tool/run.sh $PWD/tests/support/loader_everywhere.py start \\
      $WORK/me/tests .venv/bin/python
"""

from mongoengine.base.document import BaseDocument

import mongomotor
from mongomotor.odm.plans import loader as loading

BaseDocument._from_son = classmethod(loading.from_son)
run_sync = mongomotor.run_sync
connect = mongomotor.connect
