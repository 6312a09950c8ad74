"""One supervised ffmpeg per camera: restart with backoff, watchdog on segment progress.

The process is ffmpeg itself, stream-copying into segments; the supervisor only reads the
line ffmpeg prints for each finished segment. If those lines stop coming (camera gone, network
stalled, ffmpeg wedged) the watchdog kills ffmpeg and the next attempt starts after a delay
that doubles up to a ceiling, so a dead camera costs a process start a minute, not a busy loop.

If Home Assistant dies without stopping us, the kernel sends ffmpeg SIGTERM (parent-death
signal, see commands.orphan_guard): no orphan keeps recording.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import time
from collections import deque
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import TYPE_CHECKING

from . import commands
from .models import Segment

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable
    from pathlib import Path

_LOGGER = logging.getLogger(__name__)
STOP_GRACE_SECONDS = 5.0
HEALTHY_RUN_SECONDS = 30.0


class RecorderState(StrEnum):
    """What a camera's recorder is doing."""

    STARTING = "starting"
    RECORDING = "recording"
    RECONNECTING = "reconnecting"
    STOPPED = "stopped"


@dataclass(frozen=True, slots=True)
class RecorderStatus:
    """A snapshot the entities and the repair logic read."""

    state: RecorderState = RecorderState.STOPPED
    last_segment: float | None = None
    down_since: float | None = None
    restarts: int = 0
    last_error: str | None = None

    @property
    def connected(self) -> bool:
        """Whether segments are arriving from the camera."""
        return self.state is RecorderState.RECORDING


@dataclass(frozen=True, slots=True)
class Backoff:
    """Delays between attempts: initial, doubled each failure, capped."""

    initial: float = 1.0
    maximum: float = 60.0

    def delay(self, failures: int) -> float:
        """Seconds to wait after `failures` consecutive failed attempts (>= 1)."""
        return float(min(self.maximum, self.initial * 2.0 ** (failures - 1)))


@dataclass(frozen=True, slots=True)
class RecorderConfig:
    """How one camera is recorded."""

    camera: str
    binary: str
    directory: Path
    segment_seconds: int = 2
    backoff: Backoff = Backoff()
    # The first segment needs a connection, a keyframe and a full segment; later ones only
    # the segment length. Beyond these, the watchdog restarts ffmpeg.
    first_segment_timeout: float = 20.0
    segment_timeout: float = 10.0


