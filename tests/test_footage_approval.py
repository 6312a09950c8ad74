"""The owner approves clips: only what was approved is shared, once, and what the owner
cannot approve is refused in words.

Fixtures `agency` and `recorded`: conftest.py; sending and reading back: footage_helpers.py.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from typing import TYPE_CHECKING, Any

import probatio
import pytest
from homeassistant.core import Context
from homeassistant.exceptions import ServiceValidationError

from custom_components.porchlight.consent.records import ShareState
from custom_components.porchlight.const import DOMAIN
from custom_components.porchlight.federation.evidence import verify_manifest

from .footage_helpers import call, desk, fetch, notifications, offers, send_request

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.common import MockConfigEntry

    from custom_components.porchlight.recordings.models import Clip

    from .federation.loopback import Network, Running


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
