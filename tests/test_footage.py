"""Footage requests end to end: a real agency node on loopback, Home Assistant's consent desk.

The agency is a federation node (the same library the porchlight-agency CLI runs) served on
127.0.0.1; Home Assistant answers through its test server, over real HTTP. Clips are real
H.264 MP4 files in the real clip index.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import re
import shutil
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiohttp
import probatio
import pytest
from homeassistant.components import persistent_notification
from homeassistant.components.media_source import URI_SCHEME, async_browse_media
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import Context
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import (
    async_capture_events,
    async_fire_time_changed,
)
from yarl import URL

from custom_components.porchlight.consent.audit import AuditError
from custom_components.porchlight.consent.records import RequestState, Share, ShareState
from custom_components.porchlight.consent.store import ConsentStore, ConsentStoreError
from custom_components.porchlight.consent_glue import EVENT_REQUEST, plain
from custom_components.porchlight.const import (
    CONF_BLOCKED_AGENCIES,
    CONF_DECLINE_ALL,
    CONF_FEDERATION_PORT,
    CONF_MAX_DOWNLOADS,
    DOMAIN,
    REQUEST_DEFAULTS,
)
from custom_components.porchlight.federation.clock import ManualClock
from custom_components.porchlight.federation.evidence import verify_manifest
from custom_components.porchlight.federation.identity import Identity
from custom_components.porchlight.federation.node import API_PREFIX
from custom_components.porchlight.recordings.models import Clip, Trigger
from porchlight_dev.rtsp import free_port

from .conftest import FRONT_DOOR, HOME

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.common import MockConfigEntry
    from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

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


@pytest.fixture
async def recorded(
    hass: HomeAssistant, init_integration: MockConfigEntry, camera_video: Path
) -> list[Clip]:
    """Three real clips of the front door in the last hour, in the real index."""
    index = init_integration.runtime_data.recorder.index
    root = index_root(init_integration)
    now = time.time()
    made: list[Clip] = []
    for n, age in enumerate((3000, 2000, 1000)):
        clip_id = f"{n:02d}" + "c" * 14
        path = root / f"{clip_id}.mp4"
        await hass.async_add_executor_job(shutil.copyfile, camera_video, path)
        data = path.read_bytes()
        clip = Clip(
            id=clip_id,
            camera=FRONT_DOOR,
            trigger=Trigger.DOORBELL,
            start=now - age,
            end=now - age + 20,
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            path=path,
            thumbnail=None,
            created=now - age + 21,
        )
        await hass.async_add_executor_job(index.add_clip, clip)
        made.append(clip)
    return made


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
    invite = await hass.services.async_call(
        DOMAIN,
        "create_invite",
        {"endpoint": endpoint, "lan": True},
        blocking=True,
        return_response=True,
    )
    peer = await agency.node.accept_invite(str(invite["invite"]), network.sender, lan=True)
    agency.node.confirm_pairing(peer.keyid, peer.pairing_code)
    fingerprint = agency.node.identity.fingerprint
    await call(hass, "confirm_pairing", fingerprint=fingerprint, code=peer.pairing_code)
    await call(hass, "trust_agency", fingerprint=fingerprint)
    return agency


async def neighbor_of_home(hass: HomeAssistant, endpoint: str, network: Network) -> Running:
    """A neighbor on loopback that redeemed this home's invite; codes compared on both sides."""
    neighbor = await network.start("Oak 3")
    invite = await hass.services.async_call(
        DOMAIN,
        "create_invite",
        {"endpoint": endpoint, "lan": True},
        blocking=True,
        return_response=True,
    )
    peer = await neighbor.node.accept_invite(str(invite["invite"]), network.sender, lan=True)
    neighbor.node.confirm_pairing(peer.keyid, peer.pairing_code)
    fingerprint = neighbor.node.identity.fingerprint
    await call(hass, "confirm_pairing", fingerprint=fingerprint, code=peer.pairing_code)
    return neighbor


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


@pytest.fixture
async def agency(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    recorded: list[Clip],
    endpoint: str,
    network: Network,
) -> Running:
    """A trusted agency paired with this home, which has three matching clips."""
    return await pair_agency(hass, init_integration, endpoint, network)


async def fetch(network: Network, url: str) -> tuple[int, bytes]:
    """GET a capability link like the agency CLI does."""
    async with network.session.get(url, allow_redirects=False) as response:
        return response.status, await response.read()


def offers(agency: Running) -> list[Envelope]:
    """Offers the agency received."""
    return [m for m in agency.node.received if m.type == "footage_offer"]


async def test_pending_request_notifies_owner_with_every_matching_clip(
    hass: HomeAssistant, init_integration: MockConfigEntry, agency: Running, network: Network
) -> None:
    events = async_capture_events(hass, EVENT_REQUEST)
    envelope = await send_request(hass, agency, network)

    (event,) = events
    assert event.data["request_id"] == envelope.event_id
    assert event.data["agency"] == "Metro PD"
    assert event.data["case"] == "2026-000417"
    assert [c["clip"] for c in event.data["clips"]] == [
        "00cccccccccccccc",
        "01cccccccccccccc",
        "02cccccccccccccc",
    ]
    assert "area" not in event.data
    (note,) = notifications(hass).values()
    assert envelope.event_id in note["message"]
    assert "01cccccccccccccc" in note["message"]
    state = hass.states.get("event.maple_street_12_footage_request")
    assert state.attributes["event_type"] == "pending"
    assert hass.states.get("sensor.maple_street_12_pending_footage_requests").state == "1"
    # Candidate clips are held: retention cannot prune what the owner is deciding about.
    held = init_integration.runtime_data.recorder.index.clips()
    assert all(c.held for c in held)


async def test_approving_one_clip_of_three_shares_only_that_clip(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    agency: Running,
    network: Network,
    recorded: list[Clip],
) -> None:
    envelope = await send_request(hass, agency, network)
    response = await call(
        hass, "approve_clips", request_id=envelope.event_id, clip_ids=[recorded[1].id]
    )
    assert [a["clip"] for a in response["approved"]] == [recorded[1].id]

    (offer,) = offers(agency)
    manifest = verify_manifest(offer.body["manifest"])
    assert manifest.home == init_integration.runtime_data.identity.keyid
    assert manifest.request == envelope.event_id
    assert [(c.clip, c.sha256, c.size) for c in manifest.clips] == [
        (recorded[1].id, recorded[1].sha256, recorded[1].size)
    ]
    (link,) = offer.body["links"]  # type: ignore[misc]
    status, data = await fetch(network, link["url"])  # type: ignore[index]
    assert status == 200
    assert hashlib.sha256(data).hexdigest() == recorded[1].sha256

    # Used once: now it answers exactly like a token that never existed.
    used = await fetch(network, link["url"])  # type: ignore[index]
    base = str(link["url"]).rsplit("/", 1)[0]  # type: ignore[index]
    unknown = await fetch(network, base + "/" + "A" * 43)
    malformed = await fetch(network, base + "/nope")
    assert used == unknown == malformed == (404, b'{"error":"not_found"}')
    shares = await hass.async_add_executor_job(desk(init_integration).store.shares, None)
    assert [(s.clip, s.state) for s in shares] == [(recorded[1].id, ShareState.DOWNLOADED)]


