"""The supervised ffmpeg: records, survives camera loss and hangs, stops cleanly."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from custom_components.porchlight.recordings import supervisor
from custom_components.porchlight.recordings.clips import is_intact_segment
from custom_components.porchlight.recordings.supervisor import (
    Backoff,
    CameraRecorder,
    RecorderConfig,
    RecorderState,
    RecorderStatus,
)

if TYPE_CHECKING:
    from custom_components.porchlight.recordings.models import Segment
    from porchlight_dev.rtsp import RtspServer

REPO = Path(__file__).resolve().parents[2]


class Harness:
    """A recorder whose segments and status changes are collected for assertions."""

    def __init__(self, tmp_path: Path, source: str | None, **config: object) -> None:
        self.segments: list[Segment] = []
        self.states: list[RecorderState] = []
        self.reports = 0
        self.source = source
        self.recorder = CameraRecorder(
            RecorderConfig(
                "camera.front_door",
                "ffmpeg",
                tmp_path / "segments",
                backoff=Backoff(initial=0.2, maximum=1.0),
                **config,  # type: ignore[arg-type]
            ),
            source=self._source,
            on_segment=self._segment,
            on_status=self._status,
        )

    async def _source(self) -> str | None:
        if self.source == "explode":
            msg = "camera integration crashed"
            raise RuntimeError(msg)
        return self.source

    async def _segment(self, segment: Segment) -> None:
        self.segments.append(segment)

    def _status(self, status: RecorderStatus) -> None:
        self.reports += 1
        if not self.states or self.states[-1] is not status.state:
            self.states.append(status.state)

    async def wait_for(self, condition: object, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():  # type: ignore[operator]
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out; states {self.states}")
            await asyncio.sleep(0.1)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); it has exited all the same.
    with Path(f"/proc/{pid}/stat").open() as stat:
        return stat.read().split(") ")[1][0] != "Z"


async def test_records_contiguous_segments_from_rtsp(tmp_path: Path, rtsp: RtspServer) -> None:
    h = Harness(tmp_path, rtsp.url(1))
    h.recorder.start()
    await h.wait_for(lambda: len(h.segments) >= 3)
    await h.recorder.stop()

    assert h.states[:2] == [RecorderState.STARTING, RecorderState.RECORDING]
    assert h.states[-1] is RecorderState.STOPPED
    # Steady recording is not news: starting, recording, stopped, and no report per segment.
    assert h.reports == 3
    assert h.recorder.status.last_segment == h.segments[-1].end
    for segment in h.segments:
        assert segment.camera == "camera.front_door"
        assert segment.path.parent == tmp_path / "segments"
        assert segment.size == segment.path.stat().st_size > 0
        assert is_intact_segment(segment.path)
    # Wall-clock anchors line up: each segment starts about where the previous one ended.
    for before, after in zip(h.segments, h.segments[1:], strict=False):
        assert after.start == pytest.approx(before.end, abs=0.5)
    # Cut at every keyframe (2 s); the first is longer (ffmpeg probes the stream) and the last
    # one, closed at stop, shorter.
    for segment in h.segments[1:-1]:
        assert segment.end - segment.start == pytest.approx(2.0, abs=0.3)


async def test_stop_hands_over_the_last_segment_and_ends_ffmpeg(
    tmp_path: Path, rtsp: RtspServer
) -> None:
    h = Harness(tmp_path, rtsp.url(1))
    h.recorder.start()
    await h.wait_for(lambda: h.segments)
    pid = h.recorder.pid
    assert pid is not None
    await h.recorder.stop()
    assert not _alive(pid)
    # The segment ffmpeg was writing when told to stop is closed and reported, not lost.
    written = sorted((tmp_path / "segments").glob("*.ts"))
    assert [s.path for s in h.segments] == written
    assert h.recorder.status.state is RecorderState.STOPPED


async def test_camera_lost_then_back_reconnects(tmp_path: Path, rtsp: RtspServer) -> None:
    h = Harness(tmp_path, rtsp.url(2))
    h.recorder.start()
    await h.wait_for(lambda: h.segments)

    rtsp.stop()
    await h.wait_for(lambda: h.recorder.status.state is RecorderState.RECONNECTING)
    down = h.recorder.status
    assert not down.connected
    assert down.down_since is not None
    before = len(h.segments)

    rtsp.start()
    await h.wait_for(lambda: len(h.segments) > before + 1)
    back = h.recorder.status
    assert back.connected
    assert back.down_since is None
    assert back.restarts >= 1
    await h.recorder.stop()
    assert all(is_intact_segment(s.path) for s in h.segments)


async def test_hung_camera_is_restarted_by_the_watchdog(tmp_path: Path, rtsp: RtspServer) -> None:
    h = Harness(tmp_path, rtsp.url(1), segment_timeout=3.0)
    h.recorder.start()
    await h.wait_for(lambda: h.segments)

    rtsp.freeze()  # the connection stays open, nothing arrives
    await h.wait_for(lambda: h.recorder.status.state is RecorderState.RECONNECTING)
    assert "no segment for 3 s" in (h.recorder.status.last_error or "")

    rtsp.thaw()
    count = len(h.segments)
    await h.wait_for(lambda: len(h.segments) > count)
    assert h.recorder.status.connected
    await h.recorder.stop()


@pytest.mark.parametrize(
    ("source", "error"),
    [
        (None, "the camera offers no stream source"),
        ("explode", "no stream source: camera integration crashed"),
        ("rtsp://127.0.0.1:9/nothing", "Connection refused"),
    ],
)
async def test_unusable_source_is_retried_with_backoff(
    tmp_path: Path, source: str | None, error: str
) -> None:
    h = Harness(tmp_path, source)
    h.recorder.start()
    await h.wait_for(lambda: h.recorder.status.restarts >= 2)
    status = h.recorder.status
    assert status.state is RecorderState.RECONNECTING
    assert error in (status.last_error or "")
    await h.recorder.stop()
    assert h.segments == []


async def test_stop_during_backoff_returns_at_once(tmp_path: Path) -> None:
    h = Harness(tmp_path, None)
    h.recorder.config = RecorderConfig(
        "camera.front_door", "ffmpeg", tmp_path, backoff=Backoff(initial=60.0, maximum=60.0)
    )
    h.recorder.start()
    await h.wait_for(lambda: h.recorder.status.state is RecorderState.RECONNECTING)
    started = time.monotonic()
    await h.recorder.stop()
    assert time.monotonic() - started < 2.0


def test_backoff_doubles_up_to_the_ceiling() -> None:
    backoff = Backoff(initial=1.0, maximum=60.0)
    assert [backoff.delay(n) for n in (1, 2, 3, 4, 7, 8, 30)] == [1, 2, 4, 8, 60, 60, 60]


def test_ffmpeg_does_not_outlive_a_killed_home_assistant(tmp_path: Path, rtsp: RtspServer) -> None:
    # A process standing in for Home Assistant runs the recorder and is then SIGKILLed:
    # nothing stops ffmpeg politely, yet it must not keep recording.
    script = textwrap.dedent(
        f"""
        import asyncio, sys
        from pathlib import Path
        from custom_components.porchlight.recordings.supervisor import (
            CameraRecorder, RecorderConfig
        )

        async def main():
            async def source():
                return {rtsp.url(1)!r}
            async def segment(s):
                print("segment", flush=True)
            recorder = CameraRecorder(
                RecorderConfig("camera.x", "ffmpeg", Path({str(tmp_path)!r})),
                source, segment, lambda status: None)
            recorder.start()
            while recorder.pid is None:
                await asyncio.sleep(0.05)
            print(recorder.pid, flush=True)
            await asyncio.sleep(3600)
        asyncio.run(main())
        """
    )
    ha = subprocess.Popen(
        [sys.executable, "-c", script], cwd=REPO, stdout=subprocess.PIPE, text=True
    )
    assert ha.stdout is not None
    ffmpeg_pid = int(ha.stdout.readline())
    assert ha.stdout.readline().strip() == "segment"
    ha.kill()
    ha.wait()
    ha.stdout.close()
    deadline = time.monotonic() + 10
    while _alive(ffmpeg_pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(ffmpeg_pid)


def _fake_ffmpeg(tmp_path: Path, body: str) -> str:
    """A stand-in ffmpeg for faults real ffmpeg will not produce on demand."""
    script = tmp_path / "fake-ffmpeg"
    script.write_text("#!/bin/sh\n" + body)
    script.chmod(0o755)
    return str(script)


@pytest.mark.allow_porchlight_warnings(
    r"camera\.front_door: segment gone\.ts vanished",
    r"camera\.front_door: unexpected segment line 'garbage'",
)
async def test_odd_segment_lines_are_skipped(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    segments = tmp_path / "segments"
    segments.mkdir()
    (segments / "real.ts").write_bytes(b"\x47" + bytes(187))
    binary = _fake_ffmpeg(
        tmp_path,
        # garbage, a segment that is not on disk, an empty stderr line, then a real one
        "echo 'garbage'; echo 'gone.ts,0.0,2.0'; echo '' >&2; echo 'real.ts,0.0,2.0'\n",
    )
    h = Harness(tmp_path, "rtsp://127.0.0.1:9/x")
    h.recorder.config = RecorderConfig("camera.front_door", binary, segments)
    h.recorder.start()
    await h.wait_for(lambda: h.segments)
    await h.recorder.stop()
    assert [s.path.name for s in h.segments] == ["real.ts"]
    assert "unexpected segment line 'garbage'" in caplog.text
    assert "segment gone.ts vanished" in caplog.text


async def test_ffmpeg_ignoring_sigterm_is_killed_on_stop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(supervisor, "STOP_GRACE_SECONDS", 0.3)
    binary = _fake_ffmpeg(tmp_path, "trap '' TERM\necho started >&2\nwhile :; do sleep 0.1; done\n")
    h = Harness(tmp_path, "rtsp://127.0.0.1:9/x")
    h.recorder.config = RecorderConfig("camera.front_door", binary, tmp_path / "s")
    h.recorder.start()
    await h.wait_for(lambda: h.recorder.pid is not None)
    pid = h.recorder.pid
    await asyncio.sleep(0.3)  # let the shell install its trap
    await h.recorder.stop()
    assert pid is not None
    assert not _alive(pid)
    assert h.recorder.status.state is RecorderState.STOPPED


async def test_stop_while_ffmpeg_is_starting(tmp_path: Path, rtsp: RtspServer) -> None:
    h = Harness(tmp_path, rtsp.url(1))
    source_called = asyncio.Event()

    async def slow_source() -> str:
        source_called.set()
        await asyncio.sleep(0.3)
        return rtsp.url(1)

    h.recorder._source = slow_source
    h.recorder.start()
    h.recorder.start()  # starting twice is harmless
    await source_called.wait()
    await h.recorder.stop()  # arrives before ffmpeg exists; ffmpeg is stopped as it starts
    assert h.recorder.status.state is RecorderState.STOPPED
    assert h.recorder.pid is None
