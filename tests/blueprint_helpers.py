"""Helpers of the blueprint tests: the shipped blueprints, loaded by Home Assistant's own code.

The blueprints are copied where Home Assistant looks for them (<config>/blueprints/automation/
porchlight/), as an owner's import puts them, and automations are made from them with
`use_blueprint`, exactly as the automation editor saves them. Home Assistant then substitutes
the inputs, validates the result and runs it; nothing here reads the YAML itself.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from homeassistant.core import CoreState
from homeassistant.setup import async_setup_component

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

BLUEPRINTS = Path(__file__).parent.parent / "blueprints" / "automation" / "porchlight"
SHIPPED = sorted(BLUEPRINTS.glob("*.yaml"))


def install_blueprints(hass: HomeAssistant) -> Path:
    """Copy the shipped blueprints into the test's config dir, as an import would."""
    target = Path(hass.config.path("blueprints", "automation", "porchlight"))
    shutil.copytree(BLUEPRINTS, target, dirs_exist_ok=True)
    return target


def automation(alias: str, blueprint: str, **inputs: Any) -> dict[str, Any]:
    """An automation made from one of the blueprints, as the editor saves it."""
    return {
        "id": alias.lower().replace(" ", "_"),
        "alias": alias,
        "use_blueprint": {"path": f"porchlight/{blueprint}.yaml", "input": inputs},
    }


async def start_with_automations(hass: HomeAssistant, *automations: dict[str, Any]) -> None:
    """Home Assistant starting with these automations (their `homeassistant: start` fires).

    Porchlight is already set up, as it is when automations start on a real boot.
    """
    await hass.async_add_executor_job(install_blueprints, hass)
    hass.set_state(CoreState.not_running)
    assert await async_setup_component(hass, "automation", {"automation": list(automations)})
    await hass.async_start()
    await hass.async_block_till_done()


async def automations_off(hass: HomeAssistant) -> None:
    """Turn every automation off (the end of a test: no run may outlive it)."""
    await hass.services.async_call("automation", "turn_off", {"entity_id": "all"}, blocking=True)
