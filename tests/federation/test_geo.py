"""Request areas: strict wire form, sizes against known values, and the home's local match."""

from __future__ import annotations

import json
import math
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from custom_components.porchlight.federation.canonical import canon, loads
from custom_components.porchlight.federation.errors import AreaError, SchemaError
from custom_components.porchlight.federation.geo import (
    EARTH_RADIUS_M,
    MAX_LAT,
    MAX_LON,
    Area,
    Circle,
    Polygon,
    area_from_json,
    area_sq_mi,
    area_to_json,
    circle_from_degrees,
    contains,
    polygon_from_geojson,
)

if TYPE_CHECKING:
    from custom_components.porchlight.federation.canonical import JSON

# A street corner in Philadelphia, in µdeg; nothing here is anyone's home.
LAT0 = 39_952_000
LON0 = -75_163_000


def north(metres: float) -> int:
    """µdeg of latitude for a distance along a meridian."""
    return round(metres / (EARTH_RADIUS_M * math.pi / 180) * 1e6)


def east(metres: float, lat_udeg: int = LAT0) -> int:
    """µdeg of longitude for a distance along the parallel at lat_udeg."""
    return round(north(metres) / math.cos(math.radians(lat_udeg / 1e6)))


def square(side_m: float, lat: int = LAT0, lon: int = LON0) -> Polygon:
    h, w = north(side_m), east(side_m, lat)
    return Polygon(((lat, lon), (lat, lon + w), (lat + h, lon + w), (lat + h, lon)))


# --- wire form -------------------------------------------------------------------------------
def test_circle_round_trips_through_canonical_json() -> None:
    circle = Circle(LAT0, LON0, 400)
    wire = area_to_json(circle)
    assert wire == {"kind": "circle", "lat": LAT0, "lon": LON0, "radius_m": 400}
    assert area_from_json(loads(canon(wire))) == circle


def test_polygon_round_trips_as_lat_lon_pairs() -> None:
    polygon = Polygon(((0, 0), (0, 1000), (1000, 0)))
    assert area_to_json(polygon) == {"kind": "polygon", "points": [[0, 0], [0, 1000], [1000, 0]]}
    assert area_from_json(area_to_json(polygon)) == polygon


def test_polygon_given_as_lists_is_stored_as_tuples() -> None:
    polygon = Polygon([[0, 0], [0, 1000], [1000, 0]])  # type: ignore[arg-type]
    assert polygon.points == ((0, 0), (0, 1000), (1000, 0))
    assert hash(polygon) == hash(Polygon(((0, 0), (0, 1000), (1000, 0))))


def test_area_errors_are_schema_errors_answered_with_400() -> None:
    err = AreaError("x")
    assert isinstance(err, SchemaError)
    assert err.status == 400
    assert err.payload()["error"] == "invalid_area"


@pytest.mark.parametrize(
    ("wire", "message"),
    [
        ([1, 2], "must be an object"),
        ({"kind": "square"}, "circle.*or.*polygon"),
        ({"lat": 0, "lon": 0, "radius_m": 5}, "circle.*or.*polygon"),
        ({"kind": "circle", "lat": 0, "lon": 0}, "exactly the fields kind, lat, lon, radius_m"),
        ({"kind": "circle", "lat": 0, "lon": 0, "radius_m": 5, "x": 1}, "exactly the fields"),
        ({"kind": "circle", "lat": "0", "lon": 0, "radius_m": 5}, "circle lat must be an integer"),
        ({"kind": "circle", "lat": True, "lon": 0, "radius_m": 5}, "lat must be an integer"),
        ({"kind": "circle", "lat": 0, "lon": None, "radius_m": 5}, "lon must be an integer"),
        ({"kind": "circle", "lat": 0, "lon": 0, "radius_m": 0}, "radius_m must be from 1 to 50000"),
        ({"kind": "circle", "lat": 0, "lon": 0, "radius_m": 50_001}, "radius_m must be from"),
        ({"kind": "circle", "lat": MAX_LAT + 1, "lon": 0, "radius_m": 5}, "lat must be from"),
        ({"kind": "circle", "lat": 0, "lon": -MAX_LON - 1, "radius_m": 5}, "lon must be from"),
        ({"kind": "polygon", "points": [[0, 0], [0, 1], [1, 0]], "x": 1}, "exactly the fields"),
        ({"kind": "polygon", "points": {"a": 1}}, "points must be an array"),
        ({"kind": "polygon", "points": [[0, 0], [0, 1], [1]]}, r"point 2 must be \[lat, lon\]"),
        ({"kind": "polygon", "points": [[0, 0], [0, 1], 5]}, r"point 2 must be \[lat, lon\]"),
        ({"kind": "polygon", "points": [[0, 0], [0, 1], [1, 0.5]]}, "point 2 lon must be an int"),
        ({"kind": "polygon", "points": [[0, 0], [0, 1]]}, "3 to 100 points"),
        ({"kind": "polygon", "points": [[i, 0] for i in range(101)]}, "3 to 100 points"),
        ({"kind": "polygon", "points": [[MAX_LAT + 1, 0], [0, 1], [1, 0]]}, "point 0 lat must be"),
        ({"kind": "polygon", "points": [[0, 0], [0, MAX_LON + 1], [1, 0]]}, "point 1 lon must be"),
    ],
)
def test_malformed_area_is_refused(wire: JSON, message: str) -> None:
    with pytest.raises(AreaError, match=message):
        area_from_json(wire)


