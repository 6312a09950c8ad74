"""The dashboard's websocket commands (docs/dashboard.md), with real requests and clips.

Fixtures `agency` and `recorded`: conftest.py; sending and reading back: footage_helpers.py.
"""

from __future__ import annotations

import asyncio
import hashlib
from typing import TYPE_CHECKING, Any

import pytest
from homeassistant.helpers.dispatcher import async_dispatcher_send

from custom_components.porchlight.panel import FRONTEND_DIR, bundle_version
from custom_components.porchlight.signals import signal_requests

from .footage_helpers import fetch, offers, send_request

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
    (after,) = await _snapshot_where(ws, lambda rs: rs[0]["state"] == "approved")
    assert after["state"] == "approved"
    assert after["clips"][1]["decision"] == "approved"
    assert after["clips"][1]["share"]["state"] == "offered"

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
