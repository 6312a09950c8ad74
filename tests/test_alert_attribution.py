"""Who answers for an alert at the home: mutes, names, repair issues, whatever keys are used.

A neighbor must not reach past its owner's mute, or shed a repair issue, by rotating its key
or by signing alerts with keys it minted and handing them over as relayed; and no one's claim
to a home name is shown as if this home had checked it. The home is Home Assistant (phcc's
hass); its neighbors are real federation nodes on loopback.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from homeassistant.helpers import issue_registry as ir
from pytest_homeassistant_custom_component.common import async_capture_events

from custom_components.porchlight.alerts import EVENT_ALERT
from custom_components.porchlight.const import DOMAIN
from custom_components.porchlight.federation.canonical import canon
from custom_components.porchlight.federation.httpsig import new_nonce
from custom_components.porchlight.federation.identity import Identity
from custom_components.porchlight.federation.messages import BROADCAST, seal
from custom_components.porchlight.federation_glue import EVENT_MESSAGE, TAMPER_ISSUE
from custom_components.porchlight.issues import Severity, raise_issue
from custom_components.porchlight.witness_glue import EQUIVOCATION_ISSUE

from .test_relay import _node, _paired, neighbors  # noqa: F401  # the fixture

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.common import MockConfigEntry

    from .federation.loopback import Network, Running


async def _mute(hass: HomeAssistant, who: Running) -> None:
    await hass.services.async_call(
        DOMAIN, "mute_neighbor", {"fingerprint": who.node.identity.fingerprint}, blocking=True
    )


def _hand_over(via: Running, home: str, obj: dict[str, Any], expires: int, now: int) -> None:
    """Queue obj at via for the home exactly as given, hop-signed by via when delivered."""
    via.node.outbox.enqueue(
        peer=home,
        payload=canon(obj).decode(),
        signer=via.node.identity.keyid,
        expires=expires,
        now=now,
    )


def _minted_alert(network: Network, text: str, name: str) -> tuple[dict[str, Any], int]:
    """An alert signed by a key nobody pinned, as relayed once: its JSON and its expiry."""
    envelope = seal(
        Identity.generate(),
        "alert",
        {"text": text, "category": "other", "name": name, "max_hops": 3},
        to=BROADCAST,
        now=network.clock.now(),
        lifetime=3600,
        message_id=new_nonce(),
    )
    return envelope.relayed().to_json(), envelope.expires


async def _rotate(network: Network, who: Running) -> str:
    """who rotates its key and tells the home; its old keyid."""
    old = who.node.identity.keyid
    who.node.rotate(Identity.generate())
    assert await who.node.deliver(network.sender) == 1
    return old


async def test_alerts_are_not_announced_as_federation_messages(
    hass: HomeAssistant, init_integration: MockConfigEntry, endpoint: str, network: Network
) -> None:
    """Announced there, a muted neighbor's alerts would reach automations with its key."""
    oak = await _paired(hass, network, endpoint, "Oak 3")
    elm = await _paired(hass, network, endpoint, "Elm 7")
    await _mute(hass, oak)
    alerts = async_capture_events(hass, EVENT_ALERT)
    messages = async_capture_events(hass, EVENT_MESSAGE)
    oak.node.broadcast_alert("anonymous, muted")
    elm.node.broadcast_alert("shown")
    assert await oak.node.deliver(network.sender) == 1
    assert await elm.node.deliver(network.sender) == 1
    await hass.async_block_till_done(wait_background_tasks=True)
    assert [e.data["text"] for e in alerts] == ["shown"]
    assert messages == []


