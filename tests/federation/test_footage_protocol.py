"""Footage requests and offers on the wire: who may send them, how they travel, who hears."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

import pytest

from custom_components.porchlight.federation.api import OFFER
from custom_components.porchlight.federation.errors import (
    ForbiddenError,
    InviteInvalidError,
    SchemaError,
)
from custom_components.porchlight.federation.httpsig import new_nonce
from custom_components.porchlight.federation.identity import Identity
from custom_components.porchlight.federation.messages import (
    BROADCAST,
    MAX_HOPS,
    REQUEST_MAX_HOPS,
    open_envelope,
    seal,
)
from custom_components.porchlight.federation.node import NodeHooks

from .loopback import offer_body, request_body

if TYPE_CHECKING:
    from custom_components.porchlight.federation.canonical import JSON
    from custom_components.porchlight.federation.messages import Envelope
    from custom_components.porchlight.federation.peers import Peer

    from .loopback import Network, Running

DAY = 86400


class Heard:
    """What a home's owner side received, through the hooks its node was built with."""

    def __init__(self) -> None:
        self.requests: list[tuple[Envelope, Peer | None, Peer]] = []
        self.hooks = NodeHooks(
            on_request=lambda env, origin, via: self.requests.append((env, origin, via))
        )


async def agency_with_homes(
    network: Network, heard: dict[str, Heard] | None = None
) -> tuple[Running, Running, Running, Running]:
    """Agency paired with home A only; A neighbors B and C; B imported the agency, C did not.

    heard: what each home (by lowercase name) hears of requests.
    """

    def hooks(name: str) -> NodeHooks | None:
        return heard[name].hooks if heard is not None else None

    agency = await network.start("Metro PD", role="agency")
    a = await network.start("A", hooks=hooks("a"))
    b = await network.start("B", hooks=hooks("b"))
    c = await network.start("C", hooks=hooks("c"))
    await network.pair(agency, a)
    a.node.peers.set_trusted(agency.node.identity.keyid, trusted=True)
    await network.pair(a, b)
    await network.pair(a, c)
    invite = agency.node.create_invite(lan=True)
    b.node.import_agency(invite.to_text(), lan=True)
    b.node.peers.set_trusted(agency.node.identity.keyid, trusted=True)
    return agency, a, b, c


async def deliver_all(network: Network, *nodes: Running) -> None:
    """Run every outbox until nothing moves."""
    for _ in range(4):
        for running in nodes:
            await running.node.deliver(network.sender)


async def test_request_reaches_neighbors_through_relay_and_each_decides(network: Network) -> None:
    heard = {n: Heard() for n in ("a", "b", "c")}
    agency, a, b, c = await agency_with_homes(network, heard)
    envelope = agency.node.request_footage(
        request_body(network.clock.now()), lifetime=3 * DAY, peers=None
    )
    await deliver_all(network, agency, a, b, c)

    (got_a,) = heard["a"].requests
    assert got_a[0].event_id == envelope.event_id
    assert got_a[1] is not None
    assert got_a[1].keyid == agency.node.identity.keyid
    (got_b,) = heard["b"].requests
    assert got_b[0].hops == 1
    assert got_b[1] is not None
    assert got_b[1].trusted
    assert got_b[2].keyid == a.node.identity.keyid
    # C never imported the agency: it hears of the request, knows no such agency, and
    # carries it no further.
    (got_c,) = heard["c"].requests
    assert got_c[1] is None
    assert len(c.node.outbox) == 0


async def test_agency_learns_nothing_about_relayed_homes(network: Network) -> None:
    agency, a, b, c = await agency_with_homes(network)
    agency.node.request_footage(request_body(network.clock.now()), lifetime=DAY)
    await deliver_all(network, agency, a, b, c)
    assert [p.name for p in agency.node.peers] == ["A"]
    assert agency.node.received == type(agency.node.received)(maxlen=agency.node.received.maxlen)


async def test_footage_request_is_always_addressed_to_everyone(network: Network) -> None:
    a = await network.start("A")
    with pytest.raises(SchemaError, match="addressed to everyone"):
        a.node.send("A" * 32, "footage_request", request_body(network.clock.now()), lifetime=DAY)
    assert len(a.node.outbox) == 0


