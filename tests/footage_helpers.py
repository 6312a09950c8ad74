"""Helpers of the footage tests (test_footage_*.py and their neighbours): pairing an agency,
sending its requests, calling the owner's actions and reading what reached the agency.

Footage requests end to end: a real agency node on loopback, Home Assistant's consent desk.

The agency is a federation node (the same library the porchlight-agency CLI runs) served on
127.0.0.1; Home Assistant answers through its test server, over real HTTP. Clips are real
H.264 MP4 files in the real clip index.
"""

from __future__ import annotations

import hashlib
import os
import time
from typing import TYPE_CHECKING, Any

from homeassistant.components import persistent_notification

from custom_components.porchlight.const import DOMAIN
from custom_components.porchlight.recordings.models import Clip, Trigger

from .home import FRONT_DOOR, HOME

if TYPE_CHECKING:
    from pathlib import Path

    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.common import MockConfigEntry

    from custom_components.porchlight.consent.desk import ConsentDesk
    from custom_components.porchlight.federation.canonical import JSON
    from custom_components.porchlight.federation.messages import Envelope

    from .federation.loopback import Network, Running

HOME_LAT = round(HOME["latitude"] * 1e6)
HOME_LON = round(HOME["longitude"] * 1e6)


def desk(entry: MockConfigEntry) -> ConsentDesk:
    """The entry's consent desk."""
    return entry.runtime_data.desk


async def call(hass: HomeAssistant, service: str, **data: Any) -> Any:
    """Call a Porchlight action; return its response when it has one."""
    responds = service in {"approve_clips", "revoke_share", "list_requests", "verify_audit"}
    return await hass.services.async_call(
        DOMAIN, service, data, blocking=True, return_response=responds or None
    )


async def big_clip(hass: HomeAssistant, entry: MockConfigEntry) -> tuple[Clip, bytes]:
    """A 24 MB clip in the window of the usual request: in flight for a while when fetched.

    Loopback socket buffers hold a few MB, so a transfer of it waits for its client to read.
    """
    data = os.urandom(24 << 20)
    path = index_root(entry) / "0fbbbbbbbbbbbbbb.mp4"
    await hass.async_add_executor_job(path.write_bytes, data)
    now = time.time()
    clip = Clip(
        id="0fbbbbbbbbbbbbbb",
        camera=FRONT_DOOR,
        trigger=Trigger.MOTION,
        start=now - 500,
        end=now - 480,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        path=path,
        thumbnail=None,
        created=now - 479,
    )
    await hass.async_add_executor_job(entry.runtime_data.recorder.index.add_clip, clip)
    return clip, data


async def reloaded(hass: HomeAssistant, entry: MockConfigEntry, **options: Any) -> MockConfigEntry:
    """The entry after a reload, with these options changed first (an options flow does that)."""
    if options:
        hass.config_entries.async_update_entry(entry, options={**entry.options, **options})
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    reloaded_entry = hass.config_entries.async_get_entry(entry.entry_id)
    assert reloaded_entry is not None
    return reloaded_entry  # type: ignore[return-value]  # HA hands back the MockConfigEntry itself


def index_root(entry: MockConfigEntry) -> Path:
    """The recordings directory (beside the clip index)."""
    root = entry.runtime_data.recorder.root
    root.mkdir(parents=True, exist_ok=True)
    return root


async def pair_agency(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    endpoint: str,
    network: Network,
    agency: Running | None = None,
) -> Running:
    """An agency the home paired with in person (entry instance) and trusts.

    A new one on loopback unless given one already served.
    """
    if agency is None:
        agency = await network.start("Metro PD", role="agency")
    await redeem_invite(hass, endpoint, network, agency)
    await call(hass, "trust_agency", fingerprint=agency.node.identity.fingerprint)
    return agency


async def neighbor_of_home(hass: HomeAssistant, endpoint: str, network: Network) -> Running:
    """A neighbor on loopback that redeemed this home's invite; codes compared on both sides."""
    neighbor = await network.start("Oak 3")
    await redeem_invite(hass, endpoint, network, neighbor)
    return neighbor


async def redeem_invite(
    hass: HomeAssistant, endpoint: str, network: Network, guest: Running
) -> None:
    """The guest redeems a new LAN invite of this home; both sides confirm the pairing code."""
    invite = await hass.services.async_call(
        DOMAIN,
        "create_invite",
        {"endpoint": endpoint, "lan": True},
        blocking=True,
        return_response=True,
    )
    peer = await guest.node.accept_invite(str(invite["invite"]), network.sender, lan=True)
    guest.node.confirm_pairing(peer.keyid, peer.pairing_code)
    fingerprint = guest.node.identity.fingerprint
    await call(hass, "confirm_pairing", fingerprint=fingerprint, code=peer.pairing_code)


def request_body(**changes: JSON) -> dict[str, JSON]:
    """A request for a 300 m circle around the home, the last hour."""
    now = int(time.time())
    body: dict[str, JSON] = {
        "case": "2026-000417",
        "reason": "Package theft reported on Maple Street",
        "area": {"kind": "circle", "lat": HOME_LAT + 900, "lon": HOME_LON - 700, "radius_m": 300},
        "start": now - 3600,
        "end": now - 60,
        "reply_to": "http://127.0.0.1:1/api/porchlight/v1",
        "max_hops": 1,
    }
    body.update(changes)
    return body


async def send_request(
    hass: HomeAssistant, agency: Running, network: Network, **changes: JSON
) -> Envelope:
    """The agency sends a request; Home Assistant judges it."""
    envelope = agency.node.request_footage(request_body(**changes), lifetime=3 * 86400)
    assert await agency.node.deliver(network.sender) == 1
    await hass.async_block_till_done()
    return envelope


def notifications(hass: HomeAssistant) -> dict[str, Any]:
    """Persistent notifications currently shown."""
    return dict(persistent_notification._async_get_or_create_notifications(hass))


async def fetch(network: Network, url: str) -> tuple[int, bytes]:
    """GET a capability link like the agency CLI does."""
    async with network.session.get(url, allow_redirects=False) as response:
        return response.status, await response.read()


def offers(agency: Running) -> list[Envelope]:
    """Offers the agency received."""
    return [m for m in agency.node.received if m.type == "footage_offer"]
