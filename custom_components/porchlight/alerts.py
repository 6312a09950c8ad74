"""Neighbors' alerts as the home receives them: shown, announced, or muted per neighbor.

The federation accepts and relays alerts (federation/inbox.py); this module is what the owner
sees of them: the `porchlight_alert` bus event (for automations and the neighbor_alert
blueprint), the alert event entity and the recent-alerts sensor (through a dispatcher
signal), and the owner's mutes. A muted neighbor's alerts are still relayed (muting is this
owner's view, not a decision for the neighborhood) but never shown here.

Who posted an alert is what the poster chose: its home name, or "" for "a neighbor". The
originator's key is kept for muting only and never put in events or attributes.
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from homeassistant.core import callback
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.storage import Store

from .const import DOMAIN
from .signals import SIGNAL_ALERT

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

    from .federation.messages import Envelope

_LOGGER = logging.getLogger(__name__)

EVENT_ALERT: Final = f"{DOMAIN}_alert"
STORAGE_KEY: Final = f"{DOMAIN}.alerts"
STORAGE_VERSION: Final = 1
# What the sensor lists; older alerts are forgotten (they expire within 6 hours anyway).
RECENT: Final = 20


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert as the owner sees it."""

    event_id: str
    text: str
    category: str
    poster: str  # the poster's home name, or "" ("a neighbor")
    received_at: int

    def as_event(self) -> dict[str, Any]:
        """The bus event's and the event entity's data."""
        return {
            "event_id": self.event_id,
            "text": self.text,
            "category": self.category,
            "poster": self.poster,
            "received_at": self.received_at,
        }


@dataclass(slots=True)
class NeighborAlerts:
    """The alerts this home received lately, and the neighbors its owner muted."""

    hass: HomeAssistant
    store: Store[dict[str, Any]] = field(init=False)
    muted: set[str] = field(default_factory=set)
    recent: deque[Alert] = field(default_factory=lambda: deque(maxlen=RECENT))

    def __post_init__(self) -> None:
        """Mutes are kept across restarts (private: they name neighbors' keys)."""
        self.store = Store(self.hass, STORAGE_VERSION, STORAGE_KEY, private=True)

    async def async_load(self) -> None:
        """Bring back the owner's mutes."""
        data = await self.store.async_load()
        self.muted = set(data["muted"]) if data else set()

    async def async_mute(self, keyid: str, *, muted: bool) -> None:
        """Mute (or unmute) one neighbor's alerts at this home, saved at once."""
        if muted:
            self.muted.add(keyid)
        else:
            self.muted.discard(keyid)
        await self.store.async_save({"muted": sorted(self.muted)})

    @callback
    def received(self, envelope: Envelope, now: int) -> None:
        """An accepted alert: announce it unless its originator is muted."""
        if envelope.sender in self.muted:
            _LOGGER.debug("Alert %s from a muted neighbor not shown", envelope.event_id)
            return
        body = envelope.body
        alert = Alert(
            envelope.event_id, str(body["text"]), str(body["category"]), str(body["name"]), now
        )
        self.recent.appendleft(alert)
        self.hass.bus.async_fire(EVENT_ALERT, alert.as_event())
        async_dispatcher_send(self.hass, SIGNAL_ALERT, alert)