class CameraRecorder:
    """Keeps one ffmpeg recording one camera until stopped."""

    def __init__(
        self,
        config: RecorderConfig,
        source: Callable[[], Awaitable[str | None]],
        on_segment: Callable[[Segment], Awaitable[None]],
        on_status: Callable[[RecorderStatus], None],
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Prepare; nothing runs until start()."""
        self.config = config
        self._source = source
        self._on_segment = on_segment
        self._on_status = on_status
        self._clock = clock
        self._task: asyncio.Task[None] | None = None
        self._process: asyncio.subprocess.Process | None = None
        self._stop = asyncio.Event()
        self._growing: tuple[Path, float] | None = None
        self.status = RecorderStatus()

    def start(self) -> None:
        """Start recording in the background."""
        if self._task is None:
            self._stop.clear()
            self._task = asyncio.create_task(
                self._run(), name=f"porchlight recorder {self.config.camera}"
            )

    async def stop(self) -> None:
        """Stop ffmpeg and wait until its last segment has been handed over."""
        self._stop.set()
        task, self._task = self._task, None
        if self._process is not None:
            _signal(self._process, signal.SIGTERM)
        if task is not None:
            try:
                async with asyncio.timeout(STOP_GRACE_SECONDS * 2):
                    await asyncio.shield(task)
            except TimeoutError:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._set(state=RecorderState.STOPPED)

    @property
    def growing(self) -> tuple[Path, float] | None:
        """The segment ffmpeg is writing now and when it started, if known.

        Known once a segment of this run has been handed over; it moves on only after the
        next one has been handed over (indexed), so closed segments plus this one never have a
        gap or an overlap.
        """
        return self._growing

    @property
    def pid(self) -> int | None:
        """The running ffmpeg's process id (tests and diagnostics)."""
        return None if self._process is None else self._process.pid

    def _set(self, **changes: object) -> None:
        old, self.status = self.status, replace(self.status, **changes)  # type: ignore[arg-type]
        # Every segment moves last_segment; listeners (entities, repairs) only care when
        # anything else changes, so a steady recording reports nothing every two seconds.
        if replace(old, last_segment=None) != replace(self.status, last_segment=None):
            self._on_status(self.status)

    async def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            started = time.monotonic()
            produced = await self._attempt()
            # A run that recorded for a while earns a fresh start; one that ended at once
            # (a stream that closes right after opening) backs off like a failure.
            healthy = produced and time.monotonic() - started >= HEALTHY_RUN_SECONDS
            failures = 1 if healthy else failures + 1
            delay = self.config.backoff.delay(failures)
            _LOGGER.debug("%s: restarting ffmpeg in %.1f s", self.config.camera, delay)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):
                    await self._stop.wait()
            if not self._stop.is_set():
                self._set(restarts=self.status.restarts + 1)

    async def _attempt(self) -> bool:
        """Run ffmpeg once; return whether it produced at least one segment."""
        try:
            source = await self._source()
        except Exception as err:  # noqa: BLE001  # any failure of the camera integration
            self._went_down(f"no stream source: {err}")
            return False
        if not source:
            self._went_down("the camera offers no stream source")
            return False

        self.config.directory.mkdir(parents=True, exist_ok=True)
        run_id = f"{int(self._clock() * 1000)}"
        args = commands.record_segments(
            self.config.binary, source, self.config.directory, run_id, self.config.segment_seconds
        )
        if self.status.state is RecorderState.STOPPED:
            self._set(state=RecorderState.STARTING)
        self._process = process = await asyncio.create_subprocess_exec(
            *commands.orphan_guard(),
            *args,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        assert process.stdout is not None  # noqa: S101  # PIPE was requested
        assert process.stderr is not None  # noqa: S101
        if self._stop.is_set():  # stop() came while ffmpeg was starting
            _signal(process, signal.SIGTERM)
        errors: deque[str] = deque(maxlen=5)
        drain = asyncio.create_task(_collect(process.stderr, errors))
        try:
            produced = await self._read_segments(process, process.stdout, errors)
        finally:
            await _reap(process)
            self._process = None
            self._growing = None
            await drain
        if not self._stop.is_set():
            self._went_down("; ".join(errors) or f"ffmpeg exited with {process.returncode}")
        return produced

    async def _read_segments(
        self,
        process: asyncio.subprocess.Process,
        stdout: asyncio.StreamReader,
        errors: deque[str],
    ) -> bool:
        """Hand over each segment ffmpeg reports until it exits; the watchdog lives here."""
        produced = False
        timeout = self.config.first_segment_timeout
        terminating = False
        while True:
            try:
                async with asyncio.timeout(STOP_GRACE_SECONDS if terminating else timeout):
                    line = await stdout.readline()
            except TimeoutError:
                if terminating:
                    return produced
                # Watchdog: ask ffmpeg to close what it has, then keep reading for its
                # last line; a wedged ffmpeg is killed after the grace period.
                errors.append(f"no segment for {timeout:.0f} s")
                terminating = True
                _signal(process, signal.SIGTERM)
                continue
            if not line:
                return produced
            segment = await self._segment(line.decode(errors="replace").strip())
            if segment is None:
                continue
            produced = True
            timeout = self.config.segment_timeout
            self._set(
                state=RecorderState.RECORDING,
                last_segment=segment.end,
                down_since=None,
                last_error=None,
            )
            await self._on_segment(segment)
            following = _next_path(segment.path)
            self._growing = None if following is None else (following, segment.end)

    async def _segment(self, line: str) -> Segment | None:
        """Turn ffmpeg's 'name,start,end' line into a segment anchored at wall-clock now."""
        name, _, times = line.partition(",")
        try:
            first, last = (float(t) for t in times.split(","))
        except ValueError:
            _LOGGER.warning("%s: unexpected segment line %r", self.config.camera, line)
            return None
        path = self.config.directory / os.path.basename(name)  # noqa: PTH119  # strip any dir
        try:
            size = (await asyncio.to_thread(path.stat)).st_size
        except FileNotFoundError:
            _LOGGER.warning("%s: segment %s vanished", self.config.camera, path.name)
            return None
        end = self._clock()
        return Segment(self.config.camera, path, end - max(0.0, last - first), end, size)

    def _went_down(self, reason: str) -> None:
        _LOGGER.debug("%s: %s", self.config.camera, reason)
        self._set(
            state=RecorderState.RECONNECTING,
            down_since=self.status.down_since or self._clock(),
            last_error=reason,
        )


def _next_path(path: Path) -> Path | None:
    """The segment after <run>-000041.ts is <run>-000042.ts (None for names not ours)."""
    run, _, number = path.stem.rpartition("-")
    if not number.isdigit():
        return None
    return path.with_name(f"{run}-{int(number) + 1:06d}{path.suffix}")


def _signal(process: asyncio.subprocess.Process, signum: int) -> None:
    if process.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signum)


async def _reap(process: asyncio.subprocess.Process) -> None:
    """Make sure ffmpeg has exited: SIGTERM, then SIGKILL after the grace period."""
    _signal(process, signal.SIGTERM)
    try:
        async with asyncio.timeout(STOP_GRACE_SECONDS):
            await process.wait()
    except TimeoutError:
        _signal(process, signal.SIGKILL)
        await process.wait()


async def _collect(stream: asyncio.StreamReader, into: deque[str]) -> None:
    """Keep the last few lines ffmpeg wrote to stderr (and keep the pipe from filling)."""
    async for raw in stream:
        text = raw.decode(errors="replace").strip()
        if text:
            into.append(text)
