"""Decline rules written by automations, kept by Home Assistant, judged by the consent desk.

The auto-decline blueprint calls `porchlight.set_decline_rule` with its inputs when it is
created or edited (automations reload), when automations are reloaded and when Home Assistant
starts; the rule is stored here at once (Home Assistant's Store) and applies to every
request that arrives from then on, also right after the next restart, before any automation
runs. The desk asks `decline` while it judges a request (consent/screening.py), so a request
a rule declines is never announced, whatever order automations and Porchlight start in.

A rule is in force while its automation is: an automation turned off stops its rule, one
turned on again restores it. One deleted from Home Assistant takes its rule with it (entity
registry), and so does one that no longer exists once Home Assistant has started (removed
from YAML while it was stopped). docs/automations.md is the owner's account of all this.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

import probatio
from homeassistant.const import EVENT_HOMEASSISTANT_STARTED, STATE_OFF
from homeassistant.core import CoreState, ServiceCall, callback
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.service import async_register_admin_service
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from .action_errors import refused
from .consent.screening import DeclineRule, RuleError, RuleMatch, agency_key, first_match
from .const import DOMAIN
from .issues import Severity, clear_issue, raise_issue

if TYPE_CHECKING:
    from datetime import time

    from homeassistant.core import Event, HomeAssistant

    from .consent.rules import Ask

_LOGGER = logging.getLogger(__name__)

STORAGE_KEY: Final = f"{DOMAIN}.decline_rules"
STORAGE_VERSION: Final = 1
DATA_RULES: Final = f"{DOMAIN}_decline_rules"
RULE_ISSUE: Final = "decline_rule_invalid"
# Only rules of automations are removed with their automation; a rule a script or the owner
# set by hand under another id stays until remove_decline_rule.
AUTOMATION_PREFIX: Final = "automation."

ATTR_RULE_ID: Final = "rule_id"
SET_SCHEMA: Final = probatio.Schema(
    {
        probatio.Required(ATTR_RULE_ID): cv.string,
        probatio.Optional("name", default=""): cv.string,
        probatio.Optional("decline_all", default=False): cv.boolean,
        probatio.Optional("decline_agencies", default=list): probatio.All(
            cv.ensure_list, [cv.string]
        ),
        probatio.Optional("only_agencies", default=list): probatio.All(cv.ensure_list, [cv.string]),
        probatio.Optional("require_case", default=False): cv.boolean,
        probatio.Optional("case_pattern", default=""): probatio.Any(None, cv.string),
        probatio.Optional("max_window_hours", default=0): probatio.Coerce(float),
        probatio.Optional("max_area_sq_mi", default=0): probatio.Coerce(float),
        probatio.Optional("decline_from"): cv.time,
        probatio.Optional("decline_until"): cv.time,
        probatio.Optional("away_zone", default=""): probatio.Any(
            None, "", cv.entity_domain("zone")
        ),
    }
)
REMOVE_SCHEMA: Final = probatio.Schema({probatio.Required(ATTR_RULE_ID): cv.string})


def issue_id(rule_id: str) -> str:
    """The repair issue of a rule an automation could not set."""
    return f"{RULE_ISSUE}_{rule_id}"


@dataclass(slots=True)
class DeclineRules:
    """The rules in force for this Home Assistant; the desk's Screening port."""

    hass: HomeAssistant
    store: Store[dict[str, Any]]
    rules: dict[str, DeclineRule] = field(default_factory=dict)

    async def async_load(self) -> None:
        """Read the stored rules; one that no longer reads is logged and left out."""
        stored = await self.store.async_load() or {}
        for data in stored.get("rules", []):
            try:
                rule = DeclineRule.from_json(data)
            except (RuleError, TypeError, KeyError) as err:
                _LOGGER.error("A stored decline rule could not be read and is ignored: %s", err)  # noqa: TRY400  # the cause in one line
                continue
            self.rules[rule.id] = rule

    async def _async_save(self) -> None:
        # Written at once, not delayed: a request right after a restart must meet the rule.
        await self.store.async_save({"rules": [r.to_json() for r in self.rules.values()]})

    async def async_set(self, rule: DeclineRule) -> bool:
        """Keep the rule (replacing its earlier version); whether anything changed."""
        clear_issue(self.hass, issue_id(rule.id))
        if self.rules.get(rule.id) == rule:
            return False
        self.rules[rule.id] = rule
        await self._async_save()
        _LOGGER.info("Decline rule %s (%s) set", rule.id, rule.name)
        return True

    async def async_remove(self, rule_id: str) -> bool:
        """Drop the rule; whether there was one."""
        clear_issue(self.hass, issue_id(rule_id))
        if self.rules.pop(rule_id, None) is None:
            return False
        await self._async_save()
        _LOGGER.info("Decline rule %s removed", rule_id)
        return True

    # --- the desk's port -------------------------------------------------------------------
    def decline(self, ask: Ask, area_sq_mi: float, at: int) -> RuleMatch | None:
        """The first rule in force that declines the request arriving at `at`."""
        local = dt_util.as_local(dt_util.utc_from_timestamp(at))
        return first_match(
            ask,
            area_sq_mi,
            [rule for rule in self.rules.values() if self.in_force(rule.id)],
            minute=local.hour * 60 + local.minute,
            away=self.away,
        )

    def in_force(self, rule_id: str) -> bool:
        """Whether the rule's automation is on (or not loaded yet: at start-up, it will be).

        An automation Home Assistant could not load (unavailable) keeps the rule it last
        set: the owner's last valid choice stands until they fix or delete it.
        """
        state = self.hass.states.get(rule_id)
        return state is None or state.state != STATE_OFF

    def away(self, zone: str) -> bool:
        """Whether nobody is in the zone now (its state counts the people in it).

        A home without person entities is never away: zone.home would count 0 people
        forever and decline every request.
        """
        state = self.hass.states.get(zone)
        if state is None or not self.hass.states.async_entity_ids("person"):
            return False
        return state.state == "0"

    # --- automations coming and going ------------------------------------------------------
    @callback
    def async_track_automations(self) -> None:
        """Drop a rule with its automation; follow an automation whose entity id changed."""
        self.hass.bus.async_listen(er.EVENT_ENTITY_REGISTRY_UPDATED, self._registry_changed)
        if self.hass.state is CoreState.running:
            return
        self.hass.bus.async_listen_once(EVENT_HOMEASSISTANT_STARTED, self._started)

    async def _registry_changed(self, event: Event[er.EventEntityRegistryUpdatedData]) -> None:
        data = event.data
        if data["action"] == "remove":
            await self.async_remove(data["entity_id"])
        elif data["action"] == "update" and (old := data.get("old_entity_id")) in self.rules:
            rule = self.rules[old]
            await self.async_remove(old)
            await self.async_set(_renamed(rule, data["entity_id"]))

    async def _started(self, _event: Event) -> None:
        """Rules of automations that did not come back with Home Assistant go."""
        for rule_id in list(self.rules):
            if rule_id.startswith(AUTOMATION_PREFIX) and self.hass.states.get(rule_id) is None:
                _LOGGER.info("Decline rule %s: its automation no longer exists", rule_id)
                await self.async_remove(rule_id)


