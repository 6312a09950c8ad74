"""Only the owner (a Home Assistant administrator) may share footage, change trust or see peers.

Every Porchlight action is called here as a household member without admin rights, over the
websocket API a dashboard tablet would use, against a home with a trusted agency and a pending
request: each call is refused as `Unauthorized`, and nothing the owner keeps has changed —
consent store, audit log, outbox, peers, identity, pending clips.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from homeassistant.core import SupportsResponse
from homeassistant.setup import async_setup_component

from custom_components.porchlight.const import DOMAIN
from custom_components.porchlight.notification_actions import action_ids

from .footage_helpers import call, send_request
from .home import FRONT_DOOR

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.common import MockConfigEntry
    from pytest_homeassistant_custom_component.typing import WebSocketGenerator

    from custom_components.porchlight.recordings.models import Clip

    from .federation.loopback import Network, Running

# Actions anyone in the household may call: they return counts, nothing that names a peer, an
# agency, a request or a clip. Every other action is the owner's.
OPEN_TO_EVERYONE = frozenset({"verify_audit"})

OWNER_ONLY = {
    "approve_clips": lambda ctx: {"request_id": ctx["request"], "clip_ids": [ctx["clip"]]},
    "decline_request": lambda ctx: {"request_id": ctx["request"]},
    "revoke_share": lambda ctx: {"request_id": ctx["request"]},
    "retry_delivery": lambda ctx: {"request_id": ctx["request"]},
    "list_requests": lambda ctx: {},
    "import_agency": lambda ctx: {"invite": ctx["agency_invite"]},
    "trust_agency": lambda ctx: {"fingerprint": ctx["agency"]},
    "untrust_agency": lambda ctx: {"fingerprint": ctx["agency"]},
    "create_invite": lambda ctx: {},
    "accept_invite": lambda ctx: {"invite": ctx["neighbor_invite"]},
    "confirm_pairing": lambda ctx: {"fingerprint": ctx["agency"]},
    "list_peers": lambda ctx: {},
    "remove_peer": lambda ctx: {"fingerprint": ctx["agency"]},
    "rotate_key": lambda ctx: {},
    "capture_clip": lambda ctx: {"entity_id": FRONT_DOOR},
    "set_decline_rule": lambda ctx: {"rule_id": "automation.night", "decline_all": True},
    "remove_decline_rule": lambda ctx: {"rule_id": "automation.night"},
    "notification_action": lambda ctx: {"action": ctx["share_action"]},
    "post_alert": lambda ctx: {"text": "Loose dog"},
    "alert_clips": lambda ctx: {"event_id": "0" * 64},
    "mute_neighbor": lambda ctx: {"fingerprint": ctx["agency"]},
}


@pytest.fixture(autouse=True)
async def websocket_api(hass: HomeAssistant) -> None:
    """The websocket API up before the test server starts (its router is frozen then)."""
    assert await async_setup_component(hass, "websocket_api", {})


@pytest.fixture
async def pending(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    agency: Running,
    recorded: list[Clip],
    network: Network,
) -> dict[str, str]:
    """A trusted agency's request waiting for the owner (one clip already shared), an invite."""
    envelope = await send_request(hass, agency, network)
    await call(hass, "approve_clips", request_id=envelope.event_id, clip_ids=[recorded[2].id])
    neighbor = await network.start("Oak 3")
    return {
        "request": envelope.event_id,
        "clip": recorded[0].id,
        "agency": agency.node.identity.fingerprint,
        "agency_invite": agency.node.create_invite().to_text(),
        "neighbor_invite": neighbor.node.create_invite().to_text(),
        "share_action": action_ids(
            init_integration.runtime_data.federation.node.identity.sign, envelope.event_id
        )["share"],
    }


async def what_the_owner_keeps(hass: HomeAssistant, entry: MockConfigEntry) -> dict[str, Any]:
    """Everything an action could change, read from the stores themselves."""
    data = entry.runtime_data
    desk, node = data.desk, data.federation.node

    def read() -> dict[str, Any]:
        return {
            "requests": [r.to_json() for r in desk.store.requests()],
            "shares": [s.to_json() for s in desk.store.shares()],
            "audit": desk.audit.head(),
        }

    return {
        **await hass.async_add_executor_job(read),
        "outbox": sorted(e.id for e in node.outbox),
        "state": node.state_json(),
        "identity": data.identity.fingerprint,
        "clips pending": data.recorder.scheduler.pending(FRONT_DOOR),
    }


def registered(hass: HomeAssistant) -> dict[str, SupportsResponse]:
    """Porchlight's actions and whether they answer."""
    return {
        name: hass.services.supports_response(DOMAIN, name)
        for name in hass.services.async_services_for_domain(DOMAIN)
    }


async def test_every_action_is_classified(hass: HomeAssistant, init_integration: Any) -> None:
    """An action added later must be put on one of the two lists (and so be tested)."""
    assert set(registered(hass)) == set(OWNER_ONLY) | OPEN_TO_EVERYONE