def test_bool_radius_is_not_an_integer() -> None:
    with pytest.raises(AreaError, match="radius_m must be an integer"):
        Circle(0, 0, radius_m=True)


def test_point_that_is_not_a_pair_is_refused() -> None:
    with pytest.raises(AreaError, match=r"point 1 must be \(lat, lon\)"):
        Polygon(((0, 0), (0, 1, 2), (1, 0)))  # type: ignore[arg-type]


# --- polygon geometry ------------------------------------------------------------------------
def refused(points: list[tuple[int, int]], message: str) -> None:
    with pytest.raises(AreaError, match=message):
        Polygon(tuple(points))


def test_closed_ring_is_refused_because_the_ring_closes_implicitly() -> None:
    refused([(0, 0), (0, 10), (10, 10), (0, 0)], "must not repeat its first point")


def test_repeated_consecutive_points_are_refused() -> None:
    refused([(0, 0), (0, 10), (0, 10), (10, 10)], "points 1 and 2 are the same")


def test_bow_tie_is_refused_because_it_has_no_single_inside() -> None:
    refused([(0, 0), (10, 10), (0, 10), (20, 0)], "edges 1 and 3 cross or touch")


def test_ring_touching_itself_at_a_vertex_is_refused() -> None:
    # Two triangles meeting at (10, 10): a figure eight through a shared vertex.
    refused([(0, 0), (10, 10), (20, 0), (20, 20), (10, 10), (0, 20)], "cross or touch")


def test_vertex_lying_on_another_edge_is_refused() -> None:
    refused([(0, 0), (0, 20), (20, 20), (0, 10), (20, 0)], "cross or touch")


def test_collinear_overlapping_edges_are_refused() -> None:
    # Edge 4 runs back along edge 1 without sharing a vertex with it.
    refused([(0, 0), (0, 30), (10, 30), (10, 20), (0, 20), (0, 10), (-10, 5)], "cross or touch")


def test_spike_folding_back_on_itself_is_refused() -> None:
    refused([(0, 0), (0, 10), (10, 10), (20, 10), (15, 10), (10, 0)], "folds back .* point 3")


def test_collinear_points_have_no_area() -> None:
    refused([(0, 0), (0, 10), (0, 20)], "no area")


def test_straight_run_through_a_vertex_is_allowed() -> None:
    polygon = Polygon(((0, 0), (0, 10), (0, 20), (20, 20), (20, 0)))
    assert contains(polygon, 0, 10)


def test_antimeridian_crossing_is_refused() -> None:
    refused([(0, 179_000_000), (0, -179_000_000), (1_000_000, -179_000_000)], "more than 180°")


def test_half_the_globe_is_still_allowed() -> None:
    Polygon(((0, -90_000_000), (0, 90_000_000), (1_000_000, 0)))