async def test_neighbor_broadcasting_a_request_is_forbidden(network: Network) -> None:
    heard = Heard()
    a = await network.start("A", hooks=heard.hooks)
    b = await network.start("B")
    await network.pair(a, b)
    envelope = seal(
        b.node.identity,
        "footage_request",
        request_body(network.clock.now()),
        to=BROADCAST,
        now=network.clock.now(),
        lifetime=DAY,
        message_id=new_nonce(),
    )
    status, reply = await network.sender.post(
        b.node.identity, a.node.endpoint + "/inbox", envelope.encode(), lan=True
    )
    assert status == ForbiddenError.status
    assert isinstance(reply, dict)
    assert reply["error"] == ForbiddenError.code
    assert heard.requests == []


async def test_request_relayed_beyond_its_hop_budget_is_refused(network: Network) -> None:
    agency, a, b, _c = await agency_with_homes(network)
    envelope = agency.node.request_footage(
        request_body(network.clock.now(), max_hops=0), lifetime=DAY
    )
    await deliver_all(network, agency, a)
    assert len(a.node.outbox) == 0  # hop budget 0: A keeps it to itself
    relayed = envelope.relayed()
    status, _ = await network.sender.post(
        a.node.identity, b.node.endpoint + "/inbox", relayed.encode(), lan=True
    )
    assert status == ForbiddenError.status


async def test_home_offer_reaches_agency_it_never_paired_with(network: Network) -> None:
    agency, _a, b, _c = await agency_with_homes(network)
    envelope = agency.node.request_footage(request_body(network.clock.now()), lifetime=DAY)
    offer = offer_body(b, agency.node.identity.keyid, envelope.event_id)
    b.node.send(agency.node.identity.keyid, "footage_offer", offer, lifetime=DAY, route=OFFER)
    assert await b.node.deliver(network.sender) == 1
    (got,) = agency.node.received
    assert got.type == "footage_offer"
    assert got.sender == b.node.identity.keyid
    # Delivered again (a lost reply): a duplicate, stored once.
    again = seal(
        b.node.identity,
        "footage_offer",
        offer,
        to=agency.node.identity.keyid,
        now=got.created,
        lifetime=DAY,
        message_id=got.id,
    )
    status, reply = await network.sender.post(
        b.node.identity, agency.node.endpoint + OFFER, again.encode(), lan=True
    )
    assert status == 200
    assert isinstance(reply, dict)
    assert reply["status"] == "duplicate"
    assert len(agency.node.received) == 1


async def offer_status(
    network: Network, home: Running, agency: Running, body: dict[str, JSON], **kwargs: object
) -> tuple[int, JSON]:
    """POST an offer straight to the agency's offer endpoint."""
    envelope = seal(
        home.node.identity,
        str(kwargs.get("type", "footage_offer")),
        body,
        to=str(kwargs.get("to", agency.node.identity.keyid)),
        now=network.clock.now(),
        lifetime=3600,
        message_id=new_nonce(),
    )
    signer = kwargs.get("signer", home.node.identity)
    return await network.sender.post(
        signer,  # type: ignore[arg-type]
        agency.node.endpoint + OFFER,
        envelope.encode(),
        lan=True,
    )


def offer_for(home: Running, agency: Running, request_id: str) -> dict[str, JSON]:
    """A minimal offer body from home to agency, with a manifest home signed."""
    return offer_body(home, agency.node.identity.keyid, request_id)


async def test_offer_for_a_request_never_issued_is_refused(network: Network) -> None:
    agency = await network.start("Metro PD", role="agency")
    home = await network.start("B")
    status, reply = await offer_status(network, home, agency, offer_for(home, agency, "0" * 64))
    assert status == ForbiddenError.status
    assert isinstance(reply, dict)
    assert reply["error"] == ForbiddenError.code
    assert len(agency.node.received) == 0


