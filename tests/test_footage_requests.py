"""Footage requests arriving at the home: which ones the owner sees, which are declined or
rejected unseen, and what survives a restart or reload.

Fixtures `agency` and `recorded`: conftest.py; sending and reading back: footage_helpers.py.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest
from homeassistant.components import persistent_notification
from homeassistant.exceptions import ServiceValidationError
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import (
    async_capture_events,
    async_fire_time_changed,
)

from custom_components.porchlight.consent.records import RequestState
from custom_components.porchlight.consent_glue import EVENT_REQUEST
from custom_components.porchlight.const import (
    CONF_BLOCKED_AGENCIES,
    CONF_DECLINE_ALL,
    DOMAIN,
    REQUEST_DEFAULTS,
)
from custom_components.porchlight.federation.clock import ManualClock

from .footage_helpers import (
    HOME_LAT,
    HOME_LON,
    call,
    desk,
    neighbor_of_home,
    notifications,
    offers,
    reloaded,
    request_body,
    send_request,
)
from .upkeep import queued

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.common import MockConfigEntry

    from custom_components.porchlight.federation.canonical import JSON
    from custom_components.porchlight.recordings.models import Clip

    from .federation.loopback import Network, Running


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
    assert len(queued(init_integration.runtime_data.federation.node.outbox)) == 0


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
    # The node saved the event ids it saw (federation/dedupe.py); the desk keeps its own too.
    assert status == 200
    entries = await hass.async_add_executor_job(
        lambda: list(desk(init_integration).audit.entries())
    )
    assert [e.kind for e in entries].count("request_received") == 1


async def test_the_desk_records_a_request_once_even_past_the_nodes_dedupe(
    hass: HomeAssistant, init_integration: MockConfigEntry, agency: Running, network: Network
) -> None:
    # The node forgets event ids past its bound (federation/dedupe.py); a request coming
    # back after that, through another neighbor, is still recorded and announced once.
    envelope = await send_request(hass, agency, network)
    node = init_integration.runtime_data.federation.node
    peer = node.peers.get(agency.node.identity.keyid)
    assert peer is not None
    announced = len(notifications(hass))
    await desk(init_integration).async_receive(envelope, peer, peer)
    await hass.async_block_till_done()
    assert len(notifications(hass)) == announced
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
