"""The agency downloads approved clips through their links: ranges, limits, expiry,
interrupted downloads, and which address a link names.

Fixtures `agency` and `recorded`: conftest.py; sending and reading back: footage_helpers.py.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import aiohttp
import pytest
from yarl import URL

from custom_components.porchlight.consent.records import ShareState
from custom_components.porchlight.const import CONF_FEDERATION_PORT, CONF_MAX_DOWNLOADS
from custom_components.porchlight.federation.node import API_PREFIX
from porchlight_dev.rtsp import free_port

from .footage_helpers import (
    big_clip,
    call,
    desk,
    fetch,
    offers,
    pair_agency,
    reloaded,
    send_request,
)

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.common import MockConfigEntry

    from custom_components.porchlight.recordings.models import Clip

    from .federation.loopback import Network, Running


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
