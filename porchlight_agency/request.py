"""A footage request as an officer types it: area, time window, case, checked before sending.

The limits are the ones every home applies by default (docs/protocol.md, DESIGN §3): a
request outside them would only be declined by every home, so it is refused here with a
message saying which limit it breaks.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Final

from custom_components.porchlight.federation import (
    REQUEST_LIFETIME,
    REQUEST_MAX_HOPS,
    AreaError,
    area_sq_mi,
    area_to_json,
    circle_from_degrees,
    polygon_from_geojson,
)

from .errors import UsageError
from .text import check_typed

if TYPE_CHECKING:
    from pathlib import Path

    from custom_components.porchlight.federation import JSON, Circle, Polygon

MAX_WINDOW: Final = 12 * 3600
MAX_LOOKBACK: Final = 45 * 86400
MAX_AREA_SQ_MI: Final = 0.5
MAX_CASE: Final = 64
MAX_REASON: Final = 500
MAX_GEOJSON_BYTES: Final = 1 << 20
MAX_VALID_HOURS: Final = REQUEST_LIFETIME // 3600
DEFAULT_VALID_HOURS: Final = 72
DEFAULT_HOPS: Final = 1


def parse_time(text: str, option: str) -> int:
    """ISO 8601 to UTC seconds; a time without offset is this computer's local time.

    A local time the clocks show twice (when daylight saving time ends) or never (when it
    begins) is refused: which instant the officer meant is not for the tool to guess.
    """
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        msg = f"{option}: not an ISO 8601 time: {text!r} (e.g. 2026-10-01T14:05-04:00)"
        raise UsageError(msg) from None
    try:
        if moment.tzinfo is None:
            moment = _local(moment, text, option)
        return int(moment.astimezone(UTC).timestamp())
    except ValueError, OverflowError, OSError:
        # Near year 1 or 9999 the offset carries the time out of what datetime represents.
        msg = f"{option}: {text!r} is outside the range of times a request can name"
        raise UsageError(msg) from None


def _local(moment: datetime, text: str, option: str) -> datetime:
    """A wall-clock time of this computer's time zone, if it names exactly one instant."""
    early = moment.replace(fold=0).astimezone()
    late = moment.replace(fold=1).astimezone()
    if early.utcoffset() == late.utcoffset():
        return early
    if early.replace(tzinfo=None) == moment:
        msg = (
            f"{option}: {text!r} happens twice in this computer's time zone (the clocks go "
            f"back); give its offset: {early.isoformat()} or {late.isoformat()}"
        )
    else:
        msg = (
            f"{option}: {text!r} does not exist in this computer's time zone (the clocks "
            "skip it); give the time with its offset, e.g. 2026-10-01T14:05-04:00"
        )
    raise UsageError(msg)


def format_local(seconds: int) -> str:
    """UTC seconds as this computer's local time with its offset."""
    return datetime.fromtimestamp(seconds, UTC).astimezone().strftime("%Y-%m-%d %H:%M:%S %z")


def format_time(seconds: int) -> str:
    """UTC seconds as an ISO 8601 UTC time, for what the officer reads back."""
    try:
        return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    except ValueError, OverflowError, OSError:
        return f"{seconds} s after 1970-01-01 UTC"  # beyond year 9999: shown as given


def check_window(start: int, end: int, now: int) -> None:
    """The homes' limits on a time window, each with its own message."""
    if end <= start:
        msg = "--to must be later than --from"
        raise UsageError(msg)
    if end - start > MAX_WINDOW:
        hours = (end - start) / 3600
        msg = f"the time window is {hours:.1f} h; homes accept at most {MAX_WINDOW // 3600} h"
        raise UsageError(msg)
    if end > now:
        msg = f"--to lies in the future ({format_time(end)}); homes only have what was recorded"
        raise UsageError(msg)
    if start < now - MAX_LOOKBACK:
        msg = (
            f"--from is more than {MAX_LOOKBACK // 86400} days ago; homes do not look back further"
        )
        raise UsageError(msg)


def parse_center(text: str) -> tuple[float, float]:
    """`LAT,LON` in decimal degrees."""
    parts = text.split(",")
    try:
        if len(parts) != 2:  # noqa: PLR2004  # latitude and longitude
            raise ValueError  # noqa: TRY301  # one message for every malformed shape
        return float(parts[0]), float(parts[1])
    except ValueError:
        msg = f"--center: expected LAT,LON in decimal degrees, got {text!r}"
        raise UsageError(msg) from None


def circle(center: str, radius: float) -> Circle:
    """The circle area of --center and --radius."""
    lat, lon = parse_center(center)
    try:
        return circle_from_degrees(lat, lon, radius)
    except AreaError as err:
        msg = f"--center/--radius: {err}"
        raise UsageError(msg) from None


def polygon(path: Path) -> Polygon:
    """The polygon area of a GeoJSON file (a Polygon, or a Feature holding one)."""
    try:
        with path.open("rb") as file:
            data = file.read(MAX_GEOJSON_BYTES + 1)
    except OSError as err:
        msg = f"--polygon: cannot read {path}: {err.strerror}"
        raise UsageError(msg) from None
    if len(data) > MAX_GEOJSON_BYTES:
        msg = f"--polygon: {path} is larger than {MAX_GEOJSON_BYTES} bytes"
        raise UsageError(msg)
    try:
        return polygon_from_geojson(data)
    except AreaError as err:
        msg = f"--polygon: {path} is not a usable GeoJSON polygon: {err}"
        raise UsageError(msg) from None


def check_area(area: Circle | Polygon) -> JSON:
    """The area's wire form, if it is within the homes' size limit."""
    size = area_sq_mi(area)
    if size > MAX_AREA_SQ_MI:
        msg = f"the area is {size:.2f} sq mi; homes accept at most {MAX_AREA_SQ_MI} sq mi"
        raise UsageError(msg)
    return area_to_json(area)


def check_text(case: str, reason: str) -> tuple[str, str]:
    """Case number (may be empty) and reason, within what a request may carry."""
    try:
        case = check_typed(case.strip(), "--case")
        reason = check_typed(reason.strip(), "--reason", newlines=True)
    except ValueError as err:
        raise UsageError(str(err)) from None
    if len(case) > MAX_CASE:
        msg = f"--case: at most {MAX_CASE} characters"
        raise UsageError(msg)
    if not 1 <= len(reason) <= MAX_REASON:
        msg = f"--reason: 1 to {MAX_REASON} characters"
        raise UsageError(msg)
    return case, reason


def check_hops(hops: int) -> int:
    """How far homes may relay the request."""
    if not 0 <= hops <= REQUEST_MAX_HOPS:
        msg = f"--hops: 0 to {REQUEST_MAX_HOPS}"
        raise UsageError(msg)
    return hops


def check_valid_hours(hours: int) -> int:
    """How long the request stays open (offers are accepted until then), in seconds."""
    if not 1 <= hours <= MAX_VALID_HOURS:
        msg = f"--hours-valid: 1 to {MAX_VALID_HOURS}"
        raise UsageError(msg)
    return hours * 3600
