"""The camera map on Home Assistant's own map: one geo_location entity per shown cell.

Each entity sits at the centre of a cell the map shows (at least k homes, camera_map_glue.py)
and carries the cell's rounded count of homes and its size; HA's map card shows entities of
source `porchlight`. Cells come and go with the map, and so do their entities (removed from
the entity registry too, so no stale cell lingers as "unavailable").
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final, cast

from homeassistant.components.geo_location import GeolocationEvent
from homeassistant.core import callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.dispatcher import async_dispatcher_connect

from .camera_map_glue import SIGNAL_MAP_CHANGED
from .const import DOMAIN
from .federation.camera_map import Cell, centre

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
    from homeassistant.helpers.typing import UndefinedType

    from .data import PorchlightConfigEntry
    from .federation.camera_map import GeoJSON

SOURCE: Final = DOMAIN
PARALLEL_UPDATES = 0


def shown_cells(geojson: dict[str, GeoJSON]) -> dict[Cell, int]:
    """The cells of a built map and their counts of homes."""
    # build_map's own output: every feature has these integer properties.
    features = cast("list[dict[str, dict[str, int]]]", geojson["features"])
    return {
        Cell(p["cell_m"], p["row"], p["col"]): p["homes"]
        for p in (feature["properties"] for feature in features)
    }


async def async_setup_entry(
    hass: HomeAssistant,
    entry: PorchlightConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Follow the home's camera map: an entity per shown cell."""
    camera_map = entry.runtime_data.federation.camera_map
    entities: dict[Cell, CameraCell] = {}

    @callback
    def update() -> None:
        shown = shown_cells(camera_map.geojson)
        registry = er.async_get(hass)
        for cell in [c for c in entities if c not in shown]:
            entity = entities.pop(cell)
            # Out of the registry, and so off the state machine: the cell is no longer shown.
            registry.async_remove(entity.entity_id)
        new = []
        for cell, homes in shown.items():
            if cell in entities:
                entities[cell].set_homes(homes)
            else:
                entities[cell] = CameraCell(entry, cell, homes)
                new.append(entities[cell])
        if new:
            async_add_entities(new)

    update()
    entry.async_on_unload(async_dispatcher_connect(hass, SIGNAL_MAP_CHANGED, update))


class CameraCell(GeolocationEvent):
    """One cell of the camera map with at least k homes, at the cell's centre."""

    _attr_has_entity_name = True
    _attr_should_poll = False
    _attr_source = SOURCE
    _attr_translation_key = "camera_map_cell"

    def __init__(self, entry: PorchlightConfigEntry, cell: Cell, homes: int) -> None:
        """A cell of the entry's map holding (at least) homes homes."""
        self.cell = cell
        self.homes = homes
        self._attr_unique_id = f"{entry.entry_id}_map_{cell.cell_m}_{cell.row}_{cell.col}"
        self._attr_device_info = DeviceInfo(identifiers={(DOMAIN, entry.entry_id)})
        self._attr_latitude, self._attr_longitude = centre(cell)
        # The count in the name: "Cameras: 5 homes".
        self._attr_translation_placeholders = {"homes": str(homes)}

    @property
    def name(self) -> str | UndefinedType | None:
        """The translated name with the current count ("Cameras: 5 homes").

        Not cached, unlike Entity.name: the count in it changes while the entity lives.
        """
        # Read once the entity is added, when its platform's translations are loaded.
        return self._name_internal(
            self._device_class_name, self.platform_data.platform_translations
        )

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """The rounded count of homes and the cell's size (m); never which homes."""
        return {"homes": self.homes, "cell_m": self.cell.cell_m}

    @callback
    def set_homes(self, homes: int) -> None:
        """The map was rebuilt and still shows the cell, with this count."""
        # Written whether or not it changed: HA keeps an unchanged state as it is.
        self.homes = homes
        self._attr_translation_placeholders = {"homes": str(homes)}
        self.async_write_ha_state()
