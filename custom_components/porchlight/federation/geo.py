"""Request areas (a circle or a polygon) and the one question a home asks them: am I inside?

Areas travel in footage requests as integers (canonical JSON has no floats): coordinates in
micro-degrees (µdeg, degrees x 10^6), distances in metres. A home answers `contains` with its own
location, locally; nothing in this module serializes, returns or logs a home's location.

The geometry model is normative (docs/protocol.md §10) so that the agency and every home agree:

- distances are haversine distances on a sphere of the mean Earth radius;
- polygon edges are straight lines in the (lon, lat) plane, as in GeoJSON (RFC 7946 §3.1.1);
  polygon validity and membership are decided in exact integer arithmetic on the µdeg values;
- a point on a circle's edge or a polygon's boundary is inside.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import TYPE_CHECKING, Any, Final, NoReturn

from .errors import AreaError

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from .canonical import JSON

UDEG: Final = 1_000_000
MAX_LAT: Final = 90 * UDEG
MAX_LON: Final = 180 * UDEG
MIN_RADIUS_M: Final = 1
MAX_RADIUS_M: Final = 50_000
MIN_POINTS: Final = 3
MAX_POINTS: Final = 100
# More than half the globe east to west can only be a ring meant to cross the antimeridian,
# which straight (lon, lat) edges cannot express.
MAX_LON_SPAN: Final = 180 * UDEG
# IUGG mean radius. A sphere is within 0.5 % of the ellipsoid, far inside what the 0.5 sq mi
# limit needs, and keeps every implementation's arithmetic the same.
EARTH_RADIUS_M: Final = 6_371_008.8
SQ_M_PER_SQ_MI: Final = 1609.344**2
_RAD_PER_UDEG: Final = math.pi / 180 / UDEG

type Point = tuple[int, int]


@dataclass(frozen=True, slots=True)
class Circle:
    """Everything within radius_m metres (1..50,000) of (lat, lon) in µdeg."""

    lat: int
    lon: int
    radius_m: int

    def __post_init__(self) -> None:
        """Refuse a circle that could not travel (AreaError)."""
        _check_int(self.lat, -MAX_LAT, MAX_LAT, "circle lat")
        _check_int(self.lon, -MAX_LON, MAX_LON, "circle lon")
        _check_int(self.radius_m, MIN_RADIUS_M, MAX_RADIUS_M, "circle radius_m")


@dataclass(frozen=True, slots=True)
class Polygon:
    """A simple polygon: 3..100 (lat, lon) vertices in µdeg, the ring not closed.

    Either orientation. Refused (AreaError): a repeated closing point, repeated consecutive
    points, a longitude span beyond 180°, zero area, and any self-intersection or self-contact
    (a bow-tie has no single inside).
    """

    points: tuple[Point, ...]

    def __post_init__(self) -> None:
        """Check the ring; store it as a tuple of (lat, lon) tuples."""
        points = _check_points(self.points)
        _check_ring(points)
        object.__setattr__(self, "points", points)


type Area = Circle | Polygon


# --- wire form -------------------------------------------------------------------------------
def area_from_json(obj: JSON) -> Area:
    """Parse an area's wire form strictly (exact keys, integers, geometry); raise AreaError."""
    if not isinstance(obj, dict):
        _fail("area must be an object")
    kind = obj.get("kind")
    if kind == "circle":
        _exact_keys(obj, {"kind", "lat", "lon", "radius_m"}, "circle")
        return Circle(
            _int(obj["lat"], "circle lat"),
            _int(obj["lon"], "circle lon"),
            _int(obj["radius_m"], "circle radius_m"),
        )
    if kind != "polygon":
        _fail('area kind must be "circle" or "polygon"')
    _exact_keys(obj, {"kind", "points"}, "polygon")
    raw = obj["points"]
    if not isinstance(raw, list):
        _fail("polygon points must be an array")
    return Polygon(tuple(_wire_point(point, i) for i, point in enumerate(raw)))


def area_to_json(area: Area) -> dict[str, JSON]:
    """The wire form of an area (canonical JSON ready)."""
    if isinstance(area, Circle):
        return {"kind": "circle", "lat": area.lat, "lon": area.lon, "radius_m": area.radius_m}
    return {"kind": "polygon", "points": [[lat, lon] for lat, lon in area.points]}


