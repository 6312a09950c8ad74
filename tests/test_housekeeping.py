"""Retention and overdue clips as the home runs them: files really go, held clips stay."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING, Any

import pytest

from custom_components.porchlight import recordings_path
from custom_components.porchlight.const import (
    CONF_STORAGE_CAP_GB,
    INDEX_FILE,
    RECORDING_DEFAULTS,
)
from custom_components.porchlight.recordings.index import ClipIndex
from custom_components.porchlight.recordings.models import Clip, Segment, Trigger
from custom_components.porchlight.recordings_glue import GIB

from .home import FRONT_DOOR

if TYPE_CHECKING:
    from pathlib import Path

    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.common import MockConfigEntry


@pytest.fixture
def recording_options() -> dict[str, Any]:
    """A cap of 1 KiB: every unheld clip is over it."""
    return {**RECORDING_DEFAULTS, CONF_STORAGE_CAP_GB: 1024 / GIB}


def _file(path: Path, size: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x47" * size)
    return path


def _clip(root: Path, clip_id: str, start: float, *, thumbnail: bool) -> Clip:
    folder = root / "front_door" / "clips"
    return Clip(
        id=clip_id,
        camera=FRONT_DOOR,
        trigger=Trigger.MOTION,
        start=start,
        end=start + 10,
        size=2048,
        sha256="0" * 64,
        path=_file(folder / f"{clip_id}.mp4", 2048),
        thumbnail=_file(folder / f"{clip_id}.jpg", 10) if thumbnail else None,
        created=start,
    )


async def test_over_the_cap_unheld_clips_and_old_segments_are_deleted(
    hass: HomeAssistant, cameras: list[str], mock_config_entry: MockConfigEntry
) -> None:
    root = recordings_path(hass)
    now = time.time()
    with ClipIndex(root / INDEX_FILE) as index:
        unheld = _clip(root, "aaaaaaaaaaaaaaaa", now - 3600, thumbnail=True)
        bare = _clip(root, "bbbbbbbbbbbbbbbb", now - 3000, thumbnail=False)
        held = _clip(root, "cccccccccccccccc", now - 4000, thumbnail=True)
        for clip in (unheld, bare, held):
            index.add_clip(clip)
        index.hold(held.id, "request:r1")
        segments = root / "front_door" / "segments"
        old = Segment(FRONT_DOOR, _file(segments / "old.ts", 188), now - 900, now - 898, 188)
        fresh = Segment(FRONT_DOOR, _file(segments / "fresh.ts", 188), now - 4, now - 2, 188)
        for segment in (old, fresh):
            index.add_segment(segment)

    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()

    index = mock_config_entry.runtime_data.recorder.index
    assert [c.id for c in index.clips()] == [held.id]
    assert held.path.exists()
    assert held.thumbnail is not None
    assert held.thumbnail.exists()
    for gone in (unheld.path, bare.path, unheld.thumbnail):
        assert gone is not None
        assert not gone.exists()
    assert not old.path.exists()
    assert fresh.path.exists()
    assert [s.path.name for s in index.segments(FRONT_DOOR, 0, now)] == ["fresh.ts"]


async def test_segments_a_pending_clip_needs_are_kept(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    recorder = init_integration.runtime_data.recorder
    now = time.time()
    folder = recorder.camera_dir(FRONT_DOOR) / "s"
    needed = Segment(FRONT_DOOR, _file(folder / "needed.ts", 188), now - 5, now - 3, 188)
    spare = Segment(FRONT_DOOR, _file(folder / "spare.ts", 188), now - 60, now - 58, 188)
    for segment in (needed, spare):
        await hass.async_add_executor_job(recorder.index.add_segment, segment)
    recorder.trigger(FRONT_DOOR, Trigger.DOORBELL, at=now)  # its pre-roll reaches `needed`
    # Housekeeping long after: both are past keeping, but the pending clip still needs one.
    await hass.async_add_executor_job(recorder._prune, now + 600)
    assert needed.path.exists()
    assert not spare.path.exists()


@pytest.mark.allow_porchlight_warnings(r"camera\.front_door: nothing recorded for clip")
async def test_overdue_clip_without_footage_makes_no_clip(
    hass: HomeAssistant, init_integration: MockConfigEntry, caplog: pytest.LogCaptureFixture
) -> None:
    recorder = init_integration.runtime_data.recorder
    # A clip window that passed long ago while the camera delivered nothing (port 9), left
    # for housekeeping (registered on the scheduler directly, so no waiter cuts it first).
    recorder.scheduler.trigger(FRONT_DOOR, Trigger.MANUAL, time.time() - 600)
    with caplog.at_level(logging.WARNING):
        await recorder._housekeeping()
        deadline = time.monotonic() + 10
        while "nothing recorded for clip" not in caplog.text and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
    assert recorder.scheduler.pending(FRONT_DOOR) is None
    assert recorder.index.clips() == []
    assert "nothing recorded for clip" in caplog.text


@pytest.mark.allow_porchlight_warnings(
    r"could not be made: ffmpeg exited with 1: no space left on device"
)
async def test_clip_that_ffmpeg_cannot_join_is_logged(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    recorder = init_integration.runtime_data.recorder
    now = time.time()
    segment = Segment(
        FRONT_DOOR,
        _file(recorder.camera_dir(FRONT_DOOR) / "s" / "x.ts", 188),
        now - 60,
        now - 58,
        188,
    )
    await hass.async_add_executor_job(recorder.index.add_segment, segment)
    broken = tmp_path / "ffmpeg"
    broken.write_text("#!/bin/sh\necho 'no space left on device' >&2\nexit 1\n")
    broken.chmod(0o755)
    monkeypatch.setattr(recorder.clips, "binary", str(broken))
    with caplog.at_level(logging.ERROR):
        # Its end has passed: the clip is cut at once, and the cut fails.
        recorder.trigger(FRONT_DOOR, Trigger.MANUAL, at=now - 59)
        deadline = time.monotonic() + 10
        while "could not be made" not in caplog.text and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
    assert "could not be made: ffmpeg exited with 1: no space left on device" in caplog.text
    assert recorder.index.clips() == []
