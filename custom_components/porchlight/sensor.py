"""Per camera: how much disk its clips and segments use."""

from __future__ import annotations

from typing import TYPE_CHECKING

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import UnitOfInformation

from .entity import CameraEntity

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

    from .data import PorchlightConfigEntry

PARALLEL_UPDATES = 0

STORAGE = SensorEntityDescription(
    key="storage_used",
    translation_key="storage_used",
    device_class=SensorDeviceClass.DATA_SIZE,
    state_class=SensorStateClass.MEASUREMENT,
    native_unit_of_measurement=UnitOfInformation.BYTES,
    suggested_unit_of_measurement=UnitOfInformation.MEGABYTES,
    suggested_display_precision=1,
)


async def async_setup_entry(
    hass: HomeAssistant,  # noqa: ARG001  # Home Assistant's platform signature
    entry: PorchlightConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a storage sensor per recorded camera."""
    async_add_entities(
        StorageSensor(entry, camera, STORAGE) for camera in entry.runtime_data.cameras
    )


class StorageSensor(CameraEntity, SensorEntity):
    """Bytes of a camera's recordings on disk."""

    @property
    def native_value(self) -> int:
        """Clips plus buffered segments."""
        return self._entry.runtime_data.recorder.storage.get(self._camera, 0)
