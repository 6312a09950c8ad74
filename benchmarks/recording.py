"""scripts/bench recording: Porchlight's recorder against bare ffmpeg, same cameras, same run.

N loopback RTSP cameras (1080p, 15 fps, ~4 Mbit/s, no re-encode at the server) are recorded
twice: once by N bare `ffmpeg -c copy -f segment` processes (the baseline), once by Porchlight's
recorder core (supervisor + segment index + clip cutting, the code the integration runs). Each
phase runs in its own interpreter. CPU is the kernel's account of the recording processes (and,
for Porchlight, the supervising Python process) over S seconds of steady recording, after a
warm-up both pay alike (ffmpeg probing the stream).

After the measured window every camera gets a doorbell press: clip_ready_s is the time from the
clip's end (press + post-roll) to the clip being indexed (the worst camera; the median too),
and clip_cpu_s what cutting one clip costs (measured by cutting them all again, one after the
other). Clips are reported apart
because a real doorbell makes a few per hour, not one per camera-minute.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from custom_components.porchlight.recordings.clip_maker import ClipMaker
from custom_components.porchlight.recordings.clips import (
    ClipScheduler,
    PendingClip,
    build_clip,
    is_intact_segment,
)
from custom_components.porchlight.recordings.index import ClipIndex
from custom_components.porchlight.recordings.models import Clip, Segment, Trigger
from custom_components.porchlight.recordings.supervisor import CameraRecorder, RecorderConfig
from porchlight_dev.rtsp import RtspServer, make_camera_video

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

REPO = Path(__file__).resolve().parent.parent
SEGMENT_SECONDS = 2
PRE_ROLL = POST_ROLL = 4
TICKS = os.sysconf("SC_CLK_TCK")
# Steady state only: ffmpeg's start-up (stream probing) is the same for both and not recording.
WARMUP_SECONDS = 6.0


def _process_cpu(pids: list[int]) -> float:
    """CPU seconds used so far by running processes, read from /proc."""
    total = 0.0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime
    return total


def _usage(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def _count(folder: Path) -> tuple[int, int]:
    """(segments expected from ffmpeg's own numbering, intact segment files present)."""
    files = sorted(folder.glob("*.ts"))
    numbers = [int(f.stem.rsplit("-", 1)[1]) for f in files]
    expected = max(numbers) + 1 if numbers else 0
    return expected, sum(1 for f in files if is_intact_segment(f))


def _counts(out: Path, cameras: int) -> dict[str, int]:
    counts = [_count(out / f"cam{n}") for n in range(cameras)]
    return {"expected": sum(c[0] for c in counts), "written": sum(c[1] for c in counts)}


def phase_baseline(urls: list[str], seconds: float, out: Path) -> dict[str, Any]:
    """Bare ffmpeg, the same stream-copy segmenting, no supervisor."""
    processes = []
    for number, url in enumerate(urls):
        folder = out / f"cam{number}"
        folder.mkdir(parents=True)
        args = [
            "ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error",
            "-rtsp_transport", "tcp", "-timeout", "5000000", "-i", url,
            "-map", "0:v", "-c", "copy", "-f", "segment",
            "-segment_time", str(SEGMENT_SECONDS), "-segment_format", "mpegts",
            "-reset_timestamps", "1", str(folder / "run-%06d.ts"),
        ]  # fmt: skip
        processes.append(subprocess.Popen(args))
    time.sleep(WARMUP_SECONDS)
    pids = [p.pid for p in processes]
    cpu = _process_cpu(pids)
    time.sleep(seconds)
    cpu = _process_cpu(pids) - cpu
    for process in processes:
        process.terminate()
    for process in processes:
        process.wait()
    return {"cpu_s": cpu, **_counts(out, len(urls))}


class RecorderRun:
    """Porchlight's recorder core wired as the integration wires it, minus Home Assistant."""

    def __init__(self, urls: list[str], out: Path) -> None:
        """Prepare one recorder per camera and the clip pipeline they feed."""
        self.out = out
        self.index = ClipIndex(out / "clips.sqlite3")
        self.ready_delays: list[float] = []
        self.all_ready = asyncio.Event()
        self.clip_ends: dict[str, float] = {}
        self.recorders = {
            f"camera.cam{n}": CameraRecorder(
                RecorderConfig(f"camera.cam{n}", "ffmpeg", out / f"cam{n}"),
                self._source(url),
                self._segment,
                lambda status: None,
            )
            for n, url in enumerate(urls)
        }
        self.maker = ClipMaker(
            "ffmpeg",
            self.index,
            scheduler=ClipScheduler(PRE_ROLL, POST_ROLL),
            clips_dir=lambda camera: out / "clips",
            growing=lambda camera: self.recorders[camera].growing,
            on_clip=self._clip,
        )

    @staticmethod
    def _source(url: str) -> Callable[[], Awaitable[str]]:
        async def source() -> str:
            return url

        return source

    async def _segment(self, segment: Segment) -> None:
        await self.maker.segment_recorded(segment)

    async def _clip(self, clip: Clip) -> None:
        self.ready_delays.append(time.time() - self.clip_ends[clip.camera])
        if len(self.ready_delays) == len(self.recorders):
            self.all_ready.set()

    async def run(self, seconds: float) -> dict[str, Any]:
        """Record, measure, press every doorbell, stop, then price one clip."""
        for recorder in self.recorders.values():
            recorder.start()
        await asyncio.sleep(WARMUP_SECONDS)
        pids = [r.pid for r in self.recorders.values() if r.pid is not None]
        cpu = _usage(resource.RUSAGE_SELF) + _process_cpu(pids)
        await asyncio.sleep(seconds)
        cpu = _usage(resource.RUSAGE_SELF) + _process_cpu(pids) - cpu

        for camera in self.recorders:
            self.clip_ends[camera] = self.maker.trigger(camera, Trigger.DOORBELL).end
            await asyncio.sleep(0.25)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(POST_ROLL + 30):
                await self.all_ready.wait()
        await asyncio.gather(*(r.stop() for r in self.recorders.values()))
        await self.maker.close()

        clips = self.index.clips()
        clip_cpu = _usage(resource.RUSAGE_CHILDREN)
        for clip in clips:
            pending = PendingClip(
                "f" * 16, clip.camera, clip.trigger, clip.start + PRE_ROLL, clip.start, clip.end
            )
            segments = self.index.segments(clip.camera, clip.start, clip.end)
            await build_clip("ffmpeg", pending, segments, self.out / "again", time.time)
        clip_cpu = (_usage(resource.RUSAGE_CHILDREN) - clip_cpu) / max(1, len(clips))

        indexed = sum(len(self.index.segments(c, 0, time.time() + 60)) for c in self.recorders)
        self.index.close()
        return {
            "cpu_s": cpu,
            "clip_cpu_s": clip_cpu,
            "indexed": indexed,
            "clip_ready_s": self.ready_delays,
            "restarts": sum(r.status.restarts for r in self.recorders.values()),
            **_counts(self.out, len(self.recorders)),
        }


def phase_recorder(urls: list[str], seconds: float, out: Path) -> dict[str, Any]:
    """Porchlight's recorder core, as the integration runs it."""

    async def go() -> dict[str, Any]:
        return await RecorderRun(urls, out).run(seconds)

    return asyncio.run(go())


def _run_phase(name: str, urls: list[str], seconds: float, out: Path) -> dict[str, Any]:
    """Run one phase in a fresh interpreter and return what it reports."""
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.recording", "--phase", name, "--seconds", str(seconds),
         "--out", str(out), *urls],
        cwd=REPO, check=True, capture_output=True, text=True,
    )  # fmt: skip
    answer: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return answer