def test_both_orientations_are_the_same_area() -> None:
    polygon = square(500)
    reversed_ = Polygon(tuple(reversed(polygon.points)))
    assert area_sq_mi(reversed_) == pytest.approx(area_sq_mi(polygon), rel=1e-12)
    assert contains(reversed_, LAT0 + north(250), LON0 + east(250))


# --- sizes against known values --------------------------------------------------------------
def test_one_kilometre_square_at_40_degrees_is_0_3861_sq_mi() -> None:
    assert area_sq_mi(square(1000, lat=40_000_000)) == pytest.approx(0.3861, rel=1e-3)


def test_circle_of_one_mile_radius_is_pi_sq_mi() -> None:
    assert area_sq_mi(circle_from_degrees(40.0, -75.0, 1609.344)) == pytest.approx(math.pi, 1e-3)


def test_one_degree_cell_at_the_equator_matches_the_wgs84_ellipsoid_within_one_percent() -> None:
    # 12,308.8 km² on WGS84 (an ellipsoid, computed independently of this model).
    cell = Polygon(((0, 0), (0, 1_000_000), (1_000_000, 1_000_000), (1_000_000, 0)))
    assert area_sq_mi(cell) * 2.589988110336 == pytest.approx(12_308.8, rel=0.01)


def test_triangle_is_half_its_square() -> None:
    h, w = north(800), east(800)
    triangle = Polygon(((LAT0, LON0), (LAT0, LON0 + w), (LAT0 + h, LON0)))
    assert area_sq_mi(triangle) == pytest.approx(area_sq_mi(square(800)) / 2, rel=1e-3)


def test_half_square_mile_square_sits_at_the_limit() -> None:
    side = math.sqrt(0.5) * 1609.344
    assert area_sq_mi(square(side)) == pytest.approx(0.5, rel=1e-3)


# --- the local match -------------------------------------------------------------------------
def test_circle_contains_a_point_one_metre_inside_and_not_one_metre_outside() -> None:
    circle = Circle(LAT0, LON0, 500)
    assert contains(circle, LAT0 + north(499), LON0)
    assert not contains(circle, LAT0 + north(501), LON0)
    assert contains(circle, LAT0, LON0 - east(499))
    assert not contains(circle, LAT0, LON0 - east(501))


def test_circle_works_across_the_antimeridian() -> None:
    circle = Circle(0, 179_999_000, 500)
    assert contains(circle, 0, -179_999_000)  # 222 m away, the other side of ±180°
    assert not contains(circle, 0, -179_990_000)


def test_polygon_edge_is_exact_at_a_tenth_of_a_metre() -> None:
    polygon = square(1000)
    top = polygon.points[2][0]
    mid_lon = LON0 + east(500)
    assert contains(polygon, top - 1, mid_lon)  # 1 µdeg ≈ 0.11 m inside
    assert contains(polygon, top, mid_lon)  # on the boundary: inside
    assert not contains(polygon, top + 1, mid_lon)
    assert contains(polygon, *polygon.points[1])  # a vertex is boundary too
    assert not contains(polygon, LAT0 + north(500), LON0 - 1)
    assert contains(polygon, LAT0 + north(500), LON0)


def test_point_in_the_notch_of_a_concave_polygon_is_outside() -> None:
    ell = Polygon(((0, 0), (0, 20), (10, 20), (10, 10), (20, 10), (20, 0)))
    assert contains(ell, 5, 15)
    assert contains(ell, 15, 5)
    assert not contains(ell, 15, 15)
    assert contains(ell, 10, 15)  # on the inner edge


def test_ray_through_vertices_counts_each_crossing_once() -> None:
    diamond = Polygon(((20, 10), (10, 20), (0, 10), (10, 0)))
    assert contains(diamond, 10, 10)  # the ray east leaves through the right vertex
    assert not contains(diamond, 10, -5)  # the ray east grazes both side vertices
    assert not contains(diamond, 10, 25)
    assert not contains(diamond, 20, 0)  # level with the top vertex, west of it


def test_point_level_with_a_horizontal_edge_outside_it() -> None:
    polygon = Polygon(((0, 0), (0, 10), (10, 10), (10, 0)))
    assert not contains(polygon, 0, 20)
    assert not contains(polygon, 10, -5)
    assert contains(polygon, 0, 5)


