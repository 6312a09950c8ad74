"""Service actions, registered once for the integration."""

from __future__ import annotations

from typing import TYPE_CHECKING

import probatio
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import HomeAssistant, ServiceCall, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv

from .const import DOMAIN, SERVICE_CAPTURE_CLIP
from .recorder.models import Trigger

if TYPE_CHECKING:
    from .data import PorchlightConfigEntry

CAPTURE_CLIP_SCHEMA = probatio.Schema({probatio.Required(ATTR_ENTITY_ID): cv.entity_ids})


def loaded_entry(hass: HomeAssistant) -> PorchlightConfigEntry:
    """The loaded Porchlight entry, or a translated error for the caller."""
    entries: list[PorchlightConfigEntry] = hass.config_entries.async_entries(DOMAIN)
    for entry in entries:
        if entry.state is ConfigEntryState.LOADED:
            return entry
    raise ServiceValidationError(translation_domain=DOMAIN, translation_key="not_loaded")


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register Porchlight's service actions."""

    @callback
    def capture_clip(call: ServiceCall) -> None:
        entry = loaded_entry(hass)
        recorder = entry.runtime_data.recorder
        cameras = call.data[ATTR_ENTITY_ID]
        unknown = [c for c in cameras if c not in recorder.recorders]
        if unknown:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="camera_not_recorded",
                translation_placeholders={"cameras": ", ".join(unknown)},
            )
        for camera in cameras:
            recorder.trigger(camera, Trigger.MANUAL)

    hass.services.async_register(
        DOMAIN, SERVICE_CAPTURE_CLIP, capture_clip, schema=CAPTURE_CLIP_SCHEMA
    )
