"""The patches mongomotor makes to MongoEngine (the 0.17 API's module name).

    with MonkeyPatcher() as patcher:
        patcher.patch_get_mongodb_version()

``MonkeyPatcher.patch_qs_stop_iteration`` is kept for compatibility only: it
patches nothing (see its docstring).
"""

from mongomotor.install import MonkeyPatcher, install
from mongomotor.runtime.naming import publish

__all__ = ["MonkeyPatcher", "install"]

publish(__name__, MonkeyPatcher, install)
