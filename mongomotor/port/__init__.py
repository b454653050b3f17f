"""``mongomotor port``: rewrites a MongoEngine codebase for mongomotor and lists what
it could not decide.

    mongomotor port --diff app/      # show the change
    mongomotor port --write app/     # apply it; --check fails while sync I/O is left

It reads code and never runs it: nothing here imports mongomotor's runtime.
"""

from mongomotor.port.engine import PortResult, port_paths

__all__ = ["PortResult", "port_paths"]