# --- for the agency's tools ------------------------------------------------------------------
def test_circle_from_degrees_rounds_to_microdegrees_and_metres() -> None:
    assert circle_from_degrees(39.9520004, -75.1630006, 250.5) == Circle(
        39_952_000, -75_163_001, 250
    )
    assert circle_from_degrees(40, -75, 100) == Circle(40_000_000, -75_000_000, 100)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((math.nan, 0.0, 10.0), "lat is out of range"),
        ((0.0, math.inf, 10.0), "lon is out of range"),
        ((90.5, 0.0, 10.0), "lat is out of range"),
        ((0.0, 0.0, 50_000.6), "radius_m is out of range"),
        ((0.0, 0.0, 0.4), "radius_m must be from 1"),
        ((0.0, 0.0, "5"), "radius_m must be a number"),
        ((True, 0.0, 5.0), "lat must be a number"),
    ],
)
def test_circle_from_degrees_refuses(args: tuple[Any, Any, Any], message: str) -> None:
    with pytest.raises(AreaError, match=message):
        circle_from_degrees(*args)


RING = [[-75.0, 40.0], [-74.99, 40.0], [-74.99, 40.01], [-75.0, 40.01], [-75.0, 40.0]]
EXPECTED = Polygon(
    (
        (40_000_000, -75_000_000),
        (40_000_000, -74_990_000),
        (40_010_000, -74_990_000),
        (40_010_000, -75_000_000),
    )
)
GEOMETRY = {"type": "Polygon", "coordinates": [RING]}
FEATURE = {"type": "Feature", "properties": {"case": "x"}, "geometry": GEOMETRY}


@pytest.mark.parametrize(
    "source",
    [
        GEOMETRY,
        FEATURE,
        {"type": "FeatureCollection", "features": [FEATURE]},
        json.dumps(GEOMETRY),
        json.dumps({"type": "FeatureCollection", "features": [FEATURE]}, indent=2).encode(),
    ],
)
def test_geojson_polygon_swaps_lon_lat_and_opens_the_ring(source: Any) -> None:
    assert polygon_from_geojson(source) == EXPECTED


def test_geojson_ring_without_closing_point_and_with_altitude() -> None:
    ring = [[*pos, 12.5] for pos in RING[:-1]]
    assert polygon_from_geojson({"type": "Polygon", "coordinates": [ring]}) == EXPECTED


def test_geojson_decimals_are_rounded_half_to_even_without_float_error() -> None:
    ring = [[0, 0], [0.0000005, 1], [1, 0.0000015]]
    got = polygon_from_geojson(json.dumps({"type": "Polygon", "coordinates": [ring]}))
    assert got.points == ((0, 0), (1_000_000, 0), (2, 1_000_000))


def test_geojson_accepts_decimal_values_from_a_parsed_object() -> None:
    ring = [[Decimal(0), Decimal(0)], [Decimal("0.001"), Decimal(0)], [0, Decimal("0.001")]]
    got = polygon_from_geojson({"type": "Polygon", "coordinates": [ring]})
    assert got.points == ((0, 0), (0, 1000), (1000, 0))


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("{", "not JSON"),
        ('{"type":"Polygon","coordinates":[[[NaN,0],[1,1],[0,1]]]}', "NaN is not a coordinate"),
        ("[1, 2]", "GeoJSON must be an object"),
        ({"type": "Point", "coordinates": [0, 0]}, "expected a GeoJSON Polygon"),
        ({"type": "MultiPolygon", "coordinates": [[RING]]}, "MultiPolygon is not supported"),
        ({"type": "FeatureCollection", "features": []}, "exactly one Feature"),
        ({"type": "FeatureCollection", "features": [FEATURE, FEATURE]}, "exactly one Feature"),
        ({"type": "FeatureCollection"}, "exactly one Feature"),
        ({"type": "FeatureCollection", "features": [GEOMETRY]}, "must hold a Feature"),
        ({"type": "FeatureCollection", "features": [3]}, "member must be an object"),
        ({"type": "Feature", "geometry": None}, "geometry must be an object"),
        ({"type": "Feature", "geometry": FEATURE}, "expected a GeoJSON Polygon"),
        ({"type": "Polygon"}, "list of rings"),
        ({"type": "Polygon", "coordinates": []}, "list of rings"),
        ({"type": "Polygon", "coordinates": [RING, RING]}, "holes are not supported"),
        ({"type": "Polygon", "coordinates": ["ring"]}, "ring must be a list"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [1], [1, 1]]]}, "position 1 must be"),
        ({"type": "Polygon", "coordinates": [[[0, 0], "x", [1, 1]]]}, "position 1 must be"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [0, 91], [1, 1]]]}, "1 lat is out of"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [0, "1"], [1, 1]]]}, "must be a number"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [0, 1e999999999]]]}, "out of range"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [1, 1]]]}, "3 to 100 points"),
        (  # one µdeg apart on input, the same point once rounded
            {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 1.0000000004], [0, 1]]]},
            "points 1 and 2 are the same",
        ),
    ],
)
def test_geojson_that_is_not_one_simple_polygon_is_refused(source: Any, message: str) -> None:
    with pytest.raises(AreaError, match=message):
        polygon_from_geojson(source)


