"""The dashboard's websocket commands (docs/dashboard.md), with real requests and clips.

Fixtures `agency` and `recorded`: conftest.py; sending and reading back: footage_helpers.py.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from .footage_helpers import fetch, offers, send_request

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.common import MockConfigEntry
    from pytest_homeassistant_custom_component.typing import (
        ClientSessionGenerator,
        WebSocketGenerator,
    )

    from custom_components.porchlight.recordings.models import Clip

    from .federation.loopback import Network, Running


async def _command(ws: Any, **msg: Any) -> dict[str, Any]:  # noqa: ANN401  # the client
    await ws.send_json_auto_id(msg)
    reply: dict[str, Any] = await ws.receive_json()
    return reply


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
    arrived = await ws.receive_json()
    (request,) = arrived["event"]["requests"]
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

    listed = await _command(ws, type="porchlight/requests/list")
    assert listed["result"]["requests"][0]["request_id"] == envelope.event_id

    approved = await _command(
        ws,
        type="porchlight/requests/approve",
        request_id=envelope.event_id,
        clip_ids=[recorded[1].id],
    )
    assert approved["success"], approved
    assert [a["clip"] for a in approved["result"]["approved"]] == [recorded[1].id]
    event = await ws.receive_json()
    while event.get("type") != "event":
        event = await ws.receive_json()
    (after,) = event["event"]["requests"]
    assert after["state"] == "approved"
    assert after["clips"][1]["decision"] == "approved"
    assert after["clips"][1]["share"]["state"] == "offered"

    (offer,) = offers(agency)
    (link,) = offer.body["links"]  # type: ignore[misc]
    status, _ = await fetch(network, link["url"])  # type: ignore[index]
    assert status == 200
    await hass.async_block_till_done()
    listed = await _command(ws, type="porchlight/requests/list")
    share = listed["result"]["requests"][0]["clips"][1]["share"]
    assert share["state"] == "downloaded"
    assert share["downloaded_at"] is not None