def _wire_point(value: JSON, index: int) -> Point:
    if not isinstance(value, list) or len(value) != 2:  # noqa: PLR2004  # [lat, lon]
        _fail(f"polygon point {index} must be [lat, lon]")
    return (
        _int(value[0], f"polygon point {index} lat"),
        _int(value[1], f"polygon point {index} lon"),
    )


def _exact_keys(obj: dict[str, JSON], keys: set[str], kind: str) -> None:
    if set(obj) != keys:
        _fail(f"{kind} must have exactly the fields {', '.join(sorted(keys))}")


def _int(value: object, what: str) -> int:
    if type(value) is not int:  # booleans are not integers here
        _fail(f"{what} must be an integer")
    return value


def _check_int(value: object, low: int, high: int, what: str) -> None:
    if not low <= _int(value, what) <= high:
        _fail(f"{what} must be from {low} to {high}")


def _fail(detail: str) -> NoReturn:
    raise AreaError(detail)


# --- polygon validity (exact integer geometry on (lat, lon)) ---------------------------------
def _check_points(points: Sequence[object]) -> tuple[Point, ...]:
    if not MIN_POINTS <= len(points) <= MAX_POINTS:
        _fail(f"polygon must have {MIN_POINTS} to {MAX_POINTS} points")
    checked: list[Point] = []
    for i, point in enumerate(points):
        if not isinstance(point, tuple | list) or len(point) != 2:  # noqa: PLR2004
            _fail(f"polygon point {i} must be (lat, lon)")
        lat, lon = point
        _check_int(lat, -MAX_LAT, MAX_LAT, f"polygon point {i} lat")
        _check_int(lon, -MAX_LON, MAX_LON, f"polygon point {i} lon")
        checked.append((lat, lon))
    return tuple(checked)


def _check_ring(points: tuple[Point, ...]) -> None:
    n = len(points)
    if points[0] == points[-1]:
        _fail("polygon ring must not repeat its first point at the end (it is closed implicitly)")
    for i in range(n - 1):
        if points[i] == points[i + 1]:
            _fail(f"polygon points {i} and {i + 1} are the same")
    lons = [lon for _, lon in points]
    if max(lons) - min(lons) > MAX_LON_SPAN:
        _fail(
            "polygon spans more than 180° of longitude (crossing the antimeridian is unsupported)"
        )
    if _twice_signed_area(points) == 0:
        _fail("polygon has no area")
    _check_simple(points)


def _check_simple(points: tuple[Point, ...]) -> None:
    """Refuse a ring that touches or crosses itself anywhere but between neighbouring edges."""
    n = len(points)
    edges = [(points[i - 1], points[i]) for i in range(n)]  # edge i ends at point i
    # Bounding boxes first: most pairs of a 100-point ring are far apart, and comparing four
    # integers is much cheaper than four orientation tests.
    boxes = [(min(a[0], b[0]), max(a[0], b[0]), min(a[1], b[1]), max(a[1], b[1])) for a, b in edges]
    for i in range(n):
        (a, b), (_, c) = edges[i], edges[(i + 1) % n]
        if _orient(a, b, c) == 0 and _dot(a, b, c) < 0:
            _fail(f"polygon folds back on itself at point {i}")
        lat_lo, lat_hi, lon_lo, lon_hi = boxes[i]
        # Edges i and j share no vertex unless adjacent (the first and last edge are).
        for j in range(i + 2, n - (i == 0)):
            box = boxes[j]
            if box[0] > lat_hi or box[1] < lat_lo or box[2] > lon_hi or box[3] < lon_lo:
                continue
            if _segments_meet(*edges[i], *edges[j]):
                _fail(f"polygon edges {i} and {j} cross or touch")


def _twice_signed_area(points: tuple[Point, ...]) -> int:
    return sum(
        points[i - 1][1] * points[i][0] - points[i][1] * points[i - 1][0]
        for i in range(len(points))
    )


