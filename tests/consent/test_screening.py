"""Decline rules as automations write them: what each condition declines, and what is refused.

Without Home Assistant: whether a rule is in force, the local time and who is away come in
as arguments (decline_rules.py supplies them in Home Assistant).
"""

from __future__ import annotations

from typing import Any

import pytest

from custom_components.porchlight.consent.rules import Ask, Why
from custom_components.porchlight.consent.screening import (
    DeclineRule,
    NoRules,
    RuleError,
    RuleMatch,
    agency_key,
    first_match,
)

from .test_rules import AGENCY, ask

NOON = 12 * 60


def match(*rules: DeclineRule, request: Ask | None = None, **when: Any) -> RuleMatch | None:
    """The rule that declines a request (the usual one unless given) of 0.1 mi² at noon."""
    return first_match(
        request or ask(agency_name="Metro PD"),
        when.get("sq_mi", 0.1),
        rules,
        minute=when.get("minute", NOON),
        away=when.get("away", lambda _zone: False),
    )


def test_no_rule_declines_nothing() -> None:
    assert match() is None
    assert match(DeclineRule("automation.empty")) is None
    assert NoRules().decline(ask(), 0.1, 0) is None


@pytest.mark.parametrize(
    ("rule", "why"),
    [
        (DeclineRule("r", decline_all=True), Why.DECLINE_ALL),
        (DeclineRule("r", agencies=frozenset({agency_key("metro pd")})), Why.BLOCKED_AGENCY),
        (DeclineRule("r", agencies=frozenset({agency_key(AGENCY.lower())})), Why.BLOCKED_AGENCY),
        (DeclineRule("r", only_agencies=frozenset({"county sheriff"})), Why.NOT_ALLOWED_AGENCY),
        (DeclineRule("r", case_pattern=r"\d{4}-\d{6}"), Why.CASE_PATTERN),
        (DeclineRule("r", max_window_hours=0.5), Why.WINDOW_TOO_LONG),
        (DeclineRule("r", max_area_sq_mi=0.05), Why.AREA_TOO_LARGE),
        (DeclineRule("r", decline_from=11 * 60, decline_until=13 * 60), Why.DECLINE_HOURS),
    ],
)
def test_each_condition_declines_with_its_reason(rule: DeclineRule, why: Why) -> None:
    assert match(rule) == RuleMatch("r", "", why)


def test_conditions_that_do_not_hold_decline_nothing() -> None:
    rule = DeclineRule(
        "r",
        agencies=frozenset({"county sheriff"}),
        only_agencies=frozenset({agency_key("Metro PD")}),
        require_case=True,
        case_pattern=r"\d{4}-\d",
        max_window_hours=2,
        max_area_sq_mi=0.2,
        decline_from=22 * 60,
        decline_until=7 * 60,
        away_zone="zone.home",
    )
    assert match(rule) is None


def test_a_missing_case_number_and_a_case_number_of_spaces_are_declined() -> None:
    rule = DeclineRule("r", require_case=True)
    assert match(rule, request=ask(case="  ")) == RuleMatch("r", "", Why.MISSING_CASE)


def test_away_is_asked_only_for_rules_that_name_a_zone() -> None:
    asked: list[str] = []

    def away(zone: str) -> bool:
        asked.append(zone)
        return zone == "zone.home"

    assert match(DeclineRule("a"), away=away) is None
    assert asked == []
    assert match(DeclineRule("b", away_zone="zone.home"), away=away) == RuleMatch("b", "", Why.AWAY)
    assert match(DeclineRule("c", away_zone="zone.work"), away=away) is None


def test_the_first_rule_that_declines_is_named() -> None:
    quiet = DeclineRule("automation.quiet", name="Quiet", case_pattern="2026-.*")
    night = DeclineRule("automation.night", name="Night", decline_all=True)
    assert match(quiet, night) == RuleMatch("automation.night", "Night", Why.DECLINE_ALL)


@pytest.mark.parametrize(
    ("start", "until", "declined", "kept"),
    [
        (22 * 60, 7 * 60, [22 * 60, 23 * 60 + 59, 0, 6 * 60 + 59], [7 * 60, NOON, 21 * 60 + 59]),
        (9 * 60, 17 * 60, [9 * 60, NOON, 16 * 60 + 59], [17 * 60, 8 * 60 + 59, 0]),
        (NOON, NOON, [], [0, NOON, 23 * 60]),
    ],
)
def test_decline_hours_may_run_past_midnight(
    start: int, until: int, declined: list[int], kept: list[int]
) -> None:
    rule = DeclineRule("r", decline_from=start, decline_until=until)
    assert [rule.in_hours(m) for m in declined] == [True] * len(declined)
    assert [rule.in_hours(m) for m in kept] == [False] * len(kept)


def test_agencies_are_written_as_fingerprints_in_any_grouping_or_by_name() -> None:
    grouped = "-".join(AGENCY[i : i + 4] for i in range(0, 32, 4)).lower()
    assert agency_key(grouped) == AGENCY
    assert agency_key(f" {AGENCY[:16]} {AGENCY[16:]} ") == AGENCY
    assert agency_key("  Metro PD ") == "metro pd"


@pytest.mark.parametrize(
    ("fields", "key"),
    [
        ({"id": " "}, "rule_without_id"),
        ({"case_pattern": "(unclosed"}, "case_pattern_invalid"),
        ({"case_pattern": "a" * 201}, "case_pattern_invalid"),
        ({"max_window_hours": 12.5}, "rule_limit_invalid"),
        ({"max_window_hours": -1}, "rule_limit_invalid"),
        ({"max_area_sq_mi": 0.6}, "rule_limit_invalid"),
        ({"decline_from": 24 * 60}, "rule_limit_invalid"),
        ({"decline_until": -1}, "rule_limit_invalid"),
    ],
)
def test_rules_that_cannot_be_applied_are_refused(fields: dict[str, Any], key: str) -> None:
    with pytest.raises(RuleError) as raised:
        DeclineRule(**{"id": "r", **fields})
    assert raised.value.key == key
    assert str(raised.value)


def test_a_rule_reads_back_as_it_was_stored() -> None:
    rule = DeclineRule(
        "automation.night",
        name="Night",
        agencies=frozenset({"metro pd"}),
        only_agencies=frozenset({AGENCY}),
        case_pattern=r"\d+",
        decline_from=1,
        decline_until=2,
        away_zone="zone.home",
    )
    assert DeclineRule.from_json(rule.to_json()) == rule
