"""Transparency digests across three Home Assistant homes, three protocol nodes and the agency.

    Maple (HA) - Birch (HA) - Cedar (HA)
                   |  \\  \\
                  Oak Elm Ash (nodes)

All over real HTTP on 127.0.0.1. The nodes send Birch their signed digests of last week (each
declined an in-area request of the agency); Oak also tries a count altered after signing and
Ash a digest of Elm's, both refused. Birch's sensor and diagnostics show the sum of six homes,
which verifies against the homes' keys. The agency CLI, paired with Maple and Birch, gets
Birch's view (six homes, its own row only) and none from Maple, which knows two homes only.
"""

from __future__ import annotations

import copy
import json
from typing import TYPE_CHECKING, Any

import pytest
from homeassistant.helpers import entity_registry as er

from custom_components.porchlight.diagnostics import async_get_config_entry_diagnostics
from custom_components.porchlight.federation.digest import (
    AgencyCounts,
    period_of,
    sign_digest,
    verify_aggregate,
)
from custom_components.porchlight.federation.digest_exchange import previous_period
from custom_components.porchlight.federation.node import NodeHooks
from porchlight_dev.rtsp import free_port

from .agency.cli_helpers import Cli, Served, one_line_error
from .home import HOME
from .test_neighborhood_homes import Home, _another_home_assistant, _pair_homes, _pair_node, _set_up

if TYPE_CHECKING:
    from pathlib import Path

    from homeassistant.core import HomeAssistant

    from custom_components.porchlight.federation.digest import HomeDigest

    from .federation.loopback import Network, Running

DECLINED = AgencyCounts(requests_received=2, in_area=1, declined=1)


async def _pair_agency(home: Home, cli: Cli) -> None:
    paired = await cli.run("pair", await home.invite(), "--lan")
    assert paired.status == 0, paired.err
    code = paired.out.strip()
    fingerprint = cli.node().identity.fingerprint
    assert (await cli.run("confirm", home.node.identity.fingerprint, code)).status == 0
    await home.call("confirm_pairing", fingerprint=fingerprint, code=code)
    await home.call("trust_agency", fingerprint=fingerprint)


async def _send(node: Running, to: Home, digest: dict[str, Any], network: Network) -> int:
    node.node.send(to.node.identity.keyid, "digest", {"digest": digest}, lifetime=600)
    return await node.node.deliver(network.sender)


def _sensor(home: Home) -> Any:
    (entity_id,) = (
        e.entity_id
        for e in er.async_entries_for_config_entry(er.async_get(home.hass), home.entry.entry_id)
        if e.translation_key == "neighborhood_requests"
    )
    return home.hass.states.get(entity_id)


