"""The federation library runs without Home Assistant, so its tests start no hass."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """Override the package-wide fixture: no hass, no custom integrations to enable."""
    return
