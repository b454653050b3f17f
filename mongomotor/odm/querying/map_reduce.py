"""Map/reduce results, whose document loads on ``await``.

    results = await Post.objects.map_reduce(map_f, reduce_f, "inline")
    post = await results[0].object
"""

from __future__ import annotations

from typing import Any

import mongoengine.document

from mongomotor.runtime.bridge import in_bridge, named, require_loop, run_sync

__all__ = ["MapReduceDocument"]


class MapReduceDocument(mongoengine.document.MapReduceDocument):
    """A map/reduce result; ``await result.object`` loads the document of its key."""

    @property
    def object(self) -> Any:
        getter = super(MapReduceDocument, type(self)).object.fget
        if in_bridge():
            return getter(self)
        require_loop("MapReduceDocument.object")
        return named(run_sync(getter, self), "MapReduceDocument.object")