async def test_range_requests_resume_and_consume_the_link_at_the_end(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    agency: Running,
    network: Network,
    recorded: list[Clip],
) -> None:
    envelope = await send_request(hass, agency, network)
    await call(hass, "approve_clips", request_id=envelope.event_id, clip_ids=[recorded[0].id])
    (offer,) = offers(agency)
    url = str(offer.body["links"][0]["url"])  # type: ignore[index]
    size = recorded[0].size
    async with network.session.get(url, headers={"Range": "bytes=0-99"}) as response:
        assert response.status == 206
        head = await response.read()
    async with network.session.get(url, headers={"Range": "bytes=100-"}) as response:
        assert response.status == 206
        assert response.headers["Content-Range"] == f"bytes 100-{size - 1}/{size}"
        tail = await response.read()
    assert hashlib.sha256(head + tail).hexdigest() == recorded[0].sha256
    assert (await fetch(network, url))[0] == 404


@pytest.mark.allow_porchlight_warnings(r"Footage action refused: request_not_open")
async def test_declined_request_sends_nothing_to_the_agency(
    hass: HomeAssistant, init_integration: MockConfigEntry, agency: Running, network: Network
) -> None:
    envelope = await send_request(hass, agency, network)
    await call(hass, "decline_request", request_id=envelope.event_id)
    await init_integration.runtime_data.federation.async_deliver()
    assert offers(agency) == []
    assert len(init_integration.runtime_data.federation.node.outbox) == 0
    assert notifications(hass) == {}
    stored = await hass.async_add_executor_job(
        desk(init_integration).store.request, envelope.event_id
    )
    assert stored.state is RequestState.DECLINED
    assert not any(c.held for c in init_integration.runtime_data.recorder.index.clips())
    with pytest.raises(ServiceValidationError) as err:
        await call(
            hass, "approve_clips", request_id=envelope.event_id, clip_ids=["00cccccccccccccc"]
        )
    assert err.value.translation_key == "request_not_open"


@pytest.mark.parametrize(
    ("options", "changes", "why"),
    [
        ({CONF_DECLINE_ALL: True}, {}, "decline_all"),
        ({}, {"case": ""}, "missing_case"),
    ],
)
async def test_auto_declined_request_notifies_nobody(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    agency: Running,
    network: Network,
    options: dict[str, Any],
    changes: dict[str, JSON],
    why: str,
) -> None:
    entry = await reloaded(hass, init_integration, **{**REQUEST_DEFAULTS, **options})
    agency_bus = async_capture_events(hass, EVENT_REQUEST)
    envelope = await send_request(hass, agency, network, **changes)
    assert agency_bus == []
    assert notifications(hass) == {}
    assert (
        hass.states.get("event.maple_street_12_footage_request").attributes.get("event_type")
        is None
    )
    stored = await hass.async_add_executor_job(desk(entry).store.request, envelope.event_id)
    assert (stored.state, stored.why) == (RequestState.AUTO_DECLINED, why)
    assert stored.candidates == ()


async def test_request_outside_the_area_is_silent(
    hass: HomeAssistant, init_integration: MockConfigEntry, agency: Running, network: Network
) -> None:
    far = {"kind": "circle", "lat": HOME_LAT + 20_000, "lon": HOME_LON, "radius_m": 300}
    envelope = await send_request(hass, agency, network, area=far)
    assert notifications(hass) == {}
    stored = await hass.async_add_executor_job(
        desk(init_integration).store.request, envelope.event_id
    )
    assert stored.state is RequestState.NOT_IN_AREA


async def test_request_beyond_the_hard_limits_is_rejected(
    hass: HomeAssistant, init_integration: MockConfigEntry, agency: Running, network: Network
) -> None:
    now = int(time.time())
    envelope = await send_request(hass, agency, network, start=now - 13 * 3600, end=now - 60)
    stored = await hass.async_add_executor_job(
        desk(init_integration).store.request, envelope.event_id
    )
    assert (stored.state, stored.why) == (RequestState.REJECTED, "window_too_long")
    assert notifications(hass) == {}


async def test_pending_request_survives_a_restart(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    agency: Running,
    network: Network,
    recorded: list[Clip],
) -> None:
    envelope = await send_request(hass, agency, network)
    assert await hass.config_entries.async_reload(init_integration.entry_id)
    await hass.async_block_till_done()
    persistent_notification.async_dismiss(hass, next(iter(notifications(hass))))
    assert await hass.config_entries.async_reload(init_integration.entry_id)
    await hass.async_block_till_done()
    (note,) = notifications(hass).values()
    assert envelope.event_id in note["message"]
    await call(hass, "approve_clips", request_id=envelope.event_id, clip_ids=[recorded[2].id])
    assert len(offers(agency)) == 1


@pytest.mark.allow_porchlight_warnings(r"Footage action refused: already_downloaded")
async def test_revoked_share_is_refused(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    agency: Running,
    network: Network,
    recorded: list[Clip],
) -> None:
    envelope = await send_request(hass, agency, network)
    await call(
        hass,
        "approve_clips",
        request_id=envelope.event_id,
        clip_ids=[recorded[0].id, recorded[1].id],
    )
    response = await call(
        hass, "revoke_share", request_id=envelope.event_id, clip_ids=[recorded[0].id]
    )
    assert response == {"revoked": 1, "already_downloaded": []}
    links = {str(x["clip"]): str(x["url"]) for x in offers(agency)[0].body["links"]}  # type: ignore[union-attr, index]
    assert await fetch(network, links[recorded[0].id]) == (404, b'{"error":"not_found"}')
    assert (await fetch(network, links[recorded[1].id]))[0] == 200
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "revoke_share", request_id=envelope.event_id, clip_ids=[recorded[1].id])
    assert err.value.translation_key == "already_downloaded"


async def test_owner_revokes_while_the_agency_downloads_and_the_rest_never_leaves(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    agency: Running,
    network: Network,
) -> None:
    big, _ = await big_clip(hass, init_integration)
    index = init_integration.runtime_data.recorder.index
    envelope = await send_request(hass, agency, network)
    await call(hass, "approve_clips", request_id=envelope.event_id, clip_ids=[big.id])
    url = str(offers(agency)[0].body["links"][0]["url"])  # type: ignore[index]

    async with network.session.get(url, allow_redirects=False) as response:
        assert response.status == 200
        await response.content.readexactly(1 << 20)
        # Not downloaded yet: consent can still be withdrawn, and the transfer stops.
        revoked = await call(hass, "revoke_share", request_id=envelope.event_id)
        assert revoked == {"revoked": 1, "already_downloaded": []}
        with pytest.raises(aiohttp.ClientPayloadError):
            await response.read()
    assert await fetch(network, url) == (404, b'{"error":"not_found"}')
    [share] = await hass.async_add_executor_job(desk(init_integration).store.shares, None)
    assert share.state is ShareState.REVOKED
    assert share.downloads == 0
    # The clip's hold for the share is gone with it; the request's own hold remains.
    [held] = [c for c in await hass.async_add_executor_job(index.clips) if c.id == big.id]
    assert held.held


