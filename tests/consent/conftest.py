"""The consent core runs without Home Assistant: plain files, a hand-moved clock, real keys."""

from __future__ import annotations

import shutil
from typing import TYPE_CHECKING

import pytest

from custom_components.porchlight.consent.audit import AuditLog
from custom_components.porchlight.federation.clock import ManualClock
from custom_components.porchlight.federation.identity import Identity
from tests.hass_free import auto_enable_custom_integrations, hand_moved_clock

from .audit_helpers import _fill

if TYPE_CHECKING:
    from collections.abc import Generator
    from pathlib import Path


__all__ = ["auto_enable_custom_integrations", "hand_moved_clock"]  # fixtures, used by name


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


@pytest.fixture(scope="session")
def written_template(tmp_path_factory: pytest.TempPathFactory, identity: Identity) -> Path:
    """Written once per session: 250 appends cost a commit (and an fsync) each."""
    path = tmp_path_factory.mktemp("template") / "audit.sqlite3"
    clock = ManualClock()
    with AuditLog(path, identity, clock) as log:
        _fill(log, clock, 250)
    return path


@pytest.fixture
def written(written_template: Path, log_path: Path) -> Path:
    """A closed log of 250 appended entries, two automatic checkpoints among them."""
    log_path.parent.mkdir(mode=0o700)
    shutil.copy(written_template, log_path)
    return log_path
