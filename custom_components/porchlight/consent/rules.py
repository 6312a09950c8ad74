"""How a home judges a footage request, before anyone is notified.

The order is fixed and documented (docs/consent.md): a request that fails a check stops
there, silently for the agency.

1. rejected: the agency is not one the owner trusts, the request is malformed, or it goes
   beyond the hard limits every home applies (the limits the commercial portal used);
2. not in area: the home's own location, which never leaves it, lies outside the area;
3. auto-declined: one of the owner's rules (agency block- or allowlist, missing case number,
   window or area above the owner's tighter limits, decline everything);
4. pending: the owner decides, clip by clip.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Final

from custom_components.porchlight.federation.errors import AreaError
from custom_components.porchlight.federation.geo import area_from_json, area_sq_mi, contains

from .records import RequestState

if TYPE_CHECKING:
    from custom_components.porchlight.federation.canonical import JSON

HOUR: Final = 3600
DAY: Final = 86400
# Hard limits: an owner can tighten them, never loosen them.
MAX_WINDOW_HOURS: Final = 12
MAX_AREA_SQ_MI: Final = 0.5
MAX_LOOKBACK_DAYS: Final = 45
# A window may end slightly ahead of our clock (theirs runs fast); footage of the future
# cannot be asked for.
FUTURE_SLACK: Final = 300


class Why(StrEnum):
    """Why a request did not reach the owner (kept at home, never sent)."""

    UNKNOWN_AGENCY = "unknown_agency"
    UNTRUSTED_AGENCY = "untrusted_agency"
    INVALID_AREA = "invalid_area"
    INVALID_WINDOW = "invalid_window"
    WINDOW_TOO_LONG = "window_too_long"
    AREA_TOO_LARGE = "area_too_large"
    TOO_OLD = "too_old"
    MISSING_CASE = "missing_case"
    BLOCKED_AGENCY = "blocked_agency"
    NOT_ALLOWED_AGENCY = "not_allowed_agency"
    DECLINE_ALL = "decline_all"
    OUTSIDE_AREA = "outside_area"
    # Only decline rules automations write (screening.py) have these.
    CASE_PATTERN = "case_pattern"
    DECLINE_HOURS = "decline_hours"
    AWAY = "away"


@dataclass(frozen=True, slots=True)
class Rules:
    """The owner's rules; limits are clamped to the hard limits."""

    max_window_hours: float = MAX_WINDOW_HOURS
    max_area_sq_mi: float = MAX_AREA_SQ_MI
    max_lookback_days: float = MAX_LOOKBACK_DAYS
    require_case: bool = True
    blocked: frozenset[str] = field(default_factory=frozenset)
    # Empty: every trusted agency may ask; otherwise only these.
    allowed: frozenset[str] = field(default_factory=frozenset)
    decline_all: bool = False


@dataclass(frozen=True, slots=True)
class Ask:
    """What the rules look at: the request's fields and what we know of its agency."""

    agency: str
    agency_known: bool
    agency_trusted: bool
    case: str
    area: JSON
    start: int
    end: int
    # The name the owner gave the agency when pairing (decline rules may name it).
    agency_name: str = ""


@dataclass(frozen=True, slots=True)
class Verdict:
    """The outcome of judging a request."""

    state: RequestState
    why: Why | None = None


def judge(ask: Ask, rules: Rules, home: tuple[int, int], now: int) -> Verdict:
    """Judge a request against the hard limits, the home's location and the owner's rules.

    home is the home's location in integer micro-degrees (lat, lon); it is only compared.
    """
    rejected = _hard_checks(ask, now)
    if rejected is not None:
        return Verdict(RequestState.REJECTED, rejected)
    area = area_from_json(ask.area)  # checked by _hard_checks
    if not contains(area, home[0], home[1]):
        return Verdict(RequestState.NOT_IN_AREA, Why.OUTSIDE_AREA)
    declined = _owner_rules(ask, rules, area_sq_mi(area), now)
    if declined is not None:
        return Verdict(RequestState.AUTO_DECLINED, declined)
    return Verdict(RequestState.PENDING)


def still_acceptable(ask: Ask, rules: Rules, received_at: int) -> Why | None:
    """The owner's rules, as they are now, applied to a request judged before (a reload).

    Measured from when the request arrived, so a request does not grow too old merely by
    waiting for its owner. None if the rules still let it wait. The area passed the hard
    checks when the request arrived.
    """
    return _owner_rules(ask, rules, area_sq_mi(area_from_json(ask.area)), received_at)


def _hard_checks(ask: Ask, now: int) -> Why | None:
    if not ask.agency_known:
        return Why.UNKNOWN_AGENCY
    if not ask.agency_trusted:
        return Why.UNTRUSTED_AGENCY
    try:
        area = area_from_json(ask.area)
    except AreaError:
        return Why.INVALID_AREA
    checks = (
        (ask.end <= ask.start or ask.end > now + FUTURE_SLACK, Why.INVALID_WINDOW),
        (ask.end - ask.start > MAX_WINDOW_HOURS * HOUR, Why.WINDOW_TOO_LONG),
        (area_sq_mi(area) > MAX_AREA_SQ_MI, Why.AREA_TOO_LARGE),
        (ask.start < now - MAX_LOOKBACK_DAYS * DAY, Why.TOO_OLD),
    )
    return next((why for failed, why in checks if failed), None)


def _owner_rules(ask: Ask, rules: Rules, sq_mi: float, now: int) -> Why | None:
    checks = (
        (rules.decline_all, Why.DECLINE_ALL),
        (ask.agency in rules.blocked, Why.BLOCKED_AGENCY),
        (bool(rules.allowed) and ask.agency not in rules.allowed, Why.NOT_ALLOWED_AGENCY),
        (rules.require_case and not ask.case.strip(), Why.MISSING_CASE),
        (ask.end - ask.start > rules.max_window_hours * HOUR, Why.WINDOW_TOO_LONG),
        (sq_mi > rules.max_area_sq_mi, Why.AREA_TOO_LARGE),
        (ask.start < now - rules.max_lookback_days * DAY, Why.TOO_OLD),
    )
    return next((why for failed, why in checks if failed), None)
