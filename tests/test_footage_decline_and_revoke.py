"""The owner declines a request or revokes a share: nothing more leaves the home, even while
an approval or a download is under way.

Fixtures `agency` and `recorded`: conftest.py; sending and reading back: footage_helpers.py.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import aiohttp
import pytest
from homeassistant.exceptions import ServiceValidationError

from custom_components.porchlight.consent.records import RequestState, ShareState

from .footage_helpers import big_clip, call, desk, fetch, notifications, offers, send_request

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.common import MockConfigEntry

    from custom_components.porchlight.recordings.models import Clip

    from .federation.loopback import Network, Running


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
