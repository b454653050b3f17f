"""GridFS over every driver, with PyMongo's sync ``gridfs.GridFS`` API.

``GridFS(alias, collection)`` is what :class:`~mongomotor.odm.files.fields.GridFSProxy`
uses as ``fs``. Its methods (and those of the :class:`GridIn` / :class:`GridOut`
it returns) are awaitable in user code and plain inside the bridge, where
MongoEngine's own ``GridFSProxy`` logic calls them:

    fs = GridFS("default", "fs")
    file_id = await fs.put(b"hello", filename="hello.txt")
    data = await (await fs.get(file_id)).read()

Writes and deletes go through each driver's own GridFS code, asked of its
:class:`~mongomotor.drivers.backend.Backend` (``new_grid_file``,
``delete_grid_file``).
Reads fetch one chunk per round trip through the driver facade, so reading a
file in pieces holds at most one chunk besides what the caller asked for
(drivers' own readers fetch whole cursor batches, up to 16 MB at a time).
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import mongoengine.connection as me_connection
from gridfs.errors import CorruptGridFile, NoFile
from mongoengine.connection import DEFAULT_CONNECTION_NAME

from mongomotor.odm import connections as connection
from mongomotor.odm.registry import registered_client
from mongomotor.runtime.bridge import await_, awaitable_method

__all__ = ["GridFS", "GridIn", "GridOut", "NoFile", "CorruptGridFile"]


def _resolve(value: Any) -> Any:
    """Wait for driver awaitables (the in-memory writer yields once; others do I/O)."""
    return await_(value) if inspect.isawaitable(value) else value


def _driver(alias: str) -> Any:
    """The facade client of ``alias``: its backend writes and deletes the files."""
    return registered_client(alias)


# -- the driver-independent API -------------------------------------------------
class GridFS:
    """A GridFS bucket of an alias, like ``gridfs.GridFS(db, collection)``.

        file_id = await GridFS("default", "fs").put(b"data", filename="a.txt")
        data = await (await GridFS().get(file_id)).read()
    """

    def __init__(self, alias: str = DEFAULT_CONNECTION_NAME, collection: str = "fs") -> None:
        self.alias = alias
        self.collection = collection

    def _facade_collection(self, suffix: str) -> Any:
        registered_client(self.alias)  # an unconnected alias: say to connect() it
        return me_connection.get_db(self.alias)[f"{self.collection}.{suffix}"]

    def new_file(self, **kwargs: Any) -> GridIn:
        """A writer for a new file; ``kwargs`` become fields of its files document (no I/O).

            grid_in = fs.new_file(filename="log.txt")
            await grid_in.write(b"line"); await grid_in.close()
        """
        db = connection.driver_db(self.alias)
        return GridIn(_driver(self.alias).backend.new_grid_file(db, self.collection, **kwargs))

    @awaitable_method
    def put(self, data: Any, **kwargs: Any) -> Any:
        """Store bytes or a file-like object as a new file; returns its id (awaitable)."""
        grid_in = self.new_file(**kwargs)
        try:
            grid_in.write(data)
            grid_in.close()
        except BaseException as exc:  # cancelled included: store nothing
            discard_unfinished(self, grid_in._id, exc)
            raise
        return grid_in._id

    @awaitable_method
    def get(self, file_id: Any) -> GridOut:
        """The stored file ``file_id``, metadata only; raises ``NoFile`` (awaitable)."""
        document = self._facade_collection("files").find_one({"_id": file_id})
        if document is None:
            raise NoFile(
                f"no file with _id {file_id!r} in GridFS {self.collection!r} "
                f"of alias {self.alias!r}"
            )
        return GridOut(self._facade_collection("chunks"), document)

    @awaitable_method
    def delete(self, file_id: Any) -> None:
        """Remove the file ``file_id`` and its chunks; a missing file is no error (awaitable)."""
        if file_id is None:
            return  # a proxy without a file: nothing is stored under None
        db = connection.driver_db(self.alias)
        _resolve(_driver(self.alias).backend.delete_grid_file(db, self.collection, file_id))

    def __repr__(self) -> str:
        return f"<mongomotor GridFS {self.collection!r} of alias {self.alias!r}>"


def discard_unfinished(fs: GridFS, file_id: Any, exc: BaseException) -> None:
    """Remove the chunks (and files document) of a file whose writing failed with ``exc``.

    Runs inside the bridge. A failure of this cleanup (a second cancellation, a
    lost server) is chained to ``exc`` as its context; ``exc`` is what the
    caller sees.
    """
    try:
        # Chunks first: interrupted here, no chunk is left without its files document.
        fs._facade_collection("chunks").delete_many({"files_id": file_id})
        fs._facade_collection("files").delete_one({"_id": file_id})
    except BaseException as cleanup:
        cleanup.__context__ = None
        exc.__context__ = cleanup


class GridIn:
    """A file being written; ``close()`` stores it (write/close are awaitable)."""

    def __init__(self, driver_grid_in: Any) -> None:
        self._grid_in = driver_grid_in

    @property
    def _id(self) -> Any:
        return self._grid_in._id

    @property
    def closed(self) -> bool:
        return bool(self._grid_in.closed)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name == "_grid_in":
            raise AttributeError(name)
        return getattr(self._grid_in, name)

    @awaitable_method
    def write(self, data: Any) -> None:
        """Append bytes, or the content of a file-like object (awaitable)."""
        _resolve(self._grid_in.write(data))

    @awaitable_method
    def writelines(self, sequence: Any) -> None:
        _resolve(self._grid_in.writelines(sequence))

    @awaitable_method
    def close(self) -> None:
        """Flush the last chunk and store the files document (awaitable)."""
        _resolve(self._grid_in.close())

    @awaitable_method
    def abort(self) -> None:
        """Remove the chunks written so far (awaitable)."""
        _resolve(self._grid_in.abort())

    def __repr__(self) -> str:
        return f"<mongomotor GridIn {self._id!r}>"


_FILE_KEYS = {
    "filename": "filename",
    "name": "filename",
    "content_type": "contentType",
    "length": "length",
    "chunk_size": "chunkSize",
    "upload_date": "uploadDate",
    "aliases": "aliases",
    "metadata": "metadata",
    "md5": "md5",
}


class GridOut:
    """A stored file: its metadata as attributes, its data read a chunk at a time.

        print(gridout.filename, gridout.length, gridout.content_type)
        while piece := await gridout.read(64 * 1024): ...
    """

    def __init__(self, chunks: Any, file_document: dict[str, Any]) -> None:
        self._chunks = chunks
        self._file = file_document
        self._position = 0
        self._chunk = b""  # the chunk being read, from self._chunk_pos on
        self._chunk_pos = 0

    # -- metadata -----------------------------------------------------------
    @property
    def _id(self) -> Any:
        return self._file["_id"]

    @property
    def file_document(self) -> dict[str, Any]:
        """The files-collection document: every field given to ``put``/``new_file``."""
        return self._file

    def __getattr__(self, name: str) -> Any:
        document = self.__dict__.get("_file")
        if document is None or name.startswith("__"):
            raise AttributeError(name)
        key = _FILE_KEYS.get(name, name)
        if key in document:
            return document[key]
        if name in _FILE_KEYS:
            return None  # optional GridFS fields (filename, contentType...) not set
        raise AttributeError(f"GridOut has no attribute {name!r}")

    # -- reading ------------------------------------------------------------
    @property
    def buffered(self) -> int:
        """Bytes already received from the server and not yet returned by a read."""
        return len(self._chunk) - self._chunk_pos

    def tell(self) -> int:
        return self._position

    def seek(self, pos: int, whence: int = 0) -> int:
        """Move the read position (no I/O); ``whence`` as ``io.IOBase.seek``."""
        base = {0: 0, 1: self._position, 2: int(self.length)}[whence]
        if base + pos < 0:
            raise ValueError("cannot seek before the start of the file")
        self._position = base + pos
        self._chunk, self._chunk_pos = b"", 0
        return self._position

    def _fetch_chunk(self) -> None:
        chunk_size = int(self._file["chunkSize"])
        length = int(self._file["length"])
        number, offset = divmod(self._position, chunk_size)
        document = self._chunks.find_one({"files_id": self._id, "n": number})
        if document is None:
            raise CorruptGridFile(f"no chunk #{number} for file {self._id!r}")
        data = bytes(document["data"])
        expected = min(chunk_size, length - number * chunk_size)
        if len(data) != expected:
            raise CorruptGridFile(
                f"chunk #{number} of file {self._id!r} has {len(data)} bytes, expected {expected}"
            )
        self._chunk, self._chunk_pos = data, offset

    @awaitable_method
    def readchunk(self) -> bytes:
        """The rest of the current chunk (the next whole chunk); ``b""`` at the end."""
        if self._position >= int(self._file["length"]):
            return b""
        if not self.buffered:
            self._fetch_chunk()
        piece = self._chunk[self._chunk_pos :]
        self._chunk, self._chunk_pos = b"", 0
        self._position += len(piece)
        return piece

    @awaitable_method
    def read(self, size: int = -1) -> bytes:
        """At most ``size`` bytes (all that remain if negative), fetching chunks as needed."""
        remaining = int(self._file["length"]) - self._position
        if size < 0 or size > remaining:
            size = remaining
        parts: list[bytes] = []
        received = 0
        while received < size:
            if not self.buffered:
                self._fetch_chunk()
            take = min(size - received, self.buffered)
            parts.append(self._chunk[self._chunk_pos : self._chunk_pos + take])
            self._chunk_pos += take
            if not self.buffered:
                self._chunk, self._chunk_pos = b"", 0
            self._position += take
            received += take
        return b"".join(parts)

    async def __aiter__(self) -> AsyncIterator[bytes]:
        """The rest of the file, chunk by chunk: ``async for chunk in gridout``."""
        readchunk: Callable[[], Awaitable[bytes]] = self.readchunk
        while chunk := await readchunk():
            yield chunk

    def __repr__(self) -> str:
        return f"<mongomotor GridOut {self._id!r} {self._file.get('filename')!r}>"
