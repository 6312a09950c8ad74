"""Offers on their way to the agency: delivered exactly once, and never lost in silence.

A real agency node on loopback, Home Assistant's consent desk over real HTTP; delivery rounds
are driven by Home Assistant's timer (time moved with async_fire_time_changed).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest
from aiohttp import web
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import Context
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError, Unauthorized
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import async_fire_time_changed
from yarl import URL

from custom_components.porchlight.consent.audit import AuditError
from custom_components.porchlight.const import DOMAIN
from custom_components.porchlight.federation.node import OFFER
from custom_components.porchlight.federation.transport import make_app

from .federation.loopback import Running
from .footage_helpers import (
    call,
    desk,
    neighbor_of_home,
    offers,
    pair_agency,
    request_body,
    send_request,
)
from .upkeep import queued, upkeep_heard

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.common import MockConfigEntry

    from custom_components.porchlight.federation.messages import Envelope
    from custom_components.porchlight.recordings.models import Clip

    from .federation.loopback import Network


class Gate:
    """Holds the agency's answer to an offer until the test lets it go."""

    def __init__(self) -> None:
        """Open until closed."""
        self.arrived = asyncio.Event()
        self.opened = asyncio.Event()
        self.opened.set()

    @web.middleware
    async def middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        """Wait at the offer endpoint while the gate is closed."""
        if request.path.endswith(OFFER):
            self.arrived.set()
            await self.opened.wait()
        return await handler(request)


async def slow_agency(network: Network, gate: Gate) -> Running:
    """An agency node on loopback whose offer endpoint answers when the gate opens."""
    node = network.node("Metro PD", role="agency")
    app = make_app(node)
    app.middlewares.append(gate.middleware)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server = site._server
    assert server is not None
    port = int(server.sockets[0].getsockname()[1])  # type: ignore[union-attr]
    running = Running(node, port, runner.cleanup)
    node.advertise(running.endpoint)
    network.running.append(running)
    return running


async def gated_request(
    hass: HomeAssistant, entry: MockConfigEntry, endpoint: str, network: Network
) -> tuple[Gate, Running, Envelope]:
    """A paired agency behind an (open) gate, and the request it sent the home."""
    gate = Gate()
    agency = await pair_agency(hass, entry, endpoint, network, await slow_agency(network, gate))
    envelope = await send_request(hass, agency, network)
    return gate, agency, envelope


async def sent_to(hass: HomeAssistant, entry: MockConfigEntry, agency: Running) -> int:
    """How many messages the home's audit log says it sent to the agency's endpoint."""
    audit = desk(entry).audit
    entries = await hass.async_add_executor_job(lambda: list(audit.entries()))
    authority = URL(agency.endpoint).authority
    return sum(1 for e in entries if e.kind == "message_sent" and e.subject == authority)


async def tick(hass: HomeAssistant, seconds: int = 31) -> None:
    """Move Home Assistant's time on so the delivery timer fires, and let it finish."""
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=seconds))
    await hass.async_block_till_done()


async def test_an_offer_answered_during_a_reload_is_not_sent_again(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    recorded: list[Clip],
    endpoint: str,
    network: Network,
) -> None:
    """The 202 that arrives while the entry unloads is what the reloaded home starts from.

    Before, unload saved the outbox while the offer was still in flight; the reloaded home
    read the offer back from that file and sent it again at its first delivery round.
    """
    gate, agency, envelope = await gated_request(hass, init_integration, endpoint, network)
    gate.opened.clear()
    approving = hass.async_create_task(
        call(hass, "approve_clips", request_id=envelope.event_id, clip_ids=[recorded[0].id])
    )
    await gate.arrived.wait()  # the offer is at the agency, its answer held back

    reloading = hass.async_create_task(hass.config_entries.async_reload(init_integration.entry_id))
    # Unload waits for the attempt under way; give it the time it would need otherwise.
    await asyncio.wait([reloading], timeout=5)
    gate.opened.set()
    assert await reloading
    response = await approving
    assert response["delivery"] == "delivered"
    await hass.async_block_till_done()
    assert init_integration.state is ConfigEntryState.LOADED

    await tick(hass)
    await tick(hass)
    assert await sent_to(hass, init_integration, agency) == 1 + upkeep_heard(agency.node)
    assert len(offers(agency)) == 1
    assert len(queued(init_integration.runtime_data.federation.node.outbox)) == 0


