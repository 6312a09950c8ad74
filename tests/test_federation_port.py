"""The optional federation port: the options step, the listener's life, repairs, invites.

The listener binds where Home Assistant's own server does; tests point that at 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import dataclasses
import socket
from typing import TYPE_CHECKING, Any

import aiohttp
import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import EVENT_HOMEASSISTANT_STOP
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.network import NoURLAvailableError
from homeassistant.setup import async_setup_component
from yarl import URL

from custom_components.porchlight.const import (
    CONF_CAMERAS,
    CONF_FEDERATION_PORT,
    DOMAIN,
    RECORDING_DEFAULTS,
    REQUEST_DEFAULTS,
)
from custom_components.porchlight.diagnostics import federation_diagnostics
from custom_components.porchlight.federation.identity import Identity
from custom_components.porchlight.federation.invites import Invite
from custom_components.porchlight.federation.node import API_PREFIX
from custom_components.porchlight.federation_glue import ENDPOINT_ISSUE, PORT_ISSUE
from porchlight_dev.rtsp import free_port

from .federation.loopback import Running
from .federation.raw_http import BODY_TIMEOUT, Client, hung_up, slow_head, trickling
from .home import FRONT_DOOR

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.common import MockConfigEntry

    from .federation.loopback import Network


@pytest.fixture
async def loopback_only(hass: HomeAssistant, socket_enabled: None) -> None:
    """Home Assistant's server (and so the federation port) on 127.0.0.1 only."""
    assert await async_setup_component(hass, "http", {})
    hass.http.server_host = ["127.0.0.1"]


@pytest.fixture
def port() -> int:
    """A free port for the federation."""
    return free_port()


@pytest.fixture
def recording_options(port: int) -> dict[str, Any]:
    """The entry starts with the federation port on (tests that need it off clear it)."""
    return {**RECORDING_DEFAULTS, CONF_FEDERATION_PORT: port}


async def _identity(port: int) -> int:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{port}{API_PREFIX}/identity") as response,
    ):
        return response.status


async def _through_options(hass: HomeAssistant, entry: MockConfigEntry, port: Any) -> Any:
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_CAMERAS: [FRONT_DOOR], **_recording(entry)}
    )
    result = await hass.config_entries.options.async_configure(result["flow_id"], {})
    assert result["step_id"] == "requests"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], dict(REQUEST_DEFAULTS)
    )
    assert result["step_id"] == "federation"
    return await hass.config_entries.options.async_configure(
        result["flow_id"], {} if port is None else {CONF_FEDERATION_PORT: port}
    )


def _recording(entry: MockConfigEntry) -> dict[str, Any]:
    keys = ("pre_roll", "post_roll", "retention_days", "storage_cap_gb", "continuous")
    return {k: entry.options[k] for k in keys}


async def test_federation_port_serves_only_the_federation(
    hass: HomeAssistant, loopback_only: None, init_integration: MockConfigEntry, port: int
) -> None:
    listener = init_integration.runtime_data.federation.listener
    assert listener is not None
    assert listener.port == port
    assert federation_diagnostics(init_integration.runtime_data)["federation_port"] == port
    assert await _identity(port) == 200
    # Like tests/test_invariants.py for HA's server: nothing here streams or serves files.
    assert {(r.method, p) for p, r in listener.routes.items()} == {
        (b"POST", f"{API_PREFIX}/inbox".encode()),
        (b"POST", f"{API_PREFIX}/pair".encode()),
        (b"GET", f"{API_PREFIX}/identity".encode()),
    }
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{port}/api/") as response,
    ):
        assert response.status == 404  # HA's API (and login page) are not behind this port


async def test_neighbor_pairs_and_delivers_through_the_federation_port(
    hass: HomeAssistant,
    loopback_only: None,
    init_integration: MockConfigEntry,
    port: int,
    network: Network,
) -> None:
    hass.config.external_url = "http://127.0.0.1:8123"
    response = await hass.services.async_call(
        DOMAIN, "create_invite", {"lan": True}, blocking=True, return_response=True
    )
    invite = Invite.from_text(response["invite"])  # type: ignore[arg-type,index]
    # HA's own host name, plain HTTP, the federation port.
    assert invite.endpoint == f"http://127.0.0.1:{port}{API_PREFIX}"
    neighbor = await network.start("Oak 3")
    peer = await neighbor.node.accept_invite(response["invite"], network.sender, lan=True)  # type: ignore[arg-type,index]
    node = init_integration.runtime_data.federation.node
    node.confirm_pairing(neighbor.node.identity.keyid, peer.pairing_code)
    neighbor.node.confirm_pairing(peer.keyid, peer.pairing_code)
    neighbor.node.broadcast_alert("Gate left open")
    assert await neighbor.node.deliver(network.sender) == 1
    assert [e.body["text"] for e in node.received] == ["Gate left open"]
    # The pairing answer left through the port: it is in the audit log, as on HA's port.
    audit = init_integration.runtime_data.desk.audit
    [accept] = [
        e
        for e in await hass.async_add_executor_job(lambda: list(audit.entries()))
        if e.kind == "message_sent" and e.subject == "pair_accept"
    ]
    assert accept.actor == "127.0.0.1"