def _renamed(rule: DeclineRule, rule_id: str) -> DeclineRule:
    return DeclineRule.from_json({**rule.to_json(), "id": rule_id})


def _minutes(value: time | None) -> int:
    return 0 if value is None else value.hour * 60 + value.minute


def rule_from_call(data: dict[str, Any]) -> DeclineRule:
    """The rule a set_decline_rule call describes (validated by SET_SCHEMA); RuleError."""
    if ("decline_from" in data) != ("decline_until" in data):
        raise RuleError("decline_hours_incomplete", "give both decline_from and decline_until")
    return DeclineRule(
        id=data[ATTR_RULE_ID],
        name=data["name"],
        decline_all=data["decline_all"],
        agencies=frozenset(agency_key(a) for a in data["decline_agencies"] if a.strip()),
        only_agencies=frozenset(agency_key(a) for a in data["only_agencies"] if a.strip()),
        require_case=data["require_case"],
        case_pattern=(data["case_pattern"] or "").strip(),
        max_window_hours=data["max_window_hours"],
        max_area_sq_mi=data["max_area_sq_mi"],
        decline_from=_minutes(data.get("decline_from")),
        decline_until=_minutes(data.get("decline_until")),
        away_zone=data["away_zone"] or "",
    )


def rules_of(hass: HomeAssistant) -> DeclineRules:
    """This Home Assistant's decline rules (set up with the integration)."""
    rules: DeclineRules = hass.data[DATA_RULES]
    return rules


async def async_setup_decline_rules(hass: HomeAssistant) -> DeclineRules:
    """Load the stored rules, register the two actions, follow automations (once)."""
    rules = DeclineRules(hass, Store(hass, STORAGE_VERSION, STORAGE_KEY, private=True))
    await rules.async_load()
    hass.data[DATA_RULES] = rules
    rules.async_track_automations()

    async def set_rule(call: ServiceCall) -> None:
        try:
            rule = rule_from_call(dict(call.data))
        except RuleError as err:
            rule_id = str(call.data[ATTR_RULE_ID])
            # Shown where the owner looks (Repairs), not only in the automation's trace; the
            # version set before, if any, stays in force until a valid one replaces it.
            _LOGGER.error("Decline rule %s not set: %s", rule_id, err)  # noqa: TRY400  # the owner's input, not a bug
            raise_issue(
                hass,
                issue_id(rule_id),
                RULE_ISSUE,
                {"rule": rule_id, "problem": str(err)},
                severity=Severity.ERROR,
            )
            raise refused(err.key, rule=rule_id, **err.placeholders) from err
        await rules.async_set(rule)

    async def remove_rule(call: ServiceCall) -> None:
        await rules.async_remove(call.data[ATTR_RULE_ID])

    async_register_admin_service(hass, DOMAIN, "set_decline_rule", set_rule, schema=SET_SCHEMA)
    async_register_admin_service(
        hass, DOMAIN, "remove_decline_rule", remove_rule, schema=REMOVE_SCHEMA
    )
    return rules
