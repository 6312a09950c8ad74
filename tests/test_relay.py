"""The home as a relay in the neighborhood: prompt relays, the owner's relay option, tampering.

The home is Home Assistant (phcc's hass, its inbox on the test server); its two neighbors are
real federation nodes on loopback. Alerts are what is relayed here: footage requests travel
the same path (tests/federation/test_neighborhood.py shows six nodes).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import async_capture_events

from custom_components.porchlight.alerts import EVENT_ALERT
from custom_components.porchlight.const import (
    CONF_CAMERAS,
    CONF_RELAY,
    DOMAIN,
    RECORDING_DEFAULTS,
    REQUEST_DEFAULTS,
)
from custom_components.porchlight.federation.canonical import canon
from custom_components.porchlight.federation_glue import TAMPER_ISSUE

from .footage_helpers import reloaded
from .home import FRONT_DOOR
from .upkeep import queued

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.common import MockConfigEntry

    from custom_components.porchlight.federation.node import Node

    from .federation.loopback import Network, Running

SENSOR = "sensor.maple_street_12_recent_neighbor_alerts"


def _node(entry: MockConfigEntry) -> Node:
    return entry.runtime_data.federation.node


async def _paired(hass: HomeAssistant, network: Network, endpoint: str, name: str) -> Running:
    """A neighbor node paired with the home, codes confirmed on both sides."""
    response: Any = await hass.services.async_call(
        DOMAIN,
        "create_invite",
        {"endpoint": endpoint, "lifetime_hours": 1, "lan": True},
        blocking=True,
        return_response=True,
    )
    neighbor = await network.start(name)
    peer = await neighbor.node.accept_invite(response["invite"], network.sender, lan=True)
    neighbor.node.confirm_pairing(peer.keyid, peer.pairing_code)
    await hass.services.async_call(
        DOMAIN,
        "confirm_pairing",
        {"fingerprint": neighbor.node.identity.fingerprint, "code": peer.pairing_code},
        blocking=True,
    )
    return neighbor


@pytest.fixture
async def neighbors(
    hass: HomeAssistant, init_integration: MockConfigEntry, endpoint: str, network: Network
) -> tuple[Running, Running]:
    oak = await _paired(hass, network, endpoint, "Oak 3")
    elm = await _paired(hass, network, endpoint, "Elm 7")
    return oak, elm


async def test_home_relays_at_once_not_at_the_next_delivery_round(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    neighbors: tuple[Running, Running],
    network: Network,
) -> None:
    oak, elm = neighbors
    audit = init_integration.runtime_data.desk.audit

    async def sent_to_elm() -> int:
        entries = await hass.async_add_executor_job(lambda: list(audit.entries()))
        elm_at = f"127.0.0.1:{elm.port}"
        return sum(1 for e in entries if (e.kind, e.subject) == ("message_sent", elm_at))

    # The upkeep the active pairings queued (the home's map cell) goes first, on its own.
    await init_integration.runtime_data.federation.async_deliver()
    assert len(_node(init_integration).outbox) == 0
    before = await sent_to_elm()
    sent = oak.node.broadcast_alert("Van checking car doors on Oak", max_hops=1)
    assert await oak.node.deliver(network.sender) == 1
    # No timer fired: the relay pass started when the home accepted the alert.
    await hass.async_block_till_done(wait_background_tasks=True)
    (got,) = [e for e in elm.node.received if e.event_id == sent.event_id]
    assert (got.sender, got.hops) == (oak.node.identity.keyid, 1)
    assert len(queued(_node(init_integration).outbox)) == 0
    # What the home relayed is in its audit log, like every byte that leaves.
    assert await sent_to_elm() == before + 1


async def test_a_home_that_does_not_relay_keeps_what_it_hears(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    neighbors: tuple[Running, Running],
    network: Network,
) -> None:
    entry = await reloaded(hass, init_integration, **{CONF_RELAY: False})
    assert not _node(entry).relaying
    oak, elm = neighbors
    sent = oak.node.broadcast_alert("Loose dog", max_hops=2)
    assert await oak.node.deliver(network.sender) == 1
    await hass.async_block_till_done()
    assert [e.event_id for e in _node(entry).received] == [sent.event_id]
    assert len(queued(_node(entry).outbox)) == 0
    await entry.runtime_data.federation.async_deliver()
    assert not any(e.event_id == sent.event_id for e in elm.node.received)


@pytest.mark.allow_porchlight_warnings(r"relayed a message that does not verify|given up")
async def test_a_neighbor_relaying_an_altered_message_is_shown_to_the_owner(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    neighbors: tuple[Running, Running],
    network: Network,
) -> None:
    oak, elm = neighbors
    home = _node(init_integration)
    original = elm.node.broadcast_alert("Lost cat, grey", max_hops=2)
    elm.node.outbox.drop_peer(home.identity.keyid)
    forged = original.relayed().to_json()
    forged["body"] = {
        "text": "Lost cat, grey. Call 555-0100 to claim reward",
        "category": "other",
        "name": "",
        "max_hops": 2,
    }
    oak.node.outbox.enqueue(
        peer=home.identity.keyid,
        payload=canon(forged).decode(),
        signer=oak.node.identity.keyid,
        expires=original.expires,
        now=network.clock.now(),
    )
    assert await oak.node.deliver(network.sender) == 0
    await hass.async_block_till_done()
    assert not any(e.event_id == original.event_id for e in home.received)
    issue_id = TAMPER_ISSUE.format(keyid=oak.node.identity.keyid)
    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.severity is ir.IssueSeverity.ERROR
    assert issue.translation_key == "relay_tampered"
    assert issue.translation_placeholders == {
        "name": "Oak 3",
        "fingerprint": oak.node.identity.fingerprint,
        "code": "bad_message_signature",
    }
    # Other changes leave it; Elm has none; removing Oak takes Oak's issue with it.
    init_integration.runtime_data.federation.changed("state")
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is not None
    assert (
        ir.async_get(hass).async_get_issue(
            DOMAIN, TAMPER_ISSUE.format(keyid=elm.node.identity.keyid)
        )
        is None
    )
    await hass.services.async_call(
        DOMAIN, "remove_peer", {"fingerprint": oak.node.identity.fingerprint}, blocking=True
    )
    await hass.async_block_till_done()
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None


async def test_relaying_is_an_option_on_by_default(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    assert _node(init_integration).relaying
    recording = {k: init_integration.options[k] for k in RECORDING_DEFAULTS}
    result = await hass.config_entries.options.async_init(init_integration.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_CAMERAS: [FRONT_DOOR], **recording}
    )
    result = await hass.config_entries.options.async_configure(result["flow_id"], {})
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], dict(REQUEST_DEFAULTS)
    )
    assert result["step_id"] == "federation"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_RELAY: False}
    )
    await hass.async_block_till_done()
    assert init_integration.options[CONF_RELAY] is False
    assert not _node(init_integration).relaying


async def test_no_relay_pass_starts_once_unload_began(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    federation = init_integration.runtime_data.federation
    work = init_integration.runtime_data.work
    assert await hass.config_entries.async_unload(init_integration.entry_id)
    started: list[object] = []

    async def never(_now: object) -> None:
        started.append(_now)

    work.start(never, dt_util.utcnow(), "late")  # type: ignore[arg-type]
    federation.deliver_soon()
    await hass.async_block_till_done(wait_background_tasks=True)
    assert started == []


async def test_alerts_already_shown_and_the_homes_own_are_not_shown_after_a_reload(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    neighbors: tuple[Running, Running],
    network: Network,
) -> None:
    oak, elm = neighbors
    alerts = async_capture_events(hass, EVENT_ALERT)
    sent = oak.node.broadcast_alert("Van on Oak", max_hops=2)
    elm.node.outbox.drop_peer(oak.node.identity.keyid)
    assert await oak.node.deliver(network.sender) == 1
    await hass.async_block_till_done(wait_background_tasks=True)
    own: Any = await hass.services.async_call(
        DOMAIN,
        "post_alert",
        {"text": "My own alert", "max_hops": 2},
        blocking=True,
        return_response=True,
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    # Any options change reloads the entry; the event ids seen are saved with the node.
    entry = await reloaded(hass, init_integration)
    home = _node(entry).identity.keyid
    shown = hass.states.get(SENSOR)
    # Elm brings both back (another path, or an outbox retry), well within their lifetime.
    (mine,) = [e for e in oak.node.received if e.event_id == own["event_id"]]
    for envelope in (sent.relayed(), mine.relayed()):
        elm.node.outbox.enqueue(
            peer=home,
            payload=canon(envelope.to_json()).decode(),
            signer=elm.node.identity.keyid,
            expires=envelope.expires,
            now=network.clock.now(),
        )
    assert await elm.node.deliver(network.sender) == 2
    await hass.async_block_till_done(wait_background_tasks=True)
    assert [e.data["text"] for e in alerts] == ["Van on Oak"]
    assert hass.states.get(SENSOR) == shown
    # Neither is relayed again (the outbox may hold the home's weekly digests).
    assert [e for e in _node(entry).outbox if '"type":"alert"' in e.payload] == []
