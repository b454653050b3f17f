"""Optional packages: imported when a feature needs them, with the install line when missing.

    motor_asyncio = require("motor.motor_asyncio", "driver='motor'", "motor")
"""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["require"]


def require(module: str, feature: str, extra: str) -> ModuleType:
    """Import ``module``, or raise ImportError saying which extra ``feature`` needs."""
    try:
        return importlib.import_module(module)
    except ImportError:  # depends on the install
        package = module.split(".")[0]
        raise ImportError(f"{feature} needs {package}: pip install 'mongomotor[{extra}]'") from None
