"""R2.9 in Home Assistant: a repair issue when peers say this clock is off."""

from __future__ import annotations

from typing import TYPE_CHECKING

from homeassistant.helpers import issue_registry as ir

from custom_components.porchlight.const import DOMAIN
from custom_components.porchlight.federation_glue import CLOCK_ISSUE

from .upkeep import queued

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.common import MockConfigEntry

    from .federation.loopback import Network, Running


async def _paired_neighbor(
    hass: HomeAssistant, entry: MockConfigEntry, network: Network
) -> Running:
    neighbor = await network.start("Oak 3")
    invite = neighbor.node.create_invite(lan=True).to_text()
    response = await hass.services.async_call(
        DOMAIN,
        "accept_invite",
        {"invite": invite, "endpoint": "http://127.0.0.1:9/api/porchlight/v1", "lan": True},
        blocking=True,
        return_response=True,
    )
    code = response["peer"]["pairing_code"]  # type: ignore[index]
    await hass.services.async_call(
        DOMAIN,
        "confirm_pairing",
        {"fingerprint": response["peer"]["fingerprint"], "code": code},  # type: ignore[index]
        blocking=True,
    )
    neighbor.node.confirm_pairing(entry.runtime_data.identity.keyid, code)
    return neighbor


async def test_clock_far_ahead_of_a_neighbor_raises_a_repair_issue(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    network: Network,
    issue_registry: ir.IssueRegistry,
) -> None:
    neighbor = await _paired_neighbor(hass, init_integration, network)
    federation = init_integration.runtime_data.federation
    network.clock.advance(-400)  # the neighbor's clock is right; ours is 400 s ahead of it
    federation.node.broadcast_alert("Gate open")
    assert await federation.async_deliver() == 0
    issue = issue_registry.async_get_issue(DOMAIN, CLOCK_ISSUE)
    assert issue is not None
    assert issue.translation_key == "clock_ahead"
    assert issue.severity is ir.IssueSeverity.WARNING
    assert 399 <= int(issue.translation_placeholders["seconds"]) <= 401  # type: ignore[index]
    assert len(queued(federation.node.outbox)) == 1  # kept for when the clocks agree

    network.clock.advance(400)
    federation.node.broadcast_alert("Gate closed")
    assert await federation.async_deliver() == 1
    assert issue_registry.async_get_issue(DOMAIN, CLOCK_ISSUE) is None
    assert [e.body["text"] for e in neighbor.node.received] == ["Gate closed"]


async def test_clock_behind_and_unload_clears_the_issue(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    network: Network,
    issue_registry: ir.IssueRegistry,
) -> None:
    await _paired_neighbor(hass, init_integration, network)
    federation = init_integration.runtime_data.federation
    network.clock.advance(400)  # the neighbor is 400 s ahead: we are behind
    federation.node.broadcast_alert("Gate open")
    await federation.async_deliver()
    issue = issue_registry.async_get_issue(DOMAIN, CLOCK_ISSUE)
    assert issue is not None
    assert issue.translation_key == "clock_behind"
    assert await hass.config_entries.async_unload(init_integration.entry_id)
    assert issue_registry.async_get_issue(DOMAIN, CLOCK_ISSUE) is None
