"""The camera map: the grid, the k-anonymity of what it publishes, and the wire form of a cell."""

from __future__ import annotations

import itertools
import json
import math
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from custom_components.porchlight.federation.camera_map import (
    CELL_M,
    MAX_CELL_M,
    Cell,
    CellReport,
    build_map,
    cell_from_json,
    cell_of,
    cells_map,
    centre,
    columns,
    lat_step,
    map_body,
    map_from_json,
    rows,
)
from custom_components.porchlight.federation.errors import AreaError
from custom_components.porchlight.federation.geo import MAX_LAT, MAX_LON, _distance_m
from custom_components.porchlight.federation.httpsig import new_nonce
from custom_components.porchlight.federation.messages import TYPES, seal
from custom_components.porchlight.federation.node import NodeHooks

if TYPE_CHECKING:
    from custom_components.porchlight.federation.peers import Peer

    from .loopback import Network, Running

BERLIN = (52_520_008, 13_404_954)


def geo(result: object) -> Any:
    """The map as a client reads it (and untyped, for the tests to index freely)."""
    return json.loads(json.dumps(result))


def home(i: int) -> str:
    """A distinct well-formed keyid per i."""
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    return "".join(letters[(i >> (5 * j)) % 32] for j in range(32))


def test_rows_are_about_250_m_and_cover_the_globe() -> None:
    step = lat_step(CELL_M)
    assert step == 2248
    assert abs(_distance_m(0, 0, step, 0) - CELL_M) < 1
    assert (rows(CELL_M) - 1) * step < 2 * MAX_LAT <= rows(CELL_M) * step


def test_columns_are_at_least_the_cell_size_wide_and_about_it() -> None:
    cell = cell_of(*BERLIN)
    south, west, north, east = cell.bounds()
    centre = (south + north) // 2
    width = _distance_m(centre, west, centre, east)
    assert CELL_M <= width < CELL_M * 1.01
    assert 249 < _distance_m(south, west, north, west) < 251


def test_a_row_tiles_exactly_from_minus_180_to_180() -> None:
    row = cell_of(*BERLIN).row
    n = columns(CELL_M, row)
    edges = [Cell(CELL_M, row, c).bounds() for c in range(n)]
    assert edges[0][1] == -MAX_LON
    assert edges[-1][3] == MAX_LON
    assert all(a[3] == b[1] for a, b in itertools.pairwise(edges))


def test_poles_and_antimeridian() -> None:
    top = cell_of(MAX_LAT, 0)
    assert top.row == rows(CELL_M) - 1
    assert columns(CELL_M, top.row) == 1
    assert top.bounds() == (top.row * 2248 - MAX_LAT, -MAX_LON, MAX_LAT, MAX_LON)
    bottom = cell_of(-MAX_LAT, 123)
    # 250 m south of the pole the band is still ~785 m round: three wedge-shaped columns.
    assert (bottom.row, bottom.col, columns(CELL_M, 0)) == (0, 1, 3)
    assert cell_of(0, MAX_LON) == cell_of(0, -MAX_LON) == Cell(CELL_M, MAX_LAT // 2248, 0)
    assert cell_of(0, MAX_LON - 1).col == columns(CELL_M, cell_of(0, 0).row) - 1


def test_coarser_grids() -> None:
    coarse = cell_of(*BERLIN, cell_m=1000)
    assert coarse.cell_m == 1000
    south, west, north, east = coarse.bounds()
    assert south <= BERLIN[0] < north
    assert west <= BERLIN[1] < east
    assert cell_of(*BERLIN, cell_m=MAX_CELL_M).cell_m == MAX_CELL_M


@pytest.mark.parametrize(
    ("lat", "lon", "cell_m"),
    [
        (MAX_LAT + 1, 0, CELL_M),
        (0, -MAX_LON - 1, CELL_M),
        (0.5, 0, CELL_M),
        (True, 0, CELL_M),
        (0, 0, 249),
        (0, 0, MAX_CELL_M + 1),
        (0, 0, 250.0),
    ],
)
def test_cell_of_refuses_off_grid_input(lat: object, lon: object, cell_m: object) -> None:
    with pytest.raises(AreaError):
        cell_of(lat, lon, cell_m)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("cell_m", "row", "col"),
    [
        (CELL_M, -1, 0),
        (CELL_M, 80072, 0),
        (CELL_M, 0, 3),
        (CELL_M, 80071, 1),
        (CELL_M, 40000, -1),
        (CELL_M, 1.0, 0),
    ],
)
def test_cells_off_the_grid_are_refused(cell_m: int, row: int, col: int) -> None:
    with pytest.raises(AreaError):
        Cell(cell_m, row, col)