async def test_offer_for_an_expired_request_is_refused(network: Network) -> None:
    agency = await network.start("Metro PD", role="agency")
    home = await network.start("B")
    envelope = agency.node.request_footage(
        request_body(network.clock.now()), lifetime=3600, peers=[]
    )
    network.clock.advance(3601)
    status, _ = await offer_status(
        network, home, agency, offer_for(home, agency, envelope.event_id)
    )
    assert status == ForbiddenError.status


async def test_offer_hop_signed_by_another_key_is_refused(network: Network) -> None:
    agency = await network.start("Metro PD", role="agency")
    home = await network.start("B")
    other = await network.start("C")
    envelope = agency.node.request_footage(request_body(network.clock.now()), lifetime=3600)
    status, reply = await offer_status(
        network,
        home,
        agency,
        offer_for(home, agency, envelope.event_id),
        signer=other.node.identity,
    )
    assert status == 403
    assert isinstance(reply, dict)
    assert reply["error"] == "sender_mismatch"
    assert len(agency.node.received) == 0


async def test_offer_endpoint_takes_offers_only(network: Network) -> None:
    agency = await network.start("Metro PD", role="agency")
    home = await network.start("B")
    body: dict[str, JSON] = {"text": "hello", "category": "other", "name": "", "max_hops": 0}
    status, reply = await offer_status(network, home, agency, body, type="alert", to=BROADCAST)
    assert status == 400
    assert isinstance(reply, dict)
    assert reply["error"] == "schema"


async def test_offer_to_another_agency_is_refused(network: Network) -> None:
    agency = await network.start("Metro PD", role="agency")
    home = await network.start("B")
    envelope = agency.node.request_footage(request_body(network.clock.now()), lifetime=3600)
    status, reply = await offer_status(
        network,
        home,
        agency,
        offer_for(home, agency, envelope.event_id),
        to=home.node.identity.keyid,
    )
    assert status == 403
    assert isinstance(reply, dict)
    assert reply["error"] == "wrong_recipient"


async def test_offers_are_rate_limited_per_address(network: Network) -> None:
    agency = await network.start("Metro PD", role="agency", offer_per_minute=1)
    home = await network.start("B")
    envelope = agency.node.request_footage(request_body(network.clock.now()), lifetime=3600)
    first, _ = await offer_status(network, home, agency, offer_for(home, agency, envelope.event_id))
    second, _ = await offer_status(
        network, home, agency, offer_for(home, agency, envelope.event_id)
    )
    assert (first, second) == (202, 429)


async def test_homes_have_no_offer_endpoint_and_refuse_offers(network: Network) -> None:
    agency, a, _b, _c = await agency_with_homes(network)
    status, _ = await offer_status(network, agency, a, offer_for(agency, a, "0" * 64))
    assert status == 404
    # Through the inbox, from the paired agency: homes never take offers.
    agency.node.send(
        a.node.identity.keyid, "footage_offer", offer_for(agency, a, "0" * 64), lifetime=DAY
    )
    entry = next(e for e in agency.node.outbox if e.peer == a.node.identity.keyid)
    status, _ = await network.sender.post(
        agency.node.identity, a.node.endpoint + "/inbox", entry.payload.encode(), lan=True
    )
    assert status == ForbiddenError.status


async def test_import_agency_takes_agency_invites_only(network: Network) -> None:
    home = await network.start("A")
    neighbor = await network.start("B")
    with pytest.raises(InviteInvalidError):
        home.node.import_agency(neighbor.node.create_invite().to_text())
    agency = network.node("Metro PD", identity=home.node.identity, role="agency")
    agency.advertise("http://127.0.0.1:1/api/porchlight/v1")
    with pytest.raises(InviteInvalidError):
        home.node.import_agency(agency.create_invite().to_text())


async def test_imported_agency_is_untrusted_until_the_owner_trusts_it(network: Network) -> None:
    agency = await network.start("Metro PD", role="agency")
    home = await network.start("A")
    peer = home.node.import_agency(agency.node.create_invite().to_text(), lan=True)
    assert (peer.role, peer.trusted, peer.pending) == ("agency", False, False)
    # The agency was not contacted: it knows no home.
    assert list(agency.node.peers) == []