@pytest.mark.parametrize("action", sorted(OWNER_ONLY))
async def test_household_member_without_admin_rights_is_refused(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    pending: dict[str, str],
    hass_ws_client: WebSocketGenerator,
    hass_read_only_access_token: str,
    action: str,
) -> None:
    before = await what_the_owner_keeps(hass, init_integration)
    answers = registered(hass)[action] is not SupportsResponse.NONE
    client = await hass_ws_client(hass, hass_read_only_access_token)
    await client.send_json_auto_id(
        {
            "type": "call_service",
            "domain": DOMAIN,
            "service": action,
            "service_data": OWNER_ONLY[action](pending),
            "return_response": answers,
        }
    )
    reply = await client.receive_json()
    await hass.async_block_till_done()

    # HA's Unauthorized; the websocket API files it under home_assistant_error.
    assert not reply["success"]
    assert reply["error"]["code"] == "home_assistant_error"
    assert reply["error"]["message"] == "Unauthorized"
    assert await what_the_owner_keeps(hass, init_integration) == before


async def test_the_owner_changes_what_a_member_cannot(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    pending: dict[str, str],
    hass_ws_client: WebSocketGenerator,
) -> None:
    """The same approval over the same API as the owner: the check above could see a change."""
    before = await what_the_owner_keeps(hass, init_integration)
    client = await hass_ws_client(hass)
    await client.send_json_auto_id(
        {
            "type": "call_service",
            "domain": DOMAIN,
            "service": "approve_clips",
            "service_data": OWNER_ONLY["approve_clips"](pending),
            "return_response": True,
        }
    )
    reply = await client.receive_json()
    await hass.async_block_till_done()

    assert reply["success"], reply
    assert [a["clip"] for a in reply["result"]["response"]["approved"]] == [pending["clip"]]
    after = await what_the_owner_keeps(hass, init_integration)
    assert after["shares"] != before["shares"]
    assert after["audit"] != before["audit"]


@pytest.mark.parametrize("action", sorted(OPEN_TO_EVERYONE))
async def test_household_member_may_check_the_audit_log(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    hass_ws_client: WebSocketGenerator,
    hass_read_only_access_token: str,
    action: str,
) -> None:
    client = await hass_ws_client(hass, hass_read_only_access_token)
    await client.send_json_auto_id(
        {
            "type": "call_service",
            "domain": DOMAIN,
            "service": action,
            "service_data": {},
            "return_response": True,
        }
    )
    reply = await client.receive_json()

    assert reply["success"], reply
    assert reply["result"]["response"]["ok"] is True


# The dashboard's websocket commands (docs/dashboard.md): every one is the owner's.
OWNER_ONLY_COMMANDS = {
    "porchlight/home": lambda ctx: {},
    "porchlight/requests/list": lambda ctx: {},
    "porchlight/requests/subscribe": lambda ctx: {},
    "porchlight/requests/approve": lambda ctx: {
        "request_id": ctx["request"],
        "clip_ids": [ctx["clip"]],
    },
    "porchlight/requests/decline": lambda ctx: {"request_id": ctx["request"]},
    "porchlight/requests/retry": lambda ctx: {"request_id": ctx["request"]},
    "porchlight/shares/revoke": lambda ctx: {"request_id": ctx["request"]},
    "porchlight/audit/list": lambda ctx: {},
    "porchlight/audit/verify": lambda ctx: {},
    "porchlight/peers/list": lambda ctx: {},
    "porchlight/camera_map": lambda ctx: {},
    "porchlight/peers/confirm": lambda ctx: {"fingerprint": ctx["agency"]},
    "porchlight/peers/remove": lambda ctx: {"fingerprint": ctx["agency"]},
    "porchlight/agencies/trust": lambda ctx: {"fingerprint": ctx["agency"]},
    "porchlight/agencies/untrust": lambda ctx: {"fingerprint": ctx["agency"]},
    "porchlight/agencies/import": lambda ctx: {"invite": ctx["agency_invite"]},
    "porchlight/invites/create": lambda ctx: {},
    "porchlight/invites/accept": lambda ctx: {"invite": ctx["neighbor_invite"]},
}
# The panel's and card's text: the card shows it to a household member too.
OPEN_COMMANDS = {"porchlight/strings"}


def registered_commands(hass: HomeAssistant) -> set[str]:
    """Porchlight's websocket commands, as the websocket API holds them."""
    return {name for name in hass.data["websocket_api"] if name.startswith(f"{DOMAIN}/")}


async def test_every_command_is_classified(hass: HomeAssistant, init_integration: Any) -> None:
    """A command added later must be put on the list (and so be tested)."""
    assert registered_commands(hass) == set(OWNER_ONLY_COMMANDS) | OPEN_COMMANDS


async def test_household_member_gets_the_dashboard_text(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    hass_ws_client: WebSocketGenerator,
    hass_read_only_access_token: str,
) -> None:
    client = await hass_ws_client(hass, hass_read_only_access_token)
    await client.send_json_auto_id({"type": "porchlight/strings", "language": "en"})
    reply = await client.receive_json()

    assert reply["success"], reply
    assert reply["result"]["language"] == "en"
    assert reply["result"]["strings"]["panel_title"] == "Porchlight"


@pytest.mark.parametrize("command", sorted(OWNER_ONLY_COMMANDS))
async def test_household_member_is_refused_every_dashboard_command(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    pending: dict[str, str],
    hass_ws_client: WebSocketGenerator,
    hass_read_only_access_token: str,
    command: str,
) -> None:
    before = await what_the_owner_keeps(hass, init_integration)
    client = await hass_ws_client(hass, hass_read_only_access_token)
    await client.send_json_auto_id({"type": command, **OWNER_ONLY_COMMANDS[command](pending)})
    reply = await client.receive_json()
    await hass.async_block_till_done()

    assert not reply["success"]
    assert reply["error"]["code"] == "unauthorized"
    assert await what_the_owner_keeps(hass, init_integration) == before
