"""Porchlight: doorbell footage recorded at home, shared with police only clip by clip.

Home Assistant's entry points live in entry.py and are loaded on first access (PEP 562).
Importing this package must not import Home Assistant: the agency CLI, the demo and the
benchmarks use federation/ and recorder/ on machines that have no Home Assistant.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .entry import (
        CONFIG_SCHEMA,
        PLATFORMS,
        async_remove_entry,
        async_setup,
        async_setup_entry,
        async_unload_entry,
        identity_path,
        recordings_path,
    )

__all__ = [
    "CONFIG_SCHEMA",
    "PLATFORMS",
    "async_remove_entry",
    "async_setup",
    "async_setup_entry",
    "async_unload_entry",
    "identity_path",
    "recordings_path",
]


def __getattr__(name: str) -> Any:  # noqa: ANN401  # whatever entry.py defines
    """Load Home Assistant's entry points from entry.py when Home Assistant asks for them."""
    if name in __all__:
        return getattr(import_module(".entry", __name__), name)
    msg = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(msg)
