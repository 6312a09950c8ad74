"""Decline rules that automations write into the home: judged with the request, never after.

A blueprint (blueprints/automation/porchlight/auto_decline.yaml) does not race the
notification of a request: it writes its inputs into Porchlight as a rule
(`porchlight.set_decline_rule`) whenever it is created, edited, reloaded or Home Assistant
starts, and Porchlight applies every rule in force while it judges an arriving request, in
the same step as the options' rules and before anything is announced (docs/automations.md).
A request a rule declines is recorded and audited with the rule's id and name and reaches the
owner as nothing at all: no notification, no event, no badge.

These are the rules as data and their evaluation; whether a rule is in force (its automation
is on), the local time and who is away are Home Assistant's and come in as arguments.
No Home Assistant imports.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, Protocol

from .rules import HOUR, MAX_AREA_SQ_MI, MAX_WINDOW_HOURS, Ask, Why

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

MINUTES_PER_DAY: Final = 24 * 60
# A case number the agency writes is at most this long (the request schema's limit is
# larger); a pattern is matched against it whole, never searched for, and compiled once.
MAX_PATTERN: Final = 200


class RuleError(ValueError):
    """A decline rule that cannot be applied as written (the key names what is wrong)."""

    def __init__(self, key: str, message: str, **placeholders: str) -> None:
        """key: a translation key of the exceptions; placeholders fill it."""
        super().__init__(message)
        self.key = key
        self.placeholders = placeholders


def agency_key(text: str) -> str:
    """An agency as the owner may write it: a fingerprint in any grouping or case, or a name."""
    compact = text.replace("-", "").replace(" ", "")
    return compact.upper() if _KEY_ID.fullmatch(compact.upper()) else text.strip().casefold()


_KEY_ID: Final = re.compile(r"[A-Z2-7]{32}")


@dataclass(frozen=True, slots=True)
class DeclineRule:
    """One automation's rule: what it declines, and when (all conditions are alternatives).

    Any one condition that holds declines the request. Limits of 0 (or None) are off;
    others are kept inside the hard limits every home applies (rules.py).
    """

    id: str
    name: str = ""
    decline_all: bool = False
    # Agencies by fingerprint (any grouping) or name, as agency_key normalises them.
    agencies: frozenset[str] = field(default_factory=frozenset)
    # Non-empty: only these agencies may ask while the rule is in force.
    only_agencies: frozenset[str] = field(default_factory=frozenset)
    require_case: bool = False
    # A regular expression the whole case number must match; empty: any.
    case_pattern: str = ""
    max_window_hours: float = 0
    max_area_sq_mi: float = 0
    # Local minutes after midnight; from == until: no hours rule. May wrap past midnight.
    decline_from: int = 0
    decline_until: int = 0
    # Decline while nobody is in this zone (its state counts the people in it); empty: off.
    away_zone: str = ""

    def __post_init__(self) -> None:
        """Refuse what could not be applied: a bad pattern, limits beyond the hard ones."""
        if not self.id.strip():
            raise RuleError("rule_without_id", "the rule has no id")
        if self.case_pattern:
            _check_pattern(self.case_pattern)
        limits = (
            ("max_window_hours", self.max_window_hours, MAX_WINDOW_HOURS),
            ("max_area_sq_mi", self.max_area_sq_mi, MAX_AREA_SQ_MI),
        )
        for name, value, most in limits:
            if not 0 <= value <= most:
                raise RuleError(
                    "rule_limit_invalid",
                    f"{name} {value} is not between 0 (off) and {most}",
                    limit=name,
                    value=str(value),
                    most=str(most),
                )
        for name, minute in (
            ("decline_from", self.decline_from),
            ("decline_until", self.decline_until),
        ):
            if not 0 <= minute < MINUTES_PER_DAY:
                raise RuleError(
                    "rule_limit_invalid",
                    f"{name} {minute} is not a minute of the day",
                    limit=name,
                    value=str(minute),
                    most=str(MINUTES_PER_DAY - 1),
                )

    def to_json(self) -> dict[str, Any]:
        """As it is stored (Home Assistant's Store) and shown in diagnostics."""
        return {
            "id": self.id,
            "name": self.name,
            "decline_all": self.decline_all,
            "agencies": sorted(self.agencies),
            "only_agencies": sorted(self.only_agencies),
            "require_case": self.require_case,
            "case_pattern": self.case_pattern,
            "max_window_hours": self.max_window_hours,
            "max_area_sq_mi": self.max_area_sq_mi,
            "decline_from": self.decline_from,
            "decline_until": self.decline_until,
            "away_zone": self.away_zone,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DeclineRule:
        """As stored; raises RuleError (or TypeError, KeyError) for what is not a rule."""
        return cls(
            **{
                **data,
                "agencies": frozenset(data["agencies"]),
                "only_agencies": frozenset(data["only_agencies"]),
            }
        )

    def in_hours(self, minute: int) -> bool:
        """Whether a local minute of the day lies in the decline hours (from inclusive)."""
        start, end = self.decline_from, self.decline_until
        if start == end:
            return False
        if start < end:
            return start <= minute < end
        return minute >= start or minute < end  # wraps past midnight


def _check_pattern(pattern: str) -> None:
    if len(pattern) > MAX_PATTERN:
        raise RuleError(
            "case_pattern_invalid",
            f"the pattern is longer than {MAX_PATTERN} characters",
            pattern=pattern[:40],
            error=f"longer than {MAX_PATTERN} characters",
        )
    try:
        re.compile(pattern)
    except re.error as err:
        raise RuleError(
            "case_pattern_invalid",
            f"the pattern {pattern!r} is not a regular expression: {err}",
            pattern=pattern,
            error=str(err),
        ) from err


@dataclass(frozen=True, slots=True)
class RuleMatch:
    """The rule that declined a request, and which of its conditions held."""

    rule_id: str
    rule_name: str
    why: Why


def first_match(
    ask: Ask,
    area_sq_mi: float,
    rules: Iterable[DeclineRule],
    *,
    minute: int,
    away: Callable[[str], bool],
) -> RuleMatch | None:
    """The first rule (in the order given) that declines the request, and why.

    minute: the local minute of the day the request arrived; away(zone): whether nobody is
    in the zone now.
    """
    # The agency as its key and as the name the owner knows it by: either may be written.
    names = {agency_key(ask.agency)} | ({agency_key(ask.agency_name)} if ask.agency_name else set())
    for rule in rules:
        why = _why(rule, ask, area_sq_mi, agencies=names, minute=minute, away=away)
        if why is not None:
            return RuleMatch(rule.id, rule.name, why)
    return None


def _why(  # noqa: PLR0913  # one request, its circumstances and one rule
    rule: DeclineRule,
    ask: Ask,
    area_sq_mi: float,
    *,
    agencies: set[str],
    minute: int,
    away: Callable[[str], bool],
) -> Why | None:
    checks = (
        (rule.decline_all, Why.DECLINE_ALL),
        (bool(agencies & rule.agencies), Why.BLOCKED_AGENCY),
        (bool(rule.only_agencies) and not agencies & rule.only_agencies, Why.NOT_ALLOWED_AGENCY),
        (rule.require_case and not ask.case.strip(), Why.MISSING_CASE),
        (
            bool(rule.case_pattern) and re.fullmatch(rule.case_pattern, ask.case.strip()) is None,
            Why.CASE_PATTERN,
        ),
        (
            rule.max_window_hours > 0 and ask.end - ask.start > rule.max_window_hours * HOUR,
            Why.WINDOW_TOO_LONG,
        ),
        (rule.max_area_sq_mi > 0 and area_sq_mi > rule.max_area_sq_mi, Why.AREA_TOO_LARGE),
        (rule.in_hours(minute), Why.DECLINE_HOURS),
    )
    if found := next((why for failed, why in checks if failed), None):
        return found
    # Asked last and only when needed: it reads Home Assistant's states.
    return Why.AWAY if rule.away_zone and away(rule.away_zone) else None


class Screening(Protocol):
    """The decline rules in force, as the desk asks them about an arriving request."""

    def decline(self, ask: Ask, area_sq_mi: float, at: int) -> RuleMatch | None:
        """The rule that declines the request arriving at `at` (UTC seconds), if any."""
        ...


class NoRules:
    """No automation writes rules (the desk without Home Assistant)."""

    def decline(self, ask: Ask, area_sq_mi: float, at: int) -> RuleMatch | None:  # noqa: ARG002
        """Nothing is declined."""
        return None
