"""Time as the protocol sees it: integer UTC seconds from an injectable clock."""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    """Anything that tells the current time in integer UTC seconds."""

    def now(self) -> int:
        """Return the current time."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> int:
        """Return the current time."""
        return int(time.time())


class ManualClock:
    """A clock that moves only when told to (tests, demos, replays of recorded traffic)."""

    def __init__(self, start: int = 1_800_000_000) -> None:
        """Start at a fixed time."""
        self.time = start

    def now(self) -> int:
        """Return the current time."""
        return self.time

    def advance(self, seconds: int) -> None:
        """Move time forward."""
        self.time += seconds
