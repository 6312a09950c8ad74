"""The home's k-anonymous camera map: its cell sent out, its neighbors' cells kept, the map built.

The home's exact location stays here: only its grid cell (federation/camera_map.py, about
250 m) goes to its active neighbors, in a `map_cell` message, when a pairing becomes active,
when the cell changed (the owner moved the home) and once a day. The cells neighbors report
are kept (latest per neighbor, forgotten when the neighbor is removed or after a week
without a refresh), and the map is built from them and the home's own cell with build_map:
only cells of at least k homes are shown. That map, and nothing finer, goes to every active
trusted agency in a `camera_map` message, daily and whenever it changes. Shown in Home
Assistant as geo_location entities (geo_location.py) and through `porchlight/camera_map`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from homeassistant.const import CONF_LATITUDE, CONF_LONGITUDE
from homeassistant.core import callback
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.storage import Store

from .const import DOMAIN
from .federation.camera_map import (
    CELL_M,
    DEFAULT_K,
    MIN_K,
    Cell,
    CellReport,
    build_map,
    cell_from_json,
    cell_of,
    map_body,
)
from .federation.errors import AreaError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from homeassistant.core import HomeAssistant

    from .federation.camera_map import GeoJSON
    from .federation.canonical import JSON
    from .federation.node import Node
    from .federation.peers import Peer

_LOGGER = logging.getLogger(__name__)

STORAGE_KEY: Final = f"{DOMAIN}.camera_map"
STORAGE_VERSION: Final = 1
SIGNAL_MAP_CHANGED: Final = f"{DOMAIN}_camera_map_changed"
# How often the home's cell and its map are sent again, and how long a neighbor's cell is
# kept without one: a week, so a neighbor offline for a few days still counts.
REFRESH: Final = 86400
REPORT_TTL: Final = 7 * 86400
# The map's k (docs/threat-model.md): a constant, so every home shows cells of the same
# crowd size; never below camera_map.MIN_K.
MAP_K: Final = max(DEFAULT_K, MIN_K)


def home_cell(location: Mapping[str, float]) -> Cell:
    """The cell of the home's configured location (which itself never leaves home)."""
    lat = round(location[CONF_LATITUDE] * 1e6)
    lon = round(location[CONF_LONGITUDE] * 1e6)
    return cell_of(lat, lon, CELL_M)


@dataclass(slots=True)
class NeighborhoodMap:
    """What this home knows of the camera map, and what it has told whom."""

    hass: HomeAssistant
    node: Node
    cell: Cell
    k: int = MAP_K
    store: Store[dict[str, Any]] = field(init=False)
    # Neighbors' latest reports, by keyid.
    reports: dict[str, CellReport] = field(default_factory=dict)
    # When our cell last went to each neighbor; when our map last went to each agency, and
    # which body it was.
    cell_sent: dict[str, int] = field(default_factory=dict)
    map_sent: dict[str, tuple[int, dict[str, JSON]]] = field(default_factory=dict)
    # The cell the sends above were of: another one (the home moved) is sent to everyone.
    sent_cell: Cell | None = None
    geojson: dict[str, GeoJSON] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Kept across restarts, privately: it names neighbors' keys and their cells."""
        self.store = Store(self.hass, STORAGE_VERSION, STORAGE_KEY, private=True)
        self.geojson = self._build()

    async def async_load(self) -> None:
        """Bring back the neighbors' cells and what was sent; a damaged record is dropped."""
        data = await self.store.async_load() or {}
        for keyid, report in data.get("reports", {}).items():
            try:
                cell = cell_from_json(report["cell"])
                self.reports[keyid] = CellReport(keyid, cell, int(report["at"]))
            except AreaError, KeyError, TypeError, ValueError:
                _LOGGER.warning("A stored camera map cell was unreadable; dropped")
        self.cell_sent = {k: int(v) for k, v in data.get("cell_sent", {}).items()}
        self.map_sent = {k: (int(v["at"]), v["body"]) for k, v in data.get("map_sent", {}).items()}
        try:
            self.sent_cell = cell_from_json(data["sent_cell"]) if "sent_cell" in data else None
        except AreaError:
            self.sent_cell = None

    def _data(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "reports": {k: {"cell": r.cell.to_json(), "at": r.at} for k, r in self.reports.items()},
            "cell_sent": dict(self.cell_sent),
            "map_sent": {k: {"at": at, "body": b} for k, (at, b) in self.map_sent.items()},
        }
        if self.sent_cell is not None:
            data["sent_cell"] = self.sent_cell.to_json()
        return data

    async def async_save(self) -> None:
        """Write now (unload)."""
        await self.store.async_save(self._data())

    def _build(self) -> dict[str, GeoJSON]:
        own = CellReport(self.node.identity.keyid, self.cell)
        return build_map([own, *self.reports.values()], self.k)

    @callback
    def cell_received(self, peer: Peer, cell: Cell) -> None:
        """A neighbor reported its cell (checked on arrival): keep it, update the map."""
        now = self.node.clock.now()
        self.reports[peer.keyid] = CellReport(peer.keyid, cell, now)
        self.refresh()

    @callback
    def refresh(self) -> None:
        """Forget what is stale, send what is due, rebuild the map; tell the entities.

        Run on every change of peers, on each new cell and from an hourly timer, so what
        is due goes within an hour of being due.
        """
        node = self.node
        now = node.clock.now()
        peers = {p.keyid: p for p in node.peers}
        self.reports = {
            k: r
            for k, r in self.reports.items()
            if k in peers and peers[k].role == "neighbor" and now - r.at < REPORT_TTL
        }
        if self.sent_cell != self.cell:
            self.cell_sent.clear()
            self.sent_cell = self.cell
        self.cell_sent = {k: at for k, at in self.cell_sent.items() if k in peers}
        for neighbor in node.peers.active_neighbors():
            if now - self.cell_sent.get(neighbor.keyid, now - REFRESH) >= REFRESH:
                node.send(neighbor.keyid, "map_cell", self.cell.to_json(), lifetime=REFRESH)
                self.cell_sent[neighbor.keyid] = now
        geojson = self._build()
        changed = geojson != self.geojson
        self.geojson = geojson
        body = map_body(geojson, self.k)
        self.map_sent = {k: sent for k, sent in self.map_sent.items() if k in peers}
        for agency in node.peers.agencies():
            if not agency.trusted or agency.pending or not agency.knows_us:
                continue
            at, last = self.map_sent.get(agency.keyid, (now - REFRESH, {}))
            if last != body or now - at >= REFRESH:
                node.send(agency.keyid, "camera_map", body, lifetime=2 * REFRESH)
                self.map_sent[agency.keyid] = (now, body)
        self.store.async_delay_save(self._data, 1)
        if changed:
            async_dispatcher_send(self.hass, SIGNAL_MAP_CHANGED)
