"""The runtime layer: the greenlet seam, task-local state, patching and async helpers.

    from mongomotor.runtime.bridge import run_sync, await_

It imports nothing of MongoEngine or of the layers above it (``drivers``,
``odm``, ``install``, the public modules).
"""
