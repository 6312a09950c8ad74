"""Neighbors' alerts as the home receives them: shown, announced, or muted per neighbor.

The federation accepts and relays alerts (federation/inbox.py); this module is what the owner
sees of them: the `porchlight_alert` bus event (for automations and the neighbor_alert
blueprint), the alert event entity and the recent-alerts sensor (through a dispatcher
signal), and the owner's mutes. A muted neighbor's alerts are still relayed (muting is this
owner's view, not a decision for the neighborhood) but never shown here.

Who posted an alert: the name this home paired the poster under, if the poster chose to
show its name ("" for "a neighbor" otherwise). The name in the message is the poster's claim,
checked by nobody: an originator this home never paired (a neighbor of a neighbor, or a key
someone minted) is shown as "a neighbor of a neighbor" whatever it claims. Such an alert is
the relaying neighbor's to answer for: muting that neighbor hides it too, so a muted neighbor
cannot come back under fresh keys. The originator's key is kept for muting only and never
put in events or attributes. Mutes follow a neighbor's key rotations (`follow_keys`).

Clips: a directly paired poster may send its alert's clips in an `alert_clips` message (one
single-use link per clip, made for this home). Events and attributes show only how many;
the links themselves are capabilities (whoever holds one gets the footage, once), so they
stay here, in memory, and only the admin-only `alert_clips` action hands them out.
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Final

from homeassistant.core import callback
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.storage import Store

from .const import DOMAIN
from .signals import SIGNAL_ALERT, SIGNAL_ALERT_CLIPS

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

    from .federation.messages import Envelope
    from .federation.peers import Peer, PeerRegistry

_LOGGER = logging.getLogger(__name__)

EVENT_ALERT: Final = f"{DOMAIN}_alert"
EVENT_ALERT_CLIPS: Final = f"{DOMAIN}_alert_clips"
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
    poster: str  # the paired poster's name, "" ("a neighbor"), or the unpaired label
    received_at: int
    # How many clips the poster shared with this home (never the links: see the module).
    clips: int = 0

    def as_event(self) -> dict[str, Any]:
        """The bus event's and the event entity's data."""
        return {
            "event_id": self.event_id,
            "text": self.text,
            "category": self.category,
            "poster": self.poster,
            "received_at": self.received_at,
            "clips": self.clips,
        }


@dataclass(slots=True)
class NeighborAlerts:
    """The alerts this home received lately, and the neighbors its owner muted."""

    hass: HomeAssistant
    # How an originator this home never paired is shown (translated: "a neighbor of a neighbor").
    unpaired: str
    store: Store[dict[str, Any]] = field(init=False)
    muted: set[str] = field(default_factory=set)
    recent: deque[Alert] = field(default_factory=lambda: deque(maxlen=RECENT))
    # Per alert event id, the clip links its poster sent this home (admins only, see above).
    links: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # Who posted each recent alert (never shown): only its poster may attach clips to it.
    # Any paired neighbor can name any alert id it saw relayed; without this check it could
    # pass its own links off as the poster's, or replace the poster's.
    posters: dict[str, str] = field(default_factory=dict)
    # Clips that came before their alert, with their sender: attached once the alert comes
    # from that same neighbor, dropped otherwise.
    early: dict[str, tuple[str, list[dict[str, Any]]]] = field(default_factory=dict)

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
        await self.store.async_save(self._stored())

    def _stored(self) -> dict[str, Any]:
        return {"muted": sorted(self.muted)}

    @callback
    def follow_keys(self, peers: PeerRegistry) -> None:
        """Move the mutes of neighbors that rotated their key to the key pinned now."""
        moved = {old: new.keyid for old in self.muted if (new := peers.successor(old)) is not None}
        if moved:
            self.muted = {moved.get(k, k) for k in self.muted}
            self.store.async_delay_save(self._stored, 0)

    @callback
    def received(self, envelope: Envelope, origin: Peer | None, via: Peer, now: int) -> None:
        """An accepted alert: announce it unless whoever answers for it is muted.

        origin: the originator as this home pinned it (None: never paired here); via: the
        neighbor that handed it over, which answers for an originator nobody pinned.
        """
        if (origin or via).keyid in self.muted:
            _LOGGER.debug("Alert %s from a muted neighbor not shown", envelope.event_id)
            return
        body = envelope.body
        # Whether to show a name is the poster's choice; the name is the one this home
        # paired it under, never the one it claims.
        poster = (origin.name if body["name"] else "") if origin is not None else self.unpaired
        self.posters[envelope.event_id] = envelope.sender
        _keep_recent(self.posters)
        early = self.early.pop(envelope.event_id, None)
        if early is not None and early[0] == envelope.sender:
            self.links[envelope.event_id] = early[1]
            _keep_recent(self.links)
        alert = Alert(
            envelope.event_id,
            str(body["text"]),
            str(body["category"]),
            poster,
            now,
            len(self.links.get(envelope.event_id, ())),
        )
        self.recent.appendleft(alert)
        self.hass.bus.async_fire(EVENT_ALERT, alert.as_event())
        async_dispatcher_send(self.hass, SIGNAL_ALERT, alert)

    @callback
    def received_clips(self, envelope: Envelope) -> None:
        """A neighbor's clips for its alert (the inbox checked its manifest): kept for admins.

        They may come before or after the alert; a shown alert gets its count updated and
        a `porchlight_alert_clips` event announces them (with the count only).
        """
        if envelope.sender in self.muted:
            return
        # The inbox checked the schema and that the manifest names exactly these clips.
        body: dict[str, Any] = envelope.body
        alert_id = str(body["alert"])
        evidence = {c["clip"]: c for c in body["manifest"]["clips"]}
        links = [
            {
                **{k: link[k] for k in ("clip", "url", "expires")},
                **{
                    k: evidence[link["clip"]][k]
                    for k in ("camera", "start", "end", "sha256", "size")
                },
            }
            for link in body["links"]
        ]
        poster = self.posters.get(alert_id)
        if poster is None:
            self.early[alert_id] = (envelope.sender, links)
            _keep_recent(self.early)
            return
        if poster != envelope.sender:
            _LOGGER.warning(
                "Clips for alert %s dropped: they came from a neighbor that did not post it",
                alert_id[:12],
            )
            return
        self.links[alert_id] = links
        # Only the last alerts are kept: links for one forgotten are forgotten with it.
        _keep_recent(self.links)
        count = len(self.links[alert_id])
        for n, alert in enumerate(self.recent):
            if alert.event_id == alert_id:
                self.recent[n] = replace(alert, clips=count)
                self.hass.bus.async_fire(EVENT_ALERT_CLIPS, {"event_id": alert_id, "clips": count})
                async_dispatcher_send(self.hass, SIGNAL_ALERT_CLIPS)


def _keep_recent(by_alert: dict[str, Any]) -> None:
    """Forget all but the RECENT alerts last added."""
    while len(by_alert) > RECENT:
        del by_alert[next(iter(by_alert))]