def test_wire_form_round_trips_and_is_strict() -> None:
    cell = cell_of(*BERLIN)
    assert cell_from_json(cell.to_json()) == cell
    body = cell.to_json()
    bad: object
    for bad in (
        [],
        {**body, "lat": 1},
        {"cell_m": CELL_M, "row": cell.row},
        {**body, "col": True},
        {**body, "row": "1"},
        {**body, "cell_m": 250.0},
        {**body, "col": 10**9},
    ):
        with pytest.raises(AreaError):
            cell_from_json(bad)  # type: ignore[arg-type]


def test_report_needs_a_keyid() -> None:
    for bad in ("abc", home(1).lower(), 5):
        with pytest.raises(ValueError, match="keyid"):
            CellReport(bad, cell_of(*BERLIN))  # type: ignore[arg-type]


@pytest.mark.parametrize("k", [2, 0, -1, 3.0, True])
def test_k_below_three_is_refused(k: object) -> None:
    with pytest.raises(ValueError, match="at least 3"):
        build_map([], k)  # type: ignore[arg-type]


def test_a_cell_shows_only_once_k_distinct_homes_report_it() -> None:
    cell = cell_of(*BERLIN)
    # Four homes, one of them three times: still four homes, below k = 5.
    reports = [CellReport(home(i), cell) for i in range(4)] + [CellReport(home(0), cell)] * 2
    assert build_map(reports) == {"type": "FeatureCollection", "features": []}
    fifth = CellReport(home(4), cell)
    feature = geo(build_map([*reports, fifth]))["features"][0]
    assert feature["properties"] == {
        "homes": 5,
        "cell_m": CELL_M,
        "row": cell.row,
        "col": cell.col,
    }
    south, west, north, east = (v / 1e6 for v in cell.bounds())
    assert feature["geometry"] == {
        "type": "Polygon",
        "coordinates": [
            [[west, south], [east, south], [east, north], [west, north], [west, south]]
        ],
    }


def test_counts_are_rounded_down_to_a_multiple_of_k() -> None:
    cell = cell_of(*BERLIN)
    for n, shown in ((9, 5), (10, 10), (14, 10)):
        reports = [CellReport(home(i), cell) for i in range(n)]
        assert geo(build_map(reports))["features"][0]["properties"]["homes"] == shown
    reports = [CellReport(home(i), cell) for i in range(7)]
    assert geo(build_map(reports, k=3))["features"][0]["properties"]["homes"] == 6


def test_the_latest_report_of_a_home_wins() -> None:
    here, there = cell_of(*BERLIN), cell_of(0, 0)
    others = [CellReport(home(i), here) for i in range(1, 5)]
    # Home 0 moved away at t=20; an older report arriving later does not bring it back.
    moved = [CellReport(home(0), there, at=20), CellReport(home(0), here, at=10)]
    assert build_map(others + moved)["features"] == []
    # Equal times: the later report wins.
    tie = [CellReport(home(0), there, at=5), CellReport(home(0), here, at=5)]
    assert len(geo(build_map(others + tie))["features"]) == 1


def test_features_are_in_grid_order_whatever_the_report_order() -> None:
    a, b = cell_of(*BERLIN), cell_of(-33_868_820, 151_209_296)
    reports = [CellReport(home(i), a if i % 2 else b) for i in range(10)]
    forward, backward = geo(build_map(reports, k=5)), geo(build_map(reports[::-1], k=5))
    assert forward == backward
    rows_out = [f["properties"]["row"] for f in forward["features"]]
    assert rows_out == sorted(rows_out)


# --- the promise, for any homes anywhere --------------------------------------------------------
LAT = st.integers(-MAX_LAT, MAX_LAT)
LON = st.integers(-MAX_LON, MAX_LON)
EDGES = st.sampled_from([-MAX_LAT, MAX_LAT - 1, MAX_LAT, 89_999_000, -89_999_999, 0])
ANTI = st.sampled_from([-MAX_LON, MAX_LON, MAX_LON - 1, -MAX_LON + 1, 0])