async def test_issued_requests_survive_a_restart(network: Network) -> None:
    agency = await network.start("Metro PD", role="agency")
    envelope = agency.node.request_footage(request_body(network.clock.now()), lifetime=3600)
    restored = network.node("Metro PD", identity=agency.node.identity, role="agency")
    restored.load_state(agency.node.state_json())
    assert restored.issued == {envelope.event_id: envelope.expires}
    legacy = agency.node.state_json()
    del legacy["issued"]
    restored.load_state(legacy)
    assert restored.issued == {}


async def test_expired_issued_requests_are_forgotten(network: Network) -> None:
    agency = await network.start("Metro PD", role="agency")
    first = agency.node.request_footage(request_body(network.clock.now()), lifetime=60)
    network.clock.advance(120)
    second = agency.node.request_footage(request_body(network.clock.now()), lifetime=60)
    assert set(agency.node.issued) == {second.event_id}
    assert first.event_id not in agency.node.issued


@pytest.mark.allow_porchlight_warnings(r"was given up \(status 403\)")
async def test_untrusted_agency_request_is_refused_by_the_home(network: Network) -> None:
    heard = Heard()
    agency = await network.start("Metro PD", role="agency")
    home = await network.start("A", hooks=heard.hooks)
    await network.pair(agency, home)
    agency.node.request_footage(request_body(network.clock.now()), lifetime=DAY)
    assert await agency.node.deliver(network.sender) == 0
    assert heard.requests == []
    assert len(agency.node.outbox) == 0  # refused on its merits (403): not retried


async def test_paired_home_may_offer_through_the_inbox(network: Network) -> None:
    agency, a, _b, _c = await agency_with_homes(network)
    envelope = agency.node.request_footage(request_body(network.clock.now()), lifetime=DAY)
    a.node.send(
        agency.node.identity.keyid,
        "footage_offer",
        offer_for(a, agency, envelope.event_id),
        lifetime=DAY,
    )
    assert await a.node.deliver(network.sender) == 1
    assert [m.type for m in agency.node.received] == ["footage_offer"]


@pytest.mark.parametrize(
    ("area", "valid"),
    [
        ({"kind": "polygon", "points": [[1, 2], [3, 4], [5, 7]]}, True),
        ({"kind": "polygon", "points": [[1, 2], [3, 4]]}, False),
        ({"kind": "polygon", "points": [[1, 2], [3, 4], [5]]}, False),
        ({"kind": "circle", "lat": 1, "lon": 2, "radius_m": 0}, False),
        ({"kind": "circle", "lat": 1, "lon": 2, "radius_m": 5, "x": 1}, False),
        ({"kind": "square", "lat": 1, "lon": 2, "radius_m": 5}, False),
        ([1, 2], False),
    ],
)
async def test_request_area_must_have_one_known_shape(
    network: Network, area: JSON, *, valid: bool
) -> None:
    agency = network.node("Metro PD", role="agency")
    body = request_body(network.clock.now()) | {"area": area}
    if valid:
        assert agency.request_footage(body, lifetime=DAY, peers=[]).body["area"] == area
    else:
        with pytest.raises(SchemaError, match="field area"):
            agency.request_footage(body, lifetime=DAY, peers=[])


async def test_nothing_leaves_when_the_audit_log_cannot_record_it(network: Network) -> None:
    heard: list[Envelope] = []
    home = await network.start("A")
    neighbor = await network.start("B", hooks=NodeHooks(on_message=heard.append))
    await network.pair(home, neighbor)
    seen: list[bytes] = []

    async def refuse(_url: str, body: bytes) -> None:
        seen.append(body)
        msg = "disk full"
        raise OSError(msg)

    sender = network.sender
    sender.before_send = refuse
    home.node.broadcast_alert("Lost dog")
    assert await home.node.deliver(sender) == 0
    assert len(seen) == 1
    assert heard == []
    (entry,) = home.node.outbox
    assert entry.last_error == "unreachable: not sent: OSError"


