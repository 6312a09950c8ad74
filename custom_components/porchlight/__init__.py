"""Porchlight: doorbell footage recorded at home, shared with police only clip by clip.

Home Assistant's entry points live in entry.py. Importing this package must not import Home
Assistant: the agency CLI, the demo and the benchmarks use federation/ and recordings/ on
machines that have no Home Assistant. So entry.py is imported here only when Home Assistant
is already running in this process, which is how its loader imports integrations: in its
import executor, so the entry points are plain attributes by the time the event loop looks
them up. Anyone else gets them on first access (PEP 562).
"""

from __future__ import annotations

import sys
from importlib import import_module
from typing import Any

if "homeassistant.core" in sys.modules:
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
    """Load Home Assistant's entry points from entry.py on first access outside hass."""
    if name in __all__:
        return getattr(import_module(f"{__name__}.entry"), name)
    msg = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(msg)