def _orient(a: Point, b: Point, c: Point) -> int:
    """Sign of the cross product (b - a) x (c - a): which side of line ab point c is on."""
    cross = (b[1] - a[1]) * (c[0] - a[0]) - (b[0] - a[0]) * (c[1] - a[1])
    return (cross > 0) - (cross < 0)


def _dot(a: Point, b: Point, c: Point) -> int:
    """Dot product (b - a) . (c - b): negative when the path a -> b -> c turns back."""
    return (b[0] - a[0]) * (c[0] - b[0]) + (b[1] - a[1]) * (c[1] - b[1])


def _within(a: Point, b: Point, c: Point) -> bool:
    """Whether c lies in the bounding box of segment ab (c known to be on its line)."""
    return min(a[0], b[0]) <= c[0] <= max(a[0], b[0]) and min(a[1], b[1]) <= c[1] <= max(a[1], b[1])


def _segments_meet(p1: Point, p2: Point, q1: Point, q2: Point) -> bool:
    """Whether the closed segments p1p2 and q1q2 share any point."""
    d1, d2 = _orient(q1, q2, p1), _orient(q1, q2, p2)
    d3, d4 = _orient(p1, p2, q1), _orient(p1, p2, q2)
    if d1 * d2 < 0 and d3 * d4 < 0:
        return True
    return (
        (d1 == 0 and _within(q1, q2, p1))
        or (d2 == 0 and _within(q1, q2, p2))
        or (d3 == 0 and _within(p1, p2, q1))
        or (d4 == 0 and _within(p1, p2, q2))
    )


# --- size and membership ---------------------------------------------------------------------
def area_sq_mi(area: Area) -> float:
    """The area's size in square miles.

    Circle: π r². Polygon: the shoelace formula on Lambert's cylindrical equal-area projection
    of the sphere, exact for edges straight in that projection and within far less than 1 % of
    the (lon, lat)-straight polygon at request sizes.
    """
    if isinstance(area, Circle):
        return math.pi * area.radius_m**2 / SQ_M_PER_SQ_MI
    lat0, lon0 = area.points[0]
    # Relative to the first vertex, so the products stay small and lose no precision.
    sin0 = math.sin(lat0 * _RAD_PER_UDEG)
    xs = [(lon - lon0) * _RAD_PER_UDEG for _, lon in area.points]
    ys = [math.sin(lat * _RAD_PER_UDEG) - sin0 for lat, _ in area.points]
    twice = sum(xs[i - 1] * ys[i] - xs[i] * ys[i - 1] for i in range(len(xs)))
    return abs(twice) / 2 * EARTH_RADIUS_M**2 / SQ_M_PER_SQ_MI


def contains(area: Area, lat_udeg: int, lon_udeg: int) -> bool:
    """Whether the point (in µdeg) lies in the area; the boundary counts as inside.

    Only ever called with the home's own location, at home; the answer stays there too.
    """
    if isinstance(area, Circle):
        return _distance_m(area.lat, area.lon, lat_udeg, lon_udeg) <= area.radius_m
    return _in_polygon(area.points, lat_udeg, lon_udeg)


def _distance_m(lat1: int, lon1: int, lat2: int, lon2: int) -> float:
    """Haversine great-circle distance in metres between two µdeg points."""
    phi1, phi2 = lat1 * _RAD_PER_UDEG, lat2 * _RAD_PER_UDEG
    h = (
        math.sin((phi2 - phi1) / 2) ** 2
        + math.cos(phi1) * math.cos(phi2) * math.sin((lon2 - lon1) * _RAD_PER_UDEG / 2) ** 2
    )
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def _in_polygon(points: tuple[Point, ...], lat: int, lon: int) -> bool:
    """Even-odd ray casting towards east, exact in integers; on an edge counts as inside."""
    inside = False
    for i in range(len(points)):
        (alat, alon), (blat, blon) = points[i - 1], points[i]
        # Where the point lies relative to the edge's line: 0 on it, else the sign tells the
        # side, which for an edge crossing the point's latitude says east or west of it.
        cross = (blon - alon) * (lat - alat) - (lon - alon) * (blat - alat)
        if cross == 0 and _within((alat, alon), (blat, blon), (lat, lon)):
            return True
        if (alat > lat) != (blat > lat) and (cross > 0) == (blat > alat):
            inside = not inside
    return inside


