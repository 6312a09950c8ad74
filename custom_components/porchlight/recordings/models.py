"""Records the recorder keeps: segments on disk and the clips cut from them."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path


class Trigger(StrEnum):
    """Why a clip was recorded."""

    DOORBELL = "doorbell"
    MOTION = "motion"
    MANUAL = "manual"


@dataclass(frozen=True, slots=True)
class Segment:
    """A few seconds of one camera's stream, as ffmpeg wrote it (wall-clock seconds)."""

    camera: str
    path: Path
    start: float
    end: float
    size: int

    def overlaps(self, start: float, end: float) -> bool:
        """Whether any part of this segment lies within [start, end]."""
        return self.start < end and self.end > start


@dataclass(frozen=True, slots=True)
class Clip:
    """An event clip: segments joined into one MP4, with its thumbnail and fingerprint."""

    id: str
    camera: str
    trigger: Trigger
    start: float
    end: float
    size: int
    sha256: str
    path: Path
    thumbnail: Path | None
    created: float
    holds: frozenset[str] = field(default=frozenset())

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return self.end - self.start

    @property
    def held(self) -> bool:
        """A held clip (open request, share) is never pruned."""
        return bool(self.holds)

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly form for diagnostics, events and the dashboard."""
        return {
            "id": self.id,
            "camera": self.camera,
            "trigger": self.trigger.value,
            "start": self.start,
            "end": self.end,
            "size": self.size,
            "sha256": self.sha256,
            "held": self.held,
        }
