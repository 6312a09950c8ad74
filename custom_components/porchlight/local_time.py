"""Times as the owner reads them: Home Assistant's time zone, worded the same everywhere.

Records and the protocol keep integer UTC seconds; these are for people (the request
notification, the media browser, event attributes) and for action responses, which give
ISO 8601 with Home Assistant's UTC offset (templates read it with `as_datetime`). The
notification and the media browser word a clip's time with the same functions, so the owner
finds the clip a notification names under the same day and time in the media browser.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from homeassistant.components.http.auth import async_sign_path
from homeassistant.util import dt as dt_util

from .const import CLIP_URL, THUMBNAIL_URL

if TYPE_CHECKING:
    from datetime import date, datetime

    from homeassistant.core import HomeAssistant

# Signed links die with the process anyway (HA's signing secret is per run); a day lets a
# browser tab or a notification stay useful without making a leaked link long-lived.
SIGNED_FOR = timedelta(hours=24)


def as_local(timestamp: float) -> datetime:
    """A UTC timestamp in Home Assistant's time zone."""
    return dt_util.as_local(dt_util.utc_from_timestamp(timestamp))


def local_iso(timestamp: float) -> str:
    """ISO 8601 to the second, with Home Assistant's UTC offset (for action responses)."""
    return as_local(timestamp).isoformat(timespec="seconds")


def clip_day(timestamp: float) -> date:
    """The local day a clip is filed under in the media browser."""
    return as_local(timestamp).date()


def clip_time(timestamp: float) -> str:
    """A clip's local time of day, as the media browser's titles show it."""
    return f"{as_local(timestamp):%H:%M:%S}"


def when(timestamp: float) -> str:
    """A local day and time: the media browser's day folder, then the clip's time."""
    return f"{clip_day(timestamp).isoformat()} {clip_time(timestamp)}"


def clip_link(hass: HomeAssistant, clip_id: str) -> str:
    """A signed path that plays the clip from our clip view (as the media browser does)."""
    return async_sign_path(hass, CLIP_URL.format(clip_id=clip_id), SIGNED_FOR)


def thumbnail_link(hass: HomeAssistant, clip_id: str, valid: timedelta = SIGNED_FOR) -> str:
    """A signed path to the clip's thumbnail from our thumbnail view."""
    return async_sign_path(hass, THUMBNAIL_URL.format(clip_id=clip_id), valid)
