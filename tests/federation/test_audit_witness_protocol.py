"""audit_checkpoint and audit_witness on the wire: between neighbors, never with an agency."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from custom_components.porchlight.consent.audit.witness import Witnessed, sign_statement
from custom_components.porchlight.federation.canonical import b64u
from custom_components.porchlight.federation.node import NodeHooks

if TYPE_CHECKING:
    from custom_components.porchlight.federation.canonical import JSON
    from custom_components.porchlight.federation.peers import Peer

    from .loopback import Network

CHECKPOINT: dict[str, JSON] = {
    "size": 100,
    "head": "a" * 64,
    "key": b64u(bytes(32)),
    "sig": b64u(bytes(64)),
}


async def test_both_messages_reach_the_neighbors_listeners(network: Network) -> None:
    got: list[tuple[str, str, dict[str, JSON]]] = []

    def heard(kind: str) -> object:
        return lambda peer, body: got.append((kind, peer.keyid, body))

    alice = await network.start("Alice")
    bob = await network.start(
        "Bob",
        hooks=NodeHooks(
            on_audit_checkpoint=heard("checkpoint"),  # type: ignore[arg-type]
            on_audit_witness=heard("witness"),  # type: ignore[arg-type]
        ),
    )
    await network.pair(alice, bob)
    alice_id, bob_id = alice.node.identity.keyid, bob.node.identity.keyid
    statement = sign_statement(alice.node.identity, bob_id, Witnessed(100, "a" * 64), 5)
    alice.node.send(bob_id, "audit_checkpoint", CHECKPOINT, lifetime=600)
    alice.node.send(bob_id, "audit_witness", statement, lifetime=600)
    assert await alice.node.deliver(network.sender) == 2
    assert got == [("checkpoint", alice_id, CHECKPOINT), ("witness", alice_id, statement)]
    # A node that witnesses nothing takes both and drops them.
    bob.node.send(alice_id, "audit_checkpoint", CHECKPOINT, lifetime=600)
    bob.node.send(alice_id, "audit_witness", statement, lifetime=600)
    assert await bob.node.deliver(network.sender) == 2


@pytest.mark.allow_porchlight_warnings(r"was given up \(status 403\)")
async def test_an_agency_neither_sends_nor_takes_checkpoints(network: Network) -> None:
    got: list[Peer] = []
    hooks = NodeHooks(on_audit_checkpoint=lambda peer, _body: got.append(peer))
    agency = await network.start("County Sheriff", role="agency", hooks=hooks)
    home = await network.start("Maple 12", hooks=hooks)
    peer = await home.node.accept_invite(
        agency.node.create_invite(lan=True).to_text(), network.sender, lan=True
    )
    home.node.confirm_pairing(peer.keyid)
    home.node.peers.set_trusted(peer.keyid, trusted=True)
    for sender, to in ((agency, home), (home, agency)):
        sender.node.send(to.node.identity.keyid, "audit_checkpoint", CHECKPOINT, lifetime=600)
        assert await sender.node.deliver(network.sender) == 0
    assert got == []
