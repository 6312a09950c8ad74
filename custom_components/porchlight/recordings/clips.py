"""Cutting event clips: pending windows that merge, and the join of segments into an MP4."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from . import commands
from .models import Clip, Segment, Trigger

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from pathlib import Path

_LOGGER = logging.getLogger(__name__)
TS_PACKET = 188
TS_SYNC = 0x47
# A doorbell press outranks motion when both fall into one clip.
_RANK = {Trigger.MANUAL: 0, Trigger.MOTION: 1, Trigger.DOORBELL: 2}


class ClipError(Exception):
    """ffmpeg could not produce the clip."""


@dataclass(frozen=True, slots=True)
class PendingClip:
    """A clip waiting for its post-roll to be recorded."""

    id: str
    camera: str
    trigger: Trigger
    triggered_at: float
    start: float
    end: float


class ClipScheduler:
    """Turns triggers into clip windows; overlapping triggers extend one clip."""

    def __init__(self, pre_roll: float, post_roll: float) -> None:
        """Set the seconds kept before and after each trigger."""
        self.pre_roll = pre_roll
        self.post_roll = post_roll
        self._pending: dict[str, PendingClip] = {}

    def trigger(self, camera: str, trigger: Trigger, at: float) -> PendingClip:
        """Register a trigger at wall-clock `at`; return the (new or extended) pending clip."""
        start, end = at - self.pre_roll, at + self.post_roll
        current = self._pending.get(camera)
        if current is not None and start <= current.end:
            kind = trigger if _RANK[trigger] > _RANK[current.trigger] else current.trigger
            current = replace(current, end=max(current.end, end), trigger=kind)
        else:
            current = PendingClip(secrets.token_hex(8), camera, trigger, at, start, end)
        self._pending[camera] = current
        return current

    def pending(self, camera: str) -> PendingClip | None:
        """The clip still being recorded for camera, if any."""
        return self._pending.get(camera)

    def take(self, camera: str) -> PendingClip:
        """Hand over camera's pending clip (the caller knows it is due)."""
        return self._pending.pop(camera)

    def take_ready(self, camera: str, recorded_until: float) -> PendingClip | None:
        """Hand over camera's pending clip once segments cover its end."""
        current = self._pending.get(camera)
        if current is None or recorded_until < current.end:
            return None
        return self._pending.pop(camera)

    def take_overdue(self, now: float, grace: float) -> list[PendingClip]:
        """Hand over clips whose end passed long ago (the stream died): keep what exists."""
        overdue = [p for p in self._pending.values() if now > p.end + grace]
        for clip in overdue:
            del self._pending[clip.camera]
        return overdue


def is_intact_segment(path: Path) -> bool:
    """Whether a file looks like whole MPEG-TS: packets of 188 bytes, each starting 0x47.

    Cheap (one read, a strided slice) and enough to catch truncated writes and garbage; it
    keeps one bad segment from failing a whole clip.
    """
    try:
        data = path.read_bytes()
    except OSError:
        return False
    if not data or len(data) % TS_PACKET:
        return False
    return data[::TS_PACKET] == bytes([TS_SYNC]) * (len(data) // TS_PACKET)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def snapshot_growing(
    camera: str, growing: tuple[Path, float], destination: Path, now: float
) -> Segment | None:
    """Blocking: copy what ffmpeg has written so far of the current segment, in whole packets.

    MPEG-TS is valid up to its last complete 188-byte packet, so a clip can end "now" instead
    of waiting up to a keyframe interval for the segment to close.
    """
    path, start = growing
    try:
        with path.open("rb") as file:
            data = file.read()
    except FileNotFoundError:
        return None
    data = data[: len(data) - len(data) % TS_PACKET]
    if not data:
        return None
    destination.parent.mkdir(parents=True, exist_ok=True)
    destination.write_bytes(data)
    return Segment(camera, destination, start, now, len(data))


def _prepare(pending: PendingClip, segments: Sequence[Segment], work: Path) -> list[Segment]:
    """Blocking: keep intact segments and write ffmpeg's concat list for them."""
    intact = []
    for segment in segments:
        if is_intact_segment(segment.path):
            intact.append(segment)
        else:
            _LOGGER.warning("%s: skipping corrupt segment %s", pending.camera, segment.path.name)
    if intact:
        work.parent.mkdir(parents=True, exist_ok=True)
        lines = ["ffconcat version 1.0"]
        lines += [f"file '{s.path.as_posix()}'" for s in intact]
        work.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return intact


async def _run(args: list[str]) -> None:
    process = await asyncio.create_subprocess_exec(
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    _, stderr = await process.communicate()
    if process.returncode:
        message = stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
        raise ClipError(f"ffmpeg exited with {process.returncode}: {message[0]}")


async def build_clip(
    binary: str,
    pending: PendingClip,
    segments: Sequence[Segment],
    directory: Path,
    clock: Callable[[], float],
) -> Clip | None:
    """Join the segments of a pending clip into <directory>/<id>.mp4 plus a thumbnail.

    Returns None when no intact segment exists (the camera recorded nothing in the window).
    The MP4 appears under its final name only when complete, so the index never points at a
    half-written file.
    """
    concat = directory / f".{pending.id}.ffconcat"
    intact = await asyncio.to_thread(_prepare, pending, segments, concat)
    if not intact:
        _LOGGER.warning("%s: nothing recorded for clip %s", pending.camera, pending.id)
        return None
    partial = directory / f".{pending.id}.mp4"
    final = directory / f"{pending.id}.mp4"
    thumb = directory / f"{pending.id}.jpg"
    try:
        await _run(commands.join_segments(binary, concat, partial))
        start, end = intact[0].start, intact[-1].end
        # The picture closest to the trigger: the keyframe opening its segment.
        holding = next((s for s in reversed(intact) if s.start <= pending.triggered_at), intact[0])
        thumbnail: Path | None = thumb
        try:
            await _run(commands.thumbnail(binary, holding.path, thumb))
        except ClipError as err:
            # A clip without a picture is still evidence; never lose it over the thumbnail.
            _LOGGER.warning("%s: no thumbnail for clip %s: %s", pending.camera, pending.id, err)
            thumbnail = None
        digest = await asyncio.to_thread(_sha256, partial)
        await asyncio.to_thread(partial.replace, final)
        size = (await asyncio.to_thread(final.stat)).st_size
    finally:
        await asyncio.to_thread(concat.unlink, missing_ok=True)
        await asyncio.to_thread(partial.unlink, missing_ok=True)
    return Clip(
        id=pending.id,
        camera=pending.camera,
        trigger=pending.trigger,
        start=start,
        end=end,
        size=size,
        sha256=digest,
        path=final,
        thumbnail=thumbnail,
        created=clock(),
    )
