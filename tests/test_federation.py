"""Porchlight's federation inside Home Assistant: views, services, sensors, persistence.

Other homes and agencies are real federation nodes served on 127.0.0.1; Home Assistant's own
endpoints are reached through its test server (also real HTTP on loopback).
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from xml.etree import ElementTree as ET

import probatio as vol
import pytest
from aiohttp import web
from homeassistant.components import persistent_notification
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.network import NoURLAvailableError
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import (
    async_capture_events,
    async_fire_time_changed,
)
from yarl import URL

from custom_components.porchlight.alerts import EVENT_ALERT
from custom_components.porchlight.const import DOMAIN
from custom_components.porchlight.federation import canonical
from custom_components.porchlight.federation.httpsig import new_nonce
from custom_components.porchlight.federation.identity import Identity
from custom_components.porchlight.federation.invites import Invite, qr_image
from custom_components.porchlight.federation.node import API_PREFIX
from custom_components.porchlight.federation_glue import (
    DELIVERY_INTERVAL,
    ENDPOINT_ISSUE,
    STORAGE_KEY,
    Federation,
    outbox_path,
)

from .upkeep import queued

if TYPE_CHECKING:
    from pathlib import Path

    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.common import MockConfigEntry
    from pytest_homeassistant_custom_component.typing import (
        ClientSessionGenerator,
        WebSocketGenerator,
    )

    from custom_components.porchlight.federation.node import Node

    from .federation.loopback import Network


def notifications(hass: HomeAssistant) -> dict[str, Any]:
    """Persistent notifications currently shown."""
    return dict(persistent_notification._async_get_or_create_notifications(hass))


def _node(entry: MockConfigEntry) -> Node:
    return entry.runtime_data.federation.node


async def _call(hass: HomeAssistant, service: str, **data: Any) -> Any:
    return await hass.services.async_call(
        DOMAIN, service, data, blocking=True, return_response=service == "create_invite"
    )


async def test_identity_document_is_public(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    client = await hass_client_no_auth()
    response = await client.get(API_PREFIX + "/identity")
    assert response.status == 200
    assert (await response.json())["fingerprint"] == _node(init_integration).identity.fingerprint


async def test_neighbor_redeems_home_invite(
    hass: HomeAssistant, init_integration: MockConfigEntry, endpoint: str, network: Network
) -> None:
    response = await _call(hass, "create_invite", endpoint=endpoint, lifetime_hours=1, lan=True)
    assert response["invite"].startswith("plinv1.")
    assert response["qr_svg"].startswith("<svg")
    assert response["fingerprint"] == _node(init_integration).identity.fingerprint
    neighbor = await network.start("Oak 3")
    peer = await neighbor.node.accept_invite(response["invite"], network.sender, lan=True)
    assert peer.keyid == _node(init_integration).identity.keyid
    await hass.async_block_till_done()
    assert hass.states.get("sensor.maple_street_12_paired_neighbors").state == "1"

    # The pairing is pending on both sides until the owners compare the same code (R3.3).
    listed = await hass.services.async_call(
        DOMAIN, "list_peers", {}, blocking=True, return_response=True
    )
    [info] = listed["peers"]  # type: ignore[index]
    assert info["pending"] is True
    assert info["lan"] is True
    assert info["pairing_code"] == peer.pairing_code
    neighbor.node.broadcast_alert("Not yet")
    assert len(neighbor.node.outbox) == 0  # nothing goes to a pending peer
    neighbor.node.confirm_pairing(peer.keyid, peer.pairing_code)
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "confirm_pairing", fingerprint=info["fingerprint"], code="00000000")
    assert err.value.translation_key == "pairing_code_mismatch"
    assert _node(init_integration).peers.get(neighbor.node.identity.keyid).pending  # type: ignore[union-attr]
    confirmed = await hass.services.async_call(
        DOMAIN,
        "confirm_pairing",
        {
            "fingerprint": info["fingerprint"],
            "code": peer.pairing_code[:4] + " " + peer.pairing_code[4:],
        },
        blocking=True,
        return_response=True,
    )
    assert confirmed["peer"]["pending"] is False  # type: ignore[index]
    assert confirmed["peer"]["pairing_code"] is None  # type: ignore[index]

    # An alert from the new neighbor reaches the home's inbox view and the event bus.
    events = async_capture_events(hass, EVENT_ALERT)
    neighbor.node.broadcast_alert("Stray cat found")
    assert await neighbor.node.deliver(network.sender) == 1
    assert events[0].data["text"] == "Stray cat found"

    # The signed acceptance the home answered with is in its audit log (bytes that left).
    audit = init_integration.runtime_data.desk.audit
    sent = await hass.async_add_executor_job(lambda: list(audit.entries()))
    # Then only the home's own upkeep (its map cell, refused until the pairing is
    # confirmed), to that neighbor and nowhere else.
    neighbor_at = URL(neighbor.endpoint).authority
    subjects = [e.subject for e in sent if e.kind == "message_sent"]
    assert subjects[0] == "pair_accept"
    assert set(subjects[1:]) <= {neighbor_at}
    assert "sender" not in events[0].data


async def test_home_accepts_agency_invite_untrusted_then_trusts(
    hass: HomeAssistant, init_integration: MockConfigEntry, endpoint: str, network: Network
) -> None:
    agency = await network.start("County Sheriff", role="agency")
    await hass.services.async_call(
        DOMAIN,
        "accept_invite",
        {
            "invite": agency.node.create_invite(lan=True).to_text(),
            "endpoint": endpoint,
            "lan": True,
        },
        blocking=True,
    )
    fingerprint = agency.node.identity.fingerprint
    peer = _node(init_integration).peers.get(agency.node.identity.keyid)
    assert peer is not None
    assert not peer.trusted
    state = hass.states.get("sensor.maple_street_12_agencies")
    assert (state.state, state.attributes["trusted"]) == ("1", 0)

    await _call(hass, "trust_agency", fingerprint=fingerprint.lower())
    await hass.async_block_till_done()
    assert hass.states.get("sensor.maple_street_12_agencies").attributes["trusted"] == 1
    await _call(hass, "untrust_agency", fingerprint=fingerprint)
    assert not _node(init_integration).peers.get(agency.node.identity.keyid).trusted  # type: ignore[union-attr]
    await _call(hass, "remove_peer", fingerprint=fingerprint)
    assert len(_node(init_integration).peers) == 0


async def test_trusting_a_neighbor_is_refused(
    hass: HomeAssistant, init_integration: MockConfigEntry, endpoint: str, network: Network
) -> None:
    neighbor = await network.start("Oak 3")
    await hass.services.async_call(
        DOMAIN,
        "accept_invite",
        {
            "invite": neighbor.node.create_invite(lan=True).to_text(),
            "endpoint": endpoint,
            "lan": True,
        },
        blocking=True,
        return_response=True,
    )
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "trust_agency", fingerprint=neighbor.node.identity.fingerprint)
    assert err.value.translation_key == "not_an_agency"


@pytest.mark.parametrize(
    ("invite", "key"),
    [("hello", "invite_malformed")],
)
async def test_accept_invite_errors_are_translated(
    hass: HomeAssistant, init_integration: MockConfigEntry, endpoint: str, invite: str, key: str
) -> None:
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "accept_invite", invite=invite, endpoint=endpoint, lan=True)
    assert err.value.translation_key == key


async def test_expired_invite_is_refused_by_service(
    hass: HomeAssistant, init_integration: MockConfigEntry, endpoint: str, network: Network
) -> None:
    other = await network.start("Oak 3")
    text = other.node.create_invite(lifetime=-1).to_text()
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "accept_invite", invite=text, endpoint=endpoint, lan=True)
    assert err.value.translation_key == "invite_expired"


async def test_unreachable_and_refusing_peers_are_reported(
    hass: HomeAssistant, init_integration: MockConfigEntry, endpoint: str, network: Network
) -> None:
    other = await network.start("Oak 3")
    used = other.node.create_invite(lan=True).to_text()
    await _call(hass, "accept_invite", invite=used, endpoint=endpoint, lan=True)
    # Same invite again: the other home refuses.
    with pytest.raises(HomeAssistantError) as err:
        await _call(hass, "accept_invite", invite=used, endpoint=endpoint, lan=True)
    assert err.value.translation_key == "peer_refused"
    assert err.value.translation_placeholders == {"status": "410", "code": "invite_gone"}
    fresh = other.node.create_invite(lan=True).to_text()
    await network.stop(other)
    with pytest.raises(HomeAssistantError) as err:
        await _call(hass, "accept_invite", invite=fresh, endpoint=endpoint, lan=True)
    assert err.value.translation_key == "peer_unreachable"


async def test_unverifiable_pairing_answer_is_reported(
    hass: HomeAssistant, init_integration: MockConfigEntry, endpoint: str, network: Network
) -> None:
    async def nonsense(_request: web.Request) -> web.Response:
        return web.Response(body=b'{"a":1}', content_type="application/json")

    app = web.Application()
    app.router.add_post(API_PREFIX + "/pair", nonsense)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    port = runner.addresses[0][1]
    invite = Invite(
        f"http://127.0.0.1:{port}{API_PREFIX}",
        Identity.generate().public_key,
        "neighbor",
        "Oak 3",
        new_nonce(),
        int(time.time()) + 600,
    )
    try:
        with pytest.raises(HomeAssistantError) as err:
            await _call(hass, "accept_invite", invite=invite.to_text(), endpoint=endpoint, lan=True)
    finally:
        await runner.cleanup()
    assert err.value.translation_key == "pairing_failed"
    assert len(_node(init_integration).peers) == 0


async def test_unknown_fingerprint_is_refused(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "remove_peer", fingerprint="AAAA-BBBB")
    assert err.value.translation_key == "unknown_peer"


async def test_invite_needs_a_reachable_url(
    hass: HomeAssistant, init_integration: MockConfigEntry, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_url(*_args: object, **_kwargs: object) -> str:
        raise NoURLAvailableError

    monkeypatch.setattr("custom_components.porchlight.federation_glue.get_url", no_url)
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "create_invite")
    assert err.value.translation_key == "no_endpoint"


async def test_invite_refuses_a_home_assistant_url_peers_would_refuse(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    hass.config.external_url = "http://my_home.example:8123"  # "_" is not allowed in a host
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "create_invite")
    assert err.value.translation_key == "endpoint_unusable"
    assert init_integration.runtime_data.federation.node.endpoint is None


@pytest.mark.parametrize(
    "endpoint",
    ["http://x:99999/api/porchlight/v1", "http://[::1/api", "ftp://x/api", "http://x/a/../b"],
)
async def test_invite_refuses_an_endpoint_peers_would_refuse(
    hass: HomeAssistant, init_integration: MockConfigEntry, endpoint: str
) -> None:
    with pytest.raises(vol.Invalid, match="not a usable endpoint"):
        await _call(hass, "create_invite", endpoint=endpoint)


async def test_invite_defaults_to_home_assistant_url(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    hass.config.external_url = "https://maple.example.org"
    response = await _call(hass, "create_invite")
    assert _node(init_integration).endpoints == ["https://maple.example.org" + API_PREFIX]
    # A second invite reuses the endpoint.
    await _call(hass, "create_invite")
    assert len(_node(init_integration).endpoints) == 1
    assert response["invite"]


async def test_services_need_a_loaded_entry(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    await hass.config_entries.async_unload(init_integration.entry_id)
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "remove_peer", fingerprint="AAAA")
    assert err.value.translation_key == "not_loaded"


async def test_views_answer_503_when_not_loaded(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    await hass.config_entries.async_unload(init_integration.entry_id)
    client = await hass_client_no_auth()
    for method, path in (("GET", "/identity"), ("POST", "/inbox"), ("POST", "/pair")):
        response = await client.request(method, API_PREFIX + path, data=b"{}")
        assert response.status == 503
        # Canonical JSON with a detail, like every other refusal (docs/protocol.md §14.1).
        body = await response.read()
        assert canonical.loads(body) == {"error": "not_ready", "detail": "Porchlight is not loaded"}
        assert response.headers["Cache-Control"] == "no-store"


async def test_inbox_view_refuses_unknown_keys_and_oversize(
    hass: HomeAssistant, init_integration: MockConfigEntry, endpoint: str, network: Network
) -> None:
    await _call(hass, "create_invite", endpoint=endpoint, lan=True)
    stranger = await network.start("Stranger")
    status, reply = await network.sender.post(
        stranger.node.identity, endpoint + "/inbox", b"{}", lan=True
    )
    assert (status, reply["error"]) == (401, "unknown_key")  # type: ignore[index]
    async with network.session.post(
        endpoint + "/inbox",
        data=b"x" * 70_000,
        headers={"Content-Type": "application/json"},
    ) as response:
        assert response.status == 413


async def test_refused_pairing_sends_nothing_worth_logging(
    hass: HomeAssistant, init_integration: MockConfigEntry, endpoint: str, network: Network
) -> None:
    await _call(hass, "create_invite", endpoint=endpoint, lan=True)
    stranger = await network.start("Stranger")
    status, reply = await network.sender.post(
        stranger.node.identity, endpoint + "/pair", b"{}", lan=True
    )
    assert status == 400
    assert isinstance(reply, dict)
    audit = init_integration.runtime_data.desk.audit
    entries = await hass.async_add_executor_job(lambda: list(audit.entries()))
    assert [e for e in entries if e.kind == "message_sent"] == []


async def test_rotate_key_hands_over_to_peers(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    endpoint: str,
    network: Network,
    key_path: Path,
) -> None:
    neighbor = await network.start("Oak 3")
    await _call(
        hass,
        "accept_invite",
        invite=neighbor.node.create_invite(lan=True).to_text(),
        endpoint=endpoint,
        lan=True,
    )
    old = _node(init_integration).identity
    response = await hass.services.async_call(
        DOMAIN, "rotate_key", {}, blocking=True, return_response=True
    )
    new = init_integration.runtime_data.identity
    assert response == {"fingerprint": new.fingerprint}
    assert new.keyid != old.keyid
    assert Identity.from_pem(key_path.read_bytes()).keyid == new.keyid
    at_neighbor = neighbor.node.peers.get(new.keyid)
    assert at_neighbor is not None
    assert at_neighbor.retired_keys == (old.public_key,)
    device = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, init_integration.entry_id), init_integration.entry_id
    )
    assert device is not None
    assert device.serial_number == new.fingerprint


@pytest.mark.allow_porchlight_warnings(r"revoked its key; pair again in person")
async def test_compromised_key_is_revoked_at_peers(
    hass: HomeAssistant, init_integration: MockConfigEntry, endpoint: str, network: Network
) -> None:
    neighbor = await network.start("Oak 3")
    await _call(
        hass,
        "accept_invite",
        invite=neighbor.node.create_invite(lan=True).to_text(),
        endpoint=endpoint,
        lan=True,
    )
    old = _node(init_integration).identity
    await _call(hass, "rotate_key", compromised=True)
    assert old.keyid in neighbor.node.peers.revoked
    assert len(neighbor.node.peers) == 0


async def test_outbox_is_delivered_on_the_timer_and_survives_reload(
    hass: HomeAssistant, init_integration: MockConfigEntry, endpoint: str, network: Network
) -> None:
    neighbor = await network.start("Oak 3")
    await _call(
        hass,
        "accept_invite",
        invite=neighbor.node.create_invite(lan=True).to_text(),
        endpoint=endpoint,
        lan=True,
    )
    home = _node(init_integration)
    await _call(hass, "confirm_pairing", fingerprint=neighbor.node.identity.fingerprint)
    neighbor.node.confirm_pairing(home.identity.keyid)
    port = neighbor.port
    await network.stop(neighbor)
    sent = _node(init_integration).broadcast_alert("Garage door left open at number 5")
    await hass.async_block_till_done()

    assert await hass.config_entries.async_reload(init_integration.entry_id)
    await hass.async_block_till_done()
    assert outbox_path(hass).is_file()
    assert len(queued(_node(init_integration).outbox)) == 1
    assert len(_node(init_integration).peers) == 1

    await network.serve(neighbor.node, port=port)
    outbox = _node(init_integration).outbox
    upkeep = len(outbox) - len(queued(outbox))
    assert await init_integration.runtime_data.federation.async_deliver() == 1 + upkeep
    assert [e.event_id for e in neighbor.node.received] == [sent.event_id]
    assert len(queued(_node(init_integration).outbox)) == 0


async def test_outbox_timer_tries_delivery(
    hass: HomeAssistant, init_integration: MockConfigEntry, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []

    async def deliver(_self: object) -> int:
        calls.append(1)
        return 0

    monkeypatch.setattr(Federation, "async_deliver", deliver)
    async_fire_time_changed(hass, dt_util.utcnow() + DELIVERY_INTERVAL + timedelta(seconds=1))
    await hass.async_block_till_done()
    assert calls == [1]


async def test_removing_the_entry_deletes_peers_and_outbox(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    _node(init_integration).broadcast_alert("x")
    await hass.config_entries.async_unload(init_integration.entry_id)
    await hass.async_block_till_done()
    assert STORAGE_KEY in hass_storage
    await hass.config_entries.async_remove(init_integration.entry_id)
    await hass.async_block_till_done()
    assert STORAGE_KEY not in hass_storage
    assert not outbox_path(hass).exists()


async def test_private_destination_without_lan_is_translated(
    hass: HomeAssistant, init_integration: MockConfigEntry, endpoint: str, network: Network
) -> None:
    neighbor = await network.start("Oak 3")
    with pytest.raises(ServiceValidationError) as err:
        await _call(
            hass,
            "accept_invite",
            invite=neighbor.node.create_invite(lan=True).to_text(),
            endpoint=endpoint,
        )
    assert err.value.translation_key == "destination_refused"


@pytest.mark.parametrize(
    ("endpoint", "lan", "why"),
    [
        ("http://127.0.0.1:8123/api/porchlight/v1", True, "invite_endpoint_local_only"),
        ("http://localhost:8123/api/porchlight/v1", True, "invite_endpoint_local_only"),
        ("http://[fe80::1]:8123/api/porchlight/v1", True, "invite_endpoint_local_only"),
        ("http://0.0.0.0:8123/api/porchlight/v1", True, "invite_endpoint_local_only"),
        # A private address this machine does not have (the test harness gives it 10.10.10.10).
        ("http://192.168.1.5:8123/api/porchlight/v1", True, "invite_endpoint_not_listening"),
        # This machine's own LAN address, in an invite for peers beyond the LAN.
        ("http://10.10.10.10:8123/api/porchlight/v1", False, "invite_endpoint_lan_only"),
    ],
)
async def test_invite_warns_when_its_endpoint_looks_unreachable(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
    endpoint: str,
    lan: bool,
    why: str,
) -> None:
    host = URL(endpoint).host
    response = await _call(hass, "create_invite", endpoint=endpoint, lan=lan)
    # Handed out all the same (the owner may know better), but not silently.
    assert Invite.from_text(response["invite"]).endpoint == endpoint
    issue = ir.async_get(hass).async_get_issue(DOMAIN, ENDPOINT_ISSUE)
    assert issue is not None
    assert issue.translation_key == why
    assert issue.translation_placeholders == {"endpoint": endpoint, "host": host}
    [warning] = response["warnings"]
    assert endpoint in warning
    assert "{" not in warning  # the translated text, placeholders filled
    assert f"may be unreachable ({why})" in caplog.text

    # A usable endpoint clears the warning.
    good = await _call(
        hass, "create_invite", endpoint="https://maple.example.org/api/porchlight/v1"
    )
    assert good["warnings"] == []
    assert ir.async_get(hass).async_get_issue(DOMAIN, ENDPOINT_ISSUE) is None


async def test_invite_for_this_machines_lan_address_is_fine_for_the_lan(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    response = await _call(
        hass, "create_invite", endpoint="http://10.10.10.10:8123/api/porchlight/v1", lan=True
    )
    assert response["warnings"] == []


async def test_invite_to_an_address_home_assistant_does_not_bind_warns(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    # This machine has 10.10.10.10, but Home Assistant was told to listen on loopback only.
    hass.http.server_host = ["127.0.0.1"]
    response = await _call(
        hass, "create_invite", endpoint="http://10.10.10.10:8123/api/porchlight/v1", lan=True
    )
    issue = ir.async_get(hass).async_get_issue(DOMAIN, ENDPOINT_ISSUE)
    assert issue is not None
    assert issue.translation_key == "invite_endpoint_not_listening"
    assert len(response["warnings"]) == 1


async def test_invite_with_a_public_address_or_a_name_is_not_second_guessed(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    # A router's public address forwards to this machine; names are not resolved (no network
    # look-ups to judge an invite).
    for endpoint in ("http://203.0.114.7:8123/api/porchlight/v1", "https://door.example.net"):
        response = await _call(hass, "create_invite", endpoint=endpoint)
        assert response["warnings"] == []


async def test_waiting_pairing_tells_the_owner_who_waits_and_the_code(
    hass: HomeAssistant, init_integration: MockConfigEntry, endpoint: str, network: Network
) -> None:
    response = await _call(hass, "create_invite", endpoint=endpoint, lan=True)
    neighbor = await network.start("Oak 3")
    peer = await neighbor.node.accept_invite(response["invite"], network.sender, lan=True)
    await hass.async_block_till_done()
    key = neighbor.node.identity.keyid
    shown = notifications(hass)
    note = shown[f"porchlight_pairing_{key}"]
    assert "Oak 3" in note["message"]
    assert f"{peer.pairing_code[:4]} {peer.pairing_code[4:]}" in note["message"]
    assert neighbor.node.identity.fingerprint in note["message"]
    assert note["title"] == "Oak 3 waits for you to compare the pairing code"

    await _call(
        hass,
        "confirm_pairing",
        fingerprint=neighbor.node.identity.fingerprint,
        code=peer.pairing_code,
    )
    await hass.async_block_till_done()
    assert f"porchlight_pairing_{key}" not in notifications(hass)


async def test_waiting_pairing_notice_goes_with_the_peer_and_comes_back_after_restart(
    hass: HomeAssistant, init_integration: MockConfigEntry, endpoint: str, network: Network
) -> None:
    agency = await network.start("County Sheriff", role="agency")
    await _call(
        hass,
        "accept_invite",
        invite=agency.node.create_invite(lan=True).to_text(),
        endpoint=endpoint,
        lan=True,
    )
    await hass.async_block_till_done()
    notice = f"porchlight_pairing_{agency.node.identity.keyid}"
    assert "County Sheriff" in notifications(hass)[notice]["message"]
    # Notifications are not kept across restarts; the waiting peer is.
    persistent_notification.async_dismiss(hass, notice)
    assert await hass.config_entries.async_reload(init_integration.entry_id)
    await hass.async_block_till_done()
    assert notice in notifications(hass)
    # What this home told the agency is kept with it: its links are built on it.
    assert _node(init_integration).peers.get(agency.node.identity.keyid).told == endpoint  # type: ignore[union-attr]
    await _call(hass, "remove_peer", fingerprint=agency.node.identity.fingerprint)
    await hass.async_block_till_done()
    assert notice not in notifications(hass)


async def test_invite_qr_code_is_an_image_only_the_owner_can_fetch(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    hass_ws_client: WebSocketGenerator,
    hass_client_no_auth: ClientSessionGenerator,
    hass_client: ClientSessionGenerator,
    hass_read_only_access_token: str,
) -> None:
    ws = await hass_ws_client(hass)
    await ws.send_json_auto_id(
        {
            "type": "call_service",
            "domain": DOMAIN,
            "service": "create_invite",
            "service_data": {"endpoint": "https://maple.example.org/api/porchlight/v1"},
            "return_response": True,
        }
    )
    result = (await ws.receive_json())["result"]["response"]
    url = result["qr_url"]
    assert "authSig=" in url
    client = await hass_client_no_auth()
    answer = await client.get(url)
    assert answer.status == 200
    assert answer.content_type == "image/svg+xml"
    assert answer.headers["Cache-Control"] == "private, no-store"
    svg = ET.fromstring(await answer.read())  # noqa: S314  # our own server's answer
    assert svg.tag == "{http://www.w3.org/2000/svg}svg"
    assert await answer.read() == qr_image(result["invite"])  # this invite's code
    # The QR code holds the invite (a secret until redeemed): signed URL or nothing.
    assert (await client.get(url.split("?")[0])).status == 401
    user_client = await hass_client_no_auth()
    refused = await user_client.get(
        url.split("?")[0], headers={"Authorization": f"Bearer {hass_read_only_access_token}"}
    )
    assert refused.status == 403
    # The owner, asking for a code no invite has (or one gone with its invite), gets none.
    owner = await hass_client()
    assert (await owner.get("/api/porchlight/invite_qr/unknown.svg")).status == 404
    assert (await owner.get(url.split("?")[0])).status == 200
    # Nor with Porchlight unloaded (the codes went with it).
    await hass.config_entries.async_unload(init_integration.entry_id)
    assert (await owner.get(url.split("?")[0])).status == 404
