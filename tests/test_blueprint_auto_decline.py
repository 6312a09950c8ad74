"""The auto-decline blueprint: requests its rules decline reach the owner as nothing at all.

Automations are made from the shipped blueprint by Home Assistant's own blueprint code; the
agency is a real federation node on loopback; the request goes through the integration's
real path. "Nothing at all" is checked everywhere the owner could be told: persistent
notifications, the `porchlight_request` event (phones, the card), the request event entity,
the pending-requests sensor. The agency receives nothing, and the audit log names the rule.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import yaml
from homeassistant.core import CoreState
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import async_capture_events

from custom_components.porchlight.consent.records import RequestState
from custom_components.porchlight.consent_glue import EVENT_REQUEST
from custom_components.porchlight.const import DOMAIN
from custom_components.porchlight.decline_rules import STORAGE_KEY, issue_id, rules_of

from .blueprint_helpers import (
    automation,
    automations_off,
    install_blueprints,
    start_with_automations,
)
from .footage_helpers import HOME_LAT, HOME_LON, call, desk, notifications, offers, send_request

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.common import MockConfigEntry
    from pytest_homeassistant_custom_component.typing import WebSocketGenerator

    from .federation.loopback import Network, Running

PENDING_SENSOR = "sensor.maple_street_12_pending_footage_requests"
REQUEST_EVENT = "event.maple_street_12_footage_request"
RULE = "automation.decline_metro_pd"


async def assert_declined_unseen(
    hass: HomeAssistant, entry: MockConfigEntry, agency: Running, request_id: str, rule: str
) -> None:
    """Declined by the rule, recorded and audited, and told to nobody."""
    stored = await hass.async_add_executor_job(desk(entry).store.request, request_id)
    assert stored is not None
    assert stored.state is RequestState.AUTO_DECLINED
    assert stored.rule == rule
    assert notifications(hass) == {}
    assert hass.states.get(PENDING_SENSOR).state == "0"
    assert hass.states.get(REQUEST_EVENT).state == "unknown"
    assert offers(agency) == []
    entries = await hass.async_add_executor_job(lambda: list(desk(entry).audit.entries()))
    (verdict,) = [e for e in entries if e.subject == request_id and e.kind != "request_received"]
    assert verdict.kind == "request_auto_declined"
    assert verdict.data["rule"] == rule


async def test_a_blueprint_rule_declines_before_any_notification_of_any_kind(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    agency: Running,
    network: Network,
    hass_ws_client: WebSocketGenerator,
) -> None:
    await start_with_automations(
        hass, automation("Decline Metro PD", "auto_decline", decline_agencies=["metro pd"])
    )
    requests = async_capture_events(hass, EVENT_REQUEST)

    envelope = await send_request(hass, agency, network)

    assert requests == []
    await assert_declined_unseen(hass, init_integration, agency, envelope.event_id, RULE)
    # The panel's history names the rule (and its badge counts only pending requests).
    ws = await hass_ws_client(hass)
    await ws.send_json({"id": 1, "type": "porchlight/requests/subscribe"})
    assert (await ws.receive_json())["success"]
    (shown,) = (await ws.receive_json())["event"]["requests"]
    assert (shown["state"], shown["why"], shown["rule_name"]) == (
        "auto_declined",
        "blocked_agency",
        "Decline Metro PD",
    )
    await automations_off(hass)


@pytest.mark.parametrize(
    ("inputs", "changes", "why"),
    [
        ({"decline_all": True}, {}, "decline_all"),
        ({"only_agencies": ["County Sheriff"]}, {}, "not_allowed_agency"),
        ({"case_pattern": r"\d{4}-\d{6}"}, {"case": "CASE-17"}, "case_pattern"),
        ({"max_window_hours": 1}, {"start": "two_hours"}, "window_too_long"),
        ({"max_area_sq_mi": 0.05}, {"area": "big"}, "area_too_large"),
        ({"decline_from": "now", "decline_until": "in_an_hour"}, {}, "decline_hours"),
    ],
)
async def test_each_input_of_the_blueprint_declines_what_it_names(  # fixtures
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    agency: Running,
    network: Network,
    inputs: dict[str, Any],
    changes: dict[str, Any],
    why: str,
) -> None:
    now = dt_util.now()
    times = {
        "now": now.strftime("%H:%M:00"),
        "in_an_hour": (now.replace(second=0) + timedelta(hours=1)).strftime("%H:%M:00"),
    }
    inputs = {k: times.get(v, v) if isinstance(v, str) else v for k, v in inputs.items()}
    body = dict(changes)
    if body.get("start") == "two_hours":
        body["start"] = int(now.timestamp()) - 7200
    if body.get("area") == "big":
        # 0.3 square miles around the home: inside Porchlight's limit, above the rule's.
        body["area"] = {**_home_circle(), "radius_m": 500}
    await start_with_automations(hass, automation("Decline Metro PD", "auto_decline", **inputs))

    envelope = await send_request(hass, agency, network, **body)

    stored = await hass.async_add_executor_job(
        desk(init_integration).store.request, envelope.event_id
    )
    assert (stored.state, stored.why, stored.rule) == (RequestState.AUTO_DECLINED, why, RULE)
    assert notifications(hass) == {}
    await automations_off(hass)


async def test_a_request_no_condition_holds_for_reaches_the_owner(
    hass: HomeAssistant, init_integration: MockConfigEntry, agency: Running, network: Network
) -> None:
    await start_with_automations(
        hass,
        automation(
            "Decline Metro PD",
            "auto_decline",
            decline_agencies=["County Sheriff", "AAAA-BBBB-CCCC-DDDD-EEEE-FFFF-GGGG-HHHH"],
            case_pattern=r"\d{4}-\d{6}",
            decline_when_away=True,
        ),
    )
    # Nobody tracked: a home without person entities is never "away".
    envelope = await send_request(hass, agency, network)

    stored = await hass.async_add_executor_job(
        desk(init_integration).store.request, envelope.event_id
    )
    assert stored.state is RequestState.PENDING
    assert len(notifications(hass)) == 1
    await automations_off(hass)


async def test_away_declines_only_while_nobody_is_home(
    hass: HomeAssistant, init_integration: MockConfigEntry, agency: Running, network: Network
) -> None:
    assert await async_setup_component(hass, "zone", {})
    hass.states.async_set("person.sam", "not_home")
    hass.states.async_set("zone.home", "0")
    await start_with_automations(
        hass, automation("Decline Metro PD", "auto_decline", decline_when_away=True)
    )

    away = await send_request(hass, agency, network)
    hass.states.async_set("person.sam", "home")
    hass.states.async_set("zone.home", "1")
    home = await send_request(hass, agency, network, case="2026-000418")

    store = desk(init_integration).store
    assert (await hass.async_add_executor_job(store.request, away.event_id)).why == "away"
    assert (await hass.async_add_executor_job(store.request, home.event_id)).state is (
        RequestState.PENDING
    )
    await automations_off(hass)


async def test_a_rule_is_in_force_while_its_automation_is_on_and_goes_with_it(
    hass: HomeAssistant, init_integration: MockConfigEntry, agency: Running, network: Network
) -> None:
    await start_with_automations(
        hass, automation("Decline Metro PD", "auto_decline", decline_all=True)
    )
    await hass.services.async_call("automation", "turn_off", {"entity_id": RULE}, blocking=True)

    while_off = await send_request(hass, agency, network)
    await hass.services.async_call("automation", "turn_on", {"entity_id": RULE}, blocking=True)
    while_on = await send_request(hass, agency, network, case="2026-000418")
    er.async_get(hass).async_remove(RULE)
    await hass.async_block_till_done()
    after_delete = await send_request(hass, agency, network, case="2026-000419")

    store = desk(init_integration).store
    states = [
        (await hass.async_add_executor_job(store.request, e.event_id)).state
        for e in (while_off, while_on, after_delete)
    ]
    assert states == [RequestState.PENDING, RequestState.AUTO_DECLINED, RequestState.PENDING]
    assert rules_of(hass).rules == {}
    await automations_off(hass)


async def test_stored_rules_apply_after_a_restart_before_any_automation_runs(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    init_integration: MockConfigEntry,
    agency: Running,
    network: Network,
) -> None:
    await start_with_automations(
        hass, automation("Decline Metro PD", "auto_decline", decline_agencies=["Metro PD"])
    )
    await hass.async_block_till_done()
    saved = hass_storage[STORAGE_KEY]["data"]
    assert [r["id"] for r in saved["rules"]] == [RULE]
    # What a restart does: the rules come back from storage, the automation not yet.
    rules = rules_of(hass)
    rules.rules.clear()
    await rules.async_load()
    await automations_off(hass)
    hass.states.async_remove(RULE)

    envelope = await send_request(hass, agency, network)

    await assert_declined_unseen(hass, init_integration, agency, envelope.event_id, RULE)


async def test_rules_of_automations_gone_at_start_up_are_dropped(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    rules = rules_of(hass)
    await call(hass, "set_decline_rule", rule_id="automation.deleted_in_yaml", decline_all=True)
    await call(hass, "set_decline_rule", rule_id="by_hand", decline_all=True)
    hass.set_state(CoreState.not_running)
    rules.async_track_automations()

    await hass.async_start()
    await hass.async_block_till_done()

    assert list(rules.rules) == ["by_hand"]


async def test_editing_the_automation_changes_its_rule_on_reload(
    hass: HomeAssistant, init_integration: MockConfigEntry, agency: Running, network: Network
) -> None:
    config = automation("Decline Metro PD", "auto_decline", decline_all=True)
    await start_with_automations(hass, config)
    assert rules_of(hass).rules[RULE].decline_all
    # The editor writes automations.yaml and reloads: the rule follows the new inputs.
    config["use_blueprint"]["input"] = {"decline_all": False, "case_pattern": "X-.*"}
    _write_automations(hass, [config])

    await hass.services.async_call("automation", "reload", blocking=True)
    await hass.async_block_till_done()

    rule = rules_of(hass).rules[RULE]
    assert (rule.decline_all, rule.case_pattern) == (False, "X-.*")
    envelope = await send_request(hass, agency, network)
    stored = await hass.async_add_executor_job(
        desk(init_integration).store.request, envelope.event_id
    )
    assert stored.why == "case_pattern"
    await automations_off(hass)


async def test_renaming_the_automation_keeps_its_rule(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    await start_with_automations(
        hass, automation("Decline Metro PD", "auto_decline", decline_all=True)
    )

    er.async_get(hass).async_update_entity(RULE, new_entity_id="automation.police_dnd")
    await hass.async_block_till_done()

    assert list(rules_of(hass).rules) == ["automation.police_dnd"]
    await automations_off(hass)


@pytest.mark.allow_porchlight_warnings(
    r"decline_rules: Decline rule automation\.decline_metro_pd not set",
)
async def test_an_invalid_pattern_is_refused_shown_in_repairs_and_keeps_the_earlier_rule(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    await call(hass, "set_decline_rule", rule_id=RULE, name="before", decline_all=True)

    await start_with_automations(
        hass, automation("Decline Metro PD", "auto_decline", case_pattern="(unclosed")
    )

    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id(RULE))
    assert issue is not None
    assert "(unclosed" in issue.translation_placeholders["problem"]
    assert rules_of(hass).rules[RULE].name == "before"
    with pytest.raises(ServiceValidationError) as raised:
        await call(hass, "set_decline_rule", rule_id=RULE, case_pattern="[a-")
    assert raised.value.translation_key == "case_pattern_invalid"
    # A valid version clears the repair issue.
    await call(hass, "set_decline_rule", rule_id=RULE, case_pattern="[a-z]+")
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id(RULE)) is None
    await automations_off(hass)


@pytest.mark.allow_porchlight_warnings(r"decline_rules: Decline rule .* not set")
@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"max_window_hours": 13}, "rule_limit_invalid"),
        ({"max_area_sq_mi": 2}, "rule_limit_invalid"),
        ({"decline_from": "22:00"}, "decline_hours_incomplete"),
        ({"rule_id": " "}, "rule_without_id"),
    ],
)
async def test_rules_beyond_what_a_home_allows_are_refused(
    hass: HomeAssistant, init_integration: MockConfigEntry, data: dict[str, Any], key: str
) -> None:
    with pytest.raises(ServiceValidationError) as raised:
        await call(hass, "set_decline_rule", **{"rule_id": "by_hand", **data})
    assert raised.value.translation_key == key
    assert rules_of(hass).rules == {}


async def test_remove_decline_rule(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    await call(hass, "set_decline_rule", rule_id="by_hand", decline_all=True)
    await call(hass, "remove_decline_rule", rule_id="by_hand")
    await call(hass, "remove_decline_rule", rule_id="never_set")
    assert rules_of(hass).rules == {}


def _home_circle() -> dict[str, Any]:
    return {"kind": "circle", "lat": HOME_LAT, "lon": HOME_LON, "radius_m": 300}


def _write_automations(hass: HomeAssistant, configs: list[dict[str, Any]]) -> None:
    """What the automation editor writes, with the configuration.yaml that includes it."""
    root = Path(hass.config.config_dir)
    (root / "configuration.yaml").write_text("automation: !include automations.yaml\n")
    (root / "automations.yaml").write_text(yaml.safe_dump(configs))
    install_blueprints(hass)


@pytest.mark.allow_porchlight_warnings(r"A stored decline rule could not be read and is ignored")
async def test_a_stored_rule_that_no_longer_reads_is_left_out_and_the_others_apply(
    hass: HomeAssistant, hass_storage: dict[str, Any], init_integration: MockConfigEntry
) -> None:
    good = {**_rule_json("automation.night"), "decline_all": True}
    hass_storage[STORAGE_KEY] = {
        "version": 1,
        "key": STORAGE_KEY,
        "data": {"rules": [{**_rule_json("automation.bad"), "case_pattern": "("}, {"id": 3}, good]},
    }
    rules = rules_of(hass)
    rules.rules.clear()

    await rules.async_load()

    assert list(rules.rules) == ["automation.night"]


async def test_setting_the_same_rule_again_writes_nothing(
    hass: HomeAssistant, hass_storage: dict[str, Any], init_integration: MockConfigEntry
) -> None:
    await call(hass, "set_decline_rule", rule_id="by_hand", decline_all=True)
    rules = rules_of(hass)
    assert await rules.async_set(rules.rules["by_hand"]) is False
    assert await rules.async_remove("never_set") is False


def _rule_json(rule_id: str) -> dict[str, Any]:
    return {
        "id": rule_id,
        "name": "",
        "decline_all": False,
        "agencies": [],
        "only_agencies": [],
        "require_case": False,
        "case_pattern": "",
        "max_window_hours": 0,
        "max_area_sq_mi": 0,
        "decline_from": 0,
        "decline_until": 0,
        "away_zone": "",
    }
