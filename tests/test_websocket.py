"""The dashboard's websocket commands (docs/dashboard.md), with real requests and clips.

Fixtures `agency` and `recorded`: conftest.py; sending and reading back: footage_helpers.py.
"""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
from contextlib import closing
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import pytest
from homeassistant.helpers.dispatcher import async_dispatcher_send

from custom_components.porchlight import websocket
from custom_components.porchlight.federation.peers import Vouch
from custom_components.porchlight.panel import FRONTEND_DIR, bundle_version
from custom_components.porchlight.signals import signal_requests

from .footage_helpers import HOME_LAT, HOME_LON, fetch, offers, send_request

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.common import MockConfigEntry
    from pytest_homeassistant_custom_component.typing import (
        ClientSessionGenerator,
        WebSocketGenerator,
    )

    from custom_components.porchlight.recordings.models import Clip

    from .federation.loopback import Network, Running


async def _command(ws: Any, **msg: Any) -> dict[str, Any]:  # the test client
    await ws.send_json_auto_id(msg)
    reply: dict[str, Any] = await ws.receive_json()
    return reply


async def _snapshot_where(
    ws: Any,  # the test client
    check: Callable[[list[dict[str, Any]]], bool],
) -> list[dict[str, Any]]:
    """The first snapshot event for which check holds (within 10 s)."""
    async with asyncio.timeout(10):
        while True:
            message = await ws.receive_json()
            assert message["type"] == "event"
            requests: list[dict[str, Any]] = message["event"]["requests"]
            if check(requests):
                return requests


