"""The neighbor-alert blueprint: a neighbor's alert of a chosen category on the owner's phone."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pytest_homeassistant_custom_component.common import async_mock_service

from .blueprint_helpers import automation, automations_off, start_with_automations
from .footage_helpers import neighbor_of_home

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.common import MockConfigEntry

    from .federation.loopback import Network


async def test_alerts_of_the_chosen_categories_reach_the_phone(
    hass: HomeAssistant, init_integration: MockConfigEntry, endpoint: str, network: Network
) -> None:
    oak = await neighbor_of_home(hass, endpoint, network)
    phone = async_mock_service(hass, "notify", "test_phone")
    await start_with_automations(
        hass,
        automation(
            "Alerts",
            "neighbor_alert",
            notify_services=["notify.test_phone"],
            categories=["theft", "lost_pet"],
        ),
    )
    lost = oak.node.broadcast_alert("Grey cat missing since noon", category="lost_pet")
    oak.node.broadcast_alert("Street party Saturday", category="other")
    oak.node.broadcast_alert("Bike taken from a porch", category="theft", name="Oak 3")
    assert await oak.node.deliver(network.sender) == 3
    await hass.async_block_till_done()

    assert [(c.data["title"], c.data["message"]) for c in phone] == [
        ("Lost pet from a neighbor", "Grey cat missing since noon"),
        ("Theft from Oak 3", "Bike taken from a porch"),
    ]
    assert phone[0].data["data"]["tag"] == f"porchlight-alert-{lost.event_id}"
    await automations_off(hass)