# --- for the agency's tools: degrees and GeoJSON in, wire areas out ----------------------------
def circle_from_degrees(lat: float, lon: float, radius_m: float) -> Circle:
    """A circle from decimal degrees and metres, rounded to µdeg and whole metres (AreaError)."""
    return Circle(
        _udeg(lat, "lat", MAX_LAT),
        _udeg(lon, "lon", MAX_LON),
        _rounded(radius_m, 1, MAX_RADIUS_M, "radius_m"),
    )


def polygon_from_geojson(source: str | bytes | Mapping[str, Any]) -> Polygon:
    """A polygon from GeoJSON text or a parsed object (AreaError if it is not one polygon).

    Accepts a Polygon geometry, a Feature holding one, or a FeatureCollection holding exactly
    one such Feature. Positions are [lon, lat] (altitude ignored) in decimal degrees, rounded to
    µdeg. A ring closed by repeating its first position (as RFC 7946 requires) is opened; holes
    and MultiPolygons are refused rather than silently dropped.
    """
    if isinstance(source, str | bytes):
        try:
            obj: object = json.loads(source, parse_float=Decimal, parse_constant=_no_constant)
        except ValueError as err:
            _fail(f"not JSON: {err}")
        except RecursionError:  # json's decoder on arrays or objects nested thousands deep
            _fail("not JSON (nested too deeply)")
    else:
        obj = source
    ring = _geojson_ring(_geojson_polygon(obj))
    points = [
        (_udeg(pos[1], f"position {i} lat", MAX_LAT), _udeg(pos[0], f"position {i} lon", MAX_LON))
        for i, pos in enumerate(ring)
    ]
    if len(points) > 1 and points[0] == points[-1]:
        points.pop()
    return Polygon(tuple(points))


def _no_constant(text: str) -> NoReturn:
    _fail(f"{text} is not a coordinate")


def _geojson_polygon(source: object) -> object:
    """The coordinates of the one Polygon geometry in a GeoJSON object."""
    obj = _geojson_object(source, "GeoJSON")
    if obj.get("type") == "FeatureCollection":
        features = obj.get("features")
        if not isinstance(features, list) or len(features) != 1:
            _fail("a FeatureCollection must hold exactly one Feature, the polygon")
        obj = _geojson_object(features[0], "the FeatureCollection's member")
        if obj.get("type") != "Feature":
            _fail("a FeatureCollection must hold a Feature")
    if obj.get("type") == "Feature":
        obj = _geojson_object(obj.get("geometry"), "the Feature's geometry")
    if obj.get("type") == "MultiPolygon":
        _fail("MultiPolygon is not supported: send one request per polygon")
    if obj.get("type") != "Polygon":
        _fail("expected a GeoJSON Polygon, a Feature or a FeatureCollection of one Feature")
    return obj.get("coordinates")


def _geojson_object(value: object, what: str) -> dict[str, object]:
    if not isinstance(value, dict):
        _fail(f"{what} must be an object")
    return value


def _geojson_ring(coordinates: object) -> list[Sequence[object]]:
    if not isinstance(coordinates, list) or not coordinates:
        _fail("Polygon coordinates must be a list of rings")
    if len(coordinates) > 1:
        _fail("polygons with holes are not supported")
    ring = coordinates[0]
    if not isinstance(ring, list):
        _fail("a ring must be a list of positions")
    for i, pos in enumerate(ring):
        if not isinstance(pos, list) or len(pos) not in {2, 3}:
            _fail(f"position {i} must be [lon, lat] or [lon, lat, altitude]")
    return ring


def _udeg(value: object, what: str, limit: int) -> int:
    return _rounded(value, UDEG, limit, what)


def _rounded(value: object, scale: int, limit: int, what: str) -> int:
    """Round value x scale half to even; refuse beyond ±limit before any big number is built."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        _fail(f"{what} must be a number")
    # repr() is the shortest text that reads back as the same float: the number the user wrote.
    number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    if not number.is_finite() or number.copy_abs() > Decimal(limit) / scale:
        _fail(f"{what} is out of range")
    return int((number * scale).to_integral_value(ROUND_HALF_EVEN))