async def test_owner_sees_approves_and_watches_a_request(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    agency: Running,
    network: Network,
    recorded: list[Clip],
    hass_ws_client: WebSocketGenerator,
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    ws = await hass_ws_client(hass)
    sub = await _command(ws, type="porchlight/requests/subscribe")
    assert sub["success"]
    first = await ws.receive_json()
    assert first["event"] == {"requests": []}

    envelope = await send_request(hass, agency, network)
    (request,) = await _snapshot_where(ws, bool)
    assert request["request_id"] == envelope.event_id
    assert request["state"] == "pending"
    assert request["agency"]["trusted"] is True
    assert request["agency"]["trusted_since"] is not None
    assert request["area"]["kind"] in {"circle", "polygon"}
    assert [c["clip"] for c in request["clips"]] == [c.id for c in recorded]
    assert {c["decision"] for c in request["clips"]} == {"pending"}
    assert request["clips"][0]["thumbnail"] is None
    # Whole seconds around the clip: its 20 s, rounded outwards.
    assert 20 <= request["clips"][0]["duration_s"] <= 21

    client = await hass_client_no_auth()
    video = await client.get(request["clips"][1]["video"])
    assert video.status == 200
    assert hashlib.sha256(await video.read()).hexdigest() == recorded[1].sha256
    unsigned = await client.get(request["clips"][1]["video"].split("?")[0])
    assert unsigned.status == 401

    owner = await hass_ws_client(hass)
    listed = await _command(owner, type="porchlight/requests/list")
    assert listed["result"]["requests"][0]["request_id"] == envelope.event_id

    approved = await _command(
        owner,
        type="porchlight/requests/approve",
        request_id=envelope.event_id,
        clip_ids=[recorded[1].id],
    )
    assert approved["success"], approved
    assert [a["clip"] for a in approved["result"]["approved"]] == [recorded[1].id]
    # The request turns approved as the consent is recorded; its share shows in the same
    # or a later snapshot (the offer's delivery pushes one), so wait for both.
    (after,) = await _snapshot_where(
        ws, lambda rs: rs[0]["state"] == "approved" and rs[0]["clips"][1]["share"] is not None
    )
    assert after["state"] == "approved"
    assert after["clips"][1]["decision"] == "approved"
    assert after["clips"][1]["share"]["state"] == "offered"
    # Approved but still open: no closing time, yet History shows when it was decided.
    assert after["closed"] is None
    assert after["decided"] is not None

    (offer,) = offers(agency)
    (link,) = offer.body["links"]  # type: ignore[misc]
    status, _ = await fetch(network, link["url"])  # type: ignore[index]
    assert status == 200
    await hass.async_block_till_done()
    listed = await _command(owner, type="porchlight/requests/list")
    share = listed["result"]["requests"][0]["clips"][1]["share"]
    assert share["state"] == "downloaded"
    assert share["downloaded_at"] is not None


async def test_panel_is_admin_only_and_bundles_are_served_at_the_versioned_url(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    hass_client: ClientSessionGenerator,
) -> None:
    panel = hass.data["frontend_panels"]["porchlight"]
    assert panel.require_admin is True
    module_url = panel.config["_panel_custom"]["module_url"]
    version = await hass.async_add_executor_job(bundle_version)
    assert module_url == f"/porchlight_frontend/{version}/porchlight-panel.js"

    client = await hass_client()
    served = await client.get(module_url)
    assert served.status == 200
    assert await served.read() == (FRONTEND_DIR / "porchlight-panel.js").read_bytes()
    card = await client.get(f"/porchlight_frontend/{version}/porchlight-requests-card.js")
    assert card.status == 200


def test_bundle_version_follows_the_files(tmp_path: Path) -> None:
    (tmp_path / "a.js").write_text("one")
    first = bundle_version(tmp_path)
    (tmp_path / "a.js").write_text("two")
    assert bundle_version(tmp_path) != first


# The desk logs the refusal it is asked for on purpose.
@pytest.mark.allow_porchlight_warnings(r"refused: unknown_request")
async def test_broken_audit_chain_is_a_result_and_strings_refuse_paths(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    hass_ws_client: WebSocketGenerator,
) -> None:
    ws = await hass_ws_client(hass)
    verified = await _command(ws, type="porchlight/audit/verify")
    assert verified["result"]["ok"] is True

    listed = await _command(ws, type="porchlight/audit/list", limit=2)
    entries = listed["result"]["entries"]
    assert [e["seq"] for e in entries] == sorted((e["seq"] for e in entries), reverse=True)
    assert listed["result"]["head_seq"] == entries[0]["seq"]

    strings = await _command(ws, type="porchlight/strings", language="xx")
    assert strings["result"]["language"] == "en"
    bad = await _command(ws, type="porchlight/strings", language="../../secrets")
    assert not bad["success"]
    assert bad["error"]["translation_key"] == "unknown_language"

    unknown = await _command(ws, type="porchlight/requests/decline", request_id="nope")
    assert not unknown["success"]
    assert unknown["error"]["translation_domain"] == "porchlight"
    assert unknown["error"]["message"]


async def test_home_peers_and_a_subscription_that_ends(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    hass_ws_client: WebSocketGenerator,
) -> None:
    ws = await hass_ws_client(hass)
    home = await _command(ws, type="porchlight/home")
    assert home["result"]["fingerprint"] == init_integration.runtime_data.identity.fingerprint
    assert home["result"]["time_zone"] == hass.config.time_zone
    peers = await _command(ws, type="porchlight/peers/list")
    assert peers["result"] == {"peers": [], "vouches": []}

    sub = await _command(ws, type="porchlight/requests/subscribe")
    assert (await ws.receive_json())["event"] == {"requests": []}
    # Unloading the entry ends the subscription: its requests signal reaches nobody.
    assert await hass.config_entries.async_unload(init_integration.entry_id)
    async_dispatcher_send(hass, signal_requests(init_integration.entry_id))
    await hass.async_block_till_done()
    pong = await _command(ws, type="ping")
    assert pong["type"] == "pong"
    gone = await _command(ws, type="unsubscribe_events", subscription=sub["id"])
    assert gone["success"]


async def test_decline_and_revoke_reach_the_subscriber(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    agency: Running,
    network: Network,
    recorded: list[Clip],
    hass_ws_client: WebSocketGenerator,
) -> None:
    ws = await hass_ws_client(hass)
    await _command(ws, type="porchlight/requests/subscribe")
    await _snapshot_where(ws, lambda rs: True)
    owner = await hass_ws_client(hass)

    # A polygon around the home: its corners arrive in degrees.
    square = [
        [HOME_LAT - 1000, HOME_LON - 1000],
        [HOME_LAT - 1000, HOME_LON + 1000],
        [HOME_LAT + 1000, HOME_LON + 1000],
        [HOME_LAT + 1000, HOME_LON - 1000],
    ]
    shared = await send_request(hass, agency, network, area={"kind": "polygon", "points": square})
    (request,) = await _snapshot_where(ws, bool)
    assert request["area"] == {
        "kind": "polygon",
        "points": [[lat / 1e6, lon / 1e6] for lat, lon in square],
    }
    clip_ids = [recorded[0].id, recorded[2].id]
    approved = await _command(
        owner, type="porchlight/requests/approve", request_id=shared.event_id, clip_ids=clip_ids
    )
    assert approved["success"], approved
    revoked = await _command(
        owner, type="porchlight/shares/revoke", request_id=shared.event_id, clip_ids=[clip_ids[0]]
    )
    assert revoked["result"] == {"revoked": 1, "already_downloaded": []}
    (after,) = await _snapshot_where(
        ws, lambda rs: (rs[0]["clips"][0]["share"] or {}).get("state") == "revoked"
    )
    assert after["clips"][0]["share"]["revocable"] is False
    assert after["clips"][2]["share"]["revocable"] is True

    declined = await send_request(hass, agency, network, case="2026-000418")
    await _snapshot_where(ws, lambda rs: len(rs) == 2)  # the second request
    reply = await _command(owner, type="porchlight/requests/decline", request_id=declined.event_id)
    assert reply["success"], reply

    def by_id(requests: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        return {r["request_id"]: r for r in requests}

    final = await _snapshot_where(
        ws, lambda rs: by_id(rs)[declined.event_id]["state"] == "declined"
    )
    newest = by_id(final)[declined.event_id]
    assert newest["open"] is False
    assert newest["closed"] is not None
    assert newest["decided"] == newest["closed"]
    assert {c["decision"] for c in newest["clips"]} == {"declined"}


@pytest.mark.allow_porchlight_warnings(r"Cannot show the footage requests on the dashboard")
async def test_an_index_that_cannot_be_read_is_logged_not_sent(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    agency: Running,
    network: Network,
    recorded: list[Clip],
    hass_ws_client: WebSocketGenerator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    ws = await hass_ws_client(hass)
    await _command(ws, type="porchlight/requests/subscribe")
    await _snapshot_where(ws, lambda rs: True)
    await send_request(hass, agency, network)
    await hass.async_block_till_done(wait_background_tasks=True)
    # Every snapshot of the arrival is read before the index goes away.
    await ws.send_json_auto_id({"type": "ping"})
    while (await ws.receive_json())["type"] != "pong":
        pass
    await hass.async_add_executor_job(init_integration.runtime_data.recorder.index.close)

    async_dispatcher_send(hass, signal_requests(init_integration.entry_id))
    await hass.async_block_till_done(wait_background_tasks=True)

    assert "Cannot show the footage requests on the dashboard" in caplog.text
    # Nothing else was sent on the subscription: the next message answers the ping.
    assert (await _command(ws, type="ping"))["type"] == "pong"


async def test_a_tampered_log_verifies_as_broken(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    hass_ws_client: WebSocketGenerator,
) -> None:
    path = init_integration.runtime_data.recorder.root / "audit.sqlite3"
    with closing(sqlite3.connect(path, isolation_level=None)) as db:
        db.execute("UPDATE entries SET actor = 'someone else' WHERE seq = 1")
    ws = await hass_ws_client(hass)

    verified = await _command(ws, type="porchlight/audit/verify")

    assert verified["success"], verified
    assert verified["result"]["ok"] is False
    assert verified["result"]["first_bad_seq"] == 1
    assert verified["result"]["problem"]


async def test_peers_show_when_they_were_paired_and_trusted_and_vouches(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    agency: Running,
    hass_ws_client: WebSocketGenerator,
) -> None:
    node = init_integration.runtime_data.federation.node
    (peer,) = node.peers.agencies()
    # A neighbor's vouch as the inbox stores one (information only).
    node.peers.vouches.append(
        Vouch(peer.keyid, peer.public_key, "County PD", "AB" * 16, 1_700_000_000)
    )
    ws = await hass_ws_client(hass)

    listed = await _command(ws, type="porchlight/peers/list")

    (shown,) = listed["result"]["peers"]
    assert shown["fingerprint"] == peer.fingerprint
    assert shown["paired_at"] is not None
    assert shown["trusted_since"] is not None
    (vouch,) = listed["result"]["vouches"]
    assert vouch["agency"] == peer.fingerprint
    assert vouch["by_name"] == ""
    assert vouch["name"] == "County PD"

    untrusted = await _command(ws, type="porchlight/agencies/untrust", fingerprint=peer.fingerprint)
    assert untrusted["success"], untrusted
    listed = await _command(ws, type="porchlight/peers/list")
    assert listed["result"]["peers"][0]["trusted_since"] is None


async def test_strings_in_the_base_language_or_english(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    hass_ws_client: WebSocketGenerator,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    (tmp_path / "en.json").write_text('{"panel_title": "Porchlight"}')
    (tmp_path / "pt.json").write_text('{"panel_title": "Porchlight (pt)"}')
    monkeypatch.setattr(websocket, "STRINGS_DIR", tmp_path)
    ws = await hass_ws_client(hass)

    brazil = await _command(ws, type="porchlight/strings", language="pt-BR")
    # Read once: the second answer comes from memory.
    (tmp_path / "pt.json").unlink()
    assert (await _command(ws, type="porchlight/strings", language="pt-BR"))["result"] == brazil[
        "result"
    ]
    german = await _command(ws, type="porchlight/strings", language="de")

    assert brazil["result"] == {"language": "pt", "strings": {"panel_title": "Porchlight (pt)"}}
    assert german["result"] == {"language": "en", "strings": {"panel_title": "Porchlight"}}


async def test_thumbnails_signed_clips_gone_and_a_burst_of_changes(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    agency: Running,
    network: Network,
    recorded: list[Clip],
    hass_ws_client: WebSocketGenerator,
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    index = init_integration.runtime_data.recorder.index
    picture = recorded[0].path.with_suffix(".jpg")
    await hass.async_add_executor_job(picture.write_bytes, b"\xff\xd8 a thumbnail \xff\xd9")
    await hass.async_add_executor_job(index.forget_clip, recorded[0].id)
    await hass.async_add_executor_job(index.add_clip, replace(recorded[0], thumbnail=picture))
    ws = await hass_ws_client(hass)
    await _command(ws, type="porchlight/requests/subscribe")
    await _snapshot_where(ws, lambda rs: True)
    await send_request(hass, agency, network)
    (request,) = await _snapshot_where(ws, bool)

    client = await hass_client_no_auth()
    thumbnail = await client.get(request["clips"][0]["thumbnail"])
    assert thumbnail.status == 200
    assert await thumbnail.read() == b"\xff\xd8 a thumbnail \xff\xd9"
    assert thumbnail.headers["Content-Type"] == "image/jpeg"

    # A clip the index no longer has is still listed (the request names it), with no picture.
    await hass.async_add_executor_job(index.forget_clip, recorded[0].id)
    await hass.async_block_till_done(wait_background_tasks=True)
    async_dispatcher_send(hass, signal_requests(init_integration.entry_id))
    async_dispatcher_send(hass, signal_requests(init_integration.entry_id))
    (after,) = await _snapshot_where(ws, lambda rs: rs[0]["clips"][0]["thumbnail"] is None)
    assert after["clips"][0]["clip"] == recorded[0].id
    # The two changes above were folded into that one snapshot.
    assert (await _command(ws, type="ping"))["type"] == "pong"
