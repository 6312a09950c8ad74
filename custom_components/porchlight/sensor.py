"""Sensors: per camera, the disk its recordings use; per home, its paired neighbors and agencies."""

from __future__ import annotations

from typing import TYPE_CHECKING, override

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import UnitOfInformation
from homeassistant.core import callback
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.dispatcher import async_dispatcher_connect

from .const import DOMAIN
from .entity import CameraEntity
from .federation_glue import SIGNAL_PEERS_CHANGED
from .footage import signal_requests

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

    from .data import PorchlightConfigEntry
    from .federation.node import Node

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
    """Add a storage sensor per recorded camera and the home's peer counts."""
    node = entry.runtime_data.federation.node
    async_add_entities(
        [
            *(StorageSensor(entry, camera, STORAGE) for camera in entry.runtime_data.cameras),
            NeighborsSensor(entry, node),
            AgenciesSensor(entry, node),
            PendingRequestsSensor(entry),
        ]
    )


class StorageSensor(CameraEntity, SensorEntity):
    """Bytes of a camera's recordings on disk."""

    @property
    def native_value(self) -> int:
        """Clips plus buffered segments."""
        return self._entry.runtime_data.recorder.storage.get(self._camera, 0)


class _PeerCountSensor(SensorEntity):
    _attr_has_entity_name = True
    _attr_should_poll = False
    _attr_state_class = SensorStateClass.MEASUREMENT

    def __init__(self, entry: PorchlightConfigEntry, node: Node) -> None:
        self._node = node
        self._attr_unique_id = f"{entry.entry_id}_{self._attr_translation_key}"
        self._attr_device_info = DeviceInfo(identifiers={(DOMAIN, entry.entry_id)})

    @override
    async def async_added_to_hass(self) -> None:
        self.async_on_remove(
            async_dispatcher_connect(self.hass, SIGNAL_PEERS_CHANGED, self.async_write_ha_state)
        )


class NeighborsSensor(_PeerCountSensor):
    """Paired neighbors."""

    _attr_translation_key = "neighbors"

    @property
    @override
    def native_value(self) -> int:
        return len(self._node.peers.neighbors())


class AgenciesSensor(_PeerCountSensor):
    """Imported agencies; the attribute says how many the owner trusts."""

    _attr_translation_key = "agencies"

    @property
    @override
    def native_value(self) -> int:
        return len(self._node.peers.agencies())

    @property
    @override
    def extra_state_attributes(self) -> dict[str, int]:
        return {"trusted": sum(1 for a in self._node.peers.agencies() if a.trusted)}


class PendingRequestsSensor(SensorEntity):
    """Footage requests waiting for the owner's decision."""

    _attr_has_entity_name = True
    _attr_should_poll = False
    _attr_translation_key = "pending_requests"
    _attr_state_class = SensorStateClass.MEASUREMENT

    def __init__(self, entry: PorchlightConfigEntry) -> None:
        """Attach to the home device."""
        self._entry = entry
        self._attr_unique_id = f"{entry.entry_id}_pending_requests"
        self._attr_device_info = DeviceInfo(identifiers={(DOMAIN, entry.entry_id)})
        self._attr_native_value = 0

    @override
    async def async_added_to_hass(self) -> None:
        self.async_on_remove(
            async_dispatcher_connect(
                self.hass, signal_requests(self._entry.entry_id), self._schedule_refresh
            )
        )
        await self._async_refresh()

    @callback
    def _schedule_refresh(self) -> None:
        self.hass.async_create_task(self._async_refresh(), eager_start=True)

    async def _async_refresh(self) -> None:
        desk = self._entry.runtime_data.desk
        pending = await self.hass.async_add_executor_job(desk.pending)
        self._attr_native_value = len(pending)
        self.async_write_ha_state()