async def test_a_delivered_offer_is_sent_once_across_timer_rounds(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    recorded: list[Clip],
    endpoint: str,
    network: Network,
) -> None:
    """A timer round that starts while the approval's own round waits for the agency."""
    gate, agency, envelope = await gated_request(hass, init_integration, endpoint, network)
    gate.opened.clear()
    approving = hass.async_create_task(
        call(hass, "approve_clips", request_id=envelope.event_id, clip_ids=[recorded[0].id])
    )
    await gate.arrived.wait()
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=31))
    await asyncio.sleep(0)
    gate.opened.set()
    await approving
    await hass.async_block_till_done()
    await tick(hass)
    await tick(hass, 62)
    assert await sent_to(hass, init_integration, agency) == 1 + upkeep_heard(agency.node)
    assert len(offers(agency)) == 1


# --- item: re-importing an agency --------------------------------------------------------------
async def imported_agency(
    hass: HomeAssistant, endpoint: str, network: Network, *, lan: bool
) -> tuple[Running, Running]:
    """An agency imported one-sided (reaching the home through a neighbor), and that neighbor."""
    agency = await network.start("Metro PD", role="agency")
    neighbor = await neighbor_of_home(hass, endpoint, network)
    await network.pair(agency, neighbor)
    neighbor.node.peers.set_trusted(agency.node.identity.keyid, trusted=True)
    await hass.services.async_call(
        DOMAIN,
        "import_agency",
        {"invite": agency.node.create_invite(lan=True).to_text(), "lan": lan},
        blocking=True,
    )
    await call(hass, "trust_agency", fingerprint=agency.node.identity.fingerprint)
    return agency, neighbor


async def relayed_request(
    hass: HomeAssistant, agency: Running, neighbor: Running, network: Network
) -> Envelope:
    """The agency's request, carried to the home by its neighbor."""
    envelope = agency.node.request_footage(request_body(), lifetime=86400)
    await agency.node.deliver(network.sender)
    await neighbor.node.deliver(network.sender)
    await hass.async_block_till_done()
    return envelope


async def test_importing_a_trusted_agency_again_keeps_its_trust_and_lan_allowance(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    recorded: list[Clip],
    endpoint: str,
    network: Network,
) -> None:
    agency, neighbor = await imported_agency(hass, endpoint, network, lan=True)
    again = await hass.services.async_call(
        DOMAIN,
        "import_agency",
        {"invite": agency.node.create_invite().to_text()},
        blocking=True,
        return_response=True,
    )
    assert again["trusted"] is True
    peer = init_integration.runtime_data.federation.node.peers.get(agency.node.identity.keyid)
    assert peer is not None
    assert (peer.trusted, peer.lan) == (True, True)

    # Its next request is judged like the first, and the offer reaches it.
    envelope = await relayed_request(hass, agency, neighbor, network)
    stored = await hass.async_add_executor_job(
        desk(init_integration).store.request, envelope.event_id
    )
    assert stored.state.value == "pending"
    response = await call(
        hass, "approve_clips", request_id=envelope.event_id, clip_ids=[recorded[0].id]
    )
    assert response["delivery"] == "delivered"
    assert len(offers(agency)) == 1


async def test_importing_again_with_lan_off_is_the_owners_explicit_choice(
    hass: HomeAssistant, init_integration: MockConfigEntry, endpoint: str, network: Network
) -> None:
    agency, _ = await imported_agency(hass, endpoint, network, lan=True)
    await hass.services.async_call(
        DOMAIN,
        "import_agency",
        {"invite": agency.node.create_invite().to_text(), "lan": False},
        blocking=True,
    )
    peer = init_integration.runtime_data.federation.node.peers.get(agency.node.identity.keyid)
    assert peer is not None
    assert (peer.trusted, peer.lan) == (True, False)


