"""Neighbors' alerts in Home Assistant: posting one, receiving them, muting a neighbor.

The home is phcc's hass; its neighbors are real federation nodes on loopback (they sign,
deliver and relay over HTTP to the home's inbox view).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from homeassistant.exceptions import ServiceValidationError
from pytest_homeassistant_custom_component.common import async_capture_events

from custom_components.porchlight.alerts import EVENT_ALERT
from custom_components.porchlight.const import DOMAIN
from custom_components.porchlight.federation.identity import Identity
from custom_components.porchlight.federation.messages import open_envelope, seal
from custom_components.porchlight.federation_glue import EVENT_MESSAGE

from .footage_helpers import neighbor_of_home
from .home import HOME

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.common import MockConfigEntry

    from .federation.loopback import Network

EVENT_ENTITY = "event.maple_street_12_neighbor_alert"
SENSOR = "sensor.maple_street_12_recent_neighbor_alerts"


async def _call(hass: HomeAssistant, service: str, **data: Any) -> Any:
    return await hass.services.async_call(
        DOMAIN, service, data, blocking=True, return_response=service == "post_alert"
    )


async def test_posted_alert_reaches_neighbors_without_location_or_name(
    hass: HomeAssistant, init_integration: MockConfigEntry, endpoint: str, network: Network
) -> None:
    oak = await neighbor_of_home(hass, endpoint, network)
    result = await _call(hass, "post_alert", text="  Van checking car doors  ", category="theft")
    assert result["neighbors"] == 1
    (got,) = [e for e in oak.node.received if e.event_id == result["event_id"]]
    assert got.body == {
        "text": "Van checking car doors",
        "category": "theft",
        "name": "",
        "max_hops": 1,
    }
    # Verified end to end as the home's; nothing in the bytes locates or names the home.
    wire = got.encode().decode()
    assert open_envelope(got.to_json(), now=network.clock.now()).sender == got.sender
    for secret in ("Maple", str(HOME["latitude"]), str(round(HOME["latitude"] * 1e6))):
        assert secret not in wire
    shown = await _call(
        hass, "post_alert", text="Found keys", category="found", show_name=True, max_hops=0
    )
    (named,) = [e for e in oak.node.received if e.event_id == shown["event_id"]]
    assert (named.body["name"], named.body["max_hops"]) == ("Maple Street 12", 0)


async def test_post_alert_without_neighbors_is_refused(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "post_alert", text="Anyone?")
    assert err.value.translation_key == "no_neighbors"
    with pytest.raises(Exception, match="category"):
        await _call(hass, "post_alert", text="x", category="gossip")
    with pytest.raises(Exception, match="length"):
        await _call(hass, "post_alert", text="   ")


async def test_received_alert_is_announced_counted_and_muted_on_request(
    hass: HomeAssistant, init_integration: MockConfigEntry, endpoint: str, network: Network
) -> None:
    oak = await neighbor_of_home(hass, endpoint, network)
    events = async_capture_events(hass, EVENT_ALERT)
    sent = oak.node.broadcast_alert("Lost grey cat", category="lost_pet", name="Oak 3")
    assert await oak.node.deliver(network.sender) == 1
    await hass.async_block_till_done()
    assert [e.data["event_id"] for e in events] == [sent.event_id]
    assert events[0].data["text"] == "Lost grey cat"
    assert events[0].data["poster"] == "Oak 3"
    assert "sender" not in events[0].data
    state = hass.states.get(EVENT_ENTITY)
    assert state is not None
    assert state.attributes["event_type"] == "lost_pet"
    assert state.attributes["text"] == "Lost grey cat"
    sensor = hass.states.get(SENSOR)
    assert sensor is not None
    assert sensor.state == "1"
    assert sensor.attributes["alerts"][0]["category"] == "lost_pet"

    await _call(hass, "mute_neighbor", fingerprint=oak.node.identity.fingerprint)
    oak.node.broadcast_alert("Another one", category="other")
    assert await oak.node.deliver(network.sender) == 1
    await hass.async_block_till_done()
    assert len(events) == 1
    assert hass.states.get(SENSOR).state == "1"  # type: ignore[union-attr]

    # The mute survives a restart of the integration; unmuting shows alerts again.
    assert await hass.config_entries.async_reload(init_integration.entry_id)
    await hass.async_block_till_done()
    oak.node.broadcast_alert("Still muted", category="other")
    assert await oak.node.deliver(network.sender) == 1
    await hass.async_block_till_done()
    assert len(events) == 1
    await _call(hass, "mute_neighbor", fingerprint=oak.node.identity.fingerprint, muted=False)
    oak.node.broadcast_alert("Heard again", category="hazard")
    assert await oak.node.deliver(network.sender) == 1
    await hass.async_block_till_done()
    assert [e.data["text"] for e in events] == ["Lost grey cat", "Heard again"]
    assert events[1].data["poster"] == ""


async def test_old_alerts_leave_the_sensor(
    hass: HomeAssistant, init_integration: MockConfigEntry, endpoint: str, network: Network
) -> None:
    oak = await neighbor_of_home(hass, endpoint, network)
    oak.node.broadcast_alert("Water main burst on Elm", category="hazard")
    assert await oak.node.deliver(network.sender) == 1
    await hass.async_block_till_done()
    federation = init_integration.runtime_data.federation
    (alert,) = federation.alerts.recent
    federation.alerts.recent[0] = type(alert)(
        alert.event_id, alert.text, alert.category, alert.poster, alert.received_at - 86401
    )
    entity = hass.data["entity_components"]["sensor"].get_entity(SENSOR)
    assert entity.native_value == 0


async def test_only_alerts_are_shown_as_alerts(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Any other accepted message (an offer, were a home ever handed one) is only announced."""
    federation = init_integration.runtime_data.federation
    events = async_capture_events(hass, EVENT_ALERT)
    messages = async_capture_events(hass, EVENT_MESSAGE)
    revoke = seal(
        Identity.generate(),
        "revoke",
        {"reason": "retired"},
        to=federation.node.identity.keyid,
        now=federation.node.clock.now(),
        lifetime=60,
        message_id="A" * 22,
    )
    federation.received(revoke)
    await hass.async_block_till_done()
    assert events == []
    assert [m.data["type"] for m in messages] == ["revoke"]
    assert not federation.alerts.recent
