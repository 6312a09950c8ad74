"""Judging a request: hard limits, the local area match, the owner's rules, in that order."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from custom_components.porchlight.consent.records import RequestState
from custom_components.porchlight.consent.rules import Ask, Rules, Verdict, Why, judge

if TYPE_CHECKING:
    from custom_components.porchlight.federation.canonical import JSON

NOW = 1_799_999_917
HOME = (52_379_189, 4_899_431)
AGENCY = "A" * 32
NEAR: JSON = {"kind": "circle", "lat": HOME[0] + 500, "lon": HOME[1], "radius_m": 300}


def ask(**changes: object) -> Ask:
    """A valid request for the last hour around the home."""
    fields: dict[str, object] = {
        "agency": AGENCY,
        "agency_known": True,
        "agency_trusted": True,
        "case": "2026-1",
        "area": NEAR,
        "start": NOW - 3600,
        "end": NOW - 60,
    }
    fields.update(changes)
    return Ask(**fields)  # type: ignore[arg-type]


def test_valid_request_in_the_area_is_pending() -> None:
    assert judge(ask(), Rules(), HOME, NOW) == Verdict(RequestState.PENDING)


@pytest.mark.parametrize(
    ("changes", "why"),
    [
        ({"agency_known": False, "agency_trusted": False}, Why.UNKNOWN_AGENCY),
        ({"agency_trusted": False}, Why.UNTRUSTED_AGENCY),
        ({"area": {"kind": "circle", "lat": 1, "lon": 2}}, Why.INVALID_AREA),
        ({"start": NOW - 60, "end": NOW - 60}, Why.INVALID_WINDOW),
        ({"start": NOW, "end": NOW + 3600}, Why.INVALID_WINDOW),
        ({"start": NOW - 13 * 3600}, Why.WINDOW_TOO_LONG),
        (
            {"area": {"kind": "circle", "lat": HOME[0], "lon": HOME[1], "radius_m": 700}},
            Why.AREA_TOO_LARGE,
        ),
        ({"start": NOW - 46 * 86400, "end": NOW - 46 * 86400 + 60}, Why.TOO_OLD),
    ],
)
def test_hard_limits_reject(changes: dict[str, object], why: Why) -> None:
    assert judge(ask(**changes), Rules(decline_all=True), HOME, NOW) == Verdict(
        RequestState.REJECTED, why
    )


def test_home_outside_the_area_is_not_in_area_even_when_rules_would_decline() -> None:
    far = {"kind": "circle", "lat": HOME[0] + 20_000, "lon": HOME[1], "radius_m": 300}
    assert judge(ask(area=far), Rules(decline_all=True), HOME, NOW) == Verdict(
        RequestState.NOT_IN_AREA, Why.OUTSIDE_AREA
    )


@pytest.mark.parametrize(
    ("rules", "changes", "why"),
    [
        (Rules(decline_all=True), {}, Why.DECLINE_ALL),
        (Rules(blocked=frozenset({AGENCY})), {}, Why.BLOCKED_AGENCY),
        (Rules(allowed=frozenset({"B" * 32})), {}, Why.NOT_ALLOWED_AGENCY),
        (Rules(), {"case": "  "}, Why.MISSING_CASE),
        (Rules(max_window_hours=0.5), {}, Why.WINDOW_TOO_LONG),
        (Rules(max_area_sq_mi=0.05), {}, Why.AREA_TOO_LARGE),
        (
            Rules(max_lookback_days=1),
            {"start": NOW - 2 * 86400, "end": NOW - 2 * 86400 + 60},
            Why.TOO_OLD,
        ),
    ],
)
def test_owner_rules_auto_decline(rules: Rules, changes: dict[str, object], why: Why) -> None:
    assert judge(ask(**changes), rules, HOME, NOW) == Verdict(RequestState.AUTO_DECLINED, why)


def test_owner_rules_that_pass_leave_the_request_pending() -> None:
    rules = Rules(require_case=False, allowed=frozenset({AGENCY}), max_window_hours=2)
    assert judge(ask(case=""), rules, HOME, NOW) == Verdict(RequestState.PENDING)
