"""GridFS file fields: MongoEngine's ``FileField`` / ``ImageField``, awaitable.

    class Animal(Document):
        photo = FileField()

    await animal.photo.put(data, content_type="image/png", filename="cat.png")
    await animal.save()
    async for chunk in animal.photo:  # streams, one chunk at a time
        ...

MongoEngine's ``GridFSProxy`` logic runs unchanged: in user code each proxy
method runs it in the bridge and is awaited; inside the bridge (MongoEngine's
``Document.delete`` deleting the files of a document) it runs synchronously.
Saving and loading a document never touches GridFS: only the file id is stored.
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Callable
from typing import Any

import mongoengine.fields as me_fields
from mongoengine.connection import DEFAULT_CONNECTION_NAME
from mongoengine.fields import GridFSError

from mongomotor.odm.files.gridfs import GridFS, GridOut, discard_unfinished
from mongomotor.runtime.bridge import awaitable_method, in_bridge, require_loop, run_sync

__all__ = [
    "FileField",
    "FileMetadataNotLoaded",
    "GridFSError",
    "GridFSProxy",
    "ImageField",
    "ImageGridFsProxy",
]

# Attributes MongoEngine's proxy resolves itself (never through the stored file).
_PROXY_ATTRS = frozenset(
    {"_fs", "grid_id", "key", "instance", "db_alias", "collection_name", "newfile", "gridout"}
)


# Names that code probes any value for (MongoEngine's own ``hasattr(value, "items")``,
# ``to_mongo``...): never file metadata, so a probe of an unloaded file says no.
_NOT_METADATA = frozenset(
    {"items", "keys", "to_mongo", "to_python", "to_dict", "validate", "id", "pk", "objects",
     "meta", "isoformat", "tolist", "model_dump", "dict", "json"}
)


class FileMetadataNotLoaded(GridFSError):
    """Metadata of a stored file read before it was loaded: ``await doc.<field>.get()`` first.

        gridout = await doc.photo.get(); doc.photo.content_type   # now the stored value

    Not an ``AttributeError``: ``getattr(doc.photo, "length", 0)`` and ``hasattr``
    raise it rather than answer a default that is not the stored value.
    """


class GridFSProxy(me_fields.GridFSProxy):
    """The value of a :class:`FileField`: awaitable access to one GridFS file.

        await doc.file.put(b"data", content_type="text/plain")
        data = await doc.file.read()
    """

    @property
    def fs(self) -> GridFS:
        """The GridFS bucket of this file (``db_alias``, ``collection_name``); awaitable API."""
        if not self._fs:
            self._fs = GridFS(self.db_alias, self.collection_name)
        return self._fs

    def _already_stored(self, exc: GridFSError) -> GridFSError:
        where = f"doc.{self.key}" if self.key else "the proxy"
        return GridFSError(
            f"{where} already holds the file {self.grid_id!r}: "
            f"`await {where}.replace(data)` overwrites it, "
            f"or `await {where}.delete()` it before writing a new one"
        )

    # -- awaitable in user code, plain inside the bridge --------------------
    @awaitable_method
    def get(self, grid_id: Any = None) -> GridOut | None:
        """The stored file (metadata as attributes), or ``None`` if there is none (awaitable)."""
        return super().get(grid_id)

    @awaitable_method
    def put(self, file_obj: Any, **kwargs: Any) -> None:
        """Store bytes or a file-like object; ``kwargs`` are file metadata (awaitable).

            await doc.file.put(fp, content_type="image/png", filename="cat.png")
        """
        try:
            super().put(file_obj, **kwargs)
        except GridFSError as exc:
            raise self._already_stored(exc) from None

    @awaitable_method
    def write(self, data: Any) -> None:
        """Append to a new file; ``close()`` (or ``async with``) stores it (awaitable).

        A write that fails or is cancelled discards the unfinished file.
        """
        try:
            super().write(data)
        except GridFSError as exc:
            raise self._already_stored(exc) from None
        except BaseException as exc:  # cancelled included: a half-written file is no file
            self._discard_unfinished(exc)
            raise

    @awaitable_method
    def writelines(self, lines: Any) -> None:
        super().writelines(lines)

    @awaitable_method
    def close(self) -> None:
        """Finish the file started by ``write`` (awaitable)."""
        super().close()

    @awaitable_method
    def read(self, size: int = -1) -> bytes | None:
        """Up to ``size`` bytes (all if negative); ``None`` if there is no file (awaitable)."""
        return super().read(size)

    @awaitable_method
    def delete(self) -> None:
        """Remove the file and its chunks from GridFS; the field becomes empty (awaitable)."""
        super().delete()

    @awaitable_method
    def replace(self, file_obj: Any, **kwargs: Any) -> None:
        """Delete the current file (no orphaned chunks) and store ``file_obj`` (awaitable)."""
        super().replace(file_obj, **kwargs)

    # -- async protocols ------------------------------------------------------
    async def __aenter__(self) -> GridFSProxy:
        return self

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            try:
                await self.close()
            except BaseException as failure:  # cancelled included
                await run_sync(self._discard_unfinished, failure)
                raise
        elif self.newfile is not None and not self.newfile.closed:
            await run_sync(self._discard_unfinished, exc)

    def _discard_unfinished(self, exc: BaseException) -> None:
        # The file was never completed: keep no id to it, remove what was
        # written. ``exc`` stays what the caller sees, a cleanup failure chained.
        newfile, file_id = self.newfile, self.grid_id
        if newfile is None:
            return
        self.newfile = None
        self.grid_id = None
        self._mark_as_changed()
        if file_id is not None:
            discard_unfinished(self.fs, file_id, exc)

    async def __aiter__(self) -> AsyncIterator[bytes]:
        """The (rest of the) file chunk by chunk: ``async for chunk in doc.file``."""
        gridout = await self.get()
        if gridout is None:
            return
        async for chunk in gridout:
            yield chunk

    # -- no hidden I/O in user code ------------------------------------------
    def __getattr__(self, name: str) -> Any:
        if in_bridge() or name in _PROXY_ATTRS:
            return super().__getattr__(name)
        gridout = self.__dict__.get("gridout")
        if gridout is not None and not name.startswith("_"):
            return getattr(gridout, name)
        if (
            name.startswith("_")
            or name in _NOT_METADATA
            or self.grid_id is None
            or self.__dict__.get("_mm_no_file")  # loaded: no such file is stored
        ):
            # No file stored (MongoEngine says the same), or a name no file has.
            raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")
        where = f"doc.{self.key}" if self.key else "the proxy"
        raise FileMetadataNotLoaded(
            f"{where}.{name} is metadata of the stored file, not loaded yet: "
            f"`await {where}.get()` loads it (then {where}.{name} reads it), or "
            "`await mongomotor.fields.load_file_metadata(docs)` for many documents in one "
            "query per bucket"
        )

    def __str__(self) -> str:
        gridout = self.__dict__.get("gridout")
        if gridout is not None or in_bridge():
            return super().__str__()
        return f"<{type(self).__name__}: {self.grid_id}>"

    def __copy__(self) -> GridFSProxy:
        copied = type(self).__new__(type(self))
        copied.__dict__.update(self.__getstate__())
        return copied

    def __deepcopy__(self, memo: dict) -> GridFSProxy:
        return copy.copy(self)


def _awaitable_property(name: str) -> property:
    getter: Callable[[Any], Any] = getattr(me_fields.ImageGridFsProxy, name).fget

    def fget(self: Any) -> Any:
        if in_bridge():
            return getter(self)
        require_loop(f"{type(self).__name__}.{name}")
        return run_sync(getter, self)

    fget.__doc__ = f"MongoEngine's ``{name}``; awaitable in user code: ``await doc.image.{name}``."
    return property(fget)


class ImageGridFsProxy(GridFSProxy, me_fields.ImageGridFsProxy):
    """The value of an :class:`ImageField`: ``put`` resizes and stores a thumbnail.

        await doc.image.put(open("cat.jpg", "rb"))
        thumb = await doc.image.thumbnail; data = await thumb.read()
    """

    size = _awaitable_property("size")
    format = _awaitable_property("format")
    thumbnail = _awaitable_property("thumbnail")


class FileField(me_fields.FileField):
    """A file stored in GridFS; the document keeps its id.

        class Animal(Document):
            photo = FileField(db_alias="default", collection_name="fs")
    """

    proxy_class = GridFSProxy

    def __init__(
        self,
        db_alias: str = DEFAULT_CONNECTION_NAME,
        collection_name: str = "fs",
        load_metadata: bool = False,
        **kwargs: Any,
    ) -> None:
        """``load_metadata=True``: QuerySets load the file's metadata with the documents.

            photo = FileField(load_metadata=True)   # doc.photo.length, no await
        """
        super().__init__(db_alias=db_alias, collection_name=collection_name, **kwargs)
        self.load_metadata = load_metadata

    def __set__(self, instance: Any, value: Any) -> None:
        storing = (hasattr(value, "read") and not isinstance(value, me_fields.GridFSProxy)) or (
            isinstance(value, (bytes, str))
        )
        if storing and not in_bridge():
            raise TypeError(
                f"assigning data to {type(self).__name__} {self.name!r} would write to "
                f"GridFS without awaiting: use `await doc.{self.name}.put(data)` "
                f"(or `await doc.{self.name}.replace(data)` to overwrite a stored file)"
            )
        super().__set__(instance, value)


class ImageField(FileField, me_fields.ImageField):
    """An image in GridFS, resized to ``size`` with an optional thumbnail.

        photo = ImageField(size=(800, 600, True), thumbnail_size=(100, 100, True))
    """

    proxy_class = ImageGridFsProxy

    def __init__(
        self,
        size: Any = None,
        thumbnail_size: Any = None,
        collection_name: str = "images",
        load_metadata: bool = False,
        **kwargs: Any,
    ) -> None:
        # MongoEngine's ImageField.__init__ (its own defaults), then the switch.
        me_fields.ImageField.__init__(
            self, size=size, thumbnail_size=thumbnail_size, collection_name=collection_name,
            **kwargs,
        )
        self.load_metadata = load_metadata
