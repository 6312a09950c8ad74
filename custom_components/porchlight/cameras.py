"""Which of Home Assistant's cameras Porchlight can record."""

from __future__ import annotations

from typing import TYPE_CHECKING

from homeassistant.components.camera import async_get_stream_source
from homeassistant.components.camera.const import DOMAIN as CAMERA_DOMAIN
from homeassistant.exceptions import HomeAssistantError

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant


async def async_recordable_cameras(hass: HomeAssistant) -> list[str]:
    """Return the camera entity ids that currently offer a stream source, sorted.

    Porchlight records by copying a camera's stream, so a snapshot-only camera (or one that
    is switched off) cannot be offered.
    """
    found: list[str] = []
    for entity_id in sorted(hass.states.async_entity_ids(CAMERA_DOMAIN)):
        try:
            source = await async_get_stream_source(hass, entity_id)
        except HomeAssistantError:
            continue
        if source:
            found.append(entity_id)
    return found