async def test_revoking_a_share_downloaded_since_it_was_read_reports_it(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    agency: Running,
    network: Network,
    recorded: list[Clip],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    envelope = await send_request(hass, agency, network)
    await call(hass, "approve_clips", request_id=envelope.event_id, clip_ids=[recorded[0].id])
    url = str(offers(agency)[0].body["links"][0]["url"])  # type: ignore[index]
    store = desk(init_integration).store
    [offered] = await hass.async_add_executor_job(store.shares, None)
    assert (await fetch(network, url))[0] == 200
    # revoke_share read the share just before its last byte went out.
    monkeypatch.setattr(store, "shares", lambda _request=None: [offered])
    response = await call(hass, "revoke_share", request_id=envelope.event_id)
    assert response == {"revoked": 0, "already_downloaded": [recorded[0].id]}
    share = await hass.async_add_executor_job(store.share, offered.id)
    assert share is not None
    assert share.state is ShareState.DOWNLOADED
    audit = desk(init_integration).audit
    entries = await hass.async_add_executor_job(audit.entries)
    assert not [e for e in entries if e.kind == "share_revoked"]


async def test_revoking_everything_revokes_what_was_not_downloaded(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    agency: Running,
    network: Network,
    recorded: list[Clip],
) -> None:
    envelope = await send_request(hass, agency, network)
    ids = [recorded[0].id, recorded[1].id]
    await call(hass, "approve_clips", request_id=envelope.event_id, clip_ids=ids)
    links = {str(x["clip"]): str(x["url"]) for x in offers(agency)[0].body["links"]}  # type: ignore[union-attr, index]
    assert (await fetch(network, links[ids[0]]))[0] == 200
    # Before: one downloaded clip refused the whole call, and the other link kept working.
    response = await call(hass, "revoke_share", request_id=envelope.event_id)
    assert response == {"revoked": 1, "already_downloaded": [ids[0]]}
    assert await fetch(network, links[ids[1]]) == (404, b'{"error":"not_found"}')


async def test_expired_share_and_request_are_refused(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    agency: Running,
    network: Network,
    recorded: list[Clip],
    freezer: Any,
) -> None:
    envelope = await send_request(hass, agency, network)
    await call(hass, "approve_clips", request_id=envelope.event_id, clip_ids=[recorded[0].id])
    url = str(offers(agency)[0].body["links"][0]["url"])  # type: ignore[index]
    freezer.tick(73 * 3600)
    assert await fetch(network, url) == (404, b'{"error":"not_found"}')
    freezer.tick(3 * 86400)
    await desk(init_integration).async_housekeeping()
    await hass.async_block_till_done(wait_background_tasks=True)
    stored = await hass.async_add_executor_job(
        desk(init_integration).store.request, envelope.event_id
    )
    assert not stored.open
    shares = await hass.async_add_executor_job(desk(init_integration).store.shares, None)
    assert [s.state for s in shares] == [ShareState.EXPIRED]
    assert not any(c.held for c in init_integration.runtime_data.recorder.index.clips())


@pytest.mark.allow_porchlight_warnings(r"Audit log failed verification at entry 8")
async def test_tampered_audit_log_fails_verification_and_raises_a_repair(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    agency: Running,
    network: Network,
    recorded: list[Clip],
) -> None:
    envelope = await send_request(hass, agency, network)
    await call(hass, "approve_clips", request_id=envelope.event_id, clip_ids=[recorded[0].id])
    report = await call(hass, "verify_audit")
    assert report["ok"] is True
    path = init_integration.runtime_data.recorder.root / "audit.sqlite3"
    assert await hass.config_entries.async_unload(init_integration.entry_id)
    import sqlite3  # noqa: PLC0415
    from contextlib import closing  # noqa: PLC0415

    # closing(): sqlite3's own context manager commits but never closes the connection.
    with closing(sqlite3.connect(path, isolation_level=None)) as db:
        db.execute("UPDATE entries SET actor = 'someone else' WHERE kind = 'clip_approved'")
    assert await hass.config_entries.async_setup(init_integration.entry_id)
    await hass.async_block_till_done()
    assert ir.async_get(hass).async_get_issue(DOMAIN, "audit_tampered") is not None
    with pytest.raises(Exception) as err:  # noqa: PT011  # HomeAssistantError, translated
        await call(hass, "verify_audit")
    assert getattr(err.value, "translation_key", None) == "audit_tampered"


async def test_every_outbound_byte_is_in_the_audit_log_and_no_clip_leaves_without_consent(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    agency: Running,
    network: Network,
    recorded: list[Clip],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sent: list[bytes] = []
    original = aiohttp.ClientSession._request

    async def capture(self: aiohttp.ClientSession, method: str, url: Any, **kwargs: Any) -> Any:
        if self is init_integration.runtime_data.federation.sender.session:
            sent.append(bytes(kwargs.get("data") or b""))
        return await original(self, method, url, **kwargs)

    monkeypatch.setattr(aiohttp.ClientSession, "_request", capture)
    envelope = await send_request(hass, agency, network)
    await call(hass, "approve_clips", request_id=envelope.event_id, clip_ids=[recorded[2].id])
    hass_node = init_integration.runtime_data.federation.node
    hass_node.broadcast_alert("Lost dog")
    await init_integration.runtime_data.federation.async_deliver()
    url = str(offers(agency)[0].body["links"][0]["url"])  # type: ignore[index]
    status, data = await fetch(network, url)
    assert status == 200

    audit = desk(init_integration).audit
    entries = await hass.async_add_executor_job(lambda: list(audit.entries()))
    logged = {e.payload_sha256 for e in entries if e.payload_sha256}
    assert sent, "the home sent its offer"
    for body in sent:
        assert hashlib.sha256(body).hexdigest() in logged
    downloads = [e for e in entries if e.kind == "download"]
    assert [(d.data["clip"], d.size) for d in downloads] == [(recorded[2].id, len(data))]
    # Every link that left names a clip with a consent record for that request.
    stored = await hass.async_add_executor_job(
        desk(init_integration).store.request, envelope.event_id
    )
    for offer in offers(agency):
        for link in offer.body["links"]:  # type: ignore[union-attr]
            consent = stored.approved(str(link["clip"]))  # type: ignore[index]
            assert consent is not None
    # The home's exact location is in none of it, in any usual notation.
    forms = {
        str(HOME_LAT),
        str(HOME_LON),
        f"{HOME['latitude']:.6f}",
        f"{HOME['longitude']:.6f}",
        f"{HOME['latitude']:.4f}",
        f"{HOME['longitude']:.4f}",
    }
    for body in sent:
        text = body.decode()
        assert not any(form in text for form in forms)


async def test_share_needs_a_consent_record_even_with_a_valid_token(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    agency: Running,
    network: Network,
    recorded: list[Clip],
) -> None:
    envelope = await send_request(hass, agency, network)
    await call(hass, "approve_clips", request_id=envelope.event_id, clip_ids=[recorded[0].id])
    url = str(offers(agency)[0].body["links"][0]["url"])  # type: ignore[index]
    store = desk(init_integration).store
    stored = await hass.async_add_executor_job(store.request, envelope.event_id)
    # Someone edits the store and drops the consent record: the link stops serving.
    await hass.async_add_executor_job(
        store.put_request, stored.with_state(stored.state, consents=())
    )
    assert await fetch(network, url) == (404, b'{"error":"not_found"}')


@pytest.mark.allow_porchlight_warnings(
    r"Footage action refused: already_approved",
    r"Footage action refused: unknown_clip",
    r"Footage action refused: unknown_request",
)
async def test_owner_errors_are_translated(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    agency: Running,
    network: Network,
    recorded: list[Clip],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    envelope = await send_request(hass, agency, network)
    cases = [
        ("approve_clips", {"request_id": "0" * 64, "clip_ids": ["x"]}, "unknown_request"),
        ("approve_clips", {"request_id": envelope.event_id, "clip_ids": ["nope"]}, "unknown_clip"),
        ("revoke_share", {"request_id": envelope.event_id}, "unknown_request"),
    ]
    for service, data, key in cases:
        with pytest.raises(ServiceValidationError) as err:
            await call(hass, service, **data)
        assert err.value.translation_key == key
    await call(hass, "approve_clips", request_id=envelope.event_id, clip_ids=[recorded[0].id])
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "approve_clips", request_id=envelope.event_id, clip_ids=[recorded[0].id])
    assert err.value.translation_key == "already_approved"
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "revoke_share", request_id=envelope.event_id, clip_ids=["nope"])
    assert err.value.translation_key == "unknown_clip"
    assert "Footage action refused: unknown_request" in caplog.text


async def test_more_downloads_when_the_owner_allows_them(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    endpoint: str,
    network: Network,
    recorded: list[Clip],
) -> None:
    entry = await reloaded(hass, init_integration, **{CONF_MAX_DOWNLOADS: 2})
    agency = await pair_agency(hass, entry, endpoint, network)
    envelope = await send_request(hass, agency, network)
    await call(hass, "approve_clips", request_id=envelope.event_id, clip_ids=[recorded[0].id])
    url = str(offers(agency)[0].body["links"][0]["url"])  # type: ignore[index]
    assert [(await fetch(network, url))[0] for _ in range(3)] == [200, 200, 404]


async def test_agency_gets_the_same_answer_whatever_the_home_decides(
    hass: HomeAssistant, init_integration: MockConfigEntry, agency: Running, network: Network
) -> None:
    """In the area, outside it, or auto-declined: the inbox reply is identical in shape."""
    node = init_integration.runtime_data.federation.node
    url = f"{node.endpoint}/inbox"
    far = {"kind": "circle", "lat": HOME_LAT + 20_000, "lon": HOME_LON, "radius_m": 300}
    replies = []
    for changes in ({}, {"area": far}, {"case": ""}):
        envelope = agency.node.request_footage(request_body(**changes), lifetime=86400, peers=[])
        status, reply = await network.sender.post(
            agency.node.identity, url, envelope.encode(), lan=True
        )
        assert isinstance(reply, dict)
        replies.append((status, sorted(reply), reply["status"]))
    await hass.async_block_till_done()
    assert replies == [(202, ["event_id", "status"], "accepted")] * 3
    states = sorted(
        r.state for r in await hass.async_add_executor_job(desk(init_integration).store.requests)
    )
    assert states == sorted(
        [RequestState.PENDING, RequestState.NOT_IN_AREA, RequestState.AUTO_DECLINED]
    )


async def test_request_from_an_agency_the_home_never_trusted_is_rejected_silently(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    recorded: list[Clip],
    endpoint: str,
    network: Network,
) -> None:
    """A neighbor relays a request from an agency this home does not know."""
    stranger = await network.start("Unknown Agency", role="agency")
    neighbor = await neighbor_of_home(hass, endpoint, network)
    await network.pair(stranger, neighbor)
    neighbor.node.peers.set_trusted(stranger.node.identity.keyid, trusted=True)
    events = async_capture_events(hass, EVENT_REQUEST)
    envelope = stranger.node.request_footage(request_body(), lifetime=86400)
    await stranger.node.deliver(network.sender)
    assert await neighbor.node.deliver(network.sender) == 1  # relayed to the home
    await hass.async_block_till_done()
    stored = await hass.async_add_executor_job(
        desk(init_integration).store.request, envelope.event_id
    )
    assert (stored.state, stored.why) == (RequestState.REJECTED, "unknown_agency")
    assert events == []
    assert notifications(hass) == {}
    # The home carries no request from an agency it does not trust.
    assert len(init_integration.runtime_data.federation.node.outbox) == 0


async def test_imported_agency_reaches_the_home_through_a_neighbor(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    recorded: list[Clip],
    endpoint: str,
    network: Network,
) -> None:
    """One-sided import: the agency never learns the home exists, yet its offer arrives."""
    agency = await network.start("Metro PD", role="agency")
    neighbor = await neighbor_of_home(hass, endpoint, network)
    await network.pair(agency, neighbor)
    neighbor.node.peers.set_trusted(agency.node.identity.keyid, trusted=True)
    imported = await hass.services.async_call(
        DOMAIN,
        "import_agency",
        {"invite": agency.node.create_invite(lan=True).to_text(), "lan": True},
        blocking=True,
        return_response=True,
    )
    assert imported["trusted"] is False
    await call(hass, "trust_agency", fingerprint=agency.node.identity.fingerprint)

    envelope = agency.node.request_footage(request_body(), lifetime=86400)
    await agency.node.deliver(network.sender)
    await neighbor.node.deliver(network.sender)
    await hass.async_block_till_done()
    await call(hass, "approve_clips", request_id=envelope.event_id, clip_ids=[recorded[0].id])
    (offer,) = offers(agency)
    assert offer.sender == init_integration.runtime_data.identity.keyid
    assert [p.name for p in agency.node.peers] == ["Oak 3"]  # the home is still unknown to it


async def test_import_agency_refuses_a_neighbor_invite(
    hass: HomeAssistant, init_integration: MockConfigEntry, network: Network
) -> None:
    neighbor = await network.start("Oak 3")
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "import_agency", invite=neighbor.node.create_invite().to_text())
    assert err.value.translation_key == "invite_not_agency"
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "import_agency", invite="plinv1.garbage")
    assert err.value.translation_key == "invite_not_agency"


