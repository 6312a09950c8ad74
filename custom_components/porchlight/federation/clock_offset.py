"""How far our clock is off, as the peers' answers to our deliveries show it (R2.9).

A peer refuses a message signed too far from its own time with a 401 clock_skew that carries
its time. The peer's word is unsigned (R1.5): the offset is shown to the owner, never acted
on.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from collections.abc import Callable

    from .canonical import JSON
    from .clock import Clock

# A peer's clock_skew refusal showing our clock this far off is worth telling the owner.
CLOCK_OFFSET_LIMIT: Final = 30


class ClockWatch:
    """Our clock's offset from the peers', from what they answer."""

    def __init__(self, clock: Clock, on_change: Callable[[str], None]) -> None:
        """Watch clock; report each change of the offset to on_change as "clock"."""
        self._clock = clock
        self._on_change = on_change
        # Our time minus the peer's, in seconds; None while no peer says it is off.
        self.offset: int | None = None

    def observe(self, status: int, reply: JSON) -> bool:
        """Take one delivery's answer into account; True for a clock_skew refusal.

        The offset is set when a refusal shows it beyond CLOCK_OFFSET_LIMIT and cleared by
        the next accepted delivery.
        """
        server_time = _server_time(status, reply)
        if server_time is not None:
            offset = self._clock.now() - server_time
            if abs(offset) > CLOCK_OFFSET_LIMIT and offset != self.offset:
                self.offset = offset
                self._on_change("clock")
            return True
        if HTTPStatus.OK <= status < HTTPStatus.MULTIPLE_CHOICES and self.offset is not None:
            self.offset = None
            self._on_change("clock")
        return False


def _server_time(status: int, reply: JSON) -> int | None:
    """The peer's time in a 401 clock_skew refusal, if that is what reply is."""
    if status != HTTPStatus.UNAUTHORIZED or not isinstance(reply, dict):
        return None
    server_time = reply.get("server_time")
    if reply.get("error") != "clock_skew" or type(server_time) is not int:
        return None
    return server_time
