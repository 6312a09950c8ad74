"""A neighborhood of six real nodes over loopback HTTP: how far a request travels, and how not.

The agency is paired with one home; the homes are paired as neighbors in a ring with one
chord, and every home trusts the agency (imported from its invite, one-sided):

    agency - A - B - C - D - E
             |               |
             +------ F ------+

A request with max_hops 2 reaches A (hop 0), B and F (hop 1), C and E (hop 2), never D;
with max_hops 3 it reaches every home, D through two paths (one of them a duplicate).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pytest

from custom_components.porchlight.federation.canonical import canon
from custom_components.porchlight.federation.node import NodeHooks

from .loopback import request_body

if TYPE_CHECKING:
    from custom_components.porchlight.federation.messages import Envelope
    from custom_components.porchlight.federation.peers import Peer

    from .loopback import Network, Running

DAY = 86400
HOMES = "ABCDEF"
EDGES = ("AB", "BC", "CD", "DE", "EF", "FA")
# What the receiver and the tampering relay log.
TAMPER_LOG = r"relayed a message that does not verify|given up \(status 401\)"


@dataclass
class Heard:
    """What one home's node reported to its owner's side."""

    requests: list[tuple[str, int, str]] = field(default_factory=list)
    tampered: list[tuple[str, str]] = field(default_factory=list)

    def hooks(self) -> NodeHooks:
        return NodeHooks(on_request=self.request, on_tamper=self.tamper)

    def request(self, envelope: Envelope, _origin: Peer | None, via: Peer) -> None:
        self.requests.append((envelope.event_id, envelope.hops, via.name))

    def tamper(self, peer: Peer, code: str) -> None:
        self.tampered.append((peer.name, code))


@dataclass
class Neighborhood:
    network: Network
    agency: Running
    homes: dict[str, Running]
    heard: dict[str, Heard]

    async def settle(self) -> None:
        """Deliver every outbox until nothing is left to send."""
        nodes = [self.agency, *self.homes.values()]
        for _ in range(8):
            for running in nodes:
                await running.node.deliver(self.network.sender)
            if all(len(r.node.outbox) == 0 for r in nodes):
                return
        pytest.fail("outboxes did not drain")

    def request(self, max_hops: int) -> Envelope:
        body = request_body(self.network.clock.now(), max_hops=max_hops)
        return self.agency.node.request_footage(body, lifetime=DAY)

    def reached(self, event_id: str) -> dict[str, int]:
        """Each home that heard of the request: the hop count it came with."""
        return {
            name: hops
            for name, heard in self.heard.items()
            for got, hops, _via in heard.requests
            if got == event_id
        }


@pytest.fixture
async def hood(network: Network) -> Neighborhood:
    agency = await network.start("Metro PD", role="agency")
    heard = {name: Heard() for name in HOMES}
    homes = {name: await network.start(name, hooks=heard[name].hooks()) for name in HOMES}
    for a, b in EDGES:
        await network.pair(homes[a], homes[b])
    await network.pair(agency, homes["A"])
    invite = agency.node.create_invite(lan=True).to_text()
    for name, home in homes.items():
        if name != "A":
            home.node.import_agency(invite, lan=True)
        home.node.peers.set_trusted(agency.node.identity.keyid, trusted=True)
    return Neighborhood(network, agency, homes, heard)


async def test_request_reaches_homes_two_hops_away_and_no_further(hood: Neighborhood) -> None:
    sent = hood.request(max_hops=2)
    await hood.settle()
    assert hood.reached(sent.event_id) == {"A": 0, "B": 1, "F": 1, "C": 2, "E": 2}
    # The agency is told of no home but the one it sent to.
    assert [p.name for p in hood.agency.node.peers] == ["A"]


async def test_every_home_hears_once_though_the_ring_brings_it_twice(hood: Neighborhood) -> None:
    sent = hood.request(max_hops=3)
    await hood.settle()
    assert hood.reached(sent.event_id) == {"A": 0, "B": 1, "F": 1, "C": 2, "E": 2, "D": 3}
    # D was offered it by C and by E; the second copy answered "duplicate", nothing more.
    assert len(hood.heard["D"].requests) == 1
    assert all(len(h.requests) == 1 for h in hood.heard.values())
    assert all(h.tampered == [] for h in hood.heard.values())


async def test_a_home_that_does_not_relay_does_not_cut_the_others_off(
    hood: Neighborhood,
) -> None:
    hood.homes["B"].node.relaying = False
    sent = hood.request(max_hops=3)
    await hood.settle()
    reached = hood.reached(sent.event_id)
    # B still hears and judges it; C gets it the long way round, through F, E and D.
    assert reached == {"A": 0, "B": 1, "F": 1, "E": 2, "D": 3}
    assert "C" not in reached
    sent = hood.request(max_hops=3)
    hood.homes["B"].node.relaying = True
    hood.homes["F"].node.relaying = False
    await hood.settle()
    assert hood.reached(sent.event_id) == {"A": 0, "B": 1, "F": 1, "C": 2, "D": 3}


async def test_a_home_not_relaying_still_verifies_what_it_keeps(hood: Neighborhood) -> None:
    hood.homes["B"].node.relaying = False
    alert = hood.homes["A"].node.broadcast_alert("Loose dog on Elm", max_hops=2)
    await hood.settle()
    (kept,) = [e for e in hood.homes["B"].node.received if e.event_id == alert.event_id]
    assert kept.verified
    assert not any(e.event_id == alert.event_id for e in hood.homes["C"].node.received)


@pytest.mark.allow_porchlight_warnings(TAMPER_LOG)
async def test_a_relay_that_alters_a_request_is_refused_and_named(hood: Neighborhood) -> None:
    """B passes the agency's request on with a wider area: C refuses it and names B.

    B hop-signs what it sends, so the bytes are B's; the agency's signature no longer covers
    the body, so C refuses it (401 bad_message_signature) before anything reaches its owner.
    """
    sent = hood.request(max_hops=3)
    b, c = hood.homes["B"], hood.homes["C"]
    b.node.relaying = False  # B's own relay would be honest: it sends only the forgery
    await hood.settle()
    forged = sent.relayed().relayed().to_json()
    body = dict(sent.body)
    body["area"] = {**sent.body["area"], "radius_m": 5000}  # type: ignore[dict-item]
    forged["body"] = body
    b.node.outbox.enqueue(
        peer=c.node.identity.keyid,
        payload=canon(forged).decode(),
        signer=b.node.identity.keyid,
        expires=sent.expires,
        now=hood.network.clock.now(),
    )
    await b.node.deliver(hood.network.sender)
    assert hood.heard["C"].tampered == [("B", "bad_message_signature")]
    assert not any(got == sent.event_id for got, _h, _v in hood.heard["C"].requests)
    # C passed nothing on.
    assert len(c.node.outbox) == 0


@pytest.mark.allow_porchlight_warnings(TAMPER_LOG)
async def test_a_relay_that_swaps_the_originators_key_is_refused_and_named(
    hood: Neighborhood,
) -> None:
    sent = hood.request(max_hops=3)
    b, c = hood.homes["B"], hood.homes["C"]
    forged = sent.relayed().to_json()
    forged["from_key"] = str(forged["from_key"])[:-2] + "AA"
    b.node.outbox.enqueue(
        peer=c.node.identity.keyid,
        payload=canon(forged).decode(),
        signer=b.node.identity.keyid,
        expires=sent.expires,
        now=hood.network.clock.now(),
    )
    await b.node.deliver(hood.network.sender)
    assert hood.heard["C"].tampered == [("B", "forged_origin")]


@pytest.mark.allow_porchlight_warnings(r"given up \(status 401\)")
async def test_a_peers_own_broken_message_is_refused_without_naming_a_relay(
    hood: Neighborhood,
) -> None:
    a, b = hood.homes["A"], hood.homes["B"]
    alert = a.node.broadcast_alert("Lost cat", max_hops=2)
    a.node.outbox.drop_peer(b.node.identity.keyid)
    broken = alert.to_json()
    # Sent by A itself: no relay to name, though its originator field does not add up.
    broken["from_key"] = str(broken["from_key"])[:-2] + "AA"
    a.node.outbox.enqueue(
        peer=b.node.identity.keyid,
        payload=canon(broken).decode(),
        signer=a.node.identity.keyid,
        expires=alert.expires,
        now=hood.network.clock.now(),
    )
    await a.node.deliver(hood.network.sender)
    assert not any(e.event_id == alert.event_id for e in b.node.received)
    assert hood.heard["B"].tampered == []
