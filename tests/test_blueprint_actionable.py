"""The actionable-request blueprint: a footage request on the owner's phones, decided there.

Phones stand in as notify actions: a Companion-app phone (a mobile_app device in the device
registry, whose notify action the blueprint derives from its name) and a notify action the
owner names. A button press is the `mobile_app_notification_action` event the Companion app
fires through its webhook. The agency is a real federation node on loopback and receives
exactly what the buttons share.
"""

from __future__ import annotations

import asyncio
import hashlib
import shutil
import time
from typing import TYPE_CHECKING, Any

import pytest
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import device_registry as dr
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_mock_service

from custom_components.porchlight.consent.records import RequestState
from custom_components.porchlight.recordings.models import Clip, Trigger

from .blueprint_helpers import automation, automations_off, start_with_automations
from .footage_helpers import call, desk, index_root, offers, send_request
from .home import FRONT_DOOR

if TYPE_CHECKING:
    from pathlib import Path

    from homeassistant.core import HomeAssistant, ServiceCall
    from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

    from .federation.loopback import Network, Running

PHONE_NAME = "Sam's Pixel"
PHONE_SERVICE = "mobile_app_sam_s_pixel"


@pytest.fixture
async def thumbnailed(
    hass: HomeAssistant, init_integration: MockConfigEntry, camera_video: Path
) -> Clip:
    """A real clip with a real thumbnail (a frame ffmpeg took), the oldest in the window."""
    root = index_root(init_integration)
    path, thumbnail = root / "0aaaaaaaaaaaaaaa.mp4", root / "0aaaaaaaaaaaaaaa.jpg"
    await hass.async_add_executor_job(shutil.copyfile, camera_video, path)
    process = await asyncio.create_subprocess_exec(
        "ffmpeg", "-v", "error", "-y", "-i", str(camera_video), "-frames:v", "1", str(thumbnail)
    )
    assert await process.wait() == 0
    data = await hass.async_add_executor_job(path.read_bytes)
    now = time.time()
    clip = Clip(
        id="0aaaaaaaaaaaaaaa",
        camera=FRONT_DOOR,
        trigger=Trigger.DOORBELL,
        start=now - 3500,
        end=now - 3480,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        path=path,
        thumbnail=thumbnail,
        created=now - 3479,
    )
    await hass.async_add_executor_job(init_integration.runtime_data.recorder.index.add_clip, clip)
    return clip


@pytest.fixture
async def phones(hass: HomeAssistant) -> dict[str, list[ServiceCall]]:
    """A Companion-app phone and a named notify action, each recording what it was sent."""
    app = MockConfigEntry(domain="mobile_app", title=PHONE_NAME)
    app.add_to_hass(hass)
    device = dr.async_get(hass).async_get_or_create(
        config_entry_id=app.entry_id, identifiers={("mobile_app", "sams-pixel")}, name=PHONE_NAME
    )
    return {
        "device": device.id,  # type: ignore[dict-item]  # the device id for the input
        PHONE_SERVICE: async_mock_service(hass, "notify", PHONE_SERVICE),
        "test_phone": async_mock_service(hass, "notify", "test_phone"),
    }


async def start_actionable(hass: HomeAssistant, phones: dict[str, Any], **inputs: Any) -> None:
    await start_with_automations(
        hass,
        automation(
            "Footage requests on my phones",
            "actionable_request",
            notify_devices=[phones["device"]],
            notify_services=["notify.test_phone"],
            **inputs,
        ),
    )


async def press(hass: HomeAssistant, action: str) -> None:
    """What the Companion app fires when a button of the notification is pressed."""
    hass.bus.async_fire("mobile_app_notification_action", {"action": action, "tag": "x"})
    await hass.async_block_till_done(wait_background_tasks=True)


def sent(phones: dict[str, Any]) -> list[dict[str, Any]]:
    """Every notification either phone got, in order, the Companion app's first."""
    return [dict(c.data) for c in (*phones[PHONE_SERVICE], *phones["test_phone"])]


def cleared(phones: dict[str, Any]) -> list[str]:
    """The tags of the notifications cleared on each phone, the Companion app's first."""
    return [n["data"]["tag"] for n in sent(phones) if n["message"] == "clear_notification"]


