"""The event ids a node has acted on: a message delivered again is answered "duplicate".

Delivery is at least once (outbox.py), and relays bring the same alert or request by several
paths; the event id, not the nonce of one hop, says whether it is the same message.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .messages import Envelope


class SeenEvents:
    """Event ids with the expiry of their message, at most max_events of them."""

    def __init__(self, max_events: int) -> None:
        """Remember up to max_events event ids."""
        self._max = max_events
        self._events: dict[str, int] = {}

    def __len__(self) -> int:
        """Number of event ids remembered."""
        return len(self._events)

    def __contains__(self, event_id: object) -> bool:
        """Whether the event was acted on (and not forgotten since)."""
        return event_id in self._events

    def remember(self, envelope: Envelope, now: int) -> None:
        """Remember envelope's event id until its message expires (or room runs out)."""
        if len(self._events) >= self._max:
            self._events = {k: v for k, v in self._events.items() if v >= now}
            if len(self._events) >= self._max:
                # Still full of live events: forget the oldest half (dicts keep insertion
                # order). Re-delivering one of them still takes a fresh hop signature by a
                # paired peer, so this costs dedupe precision, not authenticity.
                for key in list(self._events)[: len(self._events) // 2]:
                    del self._events[key]
        self._events[envelope.event_id] = envelope.expires