@st.composite
def homes_anywhere(draw: st.DrawFn) -> list[tuple[str, int, int]]:
    """Homes spread over the Earth and clustered around a few centres (poles and 180° too)."""
    spread = draw(st.lists(st.tuples(st.one_of(LAT, EDGES), st.one_of(LON, ANTI)), max_size=15))
    centres = draw(
        st.lists(st.tuples(st.one_of(LAT, EDGES), st.one_of(LON, ANTI)), min_size=1, max_size=3)
    )
    clustered = []
    for lat, lon in centres:
        offsets = st.tuples(st.integers(-3000, 3000), st.integers(-3000, 3000))
        for dlat, dlon in draw(st.lists(offsets, min_size=1, max_size=25)):
            clat = max(-MAX_LAT, min(MAX_LAT, lat + dlat))
            clon = (lon + dlon + MAX_LON) % (2 * MAX_LON) - MAX_LON
            clustered.append((clat, clon))
    points = spread + clustered
    owners = draw(st.lists(st.integers(0, 60), min_size=len(points), max_size=len(points)))
    return [(home(o), lat, lon) for o, (lat, lon) in zip(owners, points, strict=True)]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(homes_anywhere(), st.integers(3, 10), st.sampled_from([CELL_M, 500, 2000]))
def test_the_map_never_shows_fewer_than_k_homes_nor_anything_finer_than_a_cell(
    homes: list[tuple[str, int, int]], k: int, cell_m: int
) -> None:
    reports = [
        CellReport(keyid, cell_of(lat, lon, cell_m), at=i)
        for i, (keyid, lat, lon) in enumerate(homes)
    ]
    for _, lat, lon in homes:
        cell = cell_of(lat, lon, cell_m)
        south, west, north, east = cell.bounds()
        assert south <= lat < north or lat == north == MAX_LAT
        assert west <= lon < east or (lon == MAX_LON and west == -MAX_LON)
        assert cell_from_json(cell.to_json()) == cell
    latest: dict[str, Cell] = {r.home: r.cell for r in reports}  # reports are in time order
    result = geo(build_map(reports, k))
    text = json.dumps(result)
    assert all(keyid not in text for keyid, _, _ in homes)
    assert set(result) == {"type", "features"}
    shown: set[tuple[int, int, int]] = set()
    for feature in result["features"]:
        props = feature["properties"]
        cell = Cell(props["cell_m"], props["row"], props["col"])
        distinct = {h for h, c in latest.items() if c == cell}
        assert len(distinct) >= k
        assert props["homes"] >= k
        assert props["homes"] % k == 0
        assert props["homes"] <= len(distinct)
        assert set(props) == {"homes", "cell_m", "row", "col"}
        s, w, n, e = (v / 1e6 for v in cell.bounds())
        ring = feature["geometry"]["coordinates"][0]
        assert ring == [[w, s], [e, s], [e, n], [w, n], [w, s]]
        assert all(len(repr(x).split(".")[-1]) <= 6 for pos in ring for x in pos)
        shown.add((cell.cell_m, cell.row, cell.col))
    # Every cell with k homes is shown: the map is no emptier than it must be.
    full = {
        (c.cell_m, c.row, c.col)
        for c in latest.values()
        if sum(v == c for v in latest.values()) >= k
    }
    assert shown == full
    # Positions are cell corners only (checked above), so a home's own position never shows
    # unless it lies on a row boundary, where every corner is.
    positions = {tuple(pos) for f in result["features"] for pos in f["geometry"]["coordinates"][0]}
    for _, lat, lon in homes:
        south, _, north, _ = cell_of(lat, lon, cell_m).bounds()
        if south < lat < north:
            assert (lon / 1e6, lat / 1e6) not in positions