async def test_each_phone_gets_the_request_with_its_buttons_and_thumbnail(  # fixtures
    hass: HomeAssistant,
    thumbnailed: Clip,
    agency: Running,
    network: Network,
    phones: dict[str, Any],
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    await start_actionable(hass, phones)

    envelope = await send_request(hass, agency, network)

    companion, other = sent(phones)
    assert companion == other
    assert companion["title"] == "Footage request from Metro PD"
    assert "Case 2026-000417: Package theft reported on Maple Street." in companion["message"]
    assert "4 matching clips" in companion["message"]
    push = companion["data"]
    assert push["tag"] == f"porchlight-{envelope.event_id}"
    share, decline, choose = push["actions"]
    assert share["title"] == "Share all 4 clips"
    assert share["action"].startswith(f"PORCHLIGHT_SHARE_{envelope.event_id}_")
    assert decline["action"].startswith(f"PORCHLIGHT_DECLINE_{envelope.event_id}_")
    assert choose == {"action": "URI", "title": "Choose clips…", "uri": "/porchlight"}
    # The first clip's thumbnail, through a signed path that needs no login.
    client = await hass_client_no_auth()
    response = await client.get(push["image"])
    assert response.status == 200
    assert await response.read() == thumbnailed.thumbnail.read_bytes()  # type: ignore[union-attr]
    assert (await client.get(push["image"].split("?")[0])).status == 401
    await automations_off(hass)


async def test_share_all_shares_exactly_the_clips_the_notification_counted(
    hass: HomeAssistant,
    thumbnailed: Clip,
    agency: Running,
    network: Network,
    phones: dict[str, Any],
) -> None:
    await start_actionable(hass, phones)
    envelope = await send_request(hass, agency, network)
    share = sent(phones)[0]["data"]["actions"][0]["action"]

    await press(hass, share)

    (offer,) = offers(agency)
    shared = sorted(str(link["clip"]) for link in offer.body["links"])  # type: ignore[union-attr]
    stored = await hass.async_add_executor_job(
        desk(await _entry(hass)).store.request, envelope.event_id
    )
    assert shared == sorted(c.clip for c in stored.candidates)
    assert len(shared) == 4
    assert stored.state is RequestState.APPROVED
    # The decision clears the notification on every phone.
    assert cleared(phones) == [f"porchlight-{envelope.event_id}"] * 2
    await automations_off(hass)


async def test_decline_sends_nothing_and_clears_the_notification(
    hass: HomeAssistant, agency: Running, network: Network, phones: dict[str, Any]
) -> None:
    await start_actionable(hass, phones)
    envelope = await send_request(hass, agency, network)
    decline = sent(phones)[0]["data"]["actions"][1]["action"]

    await press(hass, decline)

    stored = await hass.async_add_executor_job(
        desk(await _entry(hass)).store.request, envelope.event_id
    )
    assert stored.state is RequestState.DECLINED
    assert offers(agency) == []
    assert cleared(phones) == [f"porchlight-{envelope.event_id}"] * 2
    await automations_off(hass)


@pytest.mark.parametrize(
    "forged",
    [
        "PORCHLIGHT_SHARE_{id}_" + "0" * 32,
        "PORCHLIGHT_SHARE_{id}",
        "PORCHLIGHT_DECLINE_{id}_{share_token}",
    ],
)
async def test_a_forged_button_shares_and_declines_nothing(
    hass: HomeAssistant, agency: Running, network: Network, phones: dict[str, Any], forged: str
) -> None:
    """A request's id is no secret; a button id without this home's token does nothing."""
    await start_actionable(hass, phones)
    envelope = await send_request(hass, agency, network)
    share = sent(phones)[0]["data"]["actions"][0]["action"]

    await press(hass, forged.format(id=envelope.event_id, share_token=share.rsplit("_", 1)[1]))

    stored = await hass.async_add_executor_job(
        desk(await _entry(hass)).store.request, envelope.event_id
    )
    assert stored.state is RequestState.PENDING
    assert stored.consents == ()
    assert offers(agency) == []
    await automations_off(hass)


async def test_a_decision_in_the_panel_clears_the_notification_on_every_phone(
    hass: HomeAssistant, agency: Running, network: Network, phones: dict[str, Any]
) -> None:
    await start_actionable(hass, phones)
    envelope = await send_request(hass, agency, network)
    stored = await hass.async_add_executor_job(
        desk(await _entry(hass)).store.request, envelope.event_id
    )

    await call(
        hass, "approve_clips", request_id=envelope.event_id, clip_ids=[stored.candidates[0].clip]
    )
    await hass.async_block_till_done()

    assert cleared(phones) == [f"porchlight-{envelope.event_id}"] * 2
    await automations_off(hass)


async def test_a_request_without_clips_has_no_share_button_and_no_image(
    hass: HomeAssistant, agency: Running, network: Network, phones: dict[str, Any]
) -> None:
    await start_actionable(hass, phones, show_thumbnail=True)
    now = int(time.time())

    await send_request(hass, agency, network, start=now - 7 * 3600, end=now - 6 * 3600)

    push = sent(phones)[0]["data"]
    assert [a["title"] for a in push["actions"]] == ["Decline", "Choose clips…"]
    assert "image" not in push
    assert "0 matching clips" in sent(phones)[0]["message"]
    await automations_off(hass)


async def test_without_thumbnails_no_image_is_attached(
    hass: HomeAssistant, agency: Running, network: Network, phones: dict[str, Any]
) -> None:
    await start_actionable(hass, phones, show_thumbnail=False)

    await send_request(hass, agency, network)

    assert "image" not in sent(phones)[0]["data"]
    await automations_off(hass)


async def _entry(hass: HomeAssistant) -> MockConfigEntry:
    (entry,) = hass.config_entries.async_entries("porchlight")
    return entry  # type: ignore[return-value]  # the MockConfigEntry the fixture added


async def test_share_all_again_once_everything_is_shared_is_refused(
    hass: HomeAssistant, agency: Running, network: Network, phones: dict[str, Any]
) -> None:
    await start_actionable(hass, phones)
    await send_request(hass, agency, network)
    share = sent(phones)[0]["data"]["actions"][0]["action"]
    await press(hass, share)

    with pytest.raises(ServiceValidationError) as raised:
        await call(hass, "notification_action", action=share)

    assert raised.value.translation_key == "nothing_to_share"
    assert len(offers(agency)) == 1
    await automations_off(hass)