@pytest.mark.usefixtures("socket_enabled")
@pytest.mark.allow_porchlight_warnings(r"was given up \(status 400\)")
async def test_digests_cross_the_neighborhood_and_the_agency_sees_only_its_verified_row(
    hass: HomeAssistant, network: Network, tmp_path: Path
) -> None:
    cli = Cli(tmp_path / "agency", free_port())
    assert cli.init().status == 0
    maple = await _set_up(hass, "Maple", HOME["latitude"] + 0.05, HOME["longitude"])
    async with (
        _another_home_assistant(tmp_path / "birch") as birch_hass,
        _another_home_assistant(tmp_path / "cedar") as cedar_hass,
    ):
        birch = await _set_up(birch_hass, "Birch", HOME["latitude"], HOME["longitude"])
        cedar = await _set_up(cedar_hass, "Cedar", HOME["latitude"] - 0.05, HOME["longitude"])
        got: dict[str, list[HomeDigest]] = {"Oak": [], "Elm": [], "Ash": []}
        nodes = {
            name: await network.start(
                name, hooks=NodeHooks(on_digest=lambda _c, d, into=into: into.append(d))
            )
            for name, into in got.items()
        }
        await _pair_homes(maple, birch)
        await _pair_homes(birch, cedar)
        for node in nodes.values():
            await _pair_node(birch, node, network)
        await _pair_agency(maple, cli)
        await _pair_agency(birch, cli)
        agency = cli.node().identity.keyid

        week = previous_period(network.clock.now())
        digests = {
            name: sign_digest(node.node.identity, week, {agency: DECLINED})
            for name, node in nodes.items()
        }
        forged = copy.deepcopy(digests["Oak"])
        forged["agencies"][0]["declined"] = 0  # one decline less, the signature left as it was
        assert await _send(nodes["Oak"], birch, forged, network) == 0
        assert await _send(nodes["Ash"], birch, digests["Elm"], network) == 0
        for name, node in nodes.items():
            assert await _send(node, birch, digests[name], network) == 1

        # Maple and Cedar send theirs (empty: nobody asked them); Maple knows two homes at
        # most, too few for an agency view.
        for home in (maple, cedar):
            data = home.entry.runtime_data.federation.digests
            data.k, data.agency_delay = 3, 0
            await data.async_send()
            await home.entry.runtime_data.federation.async_deliver()
        await birch.settle()

        # Birch: six homes last week, the three nodes' declines summed.
        state = _sensor(birch)
        assert state is not None
        assert state.state == "6"
        assert state.attributes["period"] == week
        assert state.attributes["homes"] == 6
        assert state.attributes["agencies"] == {
            "Metro PD": {**(DECLINED + DECLINED + DECLINED).to_json(), "homes_in_area": 3}
        }
        diagnostics = await async_get_config_entry_diagnostics(birch_hass, birch.entry)
        last = diagnostics["neighborhood_digest"]["last_week"]
        keys = {
            h.node.identity.keyid: h.node.identity.public_key
            for h in (maple, birch, cedar, *nodes.values())
        }
        verify_aggregate(last["aggregate"], last["digests"], keys=keys)
        assert forged not in last["digests"]
        assert diagnostics["neighborhood_digest"]["this_week"]["aggregate"]["period"] == (
            period_of(network.clock.now())
        )

        # Birch sends its digests on to its neighbors, and the agency its view.
        async with Served(cli, "--once-seconds", "3"):
            for home in (maple, birch):
                data = home.entry.runtime_data.federation.digests
                data.k, data.agency_delay = 3, 0
                await data.async_send()
                await home.entry.runtime_data.federation.async_deliver()
        assert [d.period for d in got["Oak"]] == [week, period_of(network.clock.now())]

        await _agency_sees_birchs_view_only(cli, birch, (maple, cedar, *nodes.values()), week)
        assert await birch_hass.config_entries.async_unload(birch.entry.entry_id)
        assert await cedar_hass.config_entries.async_unload(cedar.entry.entry_id)


async def _agency_sees_birchs_view_only(
    cli: Cli, birch: Home, others: tuple[Home | Running, ...], week: str
) -> None:
    """`porchlight-agency digest`: Birch's verified view, nothing naming another home."""
    shown = await cli.run("digest", "--json")
    assert shown.status == 0, shown.err
    (view,) = json.loads(shown.out)
    assert view == {
        "period": week,
        "home": birch.node.identity.keyid,
        "home_name": "Birch",
        "homes": 6,
        "counts": (DECLINED + DECLINED + DECLINED).to_json(),
        "withheld": False,
    }
    text = await cli.run("digest", "--period", week)
    assert text.status == 0
    assert "6 homes: requests received 6, in area 3" in text.out
    # Nothing the agency holds names another home than the one it is paired with.
    stored = "".join(p.read_text() for p in (cli.profile_dir / "digests").rglob("*.json"))
    assert not any(h.node.identity.keyid in stored for h in others)
    none = await cli.run("digest", "--period", "2020-W01")
    assert none.status == 1
    assert "no home has sent this agency a transparency digest for 2020-W01" in (
        one_line_error(none.err)
    )
