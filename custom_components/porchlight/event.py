"""Per camera: an event each time a new clip is ready (doorbell, motion or manual)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from homeassistant.components.event import EventEntity, EventEntityDescription
from homeassistant.core import callback
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.dispatcher import async_dispatcher_connect

from .const import DOMAIN
from .entity import CameraEntity
from .footage import signal_pending
from .recorder.models import Clip, Trigger
from .recording import signal_clip

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

    from .data import PorchlightConfigEntry

PARALLEL_UPDATES = 0

NEW_CLIP = EventEntityDescription(
    key="clip",
    translation_key="clip",
    event_types=[t.value for t in Trigger],
)


async def async_setup_entry(
    hass: HomeAssistant,  # noqa: ARG001  # Home Assistant's platform signature
    entry: PorchlightConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a clip event entity per recorded camera, and the home's footage-request event."""
    async_add_entities(
        [
            *(ClipEvent(entry, camera, NEW_CLIP) for camera in entry.runtime_data.cameras),
            RequestEvent(entry),
        ]
    )


class RequestEvent(EventEntity):
    """Fires when a footage request waits for the owner (never for declined ones)."""

    _attr_has_entity_name = True
    _attr_translation_key = "request"
    _attr_event_types = ["pending"]  # noqa: RUF012  # Home Assistant's attribute style

    def __init__(self, entry: PorchlightConfigEntry) -> None:
        """Attach to the home device."""
        self._entry_id = entry.entry_id
        self._attr_unique_id = f"{entry.entry_id}_request"
        self._attr_device_info = DeviceInfo(identifiers={(DOMAIN, entry.entry_id)})

    async def async_added_to_hass(self) -> None:
        """Listen for pending requests."""
        self.async_on_remove(
            async_dispatcher_connect(self.hass, signal_pending(self._entry_id), self._pending)
        )

    @callback
    def _pending(self, data: dict[str, object]) -> None:
        self._trigger_event("pending", data)
        self.async_write_ha_state()


class ClipEvent(CameraEntity, EventEntity):
    """Fires when a clip of this camera has been indexed."""

    async def async_added_to_hass(self) -> None:
        """Listen for new clips too."""
        await super().async_added_to_hass()
        self.async_on_remove(
            async_dispatcher_connect(self.hass, signal_clip(self._entry.entry_id), self._clip)
        )

    @callback
    def _clip(self, camera: str, clip: Clip) -> None:
        if camera != self._camera:
            return
        self._trigger_event(
            clip.trigger.value,
            {
                "clip_id": clip.id,
                "start": clip.start,
                "end": clip.end,
                "duration": round(clip.duration, 1),
            },
        )
        self.async_write_ha_state()