@pytest.mark.allow_porchlight_warnings(
    r"Footage action refused: nothing_to_retry",
    r"could not be delivered \(refused: destination is a loopback address",
)
async def test_an_offer_that_cannot_be_delivered_is_reported_and_can_be_retried(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    recorded: list[Clip],
    endpoint: str,
    network: Network,
    hass_admin_user: Any,
) -> None:
    """Imported without the LAN allowance, the agency's loopback address is refused (R2.7)."""
    agency, neighbor = await imported_agency(hass, endpoint, network, lan=False)
    envelope = await relayed_request(hass, agency, neighbor, network)

    response = await call(
        hass, "approve_clips", request_id=envelope.event_id, clip_ids=[recorded[0].id]
    )
    await hass.async_block_till_done()
    assert response["delivery"] == "failed"
    assert "private" in response["delivery_error"] or "loopback" in response["delivery_error"]
    assert offers(agency) == []
    # The request says so,
    (listed,) = (await call(hass, "list_requests"))["requests"]
    assert listed["delivery"] == "failed"
    assert listed["delivery_error"] == response["delivery_error"]
    # the audit log says so,
    audit = desk(init_integration).audit
    entries = await hass.async_add_executor_job(lambda: list(audit.entries()))
    (failed,) = [e for e in entries if e.kind == "offer_undeliverable"]
    assert failed.subject == envelope.event_id
    # and the owner is told, in a repair issue.
    issue = ir.async_get(hass).async_get_issue(
        DOMAIN, f"offer_undeliverable_{envelope.event_id[:16]}"
    )
    assert issue is not None
    assert issue.translation_key == "offer_undeliverable"
    assert issue.translation_placeholders["agency"] == "Metro PD"

    # The timer does not retry what the agency's address refuses;
    await tick(hass)
    assert offers(agency) == []
    # the owner allows the LAN address and retries.
    await hass.services.async_call(
        DOMAIN,
        "import_agency",
        {"invite": agency.node.create_invite().to_text(), "lan": True},
        blocking=True,
    )
    retried = await hass.services.async_call(
        DOMAIN,
        "retry_delivery",
        {"request_id": envelope.event_id},
        blocking=True,
        return_response=True,
        context=Context(user_id=hass_admin_user.id),
    )
    await hass.async_block_till_done()
    assert retried == {"delivery": "delivered", "delivery_error": "", "offers": 1}
    (offer,) = offers(agency)
    assert [link["clip"] for link in offer.body["links"]] == [recorded[0].id]  # type: ignore[index,union-attr]
    (listed,) = (await call(hass, "list_requests"))["requests"]
    assert (listed["delivery"], listed["delivery_error"]) == ("delivered", "")
    assert (
        ir.async_get(hass).async_get_issue(DOMAIN, f"offer_undeliverable_{envelope.event_id[:16]}")
        is None
    )
    entries = await hass.async_add_executor_job(lambda: list(audit.entries()))
    assert [e.kind for e in entries if e.kind.startswith("offer_")] == [
        "offer_undeliverable",
        "offer_retried",
    ]

    # Nothing is left to retry now.
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN, "retry_delivery", {"request_id": envelope.event_id}, blocking=True
        )
    assert err.value.translation_key == "nothing_to_retry"


async def test_retrying_delivery_is_for_administrators_only(
    hass: HomeAssistant, init_integration: MockConfigEntry, hass_read_only_user: Any
) -> None:
    with pytest.raises(Unauthorized):
        await hass.services.async_call(
            DOMAIN,
            "retry_delivery",
            {"request_id": "x" * 22},
            blocking=True,
            context=Context(user_id=hass_read_only_user.id),
        )


@pytest.mark.allow_porchlight_warnings(r"could not be delivered \(status 403\); kept for a retry")
async def test_an_offer_the_agency_refuses_is_reported(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    agency: Running,
    network: Network,
    recorded: list[Clip],
) -> None:
    """The agency no longer takes offers for the request (403): the owner learns of it."""
    envelope = await send_request(hass, agency, network)
    agency.node.issued.clear()  # the agency closed its case
    response = await call(
        hass, "approve_clips", request_id=envelope.event_id, clip_ids=[recorded[0].id]
    )
    await hass.async_block_till_done()
    assert (response["delivery"], response["delivery_error"]) == ("failed", "status 403")
    (listed,) = (await call(hass, "list_requests"))["requests"]
    assert listed["delivery"] == "failed"


@pytest.mark.allow_porchlight_warnings(
    r"Footage action refused: nothing_to_retry", r"Footage action refused: unknown_request"
)
async def test_an_offer_to_an_unreachable_agency_stays_queued(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    agency: Running,
    network: Network,
    recorded: list[Clip],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    envelope = await send_request(hass, agency, network)
    await network.stop(agency)
    response = await call(
        hass, "approve_clips", request_id=envelope.event_id, clip_ids=[recorded[0].id]
    )
    assert response["delivery"] == "queued"
    assert response["delivery_error"].startswith("unreachable")
    (listed,) = (await call(hass, "list_requests"))["requests"]
    assert (listed["delivery"], listed["delivery_error"]) == ("queued", response["delivery_error"])
    # Nothing to retry by hand: the timer does that.
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN, "retry_delivery", {"request_id": envelope.event_id}, blocking=True
        )
    assert err.value.translation_key == "nothing_to_retry"
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN, "retry_delivery", {"request_id": "x" * 22}, blocking=True
        )
    assert err.value.translation_key == "unknown_request"