async def test_same_request_again_after_a_restart_is_recorded_once(
    hass: HomeAssistant, init_integration: MockConfigEntry, agency: Running, network: Network
) -> None:
    envelope = await send_request(hass, agency, network)
    assert await hass.config_entries.async_reload(init_integration.entry_id)
    await hass.async_block_till_done()
    node = init_integration.runtime_data.federation.node
    status, _ = await network.sender.post(
        agency.node.identity, f"{node.endpoint}/inbox", envelope.encode(), lan=True
    )
    await hass.async_block_till_done()
    assert status == 202  # the node forgot it over the restart; the desk did not
    entries = await hass.async_add_executor_job(
        lambda: list(desk(init_integration).audit.entries())
    )
    assert [e.kind for e in entries].count("request_received") == 1


async def test_request_without_matching_clips_still_tells_the_owner(
    hass: HomeAssistant, init_integration: MockConfigEntry, agency: Running, network: Network
) -> None:
    now = int(time.time())
    await send_request(hass, agency, network, start=now - 900, end=now - 60)
    (note,) = notifications(hass).values()
    assert "No recorded clip matches this window." in note["message"]


@pytest.mark.allow_porchlight_warnings(r"Footage action refused: agency_gone")
async def test_approval_refused_when_the_agency_is_no_longer_trusted(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    agency: Running,
    network: Network,
    recorded: list[Clip],
) -> None:
    envelope = await send_request(hass, agency, network)
    await call(hass, "untrust_agency", fingerprint=agency.node.identity.fingerprint)
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "approve_clips", request_id=envelope.event_id, clip_ids=[recorded[0].id])
    assert err.value.translation_key == "agency_gone"
    assert offers(agency) == []
    shares = await hass.async_add_executor_job(desk(init_integration).store.shares, None)
    assert shares == []