def test_the_equator_row_has_the_circumference_over_the_cell_size() -> None:
    assert math.isclose(
        columns(CELL_M, rows(CELL_M) // 2), 2 * math.pi * 6_371_008.8 / CELL_M, rel_tol=1e-3
    )


# --- the map_cell message ------------------------------------------------------------------------
async def test_a_neighbor_reports_its_cell_and_the_owner_side_gets_it(network: Network) -> None:
    got: list[tuple[str, Cell]] = []

    def on_map_cell(peer: Peer, cell: Cell) -> None:
        got.append((peer.keyid, cell))

    alice = await network.start("Alice")
    bob = await network.start("Bob", hooks=NodeHooks(on_map_cell=on_map_cell))
    await network.pair(alice, bob)
    cell = cell_of(*BERLIN)
    alice.node.send(bob.node.identity.keyid, "map_cell", cell.to_json(), lifetime=600)
    assert await alice.node.deliver(network.sender) == 1
    assert got == [(alice.node.identity.keyid, cell)]
    # Without a listener the node takes the report and drops it.
    bob.node.send(alice.node.identity.keyid, "map_cell", cell.to_json(), lifetime=600)
    assert await bob.node.deliver(network.sender) == 1


@pytest.mark.allow_porchlight_warnings(r"was given up \(status 400\)")
async def test_a_cell_off_the_grid_is_refused(network: Network) -> None:
    got: list[Cell] = []
    alice = await network.start("Alice")
    bob = await network.start("Bob", hooks=NodeHooks(on_map_cell=lambda _p, c: got.append(c)))
    await network.pair(alice, bob)
    # Row 0 (at the South Pole) has three columns; the schema alone would let this through.
    body = {"cell_m": CELL_M, "row": 0, "col": 3}
    alice.node.send(bob.node.identity.keyid, "map_cell", body, lifetime=600)  # type: ignore[arg-type]
    assert await alice.node.deliver(network.sender) == 0
    assert got == []


async def _home_and_agency(network: Network, got: list[Cell]) -> tuple[Running, Running]:
    agency = await network.start(
        "County Sheriff", role="agency", hooks=NodeHooks(on_map_cell=lambda _p, c: got.append(c))
    )
    home_node = await network.start(
        "Maple 12", hooks=NodeHooks(on_map_cell=lambda _p, c: got.append(c))
    )
    peer = await home_node.node.accept_invite(
        agency.node.create_invite(lan=True).to_text(), network.sender, lan=True
    )
    home_node.node.confirm_pairing(peer.keyid)
    home_node.node.peers.set_trusted(peer.keyid, trusted=True)
    return home_node, agency


async def test_a_cell_is_never_sent_to_or_by_an_agency(network: Network) -> None:
    home_node, agency = await _home_and_agency(network, [])
    body = cell_of(*BERLIN).to_json()
    for sender, to in (
        (home_node, agency.node.identity.keyid),
        (agency, home_node.node.identity.keyid),
        (home_node, home(7)),  # not a peer at all
    ):
        with pytest.raises(ValueError, match="paired neighbor only"):
            sender.node.send(to, "map_cell", body, lifetime=600)
    assert len(home_node.node.outbox) == len(agency.node.outbox) == 0


@pytest.mark.allow_porchlight_warnings(r"was given up \(status 403\)")
async def test_an_agency_neither_sends_nor_takes_map_cells(network: Network) -> None:
    got: list[Cell] = []
    home_node, agency = await _home_and_agency(network, got)
    body = cell_of(*BERLIN).to_json()
    # Sealed by hand, past the senders' own guard: the receivers refuse it too.
    for sender, to in ((agency, home_node), (home_node, agency)):
        envelope = seal(
            sender.node.identity,
            "map_cell",
            body,
            to=to.node.identity.keyid,
            now=sender.node.clock.now(),
            lifetime=600,
            message_id=new_nonce(),
        )
        sender.node.sending.queue(to.node.identity.keyid, envelope, sender.node.clock.now())
        assert await sender.node.deliver(network.sender) == 0
    assert got == []


# --- the camera_map message (home -> agency) ------------------------------------------------------
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(homes_anywhere(), st.integers(3, 10))
def test_no_camera_map_body_holds_a_cell_under_k_or_anything_finer_than_a_cell(
    homes: list[tuple[str, int, int]], k: int
) -> None:
    reports = [
        CellReport(keyid, cell_of(lat, lon), at=i) for i, (keyid, lat, lon) in enumerate(homes)
    ]
    body = map_body(build_map(reports, k), k)
    # The schema's and the receiver's checks both pass: what a home sends an agency arrives.
    spec = TYPES["camera_map"].body
    assert set(body) == set(spec)
    assert all(spec[name].check(value) for name, value in body.items())
    got_k, cells = map_from_json(body)
    assert got_k == k
    latest: dict[str, Cell] = {}
    for report in reports:
        latest[report.home] = report.cell
    for item in cells:
        # Each shown cell holds at least k distinct homes, and no more than it says + k - 1.
        really = sum(cell == item.cell for cell in latest.values())
        assert k <= item.homes <= really < item.homes + k
        assert item.homes % k == 0
    # Integers only, and no field but the grid cell and its count.
    assert body["cell_m"] == CELL_M
    for entry in body["cells"]:  # type: ignore[union-attr]
        assert set(entry) == {"row", "col", "homes"}  # type: ignore[arg-type]
        assert all(type(v) is int for v in entry.values())  # type: ignore[union-attr]
    # Every cell that holds k homes is in the body.
    crowded = {c for c in latest.values() if sum(x == c for x in latest.values()) >= k}
    assert {item.cell for item in cells} == crowded


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ([], "exactly the fields"),
        ({"cell_m": CELL_M, "k": 2, "cells": []}, "k is an integer from 3"),
        ({"cell_m": CELL_M, "k": 5, "cells": {}}, "a list of at most"),
        ({"cell_m": CELL_M, "k": 5, "cells": [{"row": 1, "col": 0}]}, "exactly the fields row"),
        ({"cell_m": CELL_M, "k": 5, "cells": [{"row": 0, "col": 3, "homes": 5}]}, "column 3"),
        ({"cell_m": CELL_M, "k": 5, "cells": [{"row": 0, "col": 0, "homes": 4}]}, "not 4"),
        ({"cell_m": CELL_M, "k": 5, "cells": [{"row": 0, "col": 0, "homes": 7}]}, "not 7"),
        (
            {"cell_m": CELL_M, "k": 5, "cells": [{"row": 0, "col": 0, "homes": 5}] * 2},
            "names a cell twice",
        ),
    ],
)
def test_a_camera_map_that_could_show_a_small_group_is_refused(body: object, why: str) -> None:
    with pytest.raises(AreaError, match=why):
        map_from_json(body)  # type: ignore[arg-type]


