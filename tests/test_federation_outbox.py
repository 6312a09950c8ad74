"""The outbox file inside Home Assistant: one writer, newest snapshot last, flushed on close.

Every outbox change used to hand its own snapshot to HA's executor, whose threads run in no
order: a slow write of an older (bigger) snapshot could land after a newer one and bring back
what had been delivered, or lose what had just been queued (a revoke). The slow disk here is
the real write_json behind a wait; everything else is the integration's own code.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING

import pytest

from custom_components.porchlight.background import BackgroundWork
from custom_components.porchlight.consent.audit import AuditLog
from custom_components.porchlight.federation import outbox as outbox_module
from custom_components.porchlight.federation.clock import SystemClock
from custom_components.porchlight.federation.identity import Identity
from custom_components.porchlight.federation.json_file import write_json
from custom_components.porchlight.federation.outbox import Outbox
from custom_components.porchlight.federation_glue import (
    Federation,
    async_setup_federation,
    outbox_path,
)

if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.common import MockConfigEntry

# Long enough for a racing second write to overtake the first; short enough to wait out
# when (correctly) nothing overtakes it.
SLOW = 0.5


class SlowDisk:
    """write_json whose first call waits until another write finished (or SLOW passed)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.overtaken = threading.Event()
        self.writes: list[list[str]] = []
        self.in_flight = 0
        self.most_in_flight = 0

    def __call__(self, path: Path, document: dict[str, Any]) -> None:
        with self.lock:
            first = not self.writes and self.in_flight == 0
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        if first:
            self.overtaken.wait(SLOW)
        write_json(path, document)
        with self.lock:
            self.in_flight -= 1
            self.writes.append([e["peer"] for e in document["entries"]])
        if not first:
            self.overtaken.set()


@pytest.fixture
def slow_disk(monkeypatch: pytest.MonkeyPatch) -> SlowDisk:
    disk = SlowDisk()
    monkeypatch.setattr(outbox_module, "write_json", disk)
    return disk


@pytest.fixture
async def federation(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, tmp_path: Path
) -> Federation:
    """The federation of an entry, without the cameras and recorders of a full setup.

    Nothing is sent here, so the audit log is never opened (it touches no file until then).
    """
    mock_config_entry.add_to_hass(hass)
    identity, clock = Identity.generate(), SystemClock()
    audit = AuditLog(tmp_path / "audit.db", identity, clock)
    return await async_setup_federation(
        hass, mock_config_entry, identity, clock, audit, work=BackgroundWork(hass)
    )


def _queue(federation: Federation, peer: str) -> None:
    """Queue a message the way the node does: change the entries, then report "outbox"."""
    federation.node.outbox.enqueue(
        peer=peer, payload="{}", signer="S", expires=int(time.time()) + 3600, now=0
    )
    federation.changed("outbox")


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def _on_disk(hass: HomeAssistant) -> list[str]:
    saved = Outbox(outbox_path(hass))
    saved.load()
    return sorted(e.peer for e in saved)


async def test_a_slow_save_of_an_older_snapshot_never_lands_last(
    hass: HomeAssistant, federation: Federation, slow_disk: SlowDisk
) -> None:
    _queue(federation, "alert")
    _queue(federation, "revoke")  # queued while the first snapshot is still being written
    await hass.async_block_till_done(wait_background_tasks=True)
    assert _on_disk(hass) == ["alert", "revoke"]
    assert slow_disk.most_in_flight == 1
    assert slow_disk.writes[-1] == ["alert", "revoke"]


async def test_changes_during_a_write_are_coalesced_into_one_more_write(
    hass: HomeAssistant, federation: Federation, slow_disk: SlowDisk
) -> None:
    for n in range(10):
        _queue(federation, f"p{n}")
    await hass.async_block_till_done(wait_background_tasks=True)
    # The first change's snapshot, then the newest one: not ten writes.
    assert slow_disk.writes == [["p0"], [f"p{n}" for n in range(10)]]
    assert _on_disk(hass) == sorted(f"p{n}" for n in range(10))


async def test_close_flushes_changes_made_while_a_write_was_in_flight(
    hass: HomeAssistant, federation: Federation, slow_disk: SlowDisk
) -> None:
    _queue(federation, "first")
    federation.node.outbox.drop_peer("first")  # e.g. the peer was removed meanwhile
    _queue(federation, "second")
    await federation.async_close()
    assert _on_disk(hass) == ["second"]
    assert slow_disk.most_in_flight == 1


async def test_close_writes_the_outbox_even_when_nothing_changed(
    hass: HomeAssistant, federation: Federation
) -> None:
    await federation.async_close()
    assert outbox_path(hass).is_file()
    assert _on_disk(hass) == []


@pytest.mark.allow_porchlight_warnings(r"Cannot save the outbox: \[Errno 17\] File exists")
async def test_a_failed_write_is_logged_and_the_next_change_writes_again(
    hass: HomeAssistant, federation: Federation, caplog: pytest.LogCaptureFixture
) -> None:
    path = outbox_path(hass)
    blocked = path.parent / "blocked"
    # A file where the outbox's folder should be: the write fails with an OSError.
    await hass.async_add_executor_job(lambda: _write(blocked, "not a folder"))
    federation.node.outbox.path = blocked / "outbox.json"
    with caplog.at_level(logging.WARNING):
        _queue(federation, "lost for now")
        await hass.async_block_till_done(wait_background_tasks=True)
    assert "Cannot save the outbox" in caplog.text
    federation.node.outbox.path = path
    _queue(federation, "kept")
    await hass.async_block_till_done(wait_background_tasks=True)
    assert _on_disk(hass) == ["kept", "lost for now"]
