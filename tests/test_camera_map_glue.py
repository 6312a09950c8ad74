"""The home's camera map (camera_map_glue.py): what is sent to whom, kept, forgotten, shown."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING

import pytest
from homeassistant.core import callback
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.porchlight.camera_map_glue import (
    MAP_K,
    REFRESH,
    REPORT_TTL,
    SIGNAL_MAP_CHANGED,
    STORAGE_KEY,
    NeighborhoodMap,
    home_cell,
)
from custom_components.porchlight.federation.camera_map import (
    CELL_M,
    Cell,
    cell_of,
    map_from_json,
)
from custom_components.porchlight.federation.identity import Identity
from custom_components.porchlight.federation.node import Node, Settings
from custom_components.porchlight.federation.peers import Peer

from .footage_helpers import HOME_LAT, HOME_LON

if TYPE_CHECKING:
    from typing import Any

    from homeassistant.core import HomeAssistant

    from custom_components.porchlight.federation.clock import ManualClock
    from custom_components.porchlight.federation.peers import Role

HERE = cell_of(HOME_LAT, HOME_LON)
# About 2 km north: another cell.
ELSEWHERE = cell_of(HOME_LAT + 20_000, HOME_LON)


def _node(clock: ManualClock) -> Node:
    return Node(Identity.generate(), Settings(name="Maple"), clock)


def _peer(
    node: Node,
    role: Role = "neighbor",
    *,
    pending: bool = False,
    trusted: bool = False,
    told: str = "http://127.0.0.1:8/api/porchlight/v1",
) -> Peer:
    identity = Identity.generate()
    peer = Peer(
        keyid=identity.keyid,
        public_key=identity.public_key,
        role=role,
        name="Peer",
        endpoint="http://127.0.0.1:9/api/porchlight/federation",
        paired_at=node.clock.now(),
        trusted=trusted,
        pending=pending,
        told=told,
    )
    node.peers.add(peer)
    return peer


def _sent(node: Node, msg_type: str) -> list[tuple[str, dict[str, Any]]]:
    """(peer, body) of every queued message of msg_type, oldest first."""
    found = []
    for entry in node.outbox:
        message = json.loads(entry.payload)
        if message["type"] == msg_type:
            found.append((entry.peer, message["body"]))
    return found


def _drain(node: Node) -> None:
    for entry in list(node.outbox):
        node.outbox.delivered(entry)


async def test_the_home_cell_goes_to_active_neighbors_only_and_again_a_day_later(
    hass: HomeAssistant, clock: ManualClock
) -> None:
    node = _node(clock)
    a, b = _peer(node), _peer(node)
    _peer(node, pending=True)  # the owner has not compared the code yet
    _peer(node, "agency", trusted=True)  # agencies get the map, never the cell
    camera_map = NeighborhoodMap(hass, node, HERE)
    camera_map.refresh()
    assert sorted(_sent(node, "map_cell")) == sorted(
        [(a.keyid, HERE.to_json()), (b.keyid, HERE.to_json())]
    )
    _drain(node)
    clock.advance(REFRESH - 1)
    camera_map.refresh()
    assert _sent(node, "map_cell") == []
    clock.advance(1)
    camera_map.refresh()
    assert {peer for peer, _ in _sent(node, "map_cell")} == {a.keyid, b.keyid}


async def test_a_home_that_moved_sends_its_new_cell_at_once(
    hass: HomeAssistant, clock: ManualClock
) -> None:
    node = _node(clock)
    neighbor = _peer(node)
    before = NeighborhoodMap(hass, node, HERE)
    before.refresh()
    await before.async_save()
    _drain(node)
    # The owner moved the home (reconfigure reloads the entry): a new map, the stored state.
    after = NeighborhoodMap(hass, node, ELSEWHERE)
    await after.async_load()
    after.refresh()
    assert _sent(node, "map_cell") == [(neighbor.keyid, ELSEWHERE.to_json())]
    # The same cell again after a reload: nothing is due.
    _drain(node)
    again = NeighborhoodMap(hass, node, ELSEWHERE)
    await again.async_save()
    await after.async_save()
    await again.async_load()
    again.refresh()
    assert _sent(node, "map_cell") == []


async def test_a_cell_is_shown_and_sent_to_agencies_only_once_it_holds_k_homes(
    hass: HomeAssistant, clock: ManualClock
) -> None:
    node = _node(clock)
    neighbors = [_peer(node) for _ in range(MAP_K)]
    agency = _peer(node, "agency", trusted=True)
    _peer(node, "agency")  # not trusted: gets nothing
    _peer(node, "agency", trusted=True, pending=True)  # not confirmed: gets nothing
    # Imported one-sided (never told of this home): a map would tell it the home exists.
    _peer(node, "agency", trusted=True, told="")
    changes: list[None] = []
    # A callback, so it runs inside the dispatch (a plain function would go to the executor
    # and land whenever a thread gets to it).
    async_dispatcher_connect(hass, SIGNAL_MAP_CHANGED, callback(lambda: changes.append(None)))
    camera_map = NeighborhoodMap(hass, node, HERE)
    camera_map.refresh()
    # An empty map is sent too: it tells the agency this home's earlier cells are gone.
    assert _sent(node, "camera_map") == [
        (agency.keyid, {"cell_m": CELL_M, "k": MAP_K, "cells": []})
    ]
    _drain(node)
    # The home and k - 2 neighbors: one short of k; one more neighbor elsewhere.
    for peer in neighbors[: MAP_K - 2]:
        camera_map.cell_received(peer, HERE)
    camera_map.cell_received(neighbors[-1], ELSEWHERE)
    assert camera_map.geojson == {"type": "FeatureCollection", "features": []}
    assert _sent(node, "camera_map") == []
    assert changes == []
    camera_map.cell_received(neighbors[MAP_K - 2], HERE)
    [feature] = camera_map.geojson["features"]  # type: ignore[misc]
    assert feature["properties"] == {  # type: ignore[index]
        "homes": MAP_K,
        "cell_m": CELL_M,
        "row": HERE.row,
        "col": HERE.col,
    }
    [(to, body)] = _sent(node, "camera_map")
    assert to == agency.keyid
    assert body == {
        "cell_m": CELL_M,
        "k": MAP_K,
        "cells": [{"row": HERE.row, "col": HERE.col, "homes": MAP_K}],
    }
    assert map_from_json(body)[0] == MAP_K
    assert changes == [None]
    # The same map is not sent again until a day has passed.
    _drain(node)
    camera_map.refresh()
    assert _sent(node, "camera_map") == []
    clock.advance(REFRESH)
    camera_map.refresh()
    assert [to for to, _ in _sent(node, "camera_map")] == [agency.keyid]


async def test_removed_neighbors_and_stale_cells_leave_the_map(
    hass: HomeAssistant, clock: ManualClock
) -> None:
    node = _node(clock)
    neighbors = [_peer(node) for _ in range(MAP_K - 1)]
    camera_map = NeighborhoodMap(hass, node, HERE)
    for peer in neighbors[:-1]:
        camera_map.cell_received(peer, HERE)
    clock.advance(REPORT_TTL - 10)
    camera_map.cell_received(neighbors[-1], HERE)
    assert len(camera_map.geojson["features"]) == 1  # type: ignore[arg-type]
    node.peers.remove(neighbors[-1].keyid)
    camera_map.refresh()
    assert camera_map.geojson["features"] == []
    assert set(camera_map.reports) == {p.keyid for p in neighbors[:-1]}
    clock.advance(10)
    camera_map.refresh()
    assert camera_map.reports == {}


@pytest.mark.allow_porchlight_warnings("A stored camera map cell was unreadable")
async def test_kept_cells_survive_a_restart_and_a_damaged_one_is_dropped(
    hass: HomeAssistant, clock: ManualClock, hass_storage: dict[str, Any]
) -> None:
    node = _node(clock)
    neighbors = [_peer(node) for _ in range(MAP_K - 1)]
    agency = _peer(node, "agency", trusted=True)
    camera_map = NeighborhoodMap(hass, node, HERE)
    for peer in neighbors:
        camera_map.cell_received(peer, HERE)
    await camera_map.async_save()
    stored = hass_storage[STORAGE_KEY]["data"]
    assert stored["map_sent"][agency.keyid]["body"]["cells"][0]["homes"] == MAP_K
    stored["reports"][neighbors[0].keyid]["cell"] = {"cell_m": CELL_M, "row": 0, "col": 3}
    stored["sent_cell"] = {"cell_m": 1}
    _drain(node)
    restarted = NeighborhoodMap(hass, node, HERE)
    await restarted.async_load()
    assert set(restarted.reports) == {p.keyid for p in neighbors[1:]}
    assert restarted.sent_cell is None
    restarted.refresh()
    # One home fewer: the cell is gone, and the agency is told at once.
    assert restarted.geojson["features"] == []
    assert _sent(node, "camera_map") == [
        (agency.keyid, {"cell_m": CELL_M, "k": MAP_K, "cells": []})
    ]


def test_the_home_cell_is_the_cell_of_its_configured_location() -> None:
    location = {"latitude": HOME_LAT / 1e6, "longitude": HOME_LON / 1e6}
    assert home_cell(location) == HERE
    assert isinstance(HERE, Cell)


@pytest.mark.usefixtures("socket_enabled")
async def test_the_hourly_timer_sends_what_is_due(
    hass: HomeAssistant, init_integration: Any
) -> None:
    federation = init_integration.runtime_data.federation
    node = federation.node
    camera_map = federation.camera_map
    assert camera_map is not None
    # On the LAN at a closed port: the same hour runs the outbox too, and what it cannot
    # deliver stays queued, where it can be seen.
    neighbor = replace(_peer(node), lan=True)
    node.peers.add(neighbor)
    # Due since a day ago, without any change of peers to run it.
    camera_map.cell_sent[neighbor.keyid] = node.clock.now() - REFRESH
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(hours=1, seconds=1))
    await hass.async_block_till_done()
    assert [peer for peer, _ in _sent(node, "map_cell")] == [neighbor.keyid]