def test_huge_geojson_exponent_is_refused_before_building_a_big_number() -> None:
    text = '{"type":"Polygon","coordinates":[[[0,0],[0,1e999999999],[1,1]]]}'
    with pytest.raises(AreaError, match="position 1 lat is out of range"):
        polygon_from_geojson(text)


def test_tiny_geojson_exponent_is_zero() -> None:
    text = '{"type":"Polygon","coordinates":[[[0,0],[1e-999999999,1],[1,1]]]}'
    assert polygon_from_geojson(text).points == ((0, 0), (1_000_000, 0), (1_000_000, 1_000_000))


# --- properties ------------------------------------------------------------------------------
LATS = st.integers(-MAX_LAT, MAX_LAT)
LONS = st.integers(-MAX_LON, MAX_LON)
CIRCLES = st.builds(Circle, LATS, LONS, st.integers(1, 50_000))


@st.composite
def convex_polygons(draw: st.DrawFn) -> Polygon:
    """A regular polygon of 3..12 vertices, 200 m to 5 km across, anywhere below 80°."""
    lat = draw(st.integers(-80_000_000, 80_000_000))
    lon = draw(st.integers(-170_000_000, 170_000_000))
    n = draw(st.integers(3, 12))
    radius = draw(st.floats(200, 5000))
    turn = draw(st.floats(0, 2 * math.pi))
    points = []
    for k in range(n):
        angle = turn + 2 * math.pi * k / n
        points.append(
            (lat + north(radius * math.cos(angle)), lon + east(radius * math.sin(angle), lat))
        )
    return Polygon(tuple(points))


AREAS: st.SearchStrategy[Area] = CIRCLES | convex_polygons()


@given(AREAS)
def test_any_area_round_trips_through_canonical_json(area: Area) -> None:
    assert area_from_json(loads(canon(area_to_json(area)))) == area


@given(CIRCLES)
def test_circle_contains_its_centre(circle: Circle) -> None:
    assert contains(circle, circle.lat, circle.lon)


@given(convex_polygons())
def test_convex_polygon_contains_its_vertices_and_centroid(polygon: Polygon) -> None:
    for lat, lon in polygon.points:
        assert contains(polygon, lat, lon)
    n = len(polygon.points)
    centroid = (
        sum(p[0] for p in polygon.points) // n,
        sum(p[1] for p in polygon.points) // n,
    )
    assert contains(polygon, *centroid)


@given(st.integers(1, 5000), st.integers(1, 10))
def test_circle_area_scales_with_the_square_of_the_radius(radius: int, k: int) -> None:
    small, large = Circle(0, 0, radius), Circle(0, 0, radius * k)
    assert area_sq_mi(large) == pytest.approx(area_sq_mi(small) * k * k)


def test_geojson_nested_thousands_deep_is_an_area_error() -> None:
    with pytest.raises(AreaError, match="nested too deeply"):
        polygon_from_geojson(b"[" * 200_000 + b"]" * 200_000)
