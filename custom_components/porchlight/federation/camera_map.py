"""A k-anonymous camera map: which coarse grid cells hold at least k homes with cameras.

A home never says where it is, only which cell of a fixed global grid it lies in (about
250 m x 250 m by default); the map then shows a cell only once k distinct homes report it, so
no published cell points at fewer than k homes. Nothing finer than a cell ever leaves a home:
`cell_of` runs at home on the home's own location, and only the resulting `Cell` travels.

The grid is normative (docs/protocol.md §16) so that every home and every map builder agree:

- rows are bands of `lat_step(cell_m)` µdeg of latitude, counted from the South Pole (row 0);
  the last band is cut short at the North Pole, which belongs to it;
- row r is split into `columns(cell_m, r)` equal columns counted east from -180°, as many as
  fit while each stays at least cell_m wide at the row's centre latitude, so one row has one
  width and the columns tile it exactly: no sliver cell at the antimeridian, and near a pole a
  single column spans the whole band;
- a cell is half-open, [south, north) x [west, east) in µdeg (the top row includes 90°), and
  +180° is the same meridian as -180°, so it lies in column 0.

Floating point only sizes the grid (the cosine of a row's centre latitude); which cell a point
is in is then decided in integers, so a home always lies inside the bounds of its own cell.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from .errors import AreaError
from .geo import EARTH_RADIUS_M, MAX_LAT, MAX_LON, UDEG
from .messages import KEYID_RE

if TYPE_CHECKING:
    from collections.abc import Iterable

    from .canonical import JSON

CELL_M: Final = 250
# Nothing finer than the default: a smaller cell would narrow a home down further than the
# map's promise. Coarser cells are allowed for sparse areas (fewer cells reach k there).
MIN_CELL_M: Final = CELL_M
MAX_CELL_M: Final = 10_000
DEFAULT_K: Final = 5
# k = 2 lets either of the two homes of a cell, knowing its own report, learn the other's
# cell exactly; with 3 or more the others of a cell stay a crowd even to one of its members.
MIN_K: Final = 3
_LON_SPAN: Final = 2 * MAX_LON
_LAT_SPAN: Final = 2 * MAX_LAT
# Metres along a meridian per µdeg of latitude, on geo.py's sphere.
_M_PER_UDEG: Final = EARTH_RADIUS_M * math.pi / 180 / UDEG

# The map is for display, not for the wire: unlike canonical JSON it holds degrees as floats.
type GeoJSON = bool | int | float | str | list[GeoJSON] | dict[str, GeoJSON] | None


def lat_step(cell_m: int) -> int:
    """The height of every row, in µdeg, for a grid of cell_m metres (AreaError if unusable)."""
    _check_cell_m(cell_m)
    return round(cell_m / _M_PER_UDEG)


def rows(cell_m: int) -> int:
    """How many rows the grid has, pole to pole."""
    return -(-_LAT_SPAN // lat_step(cell_m))


def columns(cell_m: int, row: int) -> int:
    """How many equal columns row `row` is split into (at least one)."""
    step = lat_step(cell_m)
    _check_row(cell_m, row)
    south = row * step - MAX_LAT
    north = min(south + step, MAX_LAT)
    centre = (south + north) / 2 / UDEG
    # The row's circumference at its centre over the cell size, rounded down: columns are
    # never narrower than cell_m there. cos is clamped at 0 so a pole row's is one column.
    width_m = max(0.0, math.cos(math.radians(centre))) * _LON_SPAN * _M_PER_UDEG
    return max(1, int(width_m // cell_m))


@dataclass(frozen=True, slots=True)
class Cell:
    """One cell of the grid of cell_m metres: its row (from the south) and column (from -180°).

    Refused (AreaError): a cell size outside 250..10,000 m, a row or column not on the grid.
    """

    cell_m: int
    row: int
    col: int

    def __post_init__(self) -> None:
        """Check the cell is on the grid, so a bogus report is refused, not mapped."""
        if type(self.col) is not int or not 0 <= self.col < columns(self.cell_m, self.row):
            msg = f"column {self.col!r} is not on row {self.row} of the {self.cell_m} m grid"
            raise AreaError(msg)

    def bounds(self) -> tuple[int, int, int, int]:
        """(south, west, north, east) in µdeg; the cell is [south, north) x [west, east)."""
        step = lat_step(self.cell_m)
        n = columns(self.cell_m, self.row)
        south = self.row * step - MAX_LAT
        north = min(south + step, MAX_LAT)
        # The smallest whole µdeg of each column: col c holds lon with c <= (lon+180°)·n/360°.
        west = -(-self.col * _LON_SPAN // n) - MAX_LON
        east = -(-(self.col + 1) * _LON_SPAN // n) - MAX_LON
        return south, west, north, east

    def to_json(self) -> dict[str, JSON]:
        """The body of a `map_cell` message."""
        return {"cell_m": self.cell_m, "row": self.row, "col": self.col}


def cell_from_json(body: JSON) -> Cell:
    """The cell of a `map_cell` body (exact fields, integers, on the grid); else AreaError."""
    if not isinstance(body, dict) or set(body) != {"cell_m", "row", "col"}:
        msg = "a map cell has exactly the fields cell_m, row, col"
        raise AreaError(msg)
    cell_m, row, col = body["cell_m"], body["row"], body["col"]
    if type(cell_m) is not int or type(row) is not int or type(col) is not int:
        msg = "a map cell's fields are integers"
        raise AreaError(msg)
    return Cell(cell_m, row, col)


def cell_of(lat_udeg: int, lon_udeg: int, cell_m: int = CELL_M) -> Cell:
    """The cell holding the point (µdeg). Run at home on its own location; only the cell leaves."""
    for value, limit, what in ((lat_udeg, MAX_LAT, "lat"), (lon_udeg, MAX_LON, "lon")):
        if type(value) is not int or not -limit <= value <= limit:
            msg = f"{what} must be an integer from {-limit} to {limit} µdeg"
            raise AreaError(msg)
    row = min((lat_udeg + MAX_LAT) // lat_step(cell_m), rows(cell_m) - 1)
    n = columns(cell_m, row)
    # +180° is -180°: the modulo folds it into column 0.
    col = (lon_udeg + MAX_LON) % _LON_SPAN * n // _LON_SPAN
    return Cell(cell_m, row, col)


@dataclass(frozen=True, slots=True)
class CellReport:
    """What one home says: its keyid, its cell, and when (s; the latest report of a home wins)."""

    home: str
    cell: Cell
    at: int = 0

    def __post_init__(self) -> None:
        """Refuse a report without a well-formed keyid; it could not be deduplicated."""
        if type(self.home) is not str or KEYID_RE.fullmatch(self.home) is None:
            msg = "a report's home must be a keyid"
            raise ValueError(msg)


def build_map(reports: Iterable[CellReport], k: int = DEFAULT_K) -> dict[str, GeoJSON]:
    """A GeoJSON FeatureCollection of the cells at least k distinct homes report.

    Each home counts once, in the cell of its latest report (the later one of equal `at`), so
    a home cannot fill a cell alone by reporting often, nor count in two cells. Every feature
    is one cell's rectangle (corners only, in degrees) with properties `homes` (the count
    rounded down to a multiple of k, see below), `cell_m`, `row` and `col`; features are in
    grid order, so nothing about the reports, their order or the homes' keys is in the map.

    The count is bucketed because exact counts let anyone comparing two maps see one home
    join or leave a cell; in multiples of k most single changes are invisible. ValueError
    for k below 3 (docs/threat-model.md).
    """
    if type(k) is not int or k < MIN_K:
        msg = f"k must be an integer of at least {MIN_K}: smaller groups identify their homes"
        raise ValueError(msg)
    latest: dict[str, tuple[int, int, Cell]] = {}
    for index, report in enumerate(reports):
        seen = latest.get(report.home)
        if seen is None or (report.at, index) > seen[:2]:
            latest[report.home] = (report.at, index, report.cell)
    counts: dict[Cell, int] = {}
    for _, _, cell in latest.values():
        counts[cell] = counts.get(cell, 0) + 1
    features: list[GeoJSON] = [
        _feature(cell, count - count % k)
        for cell, count in sorted(counts.items(), key=lambda item: _grid_order(item[0]))
        if count >= k
    ]
    return {"type": "FeatureCollection", "features": features}


def _grid_order(cell: Cell) -> tuple[int, int, int]:
    return cell.cell_m, cell.row, cell.col


def _feature(cell: Cell, homes: int) -> GeoJSON:
    south, west, north, east = cell.bounds()
    sw: GeoJSON = [_deg(west), _deg(south)]
    ring: GeoJSON = [
        sw,
        [_deg(east), _deg(south)],
        [_deg(east), _deg(north)],
        [_deg(west), _deg(north)],
        sw,
    ]
    return {
        "type": "Feature",
        # Counter-clockwise and closed, as RFC 7946 §3.1.6 asks of an exterior ring.
        "geometry": {"type": "Polygon", "coordinates": [ring]},
        "properties": {"homes": homes, "cell_m": cell.cell_m, "row": cell.row, "col": cell.col},
    }


def _deg(udeg: int) -> float:
    """µdeg as degrees, at most 6 decimals (the nearest float to the exact decimal)."""
    return udeg / UDEG


def _check_cell_m(cell_m: int) -> None:
    if type(cell_m) is not int or not MIN_CELL_M <= cell_m <= MAX_CELL_M:
        msg = f"cell_m must be an integer from {MIN_CELL_M} to {MAX_CELL_M} m"
        raise AreaError(msg)


def _check_row(cell_m: int, row: int) -> None:
    if type(row) is not int or not 0 <= row < rows(cell_m):
        msg = f"row {row!r} is not on the {cell_m} m grid"
        raise AreaError(msg)


# --- the map as a message (camera_map, home -> paired agency; docs/protocol.md §16) -----------
# A camera_map body holds at most this many cells (about 30 bytes each: well inside 64 KiB).
MAX_MAP_CELLS: Final = 1000
MAX_K: Final = 100


@dataclass(frozen=True, slots=True)
class MapCell:
    """One shown cell of a received map: the cell and its (rounded) count of homes."""

    cell: Cell
    homes: int


def map_body(geojson: dict[str, GeoJSON], k: int, cell_m: int = CELL_M) -> dict[str, JSON]:
    """The body of a `camera_map` message: the cells of cell_m that build_map's map shows.

    Integers only (the wire has no floats): the grid fixes each cell's corners, so row and
    column say all the rectangle did. Only what the map shows goes in, never a report.
    """
    cells: list[JSON] = []
    features = geojson["features"]
    assert isinstance(features, list)  # noqa: S101  # build_map's own output
    for feature in features:
        assert isinstance(feature, dict)  # noqa: S101
        props = feature["properties"]
        assert isinstance(props, dict)  # noqa: S101
        if props["cell_m"] == cell_m:
            cells.append({key: _int(props[key]) for key in ("row", "col", "homes")})
    return {"cell_m": cell_m, "k": k, "cells": cells[:MAX_MAP_CELLS]}


def _int(value: GeoJSON) -> int:
    assert type(value) is int  # noqa: S101  # build_map's properties are integers
    return value


def map_from_json(body: JSON) -> tuple[int, list[MapCell]]:
    """The k and the cells of a `camera_map` body, every cell checked; else AreaError.

    Each cell must be on the grid, appear once, and hold a count that a map built with this
    k can show (at least k, a multiple of k): a sender cannot pass off a small group.
    """
    if not isinstance(body, dict) or set(body) != {"cell_m", "k", "cells"}:
        msg = "a camera map has exactly the fields cell_m, k, cells"
        raise AreaError(msg)
    cell_m, k, items = body["cell_m"], body["k"], body["cells"]
    if type(k) is not int or not MIN_K <= k <= MAX_K:
        msg = f"a camera map's k is an integer from {MIN_K} to {MAX_K}"
        raise AreaError(msg)
    if not isinstance(items, list) or len(items) > MAX_MAP_CELLS:
        msg = f"a camera map holds a list of at most {MAX_MAP_CELLS} cells"
        raise AreaError(msg)
    cells: list[MapCell] = []
    seen: set[Cell] = set()
    for item in items:
        if not isinstance(item, dict) or set(item) != {"row", "col", "homes"}:
            msg = "a camera map cell has exactly the fields row, col, homes"
            raise AreaError(msg)
        homes = item["homes"]
        cell = cell_from_json({"cell_m": cell_m, "row": item["row"], "col": item["col"]})
        if type(homes) is not int or homes < k or homes % k:
            msg = f"a camera map cell shows a multiple of k={k} homes, not {homes!r}"
            raise AreaError(msg)
        if cell in seen:
            msg = "a camera map names a cell twice"
            raise AreaError(msg)
        seen.add(cell)
        cells.append(MapCell(cell, homes))
    return k, cells


def cells_map(cells: Iterable[MapCell]) -> dict[str, GeoJSON]:
    """A GeoJSON FeatureCollection of received cells, in grid order (for display)."""
    ordered = sorted(cells, key=lambda c: _grid_order(c.cell))
    features: list[GeoJSON] = [_feature(c.cell, c.homes) for c in ordered]
    return {"type": "FeatureCollection", "features": features}


def centre(cell: Cell) -> tuple[float, float]:
    """The cell's centre (lat, lon) in degrees, for a marker on a map."""
    south, west, north, east = cell.bounds()
    return _deg((south + north) // 2), _deg((west + east) // 2)
