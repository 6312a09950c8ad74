"""The camera map across real homes: three Home Assistants, protocol nodes and the agency CLI.

    Birch (HA) ─┐           ┌─ Oak, Elm (nodes, in Maple's cell)
    Cedar (HA) ─┴─ Maple (HA) ─┼─ Pine (node, 2 km away)
                               └─ Metro PD (porchlight-agency inbox)

Maple, Birch, Cedar, Oak and Elm lie in one cell of the grid: five homes, so Maple's map shows
that cell once the fifth has reported, and never Pine's cell of one. Everything travels over
real HTTP on 127.0.0.1; the agency is the CLI itself, serving its inbox in a worker thread.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

import pytest
from homeassistant.helpers import entity_registry as er

from custom_components.porchlight.camera_map_glue import MAP_K
from custom_components.porchlight.federation.camera_map import cell_of, centre
from custom_components.porchlight.federation.node import NodeHooks
from porchlight_dev.rtsp import free_port

from .agency.cli_helpers import Cli, Served
from .footage_helpers import HOME_LAT, HOME_LON
from .test_neighborhood_homes import (
    Home,
    _another_home_assistant,
    _pair_homes,
    _pair_node,
    _set_up,
)

if TYPE_CHECKING:
    from pathlib import Path

    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.typing import WebSocketGenerator

    from custom_components.porchlight.federation.camera_map import Cell
    from custom_components.porchlight.federation.peers import Peer

    from .federation.loopback import Network, Running

HERE = cell_of(HOME_LAT, HOME_LON)
PINE = cell_of(HOME_LAT + 20_000, HOME_LON)


def _inside(i: int) -> tuple[float, float]:
    """The i-th home's exact location: distinct points of HERE, none its centre."""
    south, west, north, east = HERE.bounds()
    return (
        (south + (north - south) * (i + 1) // 8) / 1e6,
        (west + (east - west) * (7 - i) // 8) / 1e6,
    )


def _cells(state_machine: Any) -> dict[str, Any]:
    return {
        s.entity_id: s
        for s in state_machine.async_all("geo_location")
        if s.attributes.get("source") == "porchlight"
    }


# Every message the HA homes queued, as the bytes that were sent.
OUTGOING: list[str] = []


async def _deliver(*homes: Home) -> None:
    for home in homes:
        OUTGOING.extend(entry.payload for entry in home.node.outbox)
        await home.entry.runtime_data.federation.async_deliver()
        await home.settle()


@pytest.mark.usefixtures("socket_enabled")
async def test_cells_are_exchanged_and_only_a_cell_of_k_homes_is_shown_and_sent(  # noqa: PLR0915  # one story
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    network: Network,
    tmp_path: Path,
) -> None:
    maple = await _set_up(hass, "Maple", *_inside(0))
    async with (
        _another_home_assistant(tmp_path / "birch") as birch_hass,
        _another_home_assistant(tmp_path / "cedar") as cedar_hass,
    ):
        birch = await _set_up(birch_hass, "Birch", *_inside(1))
        cedar = await _set_up(cedar_hass, "Cedar", *_inside(2))
        told: dict[str, list[Cell]] = {"Oak": [], "Elm": [], "Pine": []}

        def hears(name: str) -> NodeHooks:
            def on_map_cell(_peer: Peer, cell: Cell) -> None:
                told[name].append(cell)

            return NodeHooks(on_map_cell=on_map_cell)

        nodes: dict[str, Running] = {
            name: await network.start(name, hooks=hears(name)) for name in told
        }
        # Maple redeems Birch's and Cedar's invites: its own pairing endpoint takes five
        # pairings a minute from one address, and the nodes and the agency redeem Maple's.
        await _pair_homes(birch, maple)
        await _pair_homes(cedar, maple)
        for node in nodes.values():
            await _pair_node(maple, node, network)
        # Every pairing that became active sent the home's cell (and nothing finer).
        await _deliver(maple, birch, cedar)
        assert told == {"Oak": [HERE], "Elm": [HERE], "Pine": [HERE]}
        maple_id = maple.node.identity.keyid
        for home in (birch, cedar):
            reports = home.entry.runtime_data.federation.camera_map.reports
            assert {k: r.cell for k, r in reports.items()} == {maple_id: HERE}
        # Maple heard Birch and Cedar; Oak reports too: four homes in HERE, one short of k.
        maple_map = maple.entry.runtime_data.federation.camera_map
        assert len(maple_map.reports) == 2
        assert MAP_K == 5
        for name, cell in (("Oak", HERE), ("Pine", PINE)):
            node = nodes[name].node
            node.send(maple_id, "map_cell", cell.to_json(), lifetime=3600)
            assert await node.deliver(network.sender) == 1
        await maple.settle()
        client = await hass_ws_client(hass)
        await client.send_json_auto_id({"type": "porchlight/camera_map"})
        reply = await client.receive_json()
        assert reply["result"] == {"type": "FeatureCollection", "features": []}
        assert _cells(hass.states) == {}

        # The agency pairs with Maple (the CLI redeems Maple's invite) and serves its inbox.
        cli = Cli(tmp_path / "agency", free_port())
        assert (await cli.run("init", "--name", "Metro PD", "--endpoint", cli.endpoint)).status == 0
        result = await cli.run("pair", await maple.invite(), "--lan")
        assert result.status == 0, result.err
        code = result.out.strip()
        assert (await cli.run("confirm", maple.node.identity.fingerprint, code)).status == 0
        agency_fp = cli.node().identity.fingerprint
        await maple.call("confirm_pairing", fingerprint=agency_fp, code=code)
        await maple.call("trust_agency", fingerprint=agency_fp)
        # Nothing to map yet: one line, status 1.
        empty = await cli.run("map")
        assert (empty.status, empty.out) == (1, "")
        assert "no camera map has arrived" in empty.err

        async with Served(cli, "--once-seconds", "3") as served:
            # The fifth home of HERE reports: the cell is shown, and goes to the agency.
            elm = nodes["Elm"].node
            elm.send(maple_id, "map_cell", HERE.to_json(), lifetime=3600)
            assert await elm.deliver(network.sender) == 1
            await _deliver(maple)
        assert (await served.result()).status == 0

        [state] = _cells(hass.states).values()
        assert state.attributes["homes"] == MAP_K
        assert state.attributes["cell_m"] == HERE.cell_m
        assert state.name == "Maple Cameras: 5 homes"
        lat, lon = centre(HERE)
        assert (state.attributes["latitude"], state.attributes["longitude"]) == (
            round(lat, 5),
            round(lon, 5),
        )
        await client.send_json_auto_id({"type": "porchlight/camera_map"})
        [feature] = (await client.receive_json())["result"]["features"]
        assert feature["properties"] == {
            "homes": MAP_K,
            "cell_m": HERE.cell_m,
            "row": HERE.row,
            "col": HERE.col,
        }
        # Birch's own map: only Maple told it a cell; nothing is shown there.
        assert _cells(birch_hass.states) == {}

        out = tmp_path / "map.geojson"
        result = await cli.run("map", "--out", str(out))
        assert result.status == 0, result.err
        assert result.out.strip() == str(out)
        merged = json.loads(out.read_text())
        assert [f["properties"] for f in merged["features"]] == [feature["properties"]]
        printed = await cli.run("map")
        assert json.loads(printed.out) == merged

        # The home's exact location is in nothing it sent; every cell and map it sent is in
        # its audit log (write-ahead, by digest) before it left.
        audit = maple.entry.runtime_data.desk.audit
        logged = await hass.async_add_executor_job(
            lambda: {e.payload_sha256 for e in audit.entries() if e.kind == "message_sent"}
        )
        mine = [p for p in OUTGOING if json.loads(p)["from"] == maple_id]
        assert {json.loads(p)["type"] for p in mine} >= {"map_cell", "camera_map"}
        assert {hashlib.sha256(p.encode()).hexdigest() for p in mine} <= logged
        exact = {str(round(v * 1e6)) for v in _inside(0)} | {f"{v:.5f}" for v in _inside(0)}
        for payload in mine:
            assert not any(form in payload for form in exact)

        # Oak's owner unpairs: four homes again, the cell and its entity are gone.
        await maple.call("remove_peer", fingerprint=nodes["Oak"].node.identity.fingerprint)
        await maple.settle()
        assert _cells(hass.states) == {}
        assert er.async_get(hass).async_get(state.entity_id) is None
        assert await birch_hass.config_entries.async_unload(birch.entry.entry_id)
        assert await cedar_hass.config_entries.async_unload(cedar.entry.entry_id)
