"""Sensors: how many neighbors and agencies this home is paired with."""

from __future__ import annotations

from typing import TYPE_CHECKING, override

from homeassistant.components.sensor import SensorEntity, SensorStateClass
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.dispatcher import async_dispatcher_connect

from .const import DOMAIN
from .federation_glue import SIGNAL_PEERS_CHANGED

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

    from .data import PorchlightConfigEntry
    from .federation.node import Node


async def async_setup_entry(
    hass: HomeAssistant,  # noqa: ARG001  # platform entry point signature
    entry: PorchlightConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the peer count sensors."""
    federation = entry.runtime_data.federation
    async_add_entities(
        [NeighborsSensor(entry, federation.node), AgenciesSensor(entry, federation.node)]
    )


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
