# pyright: reportPrivateUsage=false
# (_Field is the stub-only base of every field, declared in fields.pyi)
# Types of mongomotor.odm.files.fields: a FileField's value is its GridFSProxy, whose
# I/O methods are coroutines in user code.
from collections.abc import AsyncIterator, Coroutine
from types import TracebackType
from typing import Any, overload

from typing_extensions import Self

from mongomotor.document import NoDerefInitMixin
from mongomotor.fields import _Field
from mongomotor.odm.files.gridfs import GridFS, GridOut

__all__ = [
    "FileField",
    "FileMetadataNotLoaded",
    "GridFSError",
    "GridFSProxy",
    "ImageField",
    "ImageGridFsProxy",
]

class GridFSError(Exception): ...
class FileMetadataNotLoaded(GridFSError): ...

class GridFSProxy:
    grid_id: Any
    key: str | None
    instance: Any
    db_alias: str
    collection_name: str
    gridout: GridOut | None  # the stored file, once ``get()`` or ``read()`` loaded it
    @property
    def fs(self) -> GridFS: ...
    def get(self, grid_id: Any = None) -> Coroutine[Any, Any, GridOut | None]: ...
    def put(self, file_obj: Any, **kwargs: Any) -> Coroutine[Any, Any, None]: ...
    def write(self, data: Any) -> Coroutine[Any, Any, None]: ...
    def writelines(self, lines: Any) -> Coroutine[Any, Any, None]: ...
    def close(self) -> Coroutine[Any, Any, None]: ...
    def read(self, size: int = -1) -> Coroutine[Any, Any, bytes | None]: ...
    def delete(self) -> Coroutine[Any, Any, None]: ...
    def replace(self, file_obj: Any, **kwargs: Any) -> Coroutine[Any, Any, None]: ...
    async def __aenter__(self) -> Self: ...
    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...
    def __aiter__(self) -> AsyncIterator[bytes]: ...
    def __bool__(self) -> bool: ...

class ImageGridFsProxy(GridFSProxy):
    @property
    def size(self) -> Coroutine[Any, Any, tuple[int, int] | None]: ...
    @property
    def format(self) -> Coroutine[Any, Any, str | None]: ...
    @property
    def thumbnail(self) -> Coroutine[Any, Any, GridOut | None]: ...

class FileField(_Field[GridFSProxy]):
    proxy_class: type[GridFSProxy]
    load_metadata: bool
    def __init__(
        self,
        db_alias: str = ...,
        collection_name: str = "fs",
        *,
        load_metadata: bool = False,
        **kwargs: Any,
    ) -> None: ...
    def __set__(self, instance: NoDerefInitMixin, value: GridFSProxy | None) -> None: ...

class ImageField(FileField):
    def __init__(
        self,
        size: tuple[int, int, bool] | None = None,
        thumbnail_size: tuple[int, int, bool] | None = None,
        collection_name: str = "images",
        *,
        load_metadata: bool = False,
        **kwargs: Any,
    ) -> None: ...
    @overload
    def __get__(self, instance: None, owner: Any) -> Self: ...
    @overload
    def __get__(self, instance: NoDerefInitMixin, owner: Any) -> ImageGridFsProxy: ...
