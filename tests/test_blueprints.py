"""Every shipped blueprint is one Home Assistant accepts, documented input by input.

Checked with Home Assistant's own blueprint code: the automation blueprint schema, the
minimum version, each input's selector (which the automation editor validates the owner's
values with) and its default; and each blueprint has an import link in the README and docs.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlparse

import probatio
import pytest
from homeassistant.components.automation.config import AUTOMATION_BLUEPRINT_SCHEMA
from homeassistant.components.blueprint import Blueprint
from homeassistant.components.blueprint.errors import InvalidBlueprint
from homeassistant.const import __version__ as HA_VERSION  # noqa: N812
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers import selector
from homeassistant.util.yaml import load_yaml_dict

from custom_components.porchlight.const import DOMAIN
from custom_components.porchlight.decline_rules import issue_id, rules_of

from .blueprint_helpers import (
    BLUEPRINTS,
    SHIPPED,
    automation,
    automations_off,
    start_with_automations,
)

if TYPE_CHECKING:
    from pathlib import Path

    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.common import MockConfigEntry

ROOT = BLUEPRINTS.parent.parent.parent
REPO = "https://github.com/porchlight-home/porchlight"
IMPORT = "https://my.home-assistant.io/redirect/blueprint_import/"
# Each selector type and a value no owner could enter through it. Home Assistant's boolean
# selector takes anything (it coerces with bool()); set_decline_rule's schema refuses what is
# not a boolean (test below).
WRONG: dict[str, Any] = {
    "number": "lots",
    "text": {"not": "text"},
    "time": "25:99",
    "entity": "not an entity id",
    "device": 42,
    "select": "nonsense",
}


def load(path: Path) -> Blueprint:
    """The blueprint as Home Assistant loads it (`!input` tags and all)."""
    return Blueprint(
        load_yaml_dict(str(path)), expected_domain="automation", schema=AUTOMATION_BLUEPRINT_SCHEMA
    )


def test_blueprints_are_shipped() -> None:
    assert [p.name for p in SHIPPED] == [
        "actionable_request.yaml",
        "auto_decline.yaml",
        "neighbor_alert.yaml",
        "share_receipt.yaml",
    ]


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_the_blueprint_validates_against_home_assistants_schema(path: Path) -> None:
    blueprint = load(path)

    assert blueprint.validate() is None  # nothing newer than this Home Assistant needed
    meta = blueprint.metadata
    assert meta["source_url"] == f"{REPO}/blob/main/blueprints/automation/porchlight/{path.name}"
    assert re.fullmatch(r"\d+\.\d+\.\d+", str(meta["homeassistant"]["min_version"]))
    assert str(meta["homeassistant"]["min_version"]) <= HA_VERSION
    assert len(meta["description"]) > 80


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_every_input_is_described_has_a_default_its_selector_accepts_and_refuses_nonsense(
    path: Path,
) -> None:
    for name, spec in load(path).inputs.items():
        assert spec.get("name"), name
        assert len(spec.get("description", "")) > 20, name
        assert "default" in spec, name
        check = selector.selector(spec["selector"])
        check(spec["default"])  # the default is a value the editor accepts
        (kind,) = spec["selector"]
        if kind == "boolean":
            continue
        value = WRONG[kind]
        multiple = spec["selector"][kind] and spec["selector"][kind].get("multiple")
        with pytest.raises(probatio.Invalid):
            check([value] if multiple else value)


def test_a_broken_blueprint_fails_the_schema(tmp_path: Path) -> None:
    """The check above can fail: a blueprint without its domain is refused."""
    broken = tmp_path / "broken.yaml"
    text = (BLUEPRINTS / "auto_decline.yaml").read_text()
    broken.write_text(text.replace("  domain: automation\n", ""))
    with pytest.raises(InvalidBlueprint):
        load(broken)


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_the_readme_and_docs_link_an_import_of_each_blueprint(path: Path) -> None:
    raw = f"https://raw.githubusercontent.com/porchlight-home/porchlight/main/blueprints/automation/porchlight/{path.name}"
    for doc in (ROOT / "README.md", ROOT / "docs" / "automations.md"):
        links = re.findall(rf"{re.escape(IMPORT)}\?[^)\s>\"]+", doc.read_text())
        targets = {parse_qs(urlparse(link).query)["blueprint_url"][0] for link in links}
        assert raw in targets, doc.name


@pytest.mark.allow_porchlight_warnings(
    r"decline_rules: Decline rule automation\.decline_metro_pd not set"
)
async def test_an_input_outside_its_selector_is_refused_when_the_rule_is_set(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """YAML written by hand can bypass the editor; the rule's own check still refuses it."""
    await start_with_automations(
        hass, automation("Decline Metro PD", "auto_decline", max_window_hours=20)
    )

    assert rules_of(hass).rules == {}
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id("automation.decline_metro_pd"))
    await automations_off(hass)


async def test_a_boolean_input_that_is_no_boolean_sets_no_rule(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    await start_with_automations(
        hass, automation("Decline Metro PD", "auto_decline", decline_all="maybe")
    )

    assert rules_of(hass).rules == {}
    await automations_off(hass)


async def test_an_automation_naming_a_missing_blueprint_is_unavailable(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    config = automation("Decline Metro PD", "auto_decline")
    config["use_blueprint"]["path"] = "porchlight/no_such.yaml"
    await start_with_automations(hass, config)

    assert hass.states.get("automation.decline_metro_pd").state == "unavailable"
    assert rules_of(hass).rules == {}
