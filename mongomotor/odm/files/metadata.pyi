# Types of mongomotor.odm.files.metadata: loading file metadata is a coroutine in user code.
from collections.abc import Coroutine, Iterable
from typing import Any

__all__ = ["load_file_metadata", "FilesAhead", "loads_with_documents", "load_with_documents"]

class FilesAhead:
    stored: dict[tuple[str, str], dict[Any, dict[str, Any]]]
    def __init__(self) -> None: ...

def loads_with_documents(cls: type) -> bool: ...
def load_with_documents(
    cls: type,
    documents: list[Any],
    ahead: FilesAhead | None = None,
    raw_ahead: Iterable[dict[str, Any]] = (),
) -> None: ...
def load_file_metadata(documents: Iterable[Any]) -> Coroutine[Any, Any, int]: ...
