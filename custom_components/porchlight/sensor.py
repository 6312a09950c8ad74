"""Sensors: per camera, the disk its recordings use; per home, its paired neighbors and agencies."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, override

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import UnitOfInformation
from homeassistant.core import callback
from homeassistant.helpers.dispatcher import async_dispatcher_connect

from .digest_glue import SIGNAL_DIGESTS
from .entity import CameraEntity, HomeEntity
from .signals import SIGNAL_ALERT, SIGNAL_ALERT_CLIPS, SIGNAL_PEERS_CHANGED, signal_requests

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

    from .alerts import Alert
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
NEIGHBORS = SensorEntityDescription(
    key="neighbors", translation_key="neighbors", state_class=SensorStateClass.MEASUREMENT
)
AGENCIES = SensorEntityDescription(
    key="agencies", translation_key="agencies", state_class=SensorStateClass.MEASUREMENT
)
PENDING_REQUESTS = SensorEntityDescription(
    key="pending_requests",
    translation_key="pending_requests",
    state_class=SensorStateClass.MEASUREMENT,
)

RECENT_ALERTS = SensorEntityDescription(
    key="recent_alerts", translation_key="recent_alerts", state_class=SensorStateClass.MEASUREMENT
)
NEIGHBORHOOD_REQUESTS = SensorEntityDescription(
    key="neighborhood_requests",
    translation_key="neighborhood_requests",
    state_class=SensorStateClass.MEASUREMENT,
)
# The alerts the sensor counts and lists: those of the last day.
ALERT_WINDOW = 86400


async def async_setup_entry(
    hass: HomeAssistant,  # noqa: ARG001  # Home Assistant's platform signature
    entry: PorchlightConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a storage sensor per recorded camera and the home's peer counts."""
    async_add_entities(
        [
            *StorageSensor.for_each_camera(entry, STORAGE),
            NeighborsSensor(entry, NEIGHBORS),
            AgenciesSensor(entry, AGENCIES),
            PendingRequestsSensor(entry, PENDING_REQUESTS),
            RecentAlertsSensor(entry, RECENT_ALERTS),
            NeighborhoodRequestsSensor(entry, NEIGHBORHOOD_REQUESTS),
        ]
    )


class StorageSensor(CameraEntity, SensorEntity):
    """Bytes of a camera's recordings on disk."""

    @property
    def native_value(self) -> int:
        """Clips plus buffered segments."""
        return self._entry.runtime_data.recorder.storage.get(self._camera, 0)


class _PeerCountSensor(HomeEntity, SensorEntity):
    def __init__(self, entry: PorchlightConfigEntry, description: SensorEntityDescription) -> None:
        super().__init__(entry, description)
        self._node = entry.runtime_data.federation.node

    @override
    async def async_added_to_hass(self) -> None:
        self.async_on_remove(
            async_dispatcher_connect(self.hass, SIGNAL_PEERS_CHANGED, self.async_write_ha_state)
        )


class NeighborsSensor(_PeerCountSensor):
    """Paired neighbors."""

    @property
    @override
    def native_value(self) -> int:
        return len(self._node.peers.neighbors())


class AgenciesSensor(_PeerCountSensor):
    """Imported agencies; the attribute says how many the owner trusts."""

    @property
    @override
    def native_value(self) -> int:
        return len(self._node.peers.agencies())

    @property
    @override
    def extra_state_attributes(self) -> dict[str, int]:
        return {"trusted": sum(1 for a in self._node.peers.agencies() if a.trusted)}


class PendingRequestsSensor(HomeEntity, SensorEntity):
    """Footage requests waiting for the owner's decision."""

    _attr_native_value = 0

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


class RecentAlertsSensor(HomeEntity, SensorEntity):
    """Neighbors' alerts of the last day (muted neighbors' not included); the latest listed."""

    @override
    async def async_added_to_hass(self) -> None:
        self.async_on_remove(async_dispatcher_connect(self.hass, SIGNAL_ALERT, self._changed))
        self.async_on_remove(
            async_dispatcher_connect(self.hass, SIGNAL_ALERT_CLIPS, self.async_write_ha_state)
        )

    @callback
    def _changed(self, _alert: Alert) -> None:
        self.async_write_ha_state()

    def _recent(self) -> list[Alert]:
        federation = self._entry.runtime_data.federation
        since = federation.node.clock.now() - ALERT_WINDOW
        return [a for a in federation.alerts.recent if a.received_at >= since]

    @property
    @override
    def native_value(self) -> int:
        return len(self._recent())

    @property
    @override
    def extra_state_attributes(self) -> dict[str, list[dict[str, Any]]]:
        return {"alerts": [a.as_event() for a in self._recent()[:5]]}


class NeighborhoodRequestsSensor(HomeEntity, SensorEntity):
    """Footage requests the neighborhood (this home and its neighbors) received last week.

    From the signed digests' sum (digest_glue.py); the attributes give the week, how many
    homes' digests it covers and the totals per agency. Counts only, no home named.
    """

    @override
    async def async_added_to_hass(self) -> None:
        self.async_on_remove(
            async_dispatcher_connect(self.hass, SIGNAL_DIGESTS, self.async_write_ha_state)
        )

    @property
    @override
    def native_value(self) -> int | None:
        digests = self._entry.runtime_data.federation.digests
        summed = digests.last_week if digests is not None else None
        if summed is None:
            return None
        return sum(t.counts.requests_received for t in summed.aggregate.agencies.values())

    @property
    @override
    def extra_state_attributes(self) -> dict[str, Any]:
        digests = self._entry.runtime_data.federation.digests
        summed = digests.last_week if digests is not None else None
        if digests is None or summed is None:
            return {}
        return {
            "period": summed.aggregate.period,
            "homes": summed.aggregate.homes,
            "agencies": digests.agency_totals(),
        }