async def test_offer_signed_by_a_revoked_key_is_refused(network: Network) -> None:
    agency = await network.start("Metro PD", role="agency")
    home = await network.start("B")
    envelope = agency.node.request_footage(request_body(network.clock.now()), lifetime=3600)
    agency.node.peers.revoked[home.node.identity.keyid] = network.clock.now()
    status, reply = await offer_status(
        network, home, agency, offer_for(home, agency, envelope.event_id)
    )
    assert status == 401
    assert isinstance(reply, dict)
    assert reply["error"] == "key_revoked"
    assert len(agency.node.received) == 0


@pytest.mark.parametrize(
    "spoiled",
    ["signature-broken", "not-a-manifest", "another-homes", "another-request", "another-agency"],
)
async def test_offer_whose_manifest_is_not_the_homes_answer_is_refused(
    network: Network, spoiled: str
) -> None:
    agency = await network.start("Metro PD", role="agency")
    home = await network.start("B")
    other_home = await network.start("C")
    envelope = agency.node.request_footage(request_body(network.clock.now()), lifetime=3600)
    body = offer_for(home, agency, envelope.event_id)
    manifest = body["manifest"]
    assert isinstance(manifest, dict)
    agency_id = agency.node.identity.keyid
    body["manifest"] = {
        "signature-broken": {**manifest, "case": "another case"},
        "not-a-manifest": {"anything": "goes"},
        "another-homes": offer_for(other_home, agency, envelope.event_id)["manifest"],
        "another-request": offer_body(home, agency_id, "1" * 64)["manifest"],
        "another-agency": offer_body(home, Identity.generate().keyid, envelope.event_id)[
            "manifest"
        ],
    }[spoiled]
    status, reply = await offer_status(network, home, agency, body)
    assert status == 400
    assert isinstance(reply, dict)
    assert reply["error"] == "invalid_evidence"
    assert len(agency.node.received) == 0


async def test_offer_for_no_open_request_leaves_no_nonce_behind(network: Network) -> None:
    agency = await network.start("Metro PD", role="agency")
    home = await network.start("B")
    for _ in range(5):
        status, _ = await offer_status(network, home, agency, offer_for(home, agency, "0" * 64))
        assert status == 403
    # Strangers cannot fill the replay cache that the inbox and pairing share.
    assert len(agency.node.replay) == 0


async def test_request_travels_request_max_hops_alerts_stay_within_max_hops(
    network: Network,
) -> None:
    """Footage requests may be relayed REQUEST_MAX_HOPS times; alerts MAX_HOPS times only."""
    agency = await network.start("Metro PD", role="agency")
    homes = [await network.start(f"H{i}") for i in range(REQUEST_MAX_HOPS + 1)]
    invite = agency.node.create_invite(lan=True)
    for home in homes:
        home.node.import_agency(invite.to_text(), lan=True)
        home.node.peers.set_trusted(agency.node.identity.keyid, trusted=True)
    for near, far in itertools.pairwise(homes):
        await network.pair(near, far)
    await network.pair(agency, homes[0])
    homes[0].node.peers.set_trusted(agency.node.identity.keyid, trusted=True)
    body = request_body(network.clock.now(), max_hops=REQUEST_MAX_HOPS)
    envelope = agency.node.request_footage(body, lifetime=DAY, peers=[homes[0].node.identity.keyid])
    for _ in range(len(homes) + 1):
        for running in (agency, *homes):
            await running.node.deliver(network.sender)
    last = homes[-1].node
    assert envelope.event_id in last.seen
    assert len(last.outbox) == 0  # its budget is spent: nothing goes further
    # One relay more than allowed does not even parse; neither does an alert past MAX_HOPS.
    beyond = envelope.to_json()
    beyond["unsigned"] = {"hops": REQUEST_MAX_HOPS + 1}
    with pytest.raises(SchemaError):
        open_envelope(beyond, now=network.clock.now())
    with pytest.raises(SchemaError):
        seal(
            agency.node.identity,
            "alert",
            {"text": "far", "max_hops": MAX_HOPS + 1},
            to=BROADCAST,
            now=network.clock.now(),
            lifetime=3600,
            message_id=new_nonce(),
        )