def test_received_cells_become_a_map_and_a_centre_lies_inside_its_cell() -> None:
    cell = cell_of(*BERLIN)
    _, cells = map_from_json(
        {"cell_m": CELL_M, "k": 5, "cells": [{"row": cell.row, "col": cell.col, "homes": 10}]}
    )
    [feature] = geo(cells_map(cells))["features"]
    assert feature["properties"] == {
        "homes": 10,
        "cell_m": CELL_M,
        "row": cell.row,
        "col": cell.col,
    }
    lat, lon = centre(cell)
    assert cell_of(round(lat * 1e6), round(lon * 1e6)) == cell


def test_a_camera_map_body_keeps_only_cells_of_its_grid() -> None:
    coarse = [CellReport(home(i), cell_of(*BERLIN, 500)) for i in range(5)]
    fine = [CellReport(home(i + 10), cell_of(*BERLIN)) for i in range(5)]
    body = map_body(build_map(coarse + fine, 5), 5)
    assert body["cells"] == [{"row": fine[0].cell.row, "col": fine[0].cell.col, "homes": 5}]


async def test_an_agency_takes_a_camera_map_from_its_paired_home(network: Network) -> None:
    home_node, agency = await _home_and_agency(network, [])
    agency.node.confirm_pairing(home_node.node.identity.keyid)
    cell = cell_of(*BERLIN)
    body = {"cell_m": CELL_M, "k": 5, "cells": [{"row": cell.row, "col": cell.col, "homes": 5}]}
    sent = home_node.node.send(agency.node.identity.keyid, "camera_map", body, lifetime=600)  # type: ignore[arg-type]
    assert await home_node.node.deliver(network.sender) == 1
    assert [e.event_id for e in agency.node.received] == [sent.event_id]


def test_a_camera_map_goes_to_a_paired_agency_only(network: Network) -> None:
    node = network.node("Maple")
    with pytest.raises(ValueError, match="paired agency only"):
        node.send(home(3), "camera_map", {"cell_m": CELL_M, "k": 5, "cells": []}, lifetime=600)


@pytest.mark.allow_porchlight_warnings(r"was given up \(status (403|400)\)")
async def test_a_neighbor_or_an_inflated_map_is_refused(network: Network) -> None:
    alice = await network.start("Alice")
    bob = await network.start("Bob")
    await network.pair(alice, bob)
    home_node, agency = await _home_and_agency(network, [])
    agency.node.confirm_pairing(home_node.node.identity.keyid)
    cell = cell_of(*BERLIN)
    good = {"cell_m": CELL_M, "k": 5, "cells": [{"row": cell.row, "col": cell.col, "homes": 5}]}
    small = {"cell_m": CELL_M, "k": 5, "cells": [{"row": cell.row, "col": cell.col, "homes": 3}]}
    # Sealed by hand, past the sender's guard: a map between homes, a map with a small group.
    for sender, to, body in ((alice, bob, good), (home_node, agency, small)):
        envelope = seal(
            sender.node.identity,
            "camera_map",
            body,  # type: ignore[arg-type]
            to=to.node.identity.keyid,
            now=sender.node.clock.now(),
            lifetime=600,
            message_id=new_nonce(),
        )
        sender.node.sending.queue(to.node.identity.keyid, envelope, sender.node.clock.now())
        assert await sender.node.deliver(network.sender) == 0
    assert list(bob.node.received) == list(agency.node.received) == []
