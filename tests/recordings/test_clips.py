"""Clip windows, and joining real recorded segments into an MP4 with a thumbnail."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import subprocess
import time
from typing import TYPE_CHECKING

import pytest

from custom_components.porchlight.recordings.clips import (
    ClipError,
    ClipScheduler,
    PendingClip,
    build_clip,
    is_intact_segment,
)
from custom_components.porchlight.recordings.models import Segment, Trigger
from custom_components.porchlight.recordings.supervisor import CameraRecorder, RecorderConfig

if TYPE_CHECKING:
    from pathlib import Path


CAM = "camera.front_door"


def test_overlapping_triggers_extend_one_clip() -> None:
    scheduler = ClipScheduler(pre_roll=5, post_roll=10)
    first = scheduler.trigger(CAM, Trigger.MOTION, 100.0)
    assert (first.start, first.end, first.trigger) == (95.0, 110.0, Trigger.MOTION)
    # A doorbell press inside the clip extends it and, ranking higher, names it.
    second = scheduler.trigger(CAM, Trigger.DOORBELL, 112.0)
    assert second.id == first.id
    assert (second.start, second.end, second.trigger) == (95.0, 122.0, Trigger.DOORBELL)
    # Motion afterwards extends but does not demote it.
    third = scheduler.trigger(CAM, Trigger.MOTION, 120.0)
    assert (third.id, third.end, third.trigger) == (first.id, 130.0, Trigger.DOORBELL)
    # Another camera has its own clip.
    other = scheduler.trigger("camera.garden", Trigger.MANUAL, 100.0)
    assert other.id != first.id


def test_trigger_after_a_clip_ended_starts_a_new_one() -> None:
    scheduler = ClipScheduler(pre_roll=5, post_roll=10)
    first = scheduler.trigger(CAM, Trigger.MOTION, 100.0)
    # Its pre-roll starts after the first clip ends (116 - 5 > 110): a separate clip.
    second = scheduler.trigger(CAM, Trigger.MOTION, 116.0)
    assert second.id != first.id
    assert scheduler.pending(CAM) == second


def test_clip_is_ready_when_segments_cover_its_end() -> None:
    scheduler = ClipScheduler(pre_roll=5, post_roll=10)
    pending = scheduler.trigger(CAM, Trigger.MANUAL, 100.0)
    assert scheduler.take_ready(CAM, 109.9) is None
    assert scheduler.take_ready("camera.garden", 200.0) is None
    assert scheduler.take_ready(CAM, 110.0) == pending
    assert scheduler.pending(CAM) is None


def test_overdue_clips_are_handed_over() -> None:
    scheduler = ClipScheduler(pre_roll=5, post_roll=10)
    pending = scheduler.trigger(CAM, Trigger.MANUAL, 100.0)
    assert scheduler.take_overdue(now=139.0, grace=30.0) == []
    assert scheduler.take_overdue(now=141.0, grace=30.0) == [pending]
    assert scheduler.pending(CAM) is None


def test_intact_segment_check(tmp_path: Path) -> None:
    good = tmp_path / "good.ts"
    good.write_bytes((b"\x47" + bytes(187)) * 3)
    truncated = tmp_path / "truncated.ts"
    truncated.write_bytes((b"\x47" + bytes(187)) * 2 + b"\x47" + bytes(10))
    garbage = tmp_path / "garbage.ts"
    garbage.write_bytes(b"\x00" * 188 * 3)
    empty = tmp_path / "empty.ts"
    empty.write_bytes(b"")
    assert is_intact_segment(good)
    assert not is_intact_segment(truncated)
    assert not is_intact_segment(garbage)
    assert not is_intact_segment(empty)
    assert not is_intact_segment(tmp_path / "missing.ts")


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory, camera_video: Path) -> list[Segment]:
    """About 9 s of real segments recorded once from the RTSP server."""
    import pytest_socket  # noqa: PLC0415

    from porchlight_dev.rtsp import RtspServer  # noqa: PLC0415

    pytest_socket.enable_socket()
    server = RtspServer(camera_video)
    server.start()
    segments: list[Segment] = []

    async def record() -> None:
        async def source() -> str:
            return server.url(1)

        async def collect(segment: Segment) -> None:
            segments.append(segment)

        recorder = CameraRecorder(
            RecorderConfig(CAM, "ffmpeg", tmp_path_factory.mktemp("segments")),
            source,
            collect,
            lambda status: None,
        )
        recorder.start()
        while len(segments) < 5:
            await asyncio.sleep(0.1)
        await recorder.stop()

    try:
        asyncio.run(record())
    finally:
        server.stop()
    return segments


def _probe(path: Path) -> dict:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_format", "-show_streams", "-of", "json", str(path)],
        check=True,
        capture_output=True,
    ).stdout
    return json.loads(out)


def _pending(segments: list[Segment], trigger: Trigger = Trigger.DOORBELL) -> PendingClip:
    return PendingClip(
        "0123456789abcdef",
        CAM,
        trigger,
        triggered_at=segments[0].start + 0.5,
        start=segments[0].start,
        end=segments[-1].end,
    )


async def test_clip_joins_segments_without_reencoding(
    tmp_path: Path, recorded: list[Segment]
) -> None:
    segments = recorded[1:4]
    clip = await build_clip("ffmpeg", _pending(segments), segments, tmp_path, time.time)
    assert clip is not None
    assert clip.path == tmp_path / "0123456789abcdef.mp4"
    assert clip.trigger is Trigger.DOORBELL
    assert (clip.start, clip.end) == (segments[0].start, segments[-1].end)
    assert clip.size == clip.path.stat().st_size
    assert clip.sha256 == hashlib.sha256(clip.path.read_bytes()).hexdigest()
    probe = _probe(clip.path)
    assert probe["format"]["format_name"].startswith("mov,mp4")
    (video,) = probe["streams"]
    assert video["codec_name"] == "h264"
    assert (video["width"], video["height"]) == (640, 360)  # the camera's own frames
    recorded_seconds = sum(s.end - s.start for s in segments)
    assert float(probe["format"]["duration"]) == pytest.approx(recorded_seconds, abs=0.5)
    assert clip.thumbnail is not None
    assert clip.thumbnail.read_bytes()[:2] == b"\xff\xd8"  # JPEG
    # Only the clip and its thumbnail remain: no concat list, no partial file.
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "0123456789abcdef.jpg",
        "0123456789abcdef.mp4",
    ]


@pytest.mark.allow_porchlight_warnings(r"camera\.front_door: skipping corrupt segment broken\.ts")
async def test_corrupt_segment_is_skipped_and_logged(
    tmp_path: Path, recorded: list[Segment], caplog: pytest.LogCaptureFixture
) -> None:
    broken = tmp_path / "broken.ts"
    broken.write_bytes(b"this is not video" * 100)
    segments = [recorded[1], Segment(CAM, broken, recorded[2].start, recorded[2].end, 1700)]
    with caplog.at_level(logging.WARNING):
        clip = await build_clip("ffmpeg", _pending(segments), segments, tmp_path, time.time)
    assert clip is not None
    assert "skipping corrupt segment broken.ts" in caplog.text
    duration = float(_probe(clip.path)["format"]["duration"])
    assert duration == pytest.approx(recorded[1].end - recorded[1].start, abs=0.5)


@pytest.mark.allow_porchlight_warnings(
    r"camera\.front_door: nothing recorded for clip",
    r"camera\.front_door: skipping corrupt segment gone\.ts",
)
async def test_nothing_recorded_gives_no_clip(tmp_path: Path) -> None:
    missing = Segment(CAM, tmp_path / "gone.ts", 1.0, 3.0, 100)
    clip = await build_clip("ffmpeg", _pending([missing]), [missing], tmp_path, time.time)
    assert clip is None
    assert list(tmp_path.iterdir()) == []


@pytest.mark.allow_porchlight_warnings(r"camera\.front_door: no thumbnail for clip")
async def test_clip_survives_a_failed_thumbnail(
    tmp_path: Path, recorded: list[Segment], caplog: pytest.LogCaptureFixture
) -> None:
    # An ffmpeg that joins fine but cannot write JPEGs (fault injected at the binary).
    wrapper = tmp_path / "ffmpeg-no-jpeg"
    wrapper.write_text('#!/bin/sh\ncase "$*" in *image2*) exit 1;; esac\nexec ffmpeg "$@"\n')
    wrapper.chmod(0o755)
    out = tmp_path / "clips"
    segments = recorded[1:3]
    with caplog.at_level(logging.WARNING):
        clip = await build_clip(str(wrapper), _pending(segments), segments, out, time.time)
    assert clip is not None
    assert clip.thumbnail is None
    assert clip.path.exists()
    assert "no thumbnail for clip" in caplog.text


async def test_failed_join_raises_and_leaves_nothing(
    tmp_path: Path, recorded: list[Segment]
) -> None:
    wrapper = tmp_path / "ffmpeg-broken"
    wrapper.write_text("#!/bin/sh\necho 'disk on fire' >&2\nexit 3\n")
    wrapper.chmod(0o755)
    out = tmp_path / "clips"
    segments = recorded[1:3]
    with pytest.raises(ClipError, match="ffmpeg exited with 3: disk on fire"):
        await build_clip(str(wrapper), _pending(segments), segments, out, time.time)
    assert list(out.iterdir()) == []
