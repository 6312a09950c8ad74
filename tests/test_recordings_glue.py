"""Recording inside Home Assistant: real RTSP cameras, real ffmpeg, clips, entities, repairs."""

from __future__ import annotations

import asyncio
import hashlib
import os
import time
from http import HTTPStatus
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from homeassistant.components.media_source import (
    URI_SCHEME,
    async_browse_media,
    async_resolve_media,
)
from homeassistant.const import EVENT_HOMEASSISTANT_STOP, STATE_OFF, STATE_ON
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import area_registry as ar
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.service import async_get_all_descriptions
from homeassistant.setup import async_setup_component

from custom_components.porchlight import recordings_glue
from custom_components.porchlight.const import (
    CONF_CAMERAS,
    CONF_DOORBELL_ENTITIES,
    CONF_MOTION_ENTITIES,
    CONF_POST_ROLL,
    CONF_PRE_ROLL,
    CONF_TRIGGERS,
    DOMAIN,
    RECORDING_DEFAULTS,
    SERVICE_CAPTURE_CLIP,
)

from .home import FRONT_DOOR, GARDEN, SNAPSHOT_ONLY

if TYPE_CHECKING:
    from collections.abc import Callable

    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.common import MockConfigEntry
    from pytest_homeassistant_custom_component.typing import (
        ClientSessionGenerator,
        WebSocketGenerator,
    )

    from custom_components.porchlight.recordings.models import Clip
    from porchlight_dev.rtsp import RtspServer

DOORBELL = "event.front_doorbell"
MOTION = "binary_sensor.porch_motion"


@pytest.fixture(autouse=True)
def _sockets(socket_enabled: None) -> None:
    """Real loopback RTSP and HTTP (phcc's allow-list keeps it on 127.0.0.1)."""


@pytest.fixture
def camera_sources(rtsp: RtspServer) -> dict[str, str]:
    """Both cameras stream from the loopback RTSP server."""
    return {"Front door": rtsp.url(1), "Garden": rtsp.url(2)}


@pytest.fixture
def recording_options() -> dict[str, Any]:
    """Short clips keep the tests quick: 2 s before, 2 s after."""
    return {
        **RECORDING_DEFAULTS,
        CONF_PRE_ROLL: 2,
        CONF_POST_ROLL: 2,
        CONF_TRIGGERS: {
            FRONT_DOOR: {CONF_DOORBELL_ENTITIES: [DOORBELL], CONF_MOTION_ENTITIES: [MOTION]}
        },
    }


async def wait_for(
    hass: HomeAssistant, condition: Callable[[], object], timeout: float = 30.0
) -> None:
    """Let hass run until condition() holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.1)
    await hass.async_block_till_done()


def clips(entry: MockConfigEntry) -> list[Clip]:
    return entry.runtime_data.recorder.index.clips()


def new_clip_event(hass: HomeAssistant) -> str | None:
    """The front door's latest clip event type, once one has fired."""
    state = hass.states.get("event.front_door_new_clip")
    return None if state is None else state.attributes.get("event_type")


