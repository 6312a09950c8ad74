"""The bases of Porchlight's entities: the home's own, and one device per recorded camera.

Both are pushed, never polled, and take their unique id from the entry id and the
description's key, so ids survive renames.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Self

from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity import Entity, EntityDescription

from .const import DOMAIN
from .signals import signal_status

if TYPE_CHECKING:
    from .data import PorchlightConfigEntry
    from .recordings.supervisor import RecorderStatus


class HomeEntity(Entity):
    """An entity about the home as a whole (peers, requests), on the home device.

    The home device itself is registered at set-up (entry.py), with the key's fingerprint.
    """

    _attr_has_entity_name = True
    _attr_should_poll = False

    def __init__(self, entry: PorchlightConfigEntry, description: EntityDescription) -> None:
        """Attach to the home device of the entry."""
        self.entity_description = description
        self._entry = entry
        self._attr_unique_id = f"{entry.entry_id}_{description.key}"
        self._attr_device_info = DeviceInfo(identifiers={(DOMAIN, entry.entry_id)})


class CameraEntity(Entity):
    """An entity about one recorded camera, updated when its recorder reports."""

    _attr_has_entity_name = True
    _attr_should_poll = False

    def __init__(
        self, entry: PorchlightConfigEntry, camera: str, description: EntityDescription
    ) -> None:
        """Bind to a camera of the entry."""
        self.entity_description = description
        self._entry = entry
        self._camera = camera
        self._attr_unique_id = f"{entry.entry_id}_{camera}_{description.key}"
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, f"{entry.entry_id}_{camera}")},
            name=entry.runtime_data.camera_names.get(camera, camera),
            manufacturer="Porchlight",
            model="Recorded camera",
            via_device_id=entry.runtime_data.home_device_id,
        )

    @classmethod
    def for_each_camera(
        cls, entry: PorchlightConfigEntry, *descriptions: EntityDescription
    ) -> list[Self]:
        """One entity per recorded camera and description, camera by camera.

        The cameras are the entry's: changing them reloads the entry, which sets the
        platforms up again, so there is no camera added later to listen for.
        """
        return [
            cls(entry, camera, description)
            for camera in entry.runtime_data.cameras
            for description in descriptions
        ]

    @property
    def recorder_status(self) -> RecorderStatus:
        """The camera recorder's latest status."""
        return self._entry.runtime_data.recorder.recorders[self._camera].status

    async def async_added_to_hass(self) -> None:
        """Follow recorder status and storage changes."""
        self.async_on_remove(
            async_dispatcher_connect(
                self.hass, signal_status(self._entry.entry_id), self.async_write_ha_state
            )
        )