async def test_mute_follows_the_neighbor_to_its_new_key(
    hass: HomeAssistant, init_integration: MockConfigEntry, endpoint: str, network: Network
) -> None:
    oak = await _paired(hass, network, endpoint, "Oak 3")
    await _mute(hass, oak)
    alerts = async_capture_events(hass, EVENT_ALERT)
    await _rotate(network, oak)
    await hass.async_block_till_done(wait_background_tasks=True)
    oak.node.broadcast_alert("after rotation")
    assert await oak.node.deliver(network.sender) == 1
    await hass.async_block_till_done(wait_background_tasks=True)
    assert alerts == []
    # Kept under the new key across restarts too.
    assert await hass.config_entries.async_reload(init_integration.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert init_integration.runtime_data.federation.alerts.muted == {oak.node.identity.keyid}
    oak.node.broadcast_alert("after reload")
    assert await oak.node.deliver(network.sender) == 1
    await hass.async_block_till_done(wait_background_tasks=True)
    assert alerts == []


@pytest.mark.allow_porchlight_warnings(r"relayed a message that does not verify|given up")
async def test_tamper_issue_follows_the_neighbor_to_its_new_key(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    neighbors: tuple[Running, Running],  # noqa: F811
    network: Network,
) -> None:
    oak, elm = neighbors
    home = _node(init_integration)
    original = elm.node.broadcast_alert("Lost cat", max_hops=2)
    elm.node.outbox.drop_peer(home.identity.keyid)
    forged = original.relayed().to_json()
    forged["body"] = {**original.body, "text": "Lost cat. Call 555-0100 for reward"}
    _hand_over(oak, home.identity.keyid, forged, original.expires, network.clock.now())
    assert await oak.node.deliver(network.sender) == 0
    await hass.async_block_till_done(wait_background_tasks=True)
    old = await _rotate(network, oak)
    await hass.async_block_till_done(wait_background_tasks=True)
    registry = ir.async_get(hass)
    assert registry.async_get_issue(DOMAIN, TAMPER_ISSUE.format(keyid=old)) is None
    issue = registry.async_get_issue(DOMAIN, TAMPER_ISSUE.format(keyid=oak.node.identity.keyid))
    assert issue is not None
    assert issue.translation_key == "relay_tampered"
    assert issue.severity == Severity.ERROR
    assert issue.translation_placeholders is not None
    # The fingerprint the owner removes the neighbor by now, its name and what it did.
    assert issue.translation_placeholders == {
        "name": "Oak 3",
        "fingerprint": oak.node.identity.fingerprint,
        "code": "bad_message_signature",
    }


async def test_ignored_equivocation_issue_follows_the_neighbor_and_stays_ignored(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    neighbors: tuple[Running, Running],  # noqa: F811
    network: Network,
) -> None:
    oak, _elm = neighbors
    issue_id = EQUIVOCATION_ISSUE.format(keyid=oak.node.identity.keyid)
    placeholders = {"name": "Oak 3", "fingerprint": oak.node.identity.fingerprint, "problem": "x"}
    # As witness_glue.py raises it when a neighbor shows two histories of its audit log.
    raise_issue(hass, issue_id, "audit_equivocation", placeholders, severity=Severity.ERROR)
    ir.async_ignore_issue(hass, DOMAIN, issue_id, ignore=True)
    old = await _rotate(network, oak)
    await hass.async_block_till_done(wait_background_tasks=True)
    registry = ir.async_get(hass)
    assert registry.async_get_issue(DOMAIN, EQUIVOCATION_ISSUE.format(keyid=old)) is None
    moved = registry.async_get_issue(
        DOMAIN, EQUIVOCATION_ISSUE.format(keyid=oak.node.identity.keyid)
    )
    assert moved is not None
    assert moved.translation_key == "audit_equivocation"
    assert moved.dismissed_version is not None


async def test_muted_neighbor_cannot_come_back_under_keys_it_minted(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    neighbors: tuple[Running, Running],  # noqa: F811
    network: Network,
) -> None:
    """An originator nobody pinned is the relaying neighbor's to answer for."""
    oak, elm = neighbors
    await _mute(hass, oak)
    alerts = async_capture_events(hass, EVENT_ALERT)
    home = _node(init_integration).identity.keyid
    now = network.clock.now()
    _hand_over(oak, home, *_minted_alert(network, "still here", "Oak 3"), now)
    _hand_over(elm, home, *_minted_alert(network, "from further away", ""), now)
    assert await oak.node.deliver(network.sender) == 1
    assert await elm.node.deliver(network.sender) == 1
    await hass.async_block_till_done(wait_background_tasks=True)
    assert [e.data["text"] for e in alerts] == ["from further away"]


async def test_only_names_this_home_paired_are_shown(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    neighbors: tuple[Running, Running],  # noqa: F811
    network: Network,
) -> None:
    """A paired poster shows as paired (if it shows a name at all); anyone else as unpaired."""
    oak, elm = neighbors
    alerts = async_capture_events(hass, EVENT_ALERT)
    home = _node(init_integration).identity.keyid
    oak.node.broadcast_alert("Named", name="City Hall")
    oak.node.broadcast_alert("Anonymous")
    assert await oak.node.deliver(network.sender) == 2
    _hand_over(elm, home, *_minted_alert(network, "Claims a name", "Oak 3"), network.clock.now())
    assert await elm.node.deliver(network.sender) == 1
    await hass.async_block_till_done(wait_background_tasks=True)
    assert [(e.data["text"], e.data["poster"]) for e in alerts] == [
        ("Named", "Oak 3"),
        ("Anonymous", ""),
        ("Claims a name", "a neighbor of a neighbor"),
    ]
    sensor = hass.states.get("sensor.maple_street_12_recent_neighbor_alerts")
    assert sensor is not None
    assert sensor.attributes["alerts"][0]["poster"] == "a neighbor of a neighbor"
