"""The media browser and clip views refuse anything that is not a known clip id."""

from __future__ import annotations

import time
from http import HTTPStatus
from typing import TYPE_CHECKING

import pytest
from homeassistant.components.media_player.errors import BrowseError
from homeassistant.components.media_source import (
    URI_SCHEME,
    Unresolvable,
    async_browse_media,
    async_resolve_media,
)
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util

from custom_components.porchlight.const import DOMAIN
from custom_components.porchlight.recordings.models import Clip, Trigger
from custom_components.porchlight.signals import signal_clip

from .home import FRONT_DOOR, GARDEN

if TYPE_CHECKING:
    from pathlib import Path

    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.common import MockConfigEntry
    from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

CLIP_ID = "0123456789abcdef"
TODAY = time.strftime("%Y-%m-%d", time.gmtime())


@pytest.fixture
async def clip(hass: HomeAssistant, init_integration: MockConfigEntry, tmp_path: Path) -> Clip:
    """A clip without thumbnail, indexed for the front door."""
    assert await async_setup_component(hass, "media_source", {})
    path = tmp_path / f"{CLIP_ID}.mp4"
    path.write_bytes(b"not really a video")
    clip = Clip(
        id=CLIP_ID,
        camera=FRONT_DOOR,
        trigger=Trigger.MOTION,
        start=time.time() - 60,
        end=time.time() - 50,
        size=18,
        sha256="0" * 64,
        path=path,
        thumbnail=None,
        created=time.time(),
    )
    index = init_integration.runtime_data.recorder.index
    await hass.async_add_executor_job(index.add_clip, clip)
    return clip


@pytest.mark.parametrize(
    "identifier",
    [
        "camera.front_door/../../../etc/passwd",
        "..",
        "camera.garden",  # exists in HA, not recorded by Porchlight
        "camera.front_door/2026-13-45",
        "camera.front_door/20261123",
        f"camera.front_door/{TODAY}/../{CLIP_ID}",
        f"camera.front_door/{TODAY}/{CLIP_ID}/extra",
        f"camera.front_door/{TODAY}/ZZZZZZZZZZZZZZZZ",
    ],
)
async def test_bad_identifiers_are_refused(
    hass: HomeAssistant, clip: Clip, identifier: str
) -> None:
    with pytest.raises(BrowseError, match="Unknown media item"):
        await async_browse_media(hass, f"{URI_SCHEME}{DOMAIN}/{identifier}")
    with pytest.raises(Unresolvable, match="Unknown media item"):
        await async_resolve_media(hass, f"{URI_SCHEME}{DOMAIN}/{identifier}", None)


async def test_only_clips_resolve(hass: HomeAssistant, clip: Clip) -> None:
    for identifier in (FRONT_DOOR, f"{FRONT_DOOR}/{TODAY}"):
        with pytest.raises(Unresolvable, match="Not a clip"):
            await async_resolve_media(hass, f"{URI_SCHEME}{DOMAIN}/{identifier}", None)
    with pytest.raises(Unresolvable, match="No such clip"):
        await async_resolve_media(
            hass, f"{URI_SCHEME}{DOMAIN}/{FRONT_DOOR}/{TODAY}/fedcba9876543210", None
        )
    with pytest.raises(BrowseError, match="cannot be browsed"):
        await async_browse_media(hass, f"{URI_SCHEME}{DOMAIN}/{FRONT_DOOR}/{TODAY}/{CLIP_ID}")


async def test_clip_of_another_camera_does_not_resolve(
    hass: HomeAssistant, init_integration: MockConfigEntry, clip: Clip
) -> None:
    init_integration.runtime_data.cameras += (GARDEN,)
    with pytest.raises(Unresolvable, match="No such clip"):
        await async_resolve_media(hass, f"{URI_SCHEME}{DOMAIN}/{GARDEN}/{TODAY}/{CLIP_ID}", None)


async def test_clip_without_thumbnail(
    hass: HomeAssistant, clip: Clip, hass_client: ClientSessionGenerator
) -> None:
    # The media browser groups by Home Assistant's time zone (US/Pacific in the test hass), not
    # the process's: between midnight and 8 am UTC the two days differ.
    day = dt_util.as_local(dt_util.utc_from_timestamp(clip.start)).date().isoformat()
    listing = await async_browse_media(hass, f"{URI_SCHEME}{DOMAIN}/{FRONT_DOOR}/{day}")
    (item,) = listing.children
    assert item.thumbnail is None
    client = await hass_client()
    response = await client.get(f"/api/porchlight/clips/{CLIP_ID}.jpg")
    assert response.status == HTTPStatus.NOT_FOUND


async def test_path_traversal_is_refused_before_reaching_the_view(
    hass: HomeAssistant, clip: Clip, hass_client: ClientSessionGenerator
) -> None:
    client = await hass_client()
    response = await client.get("/api/porchlight/clips/..%2F..%2Fetc%2Fpasswd.mp4")
    # Home Assistant's security filter answers first; our view would say 404 anyway.
    assert response.status == HTTPStatus.BAD_REQUEST


@pytest.mark.parametrize(
    "path",
    [
        "/api/porchlight/clips/0123456789ABCDEF.mp4",
        "/api/porchlight/clips/..mp4",
        "/api/porchlight/clips/fedcba9876543210.mp4",
        "/api/porchlight/clips/fedcba9876543210.jpg",
    ],
)
async def test_views_answer_not_found_for_anything_but_known_clips(
    hass: HomeAssistant, clip: Clip, hass_client: ClientSessionGenerator, path: str
) -> None:
    client = await hass_client()
    response = await client.get(path)
    assert response.status == HTTPStatus.NOT_FOUND


async def test_views_and_browser_when_porchlight_is_unloaded(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    clip: Clip,
    hass_client: ClientSessionGenerator,
) -> None:
    await hass.config_entries.async_unload(init_integration.entry_id)
    client = await hass_client()
    response = await client.get(f"/api/porchlight/clips/{CLIP_ID}.mp4")
    assert response.status == HTTPStatus.NOT_FOUND
    with pytest.raises(BrowseError, match="not loaded"):
        await async_browse_media(hass, f"{URI_SCHEME}{DOMAIN}")


async def test_clip_event_of_another_camera_is_ignored(
    hass: HomeAssistant, init_integration: MockConfigEntry, clip: Clip
) -> None:
    from homeassistant.helpers.dispatcher import async_dispatcher_send  # noqa: PLC0415

    before = hass.states.get("event.front_door_new_clip").state
    async_dispatcher_send(hass, signal_clip(init_integration.entry_id), GARDEN, clip)
    await hass.async_block_till_done()
    assert hass.states.get("event.front_door_new_clip").state == before
