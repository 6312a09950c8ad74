"""The share-receipt blueprint: one receipt per download, expiry and revoke of a shared clip.

The agency fetches its links over real HTTP like the CLI does; receipts go to a notify action
standing in for the owner's phone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pytest_homeassistant_custom_component.common import async_capture_events, async_mock_service

from custom_components.porchlight.consent_glue import EVENT_SHARE
from custom_components.porchlight.const import CONF_MAX_DOWNLOADS

from .blueprint_helpers import automation, automations_off, start_with_automations
from .footage_helpers import call, desk, fetch, offers, reloaded, send_request

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant, ServiceCall
    from pytest_homeassistant_custom_component.common import MockConfigEntry

    from custom_components.porchlight.recordings.models import Clip

    from .federation.loopback import Network, Running


async def start_receipts(hass: HomeAssistant, **inputs: Any) -> list[ServiceCall]:
    phone = async_mock_service(hass, "notify", "test_phone")
    await start_with_automations(
        hass,
        automation("Receipts", "share_receipt", notify_services=["notify.test_phone"], **inputs),
    )
    return phone


async def share(
    hass: HomeAssistant, agency: Running, network: Network, clips: list[Clip]
) -> tuple[str, dict[str, str]]:
    """A request with these clips approved; its id and each clip's link."""
    envelope = await send_request(hass, agency, network)
    await call(hass, "approve_clips", request_id=envelope.event_id, clip_ids=[c.id for c in clips])
    (offer,) = offers(agency)
    links = {str(link["clip"]): str(link["url"]) for link in offer.body["links"]}  # type: ignore[union-attr]
    return envelope.event_id, links


async def test_one_receipt_per_download_and_none_for_a_refused_second_try(
    hass: HomeAssistant, agency: Running, network: Network, recorded: list[Clip]
) -> None:
    phone = await start_receipts(hass)
    _, links = await share(hass, agency, network, recorded[:1])

    assert (await fetch(network, links[recorded[0].id]))[0] == 200
    await hass.async_block_till_done()
    assert (await fetch(network, links[recorded[0].id]))[0] == 404
    await hass.async_block_till_done()

    (receipt,) = phone
    assert receipt.data["title"] == "Shared clip downloaded"
    assert receipt.data["message"] == (
        f"Metro PD downloaded the Front door clip {recorded[0].id} (case 2026-000417)."
    )
    await automations_off(hass)


async def test_a_link_allowing_two_downloads_gives_two_receipts(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    agency: Running,
    network: Network,
    recorded: list[Clip],
) -> None:
    await reloaded(hass, init_integration, **{CONF_MAX_DOWNLOADS: 2})
    phone = await start_receipts(hass)
    events = async_capture_events(hass, EVENT_SHARE)
    _, links = await share(hass, agency, network, recorded[:1])

    for _ in range(3):
        await fetch(network, links[recorded[0].id])
        await hass.async_block_till_done()

    assert [(e.data["event"], e.data["downloads"]) for e in events] == [
        ("downloaded", 1),
        ("downloaded", 2),
    ]
    assert [c.data["message"].rsplit(".", 2)[-2].strip() for c in phone] == [
        "Download 1 of 2",
        "Download 2 of 2",
    ]
    await automations_off(hass)


async def test_revoke_and_expiry_get_their_receipts_and_unwanted_events_none(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    agency: Running,
    network: Network,
    recorded: list[Clip],
    freezer: Any,
) -> None:
    phone = await start_receipts(hass, events=["revoked", "expired"])
    request_id, links = await share(hass, agency, network, recorded[:2])

    await call(hass, "revoke_share", request_id=request_id, clip_ids=[recorded[0].id])
    assert (await fetch(network, links[recorded[1].id]))[0] == 200  # downloaded: not wanted
    freezer.tick(73 * 3600)
    await desk(init_integration).async_housekeeping()
    await hass.async_block_till_done()

    assert [c.data["title"] for c in phone] == ["Share revoked"]
    assert phone[0].data["message"] == (
        f"You revoked the link to the Front door clip {recorded[0].id} (case 2026-000417)."
    )
    await automations_off(hass)


async def test_a_link_that_expires_unused_gets_a_receipt(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    agency: Running,
    network: Network,
    recorded: list[Clip],
    freezer: Any,
) -> None:
    phone = await start_receipts(hass)
    await share(hass, agency, network, recorded[:1])

    freezer.tick(73 * 3600)
    await desk(init_integration).async_housekeeping()
    await hass.async_block_till_done()

    (receipt,) = phone
    assert receipt.data["title"] == "Shared clip not collected"
    assert receipt.data["message"] == (
        f"The link to the Front door clip {recorded[0].id} expired without being downloaded"
        " (case 2026-000417)."
    )
    await automations_off(hass)
