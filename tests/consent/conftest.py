"""The consent core runs without Home Assistant: plain files, a hand-moved clock, real keys."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from custom_components.porchlight.consent.audit import AuditLog
from custom_components.porchlight.federation.clock import ManualClock
from custom_components.porchlight.federation.identity import Identity

if TYPE_CHECKING:
    from collections.abc import Generator
    from pathlib import Path


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """Override the package-wide fixture: no hass, no custom integrations to enable."""
    return


@pytest.fixture
def clock() -> ManualClock:
    """Time that moves only when a test moves it."""
    return ManualClock()


@pytest.fixture(scope="session")
def identity() -> Identity:
    """The home's signing key (immutable, so shared: key generation is not under test)."""
    return Identity.generate()


@pytest.fixture
def log_path(tmp_path: Path) -> Path:
    """Where the home keeps its audit log (the folder does not exist yet)."""
    return tmp_path / "porchlight" / "audit.sqlite3"


@pytest.fixture
def log(log_path: Path, identity: Identity, clock: ManualClock) -> Generator[AuditLog]:
    """An open, fresh audit log."""
    audit = AuditLog(log_path, identity, clock)
    audit.open()
    yield audit
    audit.close()
