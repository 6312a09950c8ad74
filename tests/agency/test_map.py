"""map: the homes' camera maps kept by the inbox, merged (largest count per cell), printed."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from custom_components.porchlight.federation.camera_map import CELL_M, cell_of
from custom_components.porchlight.federation.httpsig import new_nonce
from custom_components.porchlight.federation.messages import seal
from porchlight_agency.maps import maps_dir, store_map
from porchlight_agency.profile import Profile

from .cli_helpers import Served, one_line_error, paired_home

if TYPE_CHECKING:
    from pathlib import Path

    from custom_components.porchlight.federation.canonical import JSON
    from custom_components.porchlight.federation.messages import Envelope
    from tests.federation.loopback import Network, Running

    from .cli_helpers import Cli

HERE = cell_of(40_712_800, -74_006_000)
THERE = cell_of(40_730_000, -74_006_000)


def body(*cells: tuple[int, int, int], k: int = 5) -> dict[str, JSON]:
    return {
        "cell_m": CELL_M,
        "k": k,
        "cells": [{"row": r, "col": c, "homes": h} for r, c, h in cells],
    }


async def send_map(network: Network, home: Running, agency: str, b: dict[str, JSON]) -> Envelope:
    envelope = home.node.send(agency, "camera_map", b, lifetime=3600)
    assert await home.node.deliver(network.sender) == 1
    return envelope


async def test_maps_of_two_homes_merge_to_the_largest_count_per_cell(
    cli: Cli, network: Network
) -> None:
    cli.init()
    maple = await paired_home(cli, network, "Maple St 12")
    birch = await paired_home(cli, network, "Birch Rd 3")
    agency = cli.node().identity.keyid
    served = Served(cli, "--once-seconds", "2")
    async with served:
        # Maple's first map is replaced by its later one; Birch sees HERE with more homes.
        await send_map(network, maple, agency, body((HERE.row, HERE.col, 5)))
        network.clock.advance(1)
        await send_map(
            network, maple, agency, body((HERE.row, HERE.col, 5), (THERE.row, THERE.col, 5))
        )
        await send_map(network, birch, agency, body((HERE.row, HERE.col, 10)))
        # A map signed earlier, arriving late (held up by retries): kept out, not printed.
        now = network.clock.now()
        stale = seal(
            maple.node.identity,
            "camera_map",
            body(),
            to=agency,
            now=now - 60,
            lifetime=3600,
            message_id=new_nonce(),
        )
        maple.node.sending.queue(agency, stale, now)
        assert await maple.node.deliver(network.sender) == 1
    result = await served.result()
    assert result.status == 0, result.err
    assert result.out.splitlines() == [
        f"camera map from {maple.node.identity.fingerprint}",
        f"camera map from {maple.node.identity.fingerprint}",
        f"camera map from {birch.node.identity.fingerprint}",
    ]
    printed = await cli.run("map")
    assert printed.status == 0, printed.err
    geojson = json.loads(printed.out)
    assert geojson["type"] == "FeatureCollection"
    assert [
        (f["properties"]["row"], f["properties"]["col"], f["properties"]["homes"])
        for f in geojson["features"]
    ] == sorted([(HERE.row, HERE.col, 10), (THERE.row, THERE.col, 5)])
    assert printed.err == "camera map of 2 home(s)\n"


async def test_an_older_map_never_replaces_a_newer_one(cli: Cli, network: Network) -> None:
    cli.init()
    maple = await paired_home(cli, network)
    agency = cli.node().identity.keyid
    profile = Profile(cli.profile_dir)
    old = maple.node.send(agency, "camera_map", body(), lifetime=3600)
    network.clock.advance(5)
    new = maple.node.send(agency, "camera_map", body((HERE.row, HERE.col, 5)), lifetime=3600)
    assert store_map(profile, new)
    assert not store_map(profile, old)
    stored = maps_dir(profile) / f"{maple.node.identity.keyid}.json"
    assert stored.read_bytes() == new.encode()
    assert oct(stored.stat().st_mode & 0o777) == "0o600"


def test_no_map_yet_is_one_line_and_status_1(cli: Cli) -> None:
    cli.init()
    result = cli.run_sync("map")
    assert result.status == 1
    assert result.out == ""
    assert "no camera map has arrived" in one_line_error(result.err)


async def test_a_damaged_or_foreign_file_is_skipped_and_reported(
    cli: Cli, network: Network
) -> None:
    cli.init()
    maple = await paired_home(cli, network)
    agency = cli.node().identity.keyid
    profile = Profile(cli.profile_dir)
    assert store_map(profile, maple.node.send(agency, "camera_map", body(), lifetime=3600))
    folder = maps_dir(profile)
    # Someone else's message filed under another home's name, a damaged file, and strays.
    alert = maple.node.broadcast_alert("hello")
    (folder / f"{'A' * 32}.json").write_bytes(alert.encode())
    (folder / f"{'B' * 32}.json").write_bytes(b"{}")
    (folder / "notes.txt").write_text("not a map")
    (folder / f"{'C' * 32}.json").mkdir()
    result = await cli.run("map")
    assert result.status == 1
    assert json.loads(result.out) == {"type": "FeatureCollection", "features": []}
    lines = result.err.splitlines()
    assert sum(line.startswith("skipped: ") for line in lines) == 2
    assert "is not a camera map of its home" in result.err
    assert lines[-1] == "porchlight-agency: error: 2 stored map(s) could not be used (see above)"


async def test_out_writes_the_file_and_an_unwritable_one_is_one_line(
    cli: Cli, network: Network, tmp_path: Path
) -> None:
    cli.init()
    maple = await paired_home(cli, network)
    agency = cli.node().identity.keyid
    profile = Profile(cli.profile_dir)
    store_map(profile, maple.node.send(agency, "camera_map", body(), lifetime=3600))
    out = tmp_path / "map.geojson"
    result = await cli.run("map", "--out", str(out))
    assert (result.status, result.out) == (0, f"{out}\n")
    assert json.loads(out.read_text())["features"] == []
    result = await cli.run("map", "--out", str(tmp_path / "missing" / "map.geojson"))
    assert result.status == 1
    assert "cannot write" in one_line_error(result.err)
