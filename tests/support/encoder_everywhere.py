"""Conformance adapter: mongomotor, with every MongoEngine document encoded by the compiled encoder.

MongoEngine's own tests define plain ``mongoengine.Document`` classes, which
do not encode through :mod:`mongomotor.odm.plans.encoder`; this adapter makes them do
(``to_mongo``, ``validate``, ``_clear_changed_fields``, ``_get_changed_fields``),
and loads them through the compiled loader as ``loader_everywhere`` does, so the conformance suite
checks both against all of them. Test support only: it replaces MongoEngine's
methods for the whole process.

    WORK=/tmp/mongoengine-suite  # after one run of run-mongoengine-suite
    PYTHONPATH=$PWD NX_BIN=.venv/bin/nx-27017 MESUITE_BASELINE=cache \\
      bash $WORK/tool/run.sh $PWD/tests/support/encoder_everywhere.py start \\
      $WORK/me/tests .venv/bin/python
"""

import mongoengine
from mongoengine.base.document import BaseDocument

import mongomotor
from mongomotor.odm.plans import encoder as encoding
from mongomotor.odm.plans import loader as loading
from mongomotor.odm.plans.compiler import add_hook

BaseDocument._from_son = classmethod(loading.from_son)


_ASK_MONGOENGINE = object()


def _hook(owner: type, name: str, encoded: object) -> None:
    """Replace ``owner.name`` by ``encoded``, which falls back to the original method."""
    original = owner.__dict__[name]

    def method(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        result = encoded(self, *args, **kwargs)
        return original(self, *args, **kwargs) if result is _ASK_MONGOENGINE else result

    method.__name__ = name
    setattr(owner, name, method)
    add_hook(method, original)


def _to_mongo(doc, use_db_field=True, fields=None):  # type: ignore[no-untyped-def]
    son = encoding.to_mongo(doc, use_db_field, fields)
    return _ASK_MONGOENGINE if son is None else son


def _validate(doc, clean=True):  # type: ignore[no-untyped-def]
    return None if encoding.validate(doc, clean) else _ASK_MONGOENGINE


def _clear_changed_fields(doc):  # type: ignore[no-untyped-def]
    return None if encoding.clear_changed_fields(doc) else _ASK_MONGOENGINE


def _get_changed_fields(doc):  # type: ignore[no-untyped-def]
    changed = encoding.changed_fields(doc)
    return _ASK_MONGOENGINE if changed is None else changed


_hook(mongoengine.Document, "to_mongo", _to_mongo)
_hook(mongoengine.EmbeddedDocument, "to_mongo", _to_mongo)
_hook(BaseDocument, "validate", _validate)
_hook(BaseDocument, "_clear_changed_fields", _clear_changed_fields)
_hook(BaseDocument, "_get_changed_fields", _get_changed_fields)

run_sync = mongomotor.run_sync
connect = mongomotor.connect