async def test_invite_endpoint_follows_the_federation_port(
    hass: HomeAssistant, loopback_only: None, init_integration: MockConfigEntry, port: int
) -> None:
    hass.config.external_url = "https://maple.example.org"
    node = init_integration.runtime_data.federation.node
    node.advertise("https://maple.example.org" + API_PREFIX)  # used before the port was on
    await hass.services.async_call(DOMAIN, "create_invite", {}, blocking=True, return_response=True)
    assert node.endpoints == [
        f"http://maple.example.org:{port}{API_PREFIX}",
        "https://maple.example.org" + API_PREFIX,
    ]


async def test_links_for_an_agency_told_no_endpoint_go_to_home_assistants_url(
    hass: HomeAssistant,
    loopback_only: None,
    init_integration: MockConfigEntry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # An agency imported one-sided was told nothing: its links use the endpoint invites carry
    # (here the federation port's), moved to where Home Assistant's own server answers for
    # that host, since the port serves no downloads: the owner's URL for that host ...
    federation = init_integration.runtime_data.federation
    hass.config.external_url = "https://maple.example.org"
    assert federation.share_endpoint("NOBODY") == "https://maple.example.org" + API_PREFIX
    hass.config.external_url = None
    hass.config.internal_url = "http://porch.lan:8123"
    assert federation.share_endpoint("NOBODY") == "http://porch.lan:8123" + API_PREFIX
    # ... else the host on the port Home Assistant's server listens on.
    hass.config.internal_url = None
    hass.http.server_port = 8124
    assert federation.share_endpoint("NOBODY") == "http://10.10.10.10:8124" + API_PREFIX

    def no_url(*_args: object, **_kwargs: object) -> str:
        raise NoURLAvailableError

    monkeypatch.setattr("custom_components.porchlight.federation_glue.get_url", no_url)
    with pytest.raises(ServiceValidationError) as err:
        federation.share_endpoint("NOBODY")
    assert err.value.translation_key == "no_endpoint"


async def test_federation_port_needs_a_url_for_invites(
    hass: HomeAssistant,
    loopback_only: None,
    init_integration: MockConfigEntry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_url(*_args: object, **_kwargs: object) -> str:
        raise NoURLAvailableError

    monkeypatch.setattr("custom_components.porchlight.federation_glue.get_url", no_url)
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN, "create_invite", {}, blocking=True, return_response=True
        )
    assert err.value.translation_key == "no_endpoint"


@pytest.mark.allow_porchlight_warnings(r"Cannot listen for the federation on port")
async def test_port_in_use_raises_a_repair_issue_and_home_keeps_running(
    hass: HomeAssistant,
    loopback_only: None,
    cameras: list[str],
    mock_config_entry: MockConfigEntry,
    port: int,
    issue_registry: ir.IssueRegistry,
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        mock_config_entry.add_to_hass(hass)
        assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
        await hass.async_block_till_done()
    assert mock_config_entry.state is ConfigEntryState.LOADED
    assert mock_config_entry.runtime_data.federation.listener is None
    issue = issue_registry.async_get_issue(DOMAIN, PORT_ISSUE)
    assert issue is not None
    assert issue.translation_placeholders == {"port": str(port), "error": "Address already in use"}
    assert issue.severity is ir.IssueSeverity.ERROR

    # The owner picks another port: the entry reloads, listens, and the issue goes away.
    other = free_port()
    result = await _through_options(hass, mock_config_entry, other)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert mock_config_entry.options[CONF_FEDERATION_PORT] == other
    assert issue_registry.async_get_issue(DOMAIN, PORT_ISSUE) is None
    assert await _identity(other) == 200


async def test_clearing_the_port_turns_the_listener_off(
    hass: HomeAssistant, loopback_only: None, init_integration: MockConfigEntry, port: int
) -> None:
    result = await _through_options(hass, init_integration, None)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert CONF_FEDERATION_PORT not in init_integration.options
    assert init_integration.runtime_data.federation.listener is None
    with pytest.raises(aiohttp.ClientConnectionError):
        await _identity(port)


async def test_home_assistants_own_port_is_refused(
    hass: HomeAssistant, loopback_only: None, init_integration: MockConfigEntry
) -> None:
    result = await _through_options(hass, init_integration, hass.http.server_port)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_FEDERATION_PORT: "port_is_home_assistant"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_FEDERATION_PORT: 0}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert CONF_FEDERATION_PORT not in init_integration.options


async def test_unload_closes_the_port(
    hass: HomeAssistant, loopback_only: None, init_integration: MockConfigEntry, port: int
) -> None:
    assert await hass.config_entries.async_unload(init_integration.entry_id)
    with pytest.raises(aiohttp.ClientConnectionError):
        await _identity(port)


async def test_home_assistant_stop_closes_the_port(
    hass: HomeAssistant, loopback_only: None, init_integration: MockConfigEntry, port: int
) -> None:
    hass.bus.async_fire(EVENT_HOMEASSISTANT_STOP)
    await hass.async_block_till_done()
    assert init_integration.runtime_data.federation.listener is None
    with pytest.raises(aiohttp.ClientConnectionError):
        await _identity(port)
    await asyncio.sleep(0)


async def test_invite_through_the_port_warns_of_an_address_nobody_listens_on(
    hass: HomeAssistant, loopback_only: None, init_integration: MockConfigEntry, port: int
) -> None:
    # No URL configured: the invite carries Home Assistant's auto-detected address
    # (10.10.10.10 in the test harness), where neither HA nor the port listens.
    response = await hass.services.async_call(
        DOMAIN, "create_invite", {"lan": True}, blocking=True, return_response=True
    )
    endpoint = f"http://10.10.10.10:{port}{API_PREFIX}"
    assert Invite.from_text(response["invite"]).endpoint == endpoint  # type: ignore[arg-type,index]
    issue = ir.async_get(hass).async_get_issue(DOMAIN, ENDPOINT_ISSUE)
    assert issue is not None
    assert issue.translation_key == "invite_endpoint_not_listening"
    assert len(response["warnings"]) == 1  # type: ignore[arg-type,index]
    # Unloading takes the warning away with the invite service.
    await hass.config_entries.async_unload(init_integration.entry_id)
    assert ir.async_get(hass).async_get_issue(DOMAIN, ENDPOINT_ISSUE) is None


async def test_slow_bodies_on_home_assistants_port_get_408_while_a_peer_gets_through(
    hass: HomeAssistant,
    loopback_only: None,
    init_integration: MockConfigEntry,
    endpoint: str,
    network: Network,
) -> None:
    # HA's own server (the views) holds a trickled body no longer than the federation port.
    node = init_integration.runtime_data.federation.node
    node.settings = dataclasses.replace(node.settings, body_timeout=BODY_TIMEOUT)
    invite = await hass.services.async_call(
        DOMAIN,
        "create_invite",
        {"endpoint": endpoint, "lifetime_hours": 1, "lan": True},
        blocking=True,
        return_response=True,
    )
    neighbor = await network.start("Oak 3")
    peer = await neighbor.node.accept_invite(str(invite["invite"]), network.sender, lan=True)
    neighbor.node.confirm_pairing(peer.keyid, peer.pairing_code)
    node.confirm_pairing(neighbor.node.identity.keyid, peer.pairing_code)
    port = URL(endpoint).port
    assert port is not None
    home = Running(node, port, close=_nothing)
    slow = [await Client.connect(port) for _ in range(20)]
    head = slow_head(network, neighbor.node.identity, home, f"{API_PREFIX}/inbox".encode())
    pair_head = slow_head(network, Identity.generate(), home, f"{API_PREFIX}/pair".encode())
    # Four on /pair: its per-address limit (5/min) already counted the neighbor's pairing.
    heads = [pair_head if i % 5 == 0 else head for i in range(len(slow))]
    loop = asyncio.get_running_loop()
    async with trickling(slow, heads) as answers:
        await asyncio.sleep(0.1)
        started = loop.time()
        neighbor.node.broadcast_alert("Gate left open")
        assert await neighbor.node.deliver(network.sender) == 1
        assert not any(a.done() for a in answers)
        refused = {(a.status, a.json["error"]) for a in await asyncio.gather(*answers)}
        assert refused == {(408, "timeout")}
        assert all([await hung_up(c) for c in slow])
        assert loop.time() - started < BODY_TIMEOUT + 3
    assert [e.body["text"] for e in node.received] == ["Gate left open"]


async def _nothing() -> None:
    return