@pytest.mark.allow_porchlight_warnings(r"Footage action refused: clip_gone")
async def test_approval_refused_when_the_clip_is_gone(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    agency: Running,
    network: Network,
    recorded: list[Clip],
) -> None:
    envelope = await send_request(hass, agency, network)
    await hass.async_add_executor_job(recorded[0].path.unlink)
    with pytest.raises(ServiceValidationError) as err:
        await call(
            hass,
            "approve_clips",
            request_id=envelope.event_id,
            clip_ids=[recorded[1].id, recorded[0].id],
        )
    assert err.value.translation_key == "clip_gone"
    assert offers(agency) == []
    # All or nothing: the clip that is still there got no share and no consent either.
    assert await hass.async_add_executor_job(desk(init_integration).store.shares, None) == []
    audit = desk(init_integration).audit
    kinds = [e.kind for e in await hass.async_add_executor_job(lambda: list(audit.entries()))]
    assert "clip_approved" not in kinds


async def test_declining_after_a_partial_approval_closes_the_request(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    agency: Running,
    network: Network,
    recorded: list[Clip],
) -> None:
    envelope = await send_request(hass, agency, network)
    await call(hass, "approve_clips", request_id=envelope.event_id, clip_ids=[recorded[0].id])
    assert len(notifications(hass)) == 1  # two clips still to decide
    await call(hass, "decline_request", request_id=envelope.event_id)
    stored = await hass.async_add_executor_job(
        desk(init_integration).store.request, envelope.event_id
    )
    assert (stored.state, stored.open) == (RequestState.APPROVED, False)
    assert stored.declined_clips == (recorded[1].id, recorded[2].id)
    assert notifications(hass) == {}
    assert len(offers(agency)) == 1  # the decline itself sent nothing


async def test_approving_every_clip_clears_the_notification(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    agency: Running,
    network: Network,
    recorded: list[Clip],
) -> None:
    envelope = await send_request(hass, agency, network)
    await call(
        hass, "approve_clips", request_id=envelope.event_id, clip_ids=[c.id for c in recorded]
    )
    assert notifications(hass) == {}
    (offer,) = offers(agency)
    assert len(offer.body["links"]) == 3  # type: ignore[arg-type]
    response = await call(hass, "revoke_share", request_id=envelope.event_id)
    assert response == {"revoked": 3, "already_downloaded": []}
    again = await call(hass, "revoke_share", request_id=envelope.event_id)
    assert again == {"revoked": 0, "already_downloaded": []}


async def test_pending_request_expires_unanswered(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    agency: Running,
    network: Network,
) -> None:
    envelope = await send_request(hass, agency, network)
    # The home's clock moves four days on; the minute timer notices.
    node = init_integration.runtime_data.federation.node
    node.clock = ManualClock(int(time.time()) + 4 * 86400)
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=61))
    await hass.async_block_till_done(wait_background_tasks=True)
    stored = await hass.async_add_executor_job(
        desk(init_integration).store.request, envelope.event_id
    )
    assert stored.state is RequestState.EXPIRED
    assert notifications(hass) == {}
    assert hass.states.get("sensor.maple_street_12_pending_footage_requests").state == "0"


async def test_decisions_name_the_user_and_requests_can_be_listed(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    agency: Running,
    network: Network,
    recorded: list[Clip],
    hass_admin_user: Any,
) -> None:
    envelope = await send_request(hass, agency, network)
    await hass.services.async_call(
        DOMAIN,
        "approve_clips",
        {"request_id": envelope.event_id, "clip_ids": [recorded[0].id]},
        blocking=True,
        context=Context(user_id=hass_admin_user.id),
    )
    listed = await call(hass, "list_requests")
    (item,) = listed["requests"]
    assert item["request_id"] == envelope.event_id
    assert item["state"] == "approved"
    assert item["approved"] == [recorded[0].id]
    assert item["shares"][0]["state"] == "offered"
    manifest = verify_manifest(offers(agency)[0].body["manifest"])
    assert manifest.clips[0].consent["by"] == hass_admin_user.name


async def test_share_link_answers_404_while_porchlight_is_not_loaded(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    agency: Running,
    network: Network,
    recorded: list[Clip],
) -> None:
    envelope = await send_request(hass, agency, network)
    await call(hass, "approve_clips", request_id=envelope.event_id, clip_ids=[recorded[0].id])
    url = str(offers(agency)[0].body["links"][0]["url"])  # type: ignore[index]
    assert await hass.config_entries.async_unload(init_integration.entry_id)
    assert await fetch(network, url) == (404, b'{"error":"not_found"}')


@pytest.mark.allow_porchlight_warnings(r"Porchlight cannot open its request and audit files")
async def test_unreadable_consent_store_stops_setup_and_is_kept(
    hass: HomeAssistant, cameras: list[str], mock_config_entry: MockConfigEntry
) -> None:
    root = Path(hass.config.path("porchlight"))
    root.mkdir(parents=True, exist_ok=True)
    (root / "consent.sqlite3").write_bytes(b"not sqlite" * 200)
    mock_config_entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(mock_config_entry.entry_id)
    assert mock_config_entry.state is ConfigEntryState.SETUP_ERROR
    assert "cannot open consent.sqlite3" in str(mock_config_entry.reason)
    assert (root / "consent.sqlite3").read_bytes() == b"not sqlite" * 200


@pytest.mark.allow_porchlight_warnings(r"Porchlight cannot open its request and audit files")
async def test_unreadable_audit_log_stops_setup_and_is_kept(
    hass: HomeAssistant, cameras: list[str], mock_config_entry: MockConfigEntry
) -> None:
    root = Path(hass.config.path("porchlight"))
    root.mkdir(parents=True, exist_ok=True)
    (root / "audit.sqlite3").write_bytes(b"not sqlite" * 200)
    mock_config_entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(mock_config_entry.entry_id)
    assert mock_config_entry.state is ConfigEntryState.SETUP_ERROR
    assert (root / "audit.sqlite3").read_bytes() == b"not sqlite" * 200
    # The consent store opened first was closed again: it can be opened and written.
    store = ConsentStore(root / "consent.sqlite3")
    store.put_share(Share("x", "r", "c", "h", 1, 2))
    store.close()


async def test_trust_changes_and_key_rotation_are_in_the_audit_log(
    hass: HomeAssistant, init_integration: MockConfigEntry, agency: Running, network: Network
) -> None:
    fingerprint = agency.node.identity.fingerprint
    await call(hass, "untrust_agency", fingerprint=fingerprint)
    await call(hass, "remove_peer", fingerprint=fingerprint)
    await hass.services.async_call(DOMAIN, "rotate_key", {}, blocking=True, return_response=True)
    audit = desk(init_integration).audit
    kinds = [e.kind for e in await hass.async_add_executor_job(lambda: list(audit.entries()))]
    for kind in (
        "invite_created",
        "peer_confirmed",
        "agency_trusted",
        "agency_untrusted",
        "peer_removed",
        "key_rotated",
    ):
        assert kind in kinds
    report = await call(hass, "verify_audit")
    assert report["ok"] is True
    checked = await hass.async_add_executor_job(audit.verify)
    assert checked.keys[-1] == init_integration.runtime_data.identity.keyid
    # And after a restart, checkpoints are signed by the new key.
    assert await hass.config_entries.async_reload(init_integration.entry_id)
    await hass.async_block_till_done()
    assert (await call(hass, "verify_audit"))["ok"] is True