def main(argv: list[str] | None = None) -> int:
    """Run both phases and print one JSON line."""
    parser = argparse.ArgumentParser(prog="scripts/bench recording", description=__doc__)
    parser.add_argument("--cameras", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--phase", choices=["baseline", "recorder"], help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("urls", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.phase:
        run = phase_baseline if args.phase == "baseline" else phase_recorder
        print(json.dumps(run(args.urls, args.seconds, args.out)))
        return 0
    if args.cameras < 1 or args.seconds < 10:  # noqa: PLR2004
        print("bench recording: need --cameras >= 1 and --seconds >= 10", file=sys.stderr)
        return 2

    video = make_camera_video(
        REPO / ".cache" / "bench" / "camera-1080p15-4M.mp4",
        size="1920x1080", fps=15, seconds=10, bitrate="4M",
    )  # fmt: skip
    server = RtspServer(video, cams=args.cameras)
    server.start()
    try:
        urls = [server.url(n + 1) for n in range(args.cameras)]
        with tempfile.TemporaryDirectory(prefix="porchlight-bench-") as tmp:
            base = _run_phase("baseline", urls, args.seconds, Path(tmp) / "baseline")
            rec = _run_phase("recorder", urls, args.seconds, Path(tmp) / "recorder")
    finally:
        server.stop()

    camera_minutes = args.cameras * args.seconds / 60
    cpu = rec["cpu_s"] / camera_minutes
    baseline = base["cpu_s"] / camera_minutes
    delays: list[float] = rec["clip_ready_s"]
    print(
        json.dumps(
            {
                "benchmark": "recording",
                "cameras": args.cameras,
                "seconds": args.seconds,
                "cpu_s_per_camera_minute": round(cpu, 3),
                "baseline_cpu_s_per_camera_minute": round(baseline, 3),
                "ratio": round(cpu / baseline, 3) if baseline else None,
                "segments_expected": rec["expected"],
                "segments_written": rec["written"],
                "segments_indexed": rec["indexed"],
                "baseline_segments_expected": base["expected"],
                "baseline_segments_written": base["written"],
                "clips": len(delays),
                "clip_ready_s": round(max(delays), 2) if delays else None,
                "clip_ready_s_median": round(statistics.median(delays), 2) if delays else None,
                "clip_cpu_s": round(rec["clip_cpu_s"], 3),
                "recorder_restarts": rec["restarts"],
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
