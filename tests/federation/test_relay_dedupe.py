"""Dedupe of relayed messages against the unsigned hop count, our own messages and restarts.

Real nodes over loopback HTTP. Every link is a confirmed neighbor pairing:

    O - V - W          O originates; V relays; W hears only through V
     \\ /
      M                M, a neighbor of O and V, hands V copies of its own making

The hop count (`unsigned.hops`) is signed by nobody, so M can raise it. V keeps the fewest
hops any copy came with: the honest copy that comes later, with fewer hops, is relayed again
(federation/dedupe.py, inbox.py `_relay_again`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest

from custom_components.porchlight.federation.canonical import canon
from custom_components.porchlight.federation.node import NodeHooks

from .loopback import request_body

if TYPE_CHECKING:
    from custom_components.porchlight.federation.messages import Envelope
    from custom_components.porchlight.federation.node import Node
    from custom_components.porchlight.federation.peers import Peer

    from .loopback import Network, Running

DAY = 86400


@dataclass
class Heard:
    """What one node told its owner's side: (event id, hops) of each alert and request."""

    alerts: list[tuple[str, int]] = field(default_factory=list)
    requests: list[tuple[str, int]] = field(default_factory=list)

    def hooks(self) -> NodeHooks:
        return NodeHooks(on_message=self.message, on_request=self.request)

    def message(self, envelope: Envelope) -> None:
        self.alerts.append((envelope.event_id, envelope.hops))

    def request(self, envelope: Envelope, _origin: Peer | None, _via: Peer) -> None:
        self.requests.append((envelope.event_id, envelope.hops))


@dataclass
class Hood:
    network: Network
    nodes: dict[str, Running]
    heard: dict[str, Heard]

    async def settle(self) -> None:
        """Deliver every outbox until nothing is left to send."""
        for _ in range(8):
            for running in self.nodes.values():
                await running.node.deliver(self.network.sender)
            if all(len(r.node.outbox) == 0 for r in self.nodes.values()):
                return
        pytest.fail("outboxes did not drain")

    async def hand(self, src: str, dst: str, envelope: Envelope) -> dict[str, Any]:
        """src hop-signs envelope (as it is, hops and all) to dst: dst's answer."""
        self.nodes[src].node.outbox.enqueue(
            peer=self.nodes[dst].node.identity.keyid,
            payload=canon(envelope.to_json()).decode(),
            signer=self.nodes[src].node.identity.keyid,
            expires=envelope.expires,
            now=self.network.clock.now(),
        )
        before = {e.id for e in self.nodes[dst].node.outbox}
        assert await self.nodes[src].node.deliver(self.network.sender) == 1
        queued = [e.peer for e in self.nodes[dst].node.outbox if e.id not in before]
        names = {r.node.identity.keyid: n for n, r in self.nodes.items()}
        return {"relayed to": sorted(names[k] for k in queued)}


@pytest.fixture
async def hood(network: Network) -> Hood:
    heard = {name: Heard() for name in "OVWM"}
    nodes = {name: await network.start(name, hooks=heard[name].hooks()) for name in "OVWM"}
    for a, b in ("OV", "VW", "OM", "MV"):
        await network.pair(nodes[a], nodes[b])
    return Hood(network, nodes, heard)


def _raised(envelope: Envelope, hops: int) -> Envelope:
    """A copy with the unsigned hop count set to hops (what a malicious relay sends)."""
    for _ in range(hops):
        envelope = envelope.relayed()
    return envelope


async def test_copy_with_raised_hops_first_does_not_stop_the_honest_copy(hood: Hood) -> None:
    o = hood.nodes["O"].node
    alert = o.broadcast_alert("Gas leak on Elm", max_hops=2)
    o.outbox.drop_peer(hood.nodes["M"].node.identity.keyid)  # M only poisons
    # M hands V the alert first, as if it had come two hops already: V may not relay it.
    assert await hood.hand("M", "V", _raised(alert, 2)) == {"relayed to": []}
    assert hood.heard["V"].alerts == [(alert.event_id, 2)]
    # The honest copy (hops 0) is a duplicate for V, but one V relays again, to W and M.
    await hood.settle()
    assert hood.heard["W"].alerts == [(alert.event_id, 1)]
    assert hood.heard["V"].alerts == [(alert.event_id, 2)]  # shown once, by the first copy