@pytest.mark.allow_porchlight_warnings(
    r"Approval not recorded: the log's chain key is not this home's",
    r"Footage action refused: agency_gone",
    r"could not be delivered \(status 403\); kept for a retry",
)
async def test_a_retry_is_refused_for_an_untrusted_agency_or_an_unwritable_log(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    agency: Running,
    network: Network,
    recorded: list[Clip],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    envelope = await send_request(hass, agency, network)
    agency.node.issued.clear()
    await call(hass, "approve_clips", request_id=envelope.event_id, clip_ids=[recorded[0].id])
    await hass.async_block_till_done()
    fingerprint = agency.node.identity.fingerprint
    await call(hass, "untrust_agency", fingerprint=fingerprint)
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN, "retry_delivery", {"request_id": envelope.event_id}, blocking=True
        )
    assert err.value.translation_key == "agency_gone"
    await call(hass, "trust_agency", fingerprint=fingerprint)

    def refused(*_args: Any, **_kwargs: Any) -> None:
        msg = "the log's chain key is not this home's"
        raise AuditError(msg)

    monkeypatch.setattr(desk(init_integration).audit, "append", refused)
    with pytest.raises(HomeAssistantError) as failed:
        await hass.services.async_call(
            DOMAIN, "retry_delivery", {"request_id": envelope.event_id}, blocking=True
        )
    assert failed.value.translation_key == "approval_failed"
    # Still parked: nothing was sent without its audit entry.
    (listed,) = (await call(hass, "list_requests"))["requests"]
    assert listed["delivery"] == "failed"


async def test_an_outcome_with_no_desk_listening_is_dropped(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Set up, the federation delivers before the desk exists; nothing is told then."""
    federation = init_integration.runtime_data.federation
    federation.desk = None
    federation.offer_settled("r" * 43, "status 403")
    await hass.async_block_till_done()
    assert ir.async_get(hass).async_get_issue(DOMAIN, f"offer_undeliverable_{'r' * 16}") is None


async def test_a_request_with_no_desk_listening_is_dropped(
    hass: HomeAssistant, init_integration: MockConfigEntry, endpoint: str, network: Network
) -> None:
    """Set up, the node may accept a request before the desk exists; no one judges it then."""
    agency = await pair_agency(hass, init_integration, endpoint, network)
    init_integration.runtime_data.federation.desk = None
    await send_request(hass, agency, network)
    assert (await call(hass, "list_requests"))["requests"] == []


@pytest.mark.allow_porchlight_warnings(r"could not be delivered \(status 403\); kept for a retry")
async def test_an_offer_refused_while_the_home_unloads_is_still_reported(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    recorded: list[Clip],
    endpoint: str,
    network: Network,
) -> None:
    """Unload waits for the report too: the audit log and the store are still open for it."""
    gate, agency, envelope = await gated_request(hass, init_integration, endpoint, network)
    agency.node.issued.clear()  # it will answer 403
    gate.opened.clear()
    approving = hass.async_create_task(
        call(hass, "approve_clips", request_id=envelope.event_id, clip_ids=[recorded[0].id])
    )
    await gate.arrived.wait()
    reloading = hass.async_create_task(hass.config_entries.async_reload(init_integration.entry_id))
    await asyncio.wait([reloading], timeout=1)
    gate.opened.set()
    assert await reloading
    assert (await approving)["delivery"] == "failed"
    await hass.async_block_till_done()

    audit = desk(init_integration).audit
    entries = await hass.async_add_executor_job(lambda: list(audit.entries()))
    assert [e.subject for e in entries if e.kind == "offer_undeliverable"] == [envelope.event_id]
    issue_id = f"offer_undeliverable_{envelope.event_id[:16]}"
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is not None
    (listed,) = (await call(hass, "list_requests"))["requests"]
    assert (listed["delivery"], listed["delivery_error"]) == ("failed", "status 403")
