"""The MongoEngine integration: MongoEngine subclassed and delegated to, one concern a module.

    from mongomotor.odm.documents import Document

``plans`` (compiled loading, encoding and one-clone reads), ``references``,
``files`` (GridFS), ``querying`` (QuerySet, cursors, change streams), and
documents, connections, transactions, context managers and signals. It imports
``runtime`` and ``drivers``, never ``install`` or the public modules.
"""