async def test_duplicate_with_as_many_hops_is_not_relayed_again(hood: Hood) -> None:
    o = hood.nodes["O"].node
    alert = o.broadcast_alert("Loose dog", max_hops=3)
    for name in "VM":  # O's copy is handed over below, at the moment the test chooses
        o.outbox.drop_peer(hood.nodes[name].node.identity.keyid)
    assert await hood.hand("M", "V", _raised(alert, 1)) == {"relayed to": ["W"]}
    assert await hood.hand("M", "V", _raised(alert, 1)) == {"relayed to": []}
    assert await hood.hand("M", "V", _raised(alert, 2)) == {"relayed to": []}
    # The originator's own copy has fewer: relayed once more (W, M; not back to O).
    assert await hood.hand("O", "V", alert) == {"relayed to": ["M", "W"]}
    assert hood.heard["V"].alerts == [(alert.event_id, 1)]


async def _agency(hood: Hood, *, trusted_by: str) -> Running:
    """An agency paired with O (trusted there), imported and trusted by the homes named."""
    agency = await hood.network.start("Metro PD", role="agency")
    await hood.network.pair(agency, hood.nodes["O"])
    invite = agency.node.create_invite(lan=True).to_text()
    for name in trusted_by:
        home = hood.nodes[name].node
        if name != "O":
            home.import_agency(invite, lan=True)
        home.peers.set_trusted(agency.node.identity.keyid, trusted=True)
    return agency


async def test_request_with_raised_hops_first_still_reaches_the_next_home(hood: Hood) -> None:
    agency = await _agency(hood, trusted_by="OVW")
    request = agency.node.request_footage(
        request_body(hood.network.clock.now(), max_hops=2), lifetime=DAY
    )
    assert await hood.hand("M", "V", _raised(request, 2)) == {"relayed to": []}
    hood.nodes["Metro PD"] = agency
    await hood.settle()
    assert hood.heard["W"].requests == [(request.event_id, 2)]
    assert hood.heard["V"].requests == [(request.event_id, 2)]  # judged once


async def test_request_of_an_agency_not_trusted_is_not_relayed_again(hood: Hood) -> None:
    agency = await _agency(hood, trusted_by="O")
    request = agency.node.request_footage(
        request_body(hood.network.clock.now(), max_hops=3), lifetime=DAY
    )
    assert await hood.hand("M", "V", _raised(request, 2)) == {"relayed to": []}
    assert await hood.hand("O", "V", _raised(request, 1)) == {"relayed to": []}
    assert hood.heard["W"].requests == []


async def test_own_alert_relayed_back_is_not_shown_though_dedupe_forgot_it(
    network: Network,
) -> None:
    heard = Heard()
    alice = await network.start("Alice", hooks=heard.hooks(), dedupe_max=2)
    bob = await network.start("Bob")
    await network.pair(alice, bob)
    own = alice.node.broadcast_alert("Power cut", max_hops=2)
    for i in range(3):  # a full table forgets the oldest events, our own alert among them
        bob.node.broadcast_alert(f"alert {i}")
    assert await alice.node.deliver(network.sender) == 1
    assert await bob.node.deliver(network.sender) == 3
    assert own.event_id not in alice.node.seen
    (mine,) = [e for e in bob.node.received if e.event_id == own.event_id]
    bob.node.outbox.enqueue(
        peer=alice.node.identity.keyid,
        payload=canon(mine.relayed().to_json()).decode(),
        signer=bob.node.identity.keyid,
        expires=own.expires,
        now=network.clock.now(),
    )
    assert await bob.node.deliver(network.sender) == 1
    assert own.event_id not in {event_id for event_id, _hops in heard.alerts}
    assert len(alice.node.outbox) == 0  # and not relayed


