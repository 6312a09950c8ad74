"""Three Home Assistant homes and three protocol nodes: a request crosses the neighborhood.

Each home is a whole Home Assistant with Porchlight set up from its config entry, its
federation served on a port of its own on 127.0.0.1 (real HTTP between the instances). The
first home is phcc's `hass`; the other two are further Home Assistant instances in the same
event loop (phcc's async_test_home_assistant, own config folders, own keys):

    Metro PD (agency) - Maple (HA) - Birch (HA) - Cedar (HA) - Oak (node)
                                                      |
                                                    Elm (node)

Maple and Birch lie outside the request's area; Cedar lies inside. The agency is paired with
Maple only; Birch and Cedar imported its invite (one-sided) and trust it.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest
from homeassistant import loader
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_test_home_assistant,
)

from custom_components.porchlight.const import (
    CONF_CAMERAS,
    CONF_FEDERATION_PORT,
    CONF_HOME_NAME,
    CONF_LOCATION,
    DOMAIN,
    RECORDING_DEFAULTS,
)
from custom_components.porchlight.federation.api import API_PREFIX
from custom_components.porchlight.federation.node import Node, NodeHooks
from porchlight_dev.rtsp import free_port

from .footage_helpers import HOME_LAT, HOME_LON
from .home import HOME

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator
    from pathlib import Path

    from homeassistant.core import HomeAssistant

    from custom_components.porchlight.federation.messages import Envelope
    from custom_components.porchlight.federation.peers import Peer

    from .federation.loopback import Network, Running

EVENT_REQUEST = "porchlight_request"


@dataclass
class Home:
    """One Home Assistant home on its federation port."""

    hass: HomeAssistant
    entry: MockConfigEntry
    port: int

    @property
    def node(self) -> Node:
        return self.entry.runtime_data.federation.node  # type: ignore[no-any-return]

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}{API_PREFIX}"

    async def call(self, service: str, **data: Any) -> Any:
        return await self.hass.services.async_call(
            DOMAIN, service, data, blocking=True, return_response=service.startswith("create")
        )

    async def invite(self) -> str:
        response = await self.call("create_invite", endpoint=self.endpoint, lan=True)
        return str(response["invite"])

    async def settle(self) -> None:
        await self.hass.async_block_till_done(wait_background_tasks=True)


async def _set_up(hass: HomeAssistant, name: str, lat: float, lon: float) -> Home:
    """Porchlight in hass, its federation on a free port of 127.0.0.1."""
    if "http" not in hass.config.components:
        assert await async_setup_component(hass, "http", {})
    hass.http.server_host = ["127.0.0.1"]
    port = free_port()
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=name,
        data={CONF_HOME_NAME: name, CONF_LOCATION: {"latitude": lat, "longitude": lon}},
        options={CONF_CAMERAS: [], **RECORDING_DEFAULTS, CONF_FEDERATION_PORT: port},
        version=1,
        minor_version=1,
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return Home(hass, entry, port)


@asynccontextmanager
async def _another_home_assistant(folder: Path) -> AsyncGenerator[HomeAssistant]:
    """A further Home Assistant in this event loop, stopped on exit."""
    folder.mkdir()
    async with async_test_home_assistant(config_dir=str(folder)) as other:
        # What phcc's enable_custom_integrations does for its own hass.
        other.data.pop(loader.DATA_CUSTOM_COMPONENTS, None)
        try:
            yield other
        finally:
            await other.async_stop(force=True)


async def _pair_homes(inviter: Home, guest: Home) -> None:
    """Two owners pair their homes and compare the code on both sides."""
    invite = await inviter.invite()
    await guest.call("accept_invite", invite=invite, endpoint=guest.endpoint, lan=True)
    peer = guest.node.peers.get(inviter.node.identity.keyid)
    assert peer is not None
    code = peer.pairing_code
    await guest.call("confirm_pairing", fingerprint=inviter.node.identity.fingerprint, code=code)
    await inviter.call("confirm_pairing", fingerprint=guest.node.identity.fingerprint, code=code)


async def _pair_node(home: Home, node: Running, network: Network) -> None:
    peer = await node.node.accept_invite(await home.invite(), network.sender, lan=True)
    node.node.confirm_pairing(peer.keyid, peer.pairing_code)
    await home.call(
        "confirm_pairing", fingerprint=node.node.identity.fingerprint, code=peer.pairing_code
    )


@pytest.mark.usefixtures("socket_enabled")
async def test_a_request_crosses_three_home_assistants_and_only_the_home_in_the_area_asks(
    hass: HomeAssistant, network: Network, tmp_path: Path
) -> None:
    # Area: 300 m around a point ~100 m from HOME (footage_helpers.request_body). Maple and
    # Birch are kilometres away; Cedar is HOME itself.
    maple = await _set_up(hass, "Maple", HOME["latitude"] + 0.05, HOME["longitude"])
    async with (
        _another_home_assistant(tmp_path / "birch") as birch_hass,
        _another_home_assistant(tmp_path / "cedar") as cedar_hass,
    ):
        birch = await _set_up(birch_hass, "Birch", HOME["latitude"] - 0.05, HOME["longitude"])
        cedar = await _set_up(cedar_hass, "Cedar", HOME["latitude"], HOME["longitude"])
        agency = await network.start("Metro PD", role="agency")
        heard: dict[str, list[Envelope]] = {"Oak": [], "Elm": []}
        oak, elm = [
            await network.start(name, hooks=NodeHooks(on_request=_hear(heard[name])))
            for name in heard
        ]
        await _pair_homes(maple, birch)
        await _pair_homes(birch, cedar)
        await _pair_node(cedar, oak, network)
        await _pair_node(cedar, elm, network)
        # Maple paired with the agency in person; Birch and Cedar imported its invite.
        await _pair_node(maple, agency, network)
        for home in (birch, cedar):
            await home.call("import_agency", invite=agency.node.create_invite().to_text(), lan=True)
        for home in (maple, birch, cedar):
            await home.call("trust_agency", fingerprint=agency.node.identity.fingerprint)

        asked = {
            name: async_capture_events(home.hass, EVENT_REQUEST)
            for name, home in (("maple", maple), ("birch", birch), ("cedar", cedar))
        }
        body = {
            "case": "2026-000417",
            "reason": "Package theft reported on Cedar Lane",
            "area": {
                "kind": "circle",
                "lat": HOME_LAT + 900,
                "lon": HOME_LON - 700,
                "radius_m": 300,
            },
            "start": network.clock.now() - 3600,
            "end": network.clock.now() - 60,
            "reply_to": agency.endpoint,
            "max_hops": 3,
        }
        sent = agency.node.request_footage(body, lifetime=86400)
        assert await agency.node.deliver(network.sender) == 1
        # Each home relays in a pass of its own as soon as it accepted the request.
        for home in (maple, birch, cedar, maple, birch, cedar):
            await home.settle()

        for got in heard.values():
            # Three hops from Maple: verified end to end against the agency's key.
            assert [(r.event_id, r.hops, r.sender) for r in got] == [
                (sent.event_id, 3, agency.node.identity.keyid)
            ]
        assert {name: len(events) for name, events in asked.items()} == {
            "maple": 0,
            "birch": 0,
            "cedar": 1,
        }
        assert asked["cedar"][0].data["case"] == "2026-000417"
        # The agency heard from nobody: no home told it whether it was asked or in the area.
        # Only Maple, paired with it in person, sent its camera map (once trusted, whatever
        # the request); Birch and Cedar, which only imported the agency, never told it they
        # exist.
        assert [(e.type, e.sender) for e in agency.node.received] == [
            ("camera_map", maple.node.identity.keyid)
        ]
        assert [p.name for p in agency.node.peers] == ["Maple"]
        # Every home logged what it relayed.
        for home in (maple, birch, cedar):
            audit = home.entry.runtime_data.desk.audit
            kinds = await home.hass.async_add_executor_job(
                lambda a=audit: [e.kind for e in a.entries()]
            )
            assert "message_sent" in kinds
        assert await birch_hass.config_entries.async_unload(birch.entry.entry_id)
        assert await cedar_hass.config_entries.async_unload(cedar.entry.entry_id)


def _hear(into: list[Envelope]) -> Any:
    def on_request(envelope: Envelope, _origin: Peer | None, _via: Peer) -> None:
        into.append(envelope)

    return on_request
