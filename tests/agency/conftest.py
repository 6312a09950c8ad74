"""The agency CLI runs in-process (main(argv) in a worker thread, with its own event loop)
against real federation homes served on 127.0.0.1 by the test's loop.

The homes' `clock` and `network` are the package-wide ones (tests/conftest.py): they follow
real time, as the CLI signs with the system clock. The CLI helpers are in cli_helpers.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from porchlight_agency import fetch
from porchlight_dev.rtsp import free_port
from tests.hass_free import auto_enable_custom_integrations

from .cli_helpers import Cli
from .share_server import ShareServer

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator
    from pathlib import Path

__all__ = ["auto_enable_custom_integrations"]  # a fixture, used by name


@pytest.fixture
def cli(socket_enabled: None, tmp_path: Path) -> Cli:
    """A fresh agency profile directory (not created yet) and a free port for its inbox."""
    return Cli(tmp_path / "agency", free_port())


@pytest.fixture
async def shares(socket_enabled: None) -> AsyncGenerator[ShareServer]:
    """The homes' clip downloads (a stand-in for the share view) on loopback."""
    server = ShareServer()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def no_retry_delay(monkeypatch: pytest.MonkeyPatch) -> None:
    """Resume at once in tests (the download and fetch tests use it throughout)."""
    monkeypatch.setattr(fetch, "RETRY_DELAY", 0)