async def _restarted(network: Network, running: Running, heard: Heard) -> Node:
    """running's node restarted from its saved state, on the same address."""
    old = running.node
    node = network.node(old.settings.name, identity=old.identity, hooks=heard.hooks())
    node.load_state(old.state_json())
    port = running.port
    await network.stop(running)
    await network.serve(node, port=port)
    return node


async def test_alert_and_request_seen_before_a_restart_are_duplicates_after_it(
    hood: Hood,
) -> None:
    agency = await _agency(hood, trusted_by="OVW")
    alert = hood.nodes["O"].node.broadcast_alert("Van on Oak", max_hops=2)
    hood.nodes["O"].node.outbox.drop_peer(hood.nodes["M"].node.identity.keyid)
    request = agency.node.request_footage(
        request_body(hood.network.clock.now(), max_hops=2), lifetime=DAY
    )
    await agency.node.deliver(hood.network.sender)
    await hood.nodes["O"].node.deliver(hood.network.sender)
    assert {e for e, _h in hood.heard["V"].alerts + hood.heard["V"].requests} == {
        alert.event_id,
        request.event_id,
    }
    after = Heard()
    v = await _restarted(hood.network, hood.nodes["V"], after)
    hood.network.clock.advance(60)
    for copy in (_raised(alert, 1), _raised(request, 2)):
        hood.nodes["M"].node.outbox.enqueue(
            peer=v.identity.keyid,
            payload=canon(copy.to_json()).decode(),
            signer=hood.nodes["M"].node.identity.keyid,
            expires=copy.expires,
            now=hood.network.clock.now(),
        )
    assert await hood.nodes["M"].node.deliver(hood.network.sender) == 2
    assert (after.alerts, after.requests) == ([], [])
    assert len(v.outbox) == 0  # nothing relayed again: these came with no fewer hops


async def test_saved_event_ids_are_the_last_live_relayable_ones(network: Network) -> None:
    alice = await network.start("Alice")
    bob = await network.start("Bob", dedupe_saved=2)
    await network.pair(alice, bob)
    alice.node.send(
        bob.node.identity.keyid, "map_cell", {"cell_m": 250, "row": 1, "col": 2}, lifetime=600
    )
    short = alice.node.broadcast_alert("soon gone", lifetime=60)
    alerts = [alice.node.broadcast_alert(f"alert {i}") for i in range(3)]
    assert await alice.node.deliver(network.sender) == 5
    saved = bob.node.state_json()["seen"]
    assert saved == {e.event_id: [e.expires, 0] for e in alerts[1:]}  # the last two
    network.clock.advance(61)
    restored = network.node("Bob", identity=bob.node.identity, dedupe_saved=5)
    restored.load_state(bob.node.state_json())
    assert short.event_id not in restored.seen
    assert all(e.event_id in restored.seen for e in alerts[1:])
    # An expired event saved before is dropped on load.
    state = bob.node.state_json()
    state["seen"] = {short.event_id: [short.expires, 0], **state["seen"]}
    restored.load_state(state)
    assert short.event_id not in restored.seen
    assert len(restored.seen) == 2


@pytest.mark.parametrize(
    "damaged",
    [
        [],
        {"ab": [1, 0]},
        {"a" * 64: [1]},
        {"a" * 64: 1},
        {"a" * 64: [True, 0]},
        {"a" * 64: [1, -1]},
        {"a" * 64: [1, 65]},
    ],
)
@pytest.mark.allow_porchlight_warnings("list of messages seen was damaged")
async def test_damaged_saved_event_ids_start_afresh(network: Network, damaged: object) -> None:
    alice = await network.start("Alice")
    alice.node.broadcast_alert("remembered")
    state = alice.node.state_json()
    state["seen"] = damaged
    restored = network.node("Alice", identity=alice.node.identity)
    restored.load_state(state)
    assert len(restored.seen) == 0
    assert [p.keyid for p in restored.peers] == [p.keyid for p in alice.node.peers]
