"""Events: per camera, each new clip; per home, footage requests and neighbors' alerts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from homeassistant.components.event import EventEntity, EventEntityDescription
from homeassistant.core import callback
from homeassistant.helpers.dispatcher import async_dispatcher_connect

from .entity import CameraEntity, HomeEntity
from .federation.messages import ALERT_CATEGORIES
from .recordings.models import Clip, Trigger
from .signals import SIGNAL_ALERT, signal_clip, signal_pending

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

    from .alerts import Alert
    from .data import PorchlightConfigEntry

PARALLEL_UPDATES = 0

NEW_CLIP = EventEntityDescription(
    key="clip",
    translation_key="clip",
    event_types=[t.value for t in Trigger],
)
REQUEST = EventEntityDescription(key="request", translation_key="request", event_types=["pending"])
ALERT = EventEntityDescription(
    key="alert", translation_key="alert", event_types=sorted(ALERT_CATEGORIES)
)


async def async_setup_entry(
    hass: HomeAssistant,  # noqa: ARG001  # Home Assistant's platform signature
    entry: PorchlightConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a clip event entity per recorded camera, and the home's footage-request event."""
    async_add_entities(
        [
            *ClipEvent.for_each_camera(entry, NEW_CLIP),
            RequestEvent(entry, REQUEST),
            AlertEvent(entry, ALERT),
        ]
    )


class RequestEvent(HomeEntity, EventEntity):
    """Fires when a footage request waits for the owner (never for declined ones)."""

    async def async_added_to_hass(self) -> None:
        """Listen for pending requests."""
        self.async_on_remove(
            async_dispatcher_connect(self.hass, signal_pending(self._entry.entry_id), self._pending)
        )

    @callback
    def _pending(self, data: dict[str, object]) -> None:
        self._trigger_event("pending", data)
        self.async_write_ha_state()


class AlertEvent(HomeEntity, EventEntity):
    """Fires when a neighbor's alert arrives (not for muted neighbors); its category."""

    async def async_added_to_hass(self) -> None:
        """Listen for shown alerts."""
        self.async_on_remove(async_dispatcher_connect(self.hass, SIGNAL_ALERT, self._alert))

    @callback
    def _alert(self, alert: Alert) -> None:
        data = alert.as_event()
        self._trigger_event(data.pop("category"), data)
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
