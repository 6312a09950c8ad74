"""The event ids a node has acted on: a message delivered again is answered "duplicate".

Delivery is at least once (outbox.py), and relays bring the same alert or request by several
paths; the event id, not the nonce of one hop, says whether it is the same message.

For a relayable message the fewest hops any copy came with is kept too. The hop count is
signed by nobody (docs/protocol.md §3): a neighbor that hands us a copy with its hops raised
to max_hops first must not stop the honest copy that comes later, so a duplicate with fewer
hops than any copy before is relayed again (inbox.py). The relayable ids are saved with the
node's state: after a restart an alert already shown or a request already judged is still a
duplicate.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Final

from .messages import TYPES

if TYPE_CHECKING:
    from .messages import Envelope

_EVENT_ID: Final = re.compile(r"[0-9a-f]{64}")
# Far above any max_hops (messages.py): a saved count beyond it is damage, not a relay.
_MAX_SAVED_HOPS: Final = 64


class SeenEvents:
    """Event ids with the expiry of their message, at most max_events of them."""

    def __init__(self, max_events: int) -> None:
        """Remember up to max_events event ids."""
        self._max = max_events
        # Event id -> (expires, fewest hops seen); hops None: a type that is never relayed.
        self._events: dict[str, tuple[int, int | None]] = {}

    def __len__(self) -> int:
        """Number of event ids remembered."""
        return len(self._events)

    def __contains__(self, event_id: object) -> bool:
        """Whether the event was acted on (and not forgotten since)."""
        return event_id in self._events

    def remember(self, envelope: Envelope, now: int) -> None:
        """Remember envelope's event id until its message expires (or room runs out)."""
        hops = envelope.hops if TYPES[envelope.type].relayable else None
        self._add(envelope.event_id, envelope.expires, hops, now)

    def _add(self, event_id: str, expires: int, hops: int | None, now: int) -> None:
        if len(self._events) >= self._max:
            self._events = {k: v for k, v in self._events.items() if v[0] >= now}
            if len(self._events) >= self._max:
                # Still full of live events: forget the oldest half (dicts keep insertion
                # order). Re-delivering one of them still takes a fresh hop signature by a
                # paired peer, so this costs dedupe precision, not authenticity.
                for key in list(self._events)[: len(self._events) // 2]:
                    del self._events[key]
        self._events[event_id] = (expires, hops)

    def fewer_hops(self, envelope: Envelope) -> bool:
        """Whether this copy of a relayable event came with fewer hops than any before.

        If so the lower count is remembered: each event can be relayed again only as often as
        its hop count can fall, at most max_hops times.
        """
        seen = self._events.get(envelope.event_id)
        if seen is None or seen[1] is None or envelope.hops >= seen[1]:
            return False
        self._events[envelope.event_id] = (seen[0], envelope.hops)
        return True

    def to_json(self, now: int, limit: int) -> dict[str, list[int]]:
        """The live relayable events, the last `limit` remembered, for the node's state.

        Direct messages are left out: a sender retries those only until its outbox takes our
        answer, whereas relays bring alerts and requests back for as long as they live.
        """
        live = [
            (event_id, [expires, hops])
            for event_id, (expires, hops) in self._events.items()
            if hops is not None and expires >= now
        ]
        return dict(live[max(0, len(live) - limit) :])

    @classmethod
    def from_json(cls, data: object, max_events: int, now: int) -> SeenEvents:
        """What to_json saved, expired events dropped; ValueError if it is damaged."""
        if not isinstance(data, dict):
            msg = "seen events must be an object"
            raise ValueError(msg)  # noqa: TRY004  # stored data, not a caller's mistake
        seen = cls(max_events)
        for event_id, value in data.items():
            if not (
                isinstance(event_id, str)
                and _EVENT_ID.fullmatch(event_id)
                and isinstance(value, list)
                and len(value) == 2  # noqa: PLR2004  # [expires, hops]
                and all(type(n) is int for n in value)
                and 0 <= value[1] <= _MAX_SAVED_HOPS
            ):
                msg = "a seen event is damaged"
                raise ValueError(msg)
            if value[0] >= now:
                seen._add(event_id, value[0], value[1], now)
        return seen
