"""What to delete: old segments, clips past their age, and the oldest clips over the cap.

Pure decisions over index records; the caller deletes files and index rows. A held clip (an
open request or a share references it) is never chosen, even if that leaves the home over
its storage cap: footage someone is entitled to must not vanish under them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    from .models import Clip

DAY = 86_400.0


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    """The owner's limits."""

    max_age_days: float
    max_bytes: int


def clips_to_prune(
    clips: Sequence[Clip], other_bytes: int, policy: RetentionPolicy, now: float
) -> list[Clip]:
    """Unheld clips older than the age limit, then the oldest unheld until under the cap.

    `other_bytes` is what else counts against the cap (the segment buffer).
    """
    too_old = now - policy.max_age_days * DAY
    doomed = [c for c in clips if not c.held and c.end < too_old]
    chosen = {c.id for c in doomed}
    total = other_bytes + sum(c.size for c in clips if c.id not in chosen)
    for clip in sorted(clips, key=lambda c: c.start):
        if total <= policy.max_bytes:
            break
        if clip.held or clip.id in chosen:
            continue
        doomed.append(clip)
        chosen.add(clip.id)
        total -= clip.size
    return doomed
