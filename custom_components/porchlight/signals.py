"""Dispatcher signals: how the glue tells entities that something they show has changed.

All in one place, so an entity and the code that sends to it cannot drift apart. Each
signal of a home carries the entry id: a reload (or a second home) never hears another's.
"""

from __future__ import annotations

from typing import Final

from .const import DOMAIN

# Peers paired, confirmed, trusted or removed (no entry id: one federation per hass).
SIGNAL_PEERS_CHANGED: Final = f"{DOMAIN}_peers_changed"
# A neighbor's alert was received and shown (arg: alerts.Alert; one federation per hass).
SIGNAL_ALERT: Final = f"{DOMAIN}_alert"
# A shown alert's clips arrived after it (no args): the sensor recounts.
SIGNAL_ALERT_CLIPS: Final = f"{DOMAIN}_alert_clips"


def _of_home(entry_id: str, topic: str) -> str:
    return f"{DOMAIN}_{entry_id}_{topic}"


def signal_requests(entry_id: str) -> str:
    """A request or share changed."""
    return _of_home(entry_id, "requests")


def signal_pending(entry_id: str) -> str:
    """A request is waiting for the owner (arg: its event data)."""
    return _of_home(entry_id, "pending")


def signal_status(entry_id: str) -> str:
    """A camera's recorder status or storage changed."""
    return _of_home(entry_id, "status")


def signal_clip(entry_id: str) -> str:
    """A clip was indexed (args: camera, clip)."""
    return _of_home(entry_id, "clip")
