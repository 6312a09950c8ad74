"""The clip pipeline with real ffmpeg: clips ready soon after the event, never lost."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

import pytest

from custom_components.porchlight.recordings.clip_maker import FLUSH_MARGIN, ClipMaker
from custom_components.porchlight.recordings.clips import ClipScheduler, snapshot_growing
from custom_components.porchlight.recordings.index import ClipIndex
from custom_components.porchlight.recordings.models import Clip, Trigger
from custom_components.porchlight.recordings.supervisor import CameraRecorder, RecorderConfig

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator
    from pathlib import Path

    from porchlight_dev.rtsp import RtspServer

CAM = "camera.front_door"


class Home:
    """One recorded camera wired to a ClipMaker, as the integration wires them."""

    def __init__(self, tmp_path: Path, url: str, pre: float, post: float) -> None:
        self.index = ClipIndex(tmp_path / "clips.sqlite3")
        self.clips: list[tuple[Clip, float]] = []

        async def source() -> str:
            return url

        self.recorder = CameraRecorder(
            RecorderConfig(CAM, "ffmpeg", tmp_path / "segments"),
            source,
            self._segment,
            lambda status: None,
        )
        self.maker = ClipMaker(
            "ffmpeg",
            self.index,
            scheduler=ClipScheduler(pre, post),
            clips_dir=lambda camera: tmp_path / "clips",
            growing=lambda camera: self.recorder.growing,
            on_clip=self._clip,
        )

    async def _segment(self, segment: object) -> None:
        await self.maker.segment_recorded(segment)  # type: ignore[arg-type]

    async def _clip(self, clip: Clip) -> None:
        self.clips.append((clip, time.time()))

    async def wait(self, condition: object, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not condition():  # type: ignore[operator]
            assert time.monotonic() < deadline, "timed out"
            await asyncio.sleep(0.05)


@pytest.fixture
async def home(tmp_path: Path, rtsp: RtspServer) -> AsyncGenerator[Home]:
    home = Home(tmp_path, rtsp.url(1), pre=2, post=2)
    home.recorder.start()
    await home.wait(lambda: home.recorder.growing is not None)
    yield home
    await home.recorder.stop()
    await home.maker.close()
    home.index.close()


async def test_clip_is_ready_within_a_second_of_the_event_end(home: Home) -> None:
    pressed = time.time()
    pending = home.maker.trigger(CAM, Trigger.DOORBELL)
    await home.wait(lambda: home.clips)
    ((clip, indexed_at),) = home.clips
    # Cut from the segment still being written: no waiting for the next keyframe.
    assert indexed_at - pending.end < FLUSH_MARGIN + 1.0
    assert clip.start <= pressed - 2 + 0.1
    assert clip.end >= pending.end
    assert home.index.clip(clip.id) == clip
    # The snapshot of the growing segment is not left behind.
    assert not list(clip.path.parent.glob(".*"))


async def test_a_press_while_waiting_extends_the_same_clip(home: Home) -> None:
    first = home.maker.trigger(CAM, Trigger.MOTION)
    await asyncio.sleep(1.0)
    second = home.maker.trigger(CAM, Trigger.DOORBELL)
    assert second.id == first.id
    await home.wait(lambda: home.clips)
    ((clip, _),) = home.clips
    assert clip.trigger is Trigger.DOORBELL
    assert clip.end >= second.end


async def test_closing_cuts_what_is_pending(home: Home) -> None:
    home.maker.trigger(CAM, Trigger.MANUAL)
    await home.recorder.stop()
    await home.maker.close()
    assert len(home.clips) == 1


def test_snapshot_of_a_growing_segment_keeps_whole_packets(tmp_path: Path) -> None:
    growing = tmp_path / "run-000003.ts"
    growing.write_bytes((b"\x47" + bytes(187)) * 2 + b"\x47" + bytes(50))
    tail = snapshot_growing(CAM, (growing, 10.0), tmp_path / "tail.ts", 12.5)
    assert tail is not None
    assert (tail.start, tail.end, tail.size) == (10.0, 12.5, 376)
    assert tail.path.read_bytes() == growing.read_bytes()[:376]
    growing.write_bytes(b"\x47" * 100)  # not even one whole packet yet
    assert snapshot_growing(CAM, (growing, 10.0), tmp_path / "tail.ts", 12.5) is None
    assert snapshot_growing(CAM, (tmp_path / "none.ts", 10.0), tmp_path / "t.ts", 12.5) is None


async def test_a_segment_closing_after_the_end_cuts_the_clip_at_once(
    tmp_path: Path, rtsp: RtspServer
) -> None:
    # Without a waiter (the clip was registered directly), a closed segment that reaches the
    # clip's end is enough to cut it from closed segments.
    home = Home(tmp_path, rtsp.url(1), pre=1, post=1)
    home.recorder.start()
    await home.wait(lambda: home.recorder.growing is not None)
    home.maker.scheduler.trigger(CAM, Trigger.MOTION, time.time())
    await home.wait(lambda: home.clips)
    ((clip, _),) = home.clips
    assert clip.trigger is Trigger.MOTION
    await home.recorder.stop()
    await home.maker.close()
    home.index.close()
