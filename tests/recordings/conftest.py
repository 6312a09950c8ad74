"""The recorder core runs without hass: real ffmpeg against the shared RTSP fixture."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(socket_enabled: None) -> None:
    """Override the package-wide fixture: no hass; sockets on (phcc keeps them on loopback)."""
    return
