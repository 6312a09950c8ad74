"""A home's entities and devices: their ids and devices are what owners' set-ups rely on."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.const import EntityCategory
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.entity_platform import async_get_platforms

from custom_components.porchlight.camera_map_glue import MAP_K
from custom_components.porchlight.const import DOMAIN
from custom_components.porchlight.federation.identity import Identity
from custom_components.porchlight.federation.peers import Peer

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.common import MockConfigEntry

CAMERA = "ENTRY_camera.front_door"


async def test_entities_keep_their_ids_devices_and_descriptions(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Pinned: a changed unique id or device would orphan the owner's entities."""
    entry_id = init_integration.entry_id
    devices = dr.async_get(hass)

    def device_of(device_id: str | None) -> str:
        device = devices.async_get(device_id or "")
        assert device is not None
        (identifier,) = device.identifiers
        return identifier[1].replace(entry_id, "ENTRY")

    polled = {
        entity.entity_id: entity.should_poll
        for platform in async_get_platforms(hass, DOMAIN)
        for entity in platform.entities.values()
    }
    found = {
        e.entity_id: (
            e.unique_id.replace(entry_id, "ENTRY"),
            device_of(e.device_id),
            e.translation_key,
            e.has_entity_name,
            e.original_device_class,
            e.entity_category,
            e.capabilities,
            e.unit_of_measurement,
            polled[e.entity_id],
        )
        for e in er.async_entries_for_config_entry(er.async_get(hass), entry_id)
    }
    measurement: dict[str, Any] = {"state_class": "measurement"}
    assert found == {
        "binary_sensor.front_door_recording": (
            f"{CAMERA}_recording",
            CAMERA,
            "recording",
            True,
            "running",
            None,
            None,
            None,
            False,
        ),
        "binary_sensor.front_door_stream": (
            f"{CAMERA}_stream",
            CAMERA,
            "stream",
            True,
            "connectivity",
            EntityCategory.DIAGNOSTIC,
            None,
            None,
            False,
        ),
        "event.front_door_new_clip": (
            f"{CAMERA}_clip",
            CAMERA,
            "clip",
            True,
            None,
            None,
            {"event_types": ["doorbell", "motion", "manual"]},
            None,
            False,
        ),
        # Pushed like the rest (it was polled by Entity's default until HomeEntity; polling an
        # event entity only rewrote its unchanged state every 30 s).
        "event.maple_street_12_footage_request": (
            "ENTRY_request",
            "ENTRY",
            "request",
            True,
            None,
            None,
            {"event_types": ["pending"]},
            None,
            False,
        ),
        "event.maple_street_12_neighbor_alert": (
            "ENTRY_alert",
            "ENTRY",
            "alert",
            True,
            None,
            None,
            {
                "event_types": [
                    "found",
                    "hazard",
                    "lost_pet",
                    "other",
                    "package",
                    "suspicious",
                    "theft",
                ]
            },
            None,
            False,
        ),
        "sensor.maple_street_12_neighborhood_footage_requests": (
            "ENTRY_neighborhood_requests",
            "ENTRY",
            "neighborhood_requests",
            True,
            None,
            None,
            measurement,
            None,
            False,
        ),
        "sensor.maple_street_12_recent_neighbor_alerts": (
            "ENTRY_recent_alerts",
            "ENTRY",
            "recent_alerts",
            True,
            None,
            None,
            measurement,
            None,
            False,
        ),
        "sensor.front_door_storage_used": (
            f"{CAMERA}_storage_used",
            CAMERA,
            "storage_used",
            True,
            "data_size",
            None,
            measurement,
            "MB",
            False,
        ),
        "sensor.maple_street_12_agencies": (
            "ENTRY_agencies",
            "ENTRY",
            "agencies",
            True,
            None,
            None,
            measurement,
            None,
            False,
        ),
        "sensor.maple_street_12_paired_neighbors": (
            "ENTRY_neighbors",
            "ENTRY",
            "neighbors",
            True,
            None,
            None,
            measurement,
            None,
            False,
        ),
        "sensor.maple_street_12_pending_footage_requests": (
            "ENTRY_pending_requests",
            "ENTRY",
            "pending_requests",
            True,
            None,
            None,
            measurement,
            None,
            False,
        ),
    }


async def test_camera_device_hangs_off_the_home_device(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    entry_id = init_integration.entry_id
    devices = dr.async_get(hass)
    home = devices.async_get_device_by_identifier((DOMAIN, entry_id), entry_id)
    camera = devices.async_get_device_by_identifier(
        (DOMAIN, f"{entry_id}_camera.front_door"), entry_id
    )
    assert home is not None
    assert camera is not None
    assert (camera.name, camera.manufacturer, camera.model, camera.via_device_id) == (
        "Front door",
        "Porchlight",
        "Recorded camera",
        home.id,
    )
    assert (home.name, home.manufacturer, home.model) == ("Maple Street 12", "Porchlight", "Home")
    assert {d.id for d in dr.async_entries_for_config_entry(devices, entry_id)} == {
        home.id,
        camera.id,
    }


async def test_a_camera_map_cell_is_an_entity_while_the_map_shows_it(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """One geo_location entity per shown cell, on the home device; gone with the cell."""
    federation = init_integration.runtime_data.federation
    camera_map = federation.camera_map
    here = camera_map.cell
    neighbors = [_neighbor(federation.node) for _ in range(2 * MAP_K - 1)]
    for peer in neighbors[: MAP_K - 1]:
        camera_map.cell_received(peer, here)
    await hass.async_block_till_done()
    registry = er.async_get(hass)
    [entity] = [
        e
        for e in er.async_entries_for_config_entry(registry, init_integration.entry_id)
        if e.domain == "geo_location"
    ]
    unique_id = f"ENTRY_map_{here.cell_m}_{here.row}_{here.col}"
    assert (
        entity.unique_id.replace(init_integration.entry_id, "ENTRY"),
        entity.translation_key,
        entity.has_entity_name,
    ) == (unique_id, "camera_map_cell", True)
    home = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, init_integration.entry_id), init_integration.entry_id
    )
    assert home is not None
    assert entity.device_id == home.id
    state = hass.states.get(entity.entity_id)
    assert state is not None
    assert state.name == "Maple Street 12 Cameras: 5 homes"
    assert (state.attributes["source"], state.attributes["homes"]) == ("porchlight", MAP_K)
    # Ten homes: the same entity, its count and name follow.
    for peer in neighbors[MAP_K - 1 :]:
        camera_map.cell_received(peer, here)
    await hass.async_block_till_done()
    state = hass.states.get(entity.entity_id)
    assert state is not None
    assert (state.name, state.attributes["homes"]) == ("Maple Street 12 Cameras: 10 homes", 10)
    # Under k again: no entity, not even a registry entry.
    for peer in neighbors:
        federation.node.peers.remove(peer.keyid)
    camera_map.refresh()
    await hass.async_block_till_done()
    assert hass.states.get(entity.entity_id) is None
    assert registry.async_get(entity.entity_id) is None


def _neighbor(node: Any) -> Peer:
    identity = Identity.generate()
    peer = Peer(
        keyid=identity.keyid,
        public_key=identity.public_key,
        role="neighbor",
        name="Neighbor",
        endpoint="http://127.0.0.1:9/api/porchlight/federation",
        paired_at=0,
        trusted=False,
    )
    node.peers.add(peer)
    return peer
