"""From triggers to indexed clips: wait for the post-roll, join, index, report.

The integration and the benchmark run this same code. A clip is cut at its end time (plus a
moment for ffmpeg to flush) from the closed segments and a snapshot of the segment still being
written, so it is ready well within a keyframe interval of the event's end. Should a segment
close after the clip's end first, the clip is cut from closed segments at once instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import TYPE_CHECKING, Any

from .clips import ClipError, ClipScheduler, PendingClip, build_clip, snapshot_growing

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Coroutine
    from pathlib import Path

    from .index import ClipIndex
    from .models import Clip, Segment, Trigger

_LOGGER = logging.getLogger(__name__)
# ffmpeg writes through a 32 KiB buffer: at 4 Mbit/s that is 64 ms behind real time.
FLUSH_MARGIN = 0.3


class ClipMaker:
    """Turns triggers into clips for every camera of a home."""

    def __init__(  # noqa: PLR0913  # the pipeline's collaborators, injected
        self,
        binary: str,
        index: ClipIndex,
        *,
        scheduler: ClipScheduler,
        clips_dir: Callable[[str], Path],
        growing: Callable[[str], tuple[Path, float] | None],
        on_clip: Callable[[Clip], Awaitable[None]],
        clock: Callable[[], float] = time.time,
        create_task: Callable[[Coroutine[Any, Any, None], str], asyncio.Task[None]] | None = None,
    ) -> None:
        """Wire the pipeline; nothing runs until a trigger or a segment arrives."""
        self.binary = binary
        self.index = index
        self.scheduler = scheduler
        self._clips_dir = clips_dir
        self._growing = growing
        self._on_clip = on_clip
        self._clock = clock
        # Home Assistant passes its own, so its shutdown knows about our tasks.
        self._create_task = create_task or (lambda coro, name: asyncio.create_task(coro, name=name))
        self._waiters: dict[str, asyncio.Task[None]] = {}
        self._builds: set[asyncio.Task[None]] = set()

    def trigger(self, camera: str, trigger: Trigger, at: float | None = None) -> PendingClip:
        """Start or extend camera's clip around `at` (now by default)."""
        pending = self.scheduler.trigger(camera, trigger, self._clock() if at is None else at)
        waiter = self._waiters.get(camera)
        if waiter is None or waiter.done():
            self._waiters[camera] = self._create_task(
                self._wait(camera), f"porchlight clip {camera}"
            )
        return pending

    async def segment_recorded(self, segment: Segment) -> None:
        """Index a closed segment; cut a clip it completes."""
        await asyncio.to_thread(self.index.add_segment, segment)
        ready = self.scheduler.take_ready(segment.camera, segment.end)
        if ready is not None:
            self._spawn(ready, with_growing=False)

    def build_overdue(self, now: float, grace: float) -> None:
        """Cut clips whose end passed long ago (the stream died): keep what exists."""
        for pending in self.scheduler.take_overdue(now, grace):
            self._spawn(pending, with_growing=False)

    async def close(self) -> None:
        """Stop waiting; cut every pending clip from what was recorded; wait for all cuts.

        Call after the recorders have stopped: every segment is closed then.
        """
        for waiter in self._waiters.values():
            waiter.cancel()
        for waiter in self._waiters.values():
            with contextlib.suppress(asyncio.CancelledError):
                await waiter
        self._waiters.clear()
        self.build_overdue(float("inf"), 0.0)
        while self._builds:
            await asyncio.gather(*self._builds)

    async def _wait(self, camera: str) -> None:
        """Sleep until the camera's pending clip ends (it may be extended meanwhile), cut it."""
        while (pending := self.scheduler.pending(camera)) is not None:
            delay = pending.end + FLUSH_MARGIN - self._clock()
            if delay > 0:
                await asyncio.sleep(delay)
                continue
            await self._build(self.scheduler.take(camera), with_growing=True)

    def _spawn(self, pending: PendingClip, *, with_growing: bool) -> None:
        task = self._create_task(
            self._build(pending, with_growing=with_growing), f"porchlight cut {pending.id}"
        )
        self._builds.add(task)
        task.add_done_callback(self._builds.discard)

    async def _build(self, pending: PendingClip, *, with_growing: bool) -> None:
        directory = self._clips_dir(pending.camera)
        segments = await asyncio.to_thread(
            self.index.segments, pending.camera, pending.start, pending.end
        )
        growing = self._growing(pending.camera) if with_growing else None
        tail = None
        if growing is not None and growing[1] < pending.end:
            tail = await asyncio.to_thread(
                snapshot_growing,
                pending.camera,
                growing,
                directory / f".{pending.id}.tail.ts",
                self._clock(),
            )
        try:
            clip = await build_clip(
                self.binary, pending, [*segments, *([tail] if tail else [])], directory, self._clock
            )
        except ClipError as err:
            _LOGGER.error(  # noqa: TRY400  # ffmpeg's message says it all; no traceback
                "%s: clip %s could not be made: %s", pending.camera, pending.id, err
            )
            return
        finally:
            if tail is not None:
                await asyncio.to_thread(tail.path.unlink, missing_ok=True)
        if clip is None:
            return
        await asyncio.to_thread(self.index.add_clip, clip)
        await self._on_clip(clip)