async def test_a_key_that_cannot_be_saved_leaves_the_home_on_its_old_key(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = init_integration.runtime_data
    before = data.identity

    def disk_full(*_args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(
        "custom_components.porchlight.federation.identity.replace_key_file", disk_full
    )
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call(
            DOMAIN, "rotate_key", {}, blocking=True, return_response=True
        )
    assert err.value.translation_key == "rotation_failed"
    assert data.identity is before
    assert data.federation.node.identity is before
    # The log handed back to the old key: it verifies, and checkpoints still sign (before:
    # every approval failed, its chain key no longer the home's).
    assert (await call(hass, "verify_audit"))["ok"] is True
    await hass.async_add_executor_job(data.desk.audit.checkpoint_head)


async def test_two_rotations_at_once_leave_key_file_node_and_log_agreeing(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    rotate = hass.services.async_call(DOMAIN, "rotate_key", {}, blocking=True, return_response=True)
    again = hass.services.async_call(DOMAIN, "rotate_key", {}, blocking=True, return_response=True)
    await asyncio.gather(rotate, again)
    data = init_integration.runtime_data
    on_disk = await hass.async_add_executor_job(Identity.from_pem, data.key_path.read_bytes())
    assert on_disk.keyid == data.identity.keyid == data.federation.node.identity.keyid
    checked = await hass.async_add_executor_job(data.desk.audit.verify)
    assert checked.ok
    assert checked.keys[-1] == data.identity.keyid


async def test_one_approval_covers_at_most_fifty_clips(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    with pytest.raises(probatio.Invalid):
        await call(
            hass, "approve_clips", request_id="0" * 64, clip_ids=[f"c{n}" for n in range(51)]
        )


# --- the owner's actions never overwrite one another ---------------------------------------
async def test_approvals_at_the_same_time_keep_every_consent_record(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    agency: Running,
    network: Network,
    recorded: list[Clip],
) -> None:
    envelope = await send_request(hass, agency, network)
    await asyncio.gather(
        call(hass, "approve_clips", request_id=envelope.event_id, clip_ids=[recorded[0].id]),
        call(hass, "approve_clips", request_id=envelope.event_id, clip_ids=[recorded[1].id]),
    )
    stored = await hass.async_add_executor_job(
        desk(init_integration).store.request, envelope.event_id
    )
    # Before: one approval wrote back the copy it read, and the other clip's consent record
    # was gone, its link a 404 for ever.
    assert sorted(c.clip for c in stored.consents) == [recorded[0].id, recorded[1].id]
    for offer in offers(agency):
        (link,) = offer.body["links"]  # type: ignore[misc]
        assert (await fetch(network, str(link["url"])))[0] == 200  # type: ignore[index]


@pytest.mark.allow_porchlight_warnings(r"Footage action refused: already_approved")
async def test_the_same_clip_approved_twice_at_once_leaves_once(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    agency: Running,
    network: Network,
    recorded: list[Clip],
) -> None:
    envelope = await send_request(hass, agency, network)
    approve = call(hass, "approve_clips", request_id=envelope.event_id, clip_ids=[recorded[0].id])
    again = call(hass, "approve_clips", request_id=envelope.event_id, clip_ids=[recorded[0].id])
    results = await asyncio.gather(approve, again, return_exceptions=True)
    refused = [r for r in results if isinstance(r, ServiceValidationError)]
    assert [r.translation_key for r in refused] == ["already_approved"]
    shares = await hass.async_add_executor_job(desk(init_integration).store.shares, None)
    assert len(shares) == 1
    assert len(offers(agency)) == 1


@pytest.mark.allow_porchlight_warnings(r"Footage action refused: request_not_open")
async def test_a_decline_during_an_approval_is_not_undone(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    agency: Running,
    network: Network,
    recorded: list[Clip],
) -> None:
    envelope = await send_request(hass, agency, network)
    await asyncio.gather(
        call(hass, "approve_clips", request_id=envelope.event_id, clip_ids=[recorded[0].id]),
        call(hass, "decline_request", request_id=envelope.event_id),
    )
    stored = await hass.async_add_executor_job(
        desk(init_integration).store.request, envelope.event_id
    )
    assert not stored.open
    assert [c.clip for c in stored.consents] == [recorded[0].id]
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "approve_clips", request_id=envelope.event_id, clip_ids=[recorded[1].id])
    assert err.value.translation_key == "request_not_open"


# --- what the agency wrote is shown, never rendered ------------------------------------------
async def test_markdown_from_the_agency_is_shown_as_text(
    hass: HomeAssistant, init_integration: MockConfigEntry, agency: Running, network: Network
) -> None:
    pixel = "![x](https://pd.example/p.png?home=1) <img src=https://pd.example/q> [Approve](x)"
    await send_request(hass, agency, network, reason=pixel, case="*bold*\nsecond line")
    (note,) = notifications(hass).values()
    message = note["message"]
    # An image would load from the agency's server only in the homes that were asked.
    assert "![" not in message
    assert "<img" not in message
    # The only links are Porchlight's own, to its signed clip paths.
    assert message.count("](") == message.count("](/api/porchlight/clips/") == 3
    assert r"\!\[x\]\(https://pd\.example/p\.png?home=1\) &lt;img" in message
    assert r"Case: \*bold\* second line." in message


def test_plain_text_escapes_every_markdown_character() -> None:
    assert plain("a\\b`c*d_e{f}g[h]i(j)k#l+m-n.o!p|q~r>s<t&u") == (
        r"a\\b\`c\*d\_e\{f\}g\[h\]i\(j\)k\#l\+m\-n\.o\!p\|q\~r&gt;s&lt;t&amp;u"
    )
    assert plain("tab\there\x7fend\u0085") == "tab here end "


# --- a link's use is written ahead of its bytes --------------------------------------------
async def _approved_link(
    hass: HomeAssistant, agency: Running, network: Network, clip: Clip
) -> tuple[str, str]:
    envelope = await send_request(hass, agency, network)
    await call(hass, "approve_clips", request_id=envelope.event_id, clip_ids=[clip.id])
    return envelope.event_id, str(offers(agency)[0].body["links"][0]["url"])  # type: ignore[index]


@pytest.mark.allow_porchlight_warnings(r"was cut off by a restart; it counts as downloaded")
async def test_a_download_cut_off_by_a_crash_counts_as_done(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    agency: Running,
    network: Network,
    recorded: list[Clip],
) -> None:
    _, url = await _approved_link(hass, agency, network, recorded[0])
    store = desk(init_integration).store
    [share] = await hass.async_add_executor_job(store.shares, None)
    # What a process killed mid-transfer leaves behind: the reservation, never its count.
    await hass.async_add_executor_job(
        store.change_share, share.id, lambda s: replace(s, in_flight=s.bytes_served + 5000)
    )
    assert await fetch(network, url) == (404, b'{"error":"not_found"}')  # busy, it seems
    entry = await reloaded(hass, init_integration)
    settled = await hass.async_add_executor_job(desk(entry).store.share, share.id)
    assert settled is not None
    assert (settled.state, settled.in_flight, settled.downloads) == (ShareState.DOWNLOADED, 0, 1)
    # Before: the single-use link served the whole clip again after the restart.
    assert await fetch(network, url) == (404, b'{"error":"not_found"}')
    held = [c for c in entry.runtime_data.recorder.index.clips() if c.id == recorded[0].id]
    assert held[0].held  # the request's own hold; the share's was released


async def test_a_reload_during_a_download_counts_what_left(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    agency: Running,
    network: Network,
) -> None:
    big, data = await big_clip(hass, init_integration)
    _, url = await _approved_link(hass, agency, network, big)
    async with network.session.get(url, allow_redirects=False) as response:
        await response.content.readexactly(1 << 20)
        # An options change reloads the entry while the agency downloads.
        assert await hass.config_entries.async_reload(init_integration.entry_id)
        with pytest.raises(aiohttp.ClientPayloadError):
            await response.read()
    entry = hass.config_entries.async_get_entry(init_integration.entry_id)
    assert entry is not None
    [share] = await hass.async_add_executor_job(desk(entry).store.shares, None)
    # Counted before the store closed: the agency resumes where it broke off, no further.
    assert share.state is ShareState.OFFERED
    assert (1 << 20) <= share.partial < len(data)
    status, rest = await fetch_range(network, url, share.partial)
    assert (status, len(rest)) == (206, len(data) - share.partial)
    assert await fetch(network, url) == (404, b'{"error":"not_found"}')


async def fetch_range(network: Network, url: str, first: int) -> tuple[int, bytes]:
    """GET a link from byte `first` on, as a resuming download does."""
    async with network.session.get(url, headers={"Range": f"bytes={first}-"}) as response:
        return response.status, await response.read()


async def test_a_probe_after_a_full_download_does_not_use_up_another(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    endpoint: str,
    network: Network,
    recorded: list[Clip],
) -> None:
    entry = await reloaded(hass, init_integration, **{CONF_MAX_DOWNLOADS: 2})
    agency = await pair_agency(hass, entry, endpoint, network)
    _, url = await _approved_link(hass, agency, network, recorded[0])
    assert (await fetch(network, url))[0] == 200
    # A player probing the first byte: not a whole download (before: it was counted as one).
    async with network.session.get(url, headers={"Range": "bytes=0-0"}) as response:
        assert response.status == 206
    assert (await fetch(network, url))[0] == 200
    assert await fetch(network, url) == (404, b'{"error":"not_found"}')


# --- failures leave nothing half done ----------------------------------------------------------
@pytest.mark.allow_porchlight_warnings(
    r"Approval not recorded: the log's chain key is not this home's"
)
async def test_an_approval_the_audit_log_refuses_shares_nothing_and_can_be_retried(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    agency: Running,
    network: Network,
    recorded: list[Clip],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    envelope = await send_request(hass, agency, network)
    the_desk = desk(init_integration)
    real = the_desk.audit.checkpoint_head

    def refused() -> tuple[int, str]:
        msg = "the log's chain key is not this home's"
        raise AuditError(msg)

    monkeypatch.setattr(the_desk.audit, "checkpoint_head", refused)
    with pytest.raises(HomeAssistantError) as err:
        await call(hass, "approve_clips", request_id=envelope.event_id, clip_ids=[recorded[0].id])
    assert err.value.translation_key == "approval_failed"
    assert await hass.async_add_executor_job(the_desk.store.shares, None) == []
    stored = await hass.async_add_executor_job(the_desk.store.request, envelope.event_id)
    assert (stored.state, stored.consents) == (RequestState.PENDING, ())
    # Before: "already_approved" for ever, with a live share and no offer.
    monkeypatch.setattr(the_desk.audit, "checkpoint_head", real)
    await call(hass, "approve_clips", request_id=envelope.event_id, clip_ids=[recorded[0].id])
    assert len(offers(agency)) == 1


@pytest.mark.allow_porchlight_warnings(r"Approval not recorded: cannot save: disk I/O error")
async def test_an_approval_the_store_cannot_finish_is_undone(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    agency: Running,
    network: Network,
    recorded: list[Clip],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    envelope = await send_request(hass, agency, network)
    the_desk = desk(init_integration)
    real = the_desk.store.put_share
    written: list[str] = []

    def second_fails(share: Share) -> None:
        if written:
            msg = "cannot save: disk I/O error"
            raise ConsentStoreError(msg)
        written.append(share.clip)
        real(share)

    monkeypatch.setattr(the_desk.store, "put_share", second_fails)
    ids = [recorded[0].id, recorded[1].id]
    with pytest.raises(HomeAssistantError) as err:
        await call(hass, "approve_clips", request_id=envelope.event_id, clip_ids=ids)
    assert err.value.translation_key == "approval_failed"
    [share] = await hass.async_add_executor_job(the_desk.store.shares, None)
    assert share.state is ShareState.REVOKED  # the one written is undone
    stored = await hass.async_add_executor_job(the_desk.store.request, envelope.event_id)
    assert (stored.state, stored.consents) == (RequestState.PENDING, ())
    assert offers(agency) == []
    assert len(init_integration.runtime_data.federation.node.outbox) == 0


@pytest.mark.allow_porchlight_warnings(r"could not be recorded")
async def test_a_request_that_cannot_be_recorded_holds_no_clip(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    agency: Running,
    network: Network,
    recorded: list[Clip],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    the_desk = desk(init_integration)

    def full(*_args: object, **_kwargs: object) -> None:
        msg = "database or disk is full"
        raise AuditError(msg)

    monkeypatch.setattr(the_desk.audit, "append", full)
    envelope = await send_request(hass, agency, network)
    assert "could not be recorded" in caplog.text
    assert await hass.async_add_executor_job(the_desk.store.request, envelope.event_id) is None
    # Before: every candidate clip stayed held for ever (retention could never prune them).
    assert not any(c.held for c in init_integration.runtime_data.recorder.index.clips())
    assert notifications(hass) == {}


async def test_a_reload_after_blocking_an_agency_does_not_announce_its_requests(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    agency: Running,
    network: Network,
) -> None:
    envelope = await send_request(hass, agency, network)
    persistent_notification.async_dismiss(hass, next(iter(notifications(hass))))
    events = async_capture_events(hass, EVENT_REQUEST)
    blocked = {CONF_BLOCKED_AGENCIES: [agency.node.identity.keyid]}
    entry = await reloaded(hass, init_integration, **{**REQUEST_DEFAULTS, **blocked})
    assert events == []
    assert notifications(hass) == {}
    stored = await hass.async_add_executor_job(desk(entry).store.request, envelope.event_id)
    assert (stored.state, stored.why) == (RequestState.AUTO_DECLINED, "blocked_agency")
    assert not any(c.held for c in entry.runtime_data.recorder.index.clips())


async def test_a_request_that_expired_while_home_was_down_is_not_announced(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    agency: Running,
    network: Network,
    freezer: Any,
) -> None:
    envelope = await send_request(hass, agency, network)
    persistent_notification.async_dismiss(hass, next(iter(notifications(hass))))
    events = async_capture_events(hass, EVENT_REQUEST)
    freezer.tick(4 * 86400)
    entry = await reloaded(hass, init_integration)
    assert events == []
    stored = await hass.async_add_executor_job(desk(entry).store.request, envelope.event_id)
    assert stored.state is RequestState.EXPIRED


@pytest.mark.allow_porchlight_warnings(
    r"Approval not recorded: cannot save: disk I/O error",
    r"Could not undo a failed approval of request",
)
async def test_an_undo_that_fails_too_is_logged_and_shares_nothing(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    agency: Running,
    network: Network,
    recorded: list[Clip],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    envelope = await send_request(hass, agency, network)
    the_desk = desk(init_integration)

    def broken(*_args: object) -> None:
        msg = "cannot save: disk I/O error"
        raise ConsentStoreError(msg)

    real_put = the_desk.store.put_request
    monkeypatch.setattr(the_desk.store, "put_share", broken)
    # The request is saved approved, its share is not, and the undo cannot save either.
    monkeypatch.setattr(
        the_desk.store, "put_request", lambda r: real_put(r) if r.consents else broken()
    )
    with pytest.raises(HomeAssistantError):
        await call(hass, "approve_clips", request_id=envelope.event_id, clip_ids=[recorded[0].id])
    assert "Could not undo a failed approval" in caplog.text
    assert await hass.async_add_executor_job(the_desk.store.shares, None) == []
    assert offers(agency) == []


async def test_a_stopped_desk_neither_judges_nor_tidies(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    agency: Running,
    network: Network,
    recorded: list[Clip],
) -> None:
    the_desk = desk(init_integration)
    await the_desk.async_stop()
    envelope = await send_request(hass, agency, network)
    assert await hass.async_add_executor_job(the_desk.store.request, envelope.event_id) is None
    assert not any(c.held for c in init_integration.runtime_data.recorder.index.clips())
    await the_desk.async_housekeeping()  # a timer that fired just before the stop
    assert await hass.async_add_executor_job(the_desk.store.requests) == []


@pytest.mark.allow_porchlight_warnings(r"was cut off by a restart; it counts as downloaded")
async def test_an_interrupted_download_of_a_link_with_downloads_left_keeps_its_hold(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    endpoint: str,
    network: Network,
    recorded: list[Clip],
) -> None:
    entry = await reloaded(hass, init_integration, **{CONF_MAX_DOWNLOADS: 2})
    agency = await pair_agency(hass, entry, endpoint, network)
    _, url = await _approved_link(hass, agency, network, recorded[0])
    store = desk(entry).store
    [share] = await hass.async_add_executor_job(store.shares, None)
    await hass.async_add_executor_job(
        store.change_share, share.id, lambda s: replace(s, in_flight=100)
    )
    entry = await reloaded(hass, entry)
    settled = await hass.async_add_executor_job(desk(entry).store.share, share.id)
    assert settled is not None
    assert (settled.state, settled.downloads) == (ShareState.OFFERED, 1)
    assert (await fetch(network, url))[0] == 200  # the second download it allows


async def approved_link(hass: HomeAssistant, agency: Running, network: Network, clip: Clip) -> str:
    """The agency asks, the owner approves clip: the one link of the offer."""
    envelope = await send_request(hass, agency, network)
    await call(hass, "approve_clips", request_id=envelope.event_id, clip_ids=[clip.id])
    (offer,) = offers(agency)
    (link,) = offer.body["links"]  # type: ignore[misc]
    return str(link["url"])  # type: ignore[index]


async def test_links_use_the_endpoint_the_agency_was_given_with_the_federation_port_on(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    recorded: list[Clip],
    endpoint: str,
    network: Network,
) -> None:
    # The owner gave the agency HA's address explicitly; the federation port being on must
    # not swap in Home Assistant's auto-detected URL (10.10.10.10 here, on no interface).
    entry = await reloaded(hass, init_integration, **{CONF_FEDERATION_PORT: free_port()})
    agency = await pair_agency(hass, entry, endpoint, network)
    url = await approved_link(hass, agency, network, recorded[0])
    assert url.startswith(endpoint + "/share/")
    status, data = await fetch(network, url)
    assert status == 200
    assert hashlib.sha256(data).hexdigest() == recorded[0].sha256
    assert (await fetch(network, url))[0] == 404  # used up (and counted before teardown)


async def test_links_for_an_agency_paired_through_the_federation_port_use_its_host(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    recorded: list[Clip],
    endpoint: str,
    network: Network,
) -> None:
    # The port serves no downloads: the link keeps the host the agency was told and goes to
    # the port Home Assistant's own server listens on (here: the test server's).
    port = free_port()
    entry = await reloaded(hass, init_integration, **{CONF_FEDERATION_PORT: port})
    hass.http.server_port = URL(endpoint).port
    agency = await pair_agency(hass, entry, f"http://127.0.0.1:{port}{API_PREFIX}", network)
    assert (
        entry.runtime_data.federation.node.peers.get(agency.node.identity.keyid).told
        == f"http://127.0.0.1:{port}{API_PREFIX}"
    )  # type: ignore[union-attr]
    url = await approved_link(hass, agency, network, recorded[0])
    assert url.startswith(endpoint + "/share/")
    assert (await fetch(network, url))[0] == 200
    assert (await fetch(network, url))[0] == 404  # used up (and counted before teardown)


@pytest.fixture
async def media_browser(hass: HomeAssistant) -> None:
    """The media browser, set up before the test server starts (its router freezes then)."""
    assert await async_setup_component(hass, "media_source", {})


async def test_owner_sees_each_clip_at_the_same_local_time_everywhere(
    hass: HomeAssistant,
    media_browser: None,
    init_integration: MockConfigEntry,
    agency: Running,
    network: Network,
    recorded: list[Clip],
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    # A home eight hours from UTC: a time shown in UTC would read as another time of day.
    await hass.config.async_set_time_zone("America/Los_Angeles")
    envelope = await send_request(hass, agency, network)
    clip = recorded[1]
    local = dt_util.as_local(dt_util.utc_from_timestamp(int(clip.start)))
    utc = dt_util.utc_from_timestamp(int(clip.start))

    # The notification: the clip's camera, its local day and time, and a link that plays it.
    (note,) = notifications(hass).values()
    (line,) = [li for li in note["message"].splitlines() if clip.id in li]
    assert "Front door" in line
    assert f"{local:%Y-%m-%d %H:%M:%S}" in line
    assert f"{utc:%H:%M:%S}" not in line
    link = re.search(r"\]\((/api/porchlight/clips/[^)\s]+)\)", line)
    assert link is not None
    client = await hass_client_no_auth()
    played = await client.get(link.group(1))
    assert played.status == 200
    assert hashlib.sha256(await played.read()).hexdigest() == clip.sha256

    # The media browser files it under the same local day and shows the same time.
    day = await async_browse_media(
        hass, f"{URI_SCHEME}{DOMAIN}/{FRONT_DOOR}/{local.date().isoformat()}"
    )
    (item,) = [c for c in day.children if c.identifier.endswith(clip.id)]
    assert f"{local:%H:%M:%S}" in item.title
    assert f"{local:%H:%M:%S}" in line

    # Action responses: ISO 8601 in Home Assistant's time zone, which templates can parse.
    approved = await call(hass, "approve_clips", request_id=envelope.event_id, clip_ids=[clip.id])
    expires = dt_util.parse_datetime(approved["approved"][0]["expires"])
    assert expires is not None
    assert expires.utcoffset() == local.utcoffset()
    (listed,) = (await call(hass, "list_requests"))["requests"]
    shown = next(c for c in listed["clips"] if c["clip"] == clip.id)
    assert shown["start"] == local.isoformat()
    assert shown["camera"] == "Front door"
    assert listed["shares"][0]["expires"] == approved["approved"][0]["expires"]