async def test_capture_clip_records_a_clip_you_can_browse_and_play(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    entry = init_integration
    assert await async_setup_component(hass, "media_source", {})
    await wait_for(
        hass, lambda: hass.states.get("binary_sensor.front_door_stream").state == STATE_ON
    )
    assert hass.states.get("binary_sensor.front_door_recording").state == STATE_ON

    pressed = time.time()
    await hass.services.async_call(
        DOMAIN, SERVICE_CAPTURE_CLIP, {"entity_id": FRONT_DOOR}, blocking=True
    )
    await wait_for(hass, lambda: new_clip_event(hass) is not None)
    (clip,) = clips(entry)

    # The clip spans pre-roll to post-roll around the press, give or take one segment.
    assert clip.camera == FRONT_DOOR
    assert clip.start <= pressed - 2 + 0.5
    assert clip.end >= pressed + 2 - 0.5
    assert 4 - 2.5 <= clip.duration <= 4 + 2 * 2.5
    assert clip.thumbnail is not None
    assert clip.thumbnail.exists()

    event = hass.states.get("event.front_door_new_clip")
    assert event.attributes["event_type"] == "manual"
    assert event.attributes["clip_id"] == clip.id
    storage = hass.states.get("sensor.front_door_storage_used")
    assert float(storage.state) > 0

    # Media browser: Porchlight → camera → day → clip.
    root = await async_browse_media(hass, f"{URI_SCHEME}{DOMAIN}")
    assert [c.title for c in root.children] == ["Front door"]
    camera = await async_browse_media(hass, f"{URI_SCHEME}{DOMAIN}/{FRONT_DOOR}")
    (day,) = camera.children
    listing = await async_browse_media(hass, f"{URI_SCHEME}{DOMAIN}/{day.identifier}")
    (item,) = listing.children
    assert item.can_play
    assert "manual" in item.title
    assert item.thumbnail is not None
    assert "authSig=" in item.thumbnail

    # Playing resolves to a signed link of our own view; the bytes are the indexed clip.
    media = await async_resolve_media(hass, f"{URI_SCHEME}{DOMAIN}/{item.identifier}", None)
    assert media.mime_type == "video/mp4"
    assert media.url.startswith(f"/api/porchlight/clips/{clip.id}.mp4?authSig=")
    client = await hass_client_no_auth()
    response = await client.get(media.url)
    assert response.status == HTTPStatus.OK
    assert response.headers["Content-Type"] == "video/mp4"
    assert "no-store" in response.headers["Cache-Control"]
    assert hashlib.sha256(await response.read()).hexdigest() == clip.sha256
    ranged = await client.get(media.url, headers={"Range": "bytes=0-99"})
    assert ranged.status == HTTPStatus.PARTIAL_CONTENT
    assert len(await ranged.read()) == 100
    thumb = await client.get(item.thumbnail)
    assert thumb.status == HTTPStatus.OK
    assert (await thumb.read())[:2] == b"\xff\xd8"
    # Without the signature there is nothing to see.
    unsigned = await client.get(f"/api/porchlight/clips/{clip.id}.mp4")
    assert unsigned.status == HTTPStatus.UNAUTHORIZED


async def test_doorbell_press_and_motion_make_one_doorbell_clip(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    entry = init_integration
    hass.states.async_set(DOORBELL, "2026-11-23T10:00:00.000+00:00")
    hass.states.async_set(MOTION, STATE_OFF)
    await wait_for(
        hass, lambda: hass.states.get("binary_sensor.front_door_stream").state == STATE_ON
    )

    hass.states.async_set(MOTION, STATE_ON)  # someone walks up...
    await asyncio.sleep(0.5)
    hass.states.async_set(DOORBELL, "2026-11-23T10:00:05.000+00:00")  # ...and rings
    hass.states.async_set(MOTION, STATE_ON, {"still": True})  # attribute change: no trigger
    await wait_for(hass, lambda: new_clip_event(hass) is not None)
    (clip,) = clips(entry)
    assert clip.trigger.value == "doorbell"
    assert hass.states.get("event.front_door_new_clip").attributes["event_type"] == "doorbell"


async def test_trigger_entities_going_unavailable_start_nothing(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    recorder = init_integration.runtime_data.recorder
    hass.states.async_set(DOORBELL, "unavailable")
    hass.states.async_set(MOTION, "unavailable")
    hass.states.async_set(MOTION, STATE_OFF)
    hass.states.async_remove(DOORBELL)
    await hass.async_block_till_done()
    assert recorder.scheduler.pending(FRONT_DOOR) is None
    # The first state an event entity ever reports is not a press either.
    hass.states.async_set(DOORBELL, "2026-11-23T10:00:00.000+00:00")
    await hass.async_block_till_done()
    assert recorder.scheduler.pending(FRONT_DOOR) is None


async def test_lost_camera_raises_a_repair_that_clears_when_it_returns(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    rtsp: RtspServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(recordings_glue, "UNREACHABLE_AFTER", 0.0)
    issues = ir.async_get(hass)
    issue_id = recordings_glue.unreachable_issue_id(FRONT_DOOR)
    await wait_for(
        hass, lambda: hass.states.get("binary_sensor.front_door_stream").state == STATE_ON
    )
    assert issues.async_get_issue(DOMAIN, issue_id) is None

    rtsp.stop()
    await wait_for(hass, lambda: issues.async_get_issue(DOMAIN, issue_id) is not None)
    assert hass.states.get("binary_sensor.front_door_stream").state == STATE_OFF
    # Still trying: the recorder keeps reconnecting.
    assert hass.states.get("binary_sensor.front_door_recording").state == STATE_ON
    issue = issues.async_get_issue(DOMAIN, issue_id)
    assert issue.translation_key == "camera_unreachable"
    assert issue.translation_placeholders["camera"] == FRONT_DOOR

    rtsp.start()
    await wait_for(hass, lambda: issues.async_get_issue(DOMAIN, issue_id) is None, timeout=60)
    assert hass.states.get("binary_sensor.front_door_stream").state == STATE_ON


async def test_clips_survive_a_restart(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    entry = init_integration
    await wait_for(
        hass, lambda: hass.states.get("binary_sensor.front_door_stream").state == STATE_ON
    )
    entry.runtime_data.recorder.trigger(FRONT_DOOR, recordings_glue.Trigger.MANUAL)
    await wait_for(hass, lambda: clips(entry))
    before = clips(entry)

    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert clips(entry) == before
    assert before[0].path.exists()


async def test_pending_clip_is_cut_when_home_assistant_stops(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    entry = init_integration
    recorder = entry.runtime_data.recorder
    await wait_for(hass, lambda: len(recorder.index.segments(FRONT_DOOR, 0, time.time())) >= 2)
    recorder.trigger(FRONT_DOOR, recordings_glue.Trigger.MANUAL)
    # Stopping before the post-roll is recorded still keeps what exists.
    await recorder.async_stop()
    (clip,) = clips(entry)
    assert clip.path.exists()


async def test_capture_clip_refuses_cameras_porchlight_does_not_record(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN, SERVICE_CAPTURE_CLIP, {"entity_id": [FRONT_DOOR, GARDEN]}, blocking=True
        )
    assert err.value.translation_key == "camera_not_recorded"
    assert err.value.translation_placeholders == {"cameras": GARDEN}
    assert init_integration.runtime_data.recorder.scheduler.pending(FRONT_DOOR) is None


def capture_started(entry: MockConfigEntry, camera: str = FRONT_DOOR) -> bool:
    """Whether a manual clip of camera is pending; it is taken off the schedule.

    These cameras stream from nowhere, so the clip could never be recorded; cutting it at
    unload can hang (the clip maker's close() spins when a cut ends without recording).
    """
    pending = entry.runtime_data.recorder.scheduler.pending(camera)
    if pending is None:
        return False
    entry.runtime_data.recorder.scheduler.take(camera)
    return pending.trigger is recordings_glue.Trigger.MANUAL


@pytest.mark.parametrize(
    ("data", "target"),
    [
        ({"entity_id": FRONT_DOOR}, None),
        (None, {"entity_id": FRONT_DOOR}),
        (None, {"entity_id": [FRONT_DOOR]}),
        # "all" as in any entity action: every camera Porchlight records.
        (None, {"entity_id": "all"}),
    ],
    ids=["data", "target", "target-list", "all"],
)
async def test_capture_clip_takes_cameras_as_data_or_as_target(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    data: dict[str, Any] | None,
    target: dict[str, Any] | None,
) -> None:
    await hass.services.async_call(DOMAIN, SERVICE_CAPTURE_CLIP, data, target=target, blocking=True)
    assert capture_started(init_integration)


async def test_capture_clip_with_a_target_over_the_websocket(
    hass: HomeAssistant, init_integration: MockConfigEntry, hass_ws_client: WebSocketGenerator
) -> None:
    # What the frontend and the companion apps send for `target:` in an action.
    client = await hass_ws_client(hass)
    await client.send_json_auto_id(
        {
            "type": "call_service",
            "domain": DOMAIN,
            "service": SERVICE_CAPTURE_CLIP,
            "target": {"entity_id": [FRONT_DOOR]},
        }
    )
    reply = await client.receive_json()
    assert reply["success"], reply
    assert capture_started(init_integration)


async def test_capture_clip_targets_cameras_through_an_area(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    # An area holding only a camera Porchlight does not record: accepted as a target, but
    # there is nothing to capture, and the owner is told so.
    porch = ar.async_get(hass).async_create("Porch")
    er.async_get(hass).async_update_entity(SNAPSHOT_ONLY, area_id=porch.id)
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN, SERVICE_CAPTURE_CLIP, target={"area_id": porch.id}, blocking=True
        )
    assert err.value.translation_key == "no_recorded_camera"
    assert init_integration.runtime_data.recorder.scheduler.pending(FRONT_DOOR) is None


async def test_capture_clip_offers_a_camera_target_in_the_ui(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    descriptions = await async_get_all_descriptions(hass)
    capture = descriptions[DOMAIN][SERVICE_CAPTURE_CLIP]
    assert capture["target"] == {"entity": [{"domain": ["camera"]}]}
    assert "entity_id" not in capture["fields"]


async def test_capture_clip_when_porchlight_is_not_loaded(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    await hass.config_entries.async_unload(init_integration.entry_id)
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN, SERVICE_CAPTURE_CLIP, {"entity_id": FRONT_DOOR}, blocking=True
        )
    assert err.value.translation_key == "not_loaded"


async def test_each_camera_is_a_device_under_the_home(
    hass: HomeAssistant, cameras: list[str], mock_config_entry: MockConfigEntry
) -> None:
    mock_config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        mock_config_entry,
        options={**mock_config_entry.options, CONF_CAMERAS: [FRONT_DOOR, GARDEN]},
    )
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    devices = dr.async_entries_for_config_entry(dr.async_get(hass), mock_config_entry.entry_id)
    home = next(d for d in devices if d.model == "Home")
    named = sorted((d.name, d.via_device_id) for d in devices if d.model == "Recorded camera")
    assert named == [("Front door", home.id), ("Garden", home.id)]


def _ffmpeg_children() -> list[int]:
    """ffmpeg processes started by this test process (directly or via setpriv)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            stat = (proc / "stat").read_text()
            cmdline = (proc / "cmdline").read_bytes()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == os.getpid() and b"ffmpeg" in cmdline:
            found.append(int(proc.name))
    return found


async def test_home_assistant_stopping_stops_every_ffmpeg(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    await wait_for(
        hass, lambda: hass.states.get("binary_sensor.front_door_stream").state == STATE_ON
    )
    assert _ffmpeg_children()
    hass.bus.async_fire(EVENT_HOMEASSISTANT_STOP)
    await hass.async_block_till_done()
    recorder = init_integration.runtime_data.recorder
    assert all(r.status.state.value == "stopped" for r in recorder.recorders.values())
    await wait_for(hass, lambda: not _ffmpeg_children(), timeout=10)
