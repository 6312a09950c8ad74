"""What one neighbor can have a home relay: its own budget, however many keys it mints.

Real nodes over loopback HTTP, every link a confirmed neighbor pairing:

    O - V - W          O originates; V relays; W hears O only through V
     \\ /
      M                M is a neighbor of both O and V, and signs alerts with minted keys
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from custom_components.porchlight.federation.canonical import canon
from custom_components.porchlight.federation.httpsig import new_nonce
from custom_components.porchlight.federation.identity import Identity
from custom_components.porchlight.federation.messages import BROADCAST, seal
from custom_components.porchlight.federation.node import NodeHooks, Settings

if TYPE_CHECKING:
    from custom_components.porchlight.federation.messages import Envelope

    from .loopback import Network, Running

BUDGET = Settings(name="").relay_per_minute


@dataclass
class Heard:
    """The alerts one node accepted."""

    texts: list[str] = field(default_factory=list)

    def hooks(self) -> NodeHooks:
        return NodeHooks(on_message=self.message)

    def message(self, envelope: Envelope) -> None:
        self.texts.append(str(envelope.body["text"]))


async def _hood(network: Network) -> tuple[dict[str, Running], dict[str, Heard]]:
    heard = {n: Heard() for n in "OVWM"}
    nodes = {n: await network.start(n, hooks=heard[n].hooks()) for n in "OVWM"}
    for a, b in ("OV", "VW", "OM", "MV"):
        await network.pair(nodes[a], nodes[b])
    return nodes, heard


def _minted(m: Running, v: Running, count: int, now: int) -> None:
    """count alerts, each signed by a key nobody pinned and relayed once, queued at m for v."""
    for i in range(count):
        envelope = seal(
            Identity.generate(),
            "alert",
            {"text": f"spam {i}", "category": "other", "name": "", "max_hops": 3},
            to=BROADCAST,
            now=now,
            lifetime=3600,
            message_id=new_nonce(),
        )
        obj: dict[str, Any] = envelope.relayed().to_json()
        m.node.outbox.enqueue(
            peer=v.node.identity.keyid,
            payload=canon(obj).decode(),
            signer=m.node.identity.keyid,
            expires=envelope.expires,
            now=now,
        )


async def test_minted_originators_share_the_relaying_neighbors_budget(network: Network) -> None:
    """Relayed, M's alerts would take V's whole budget at W, and V's own alert with it."""
    nodes, heard = await _hood(network)
    o, v, _w, m = (nodes[n] for n in "OVWM")
    spam = v.node.settings.per_peer_per_minute
    _minted(m, v, spam, network.clock.now())
    assert await m.node.deliver(network.sender) == spam
    # V shows them all (M is a neighbor): only relaying is bounded.
    assert len(heard["V"].texts) == spam
    m.node.broadcast_alert("M's own", max_hops=1)
    o.node.broadcast_alert("O's", max_hops=1)
    await m.node.deliver(network.sender)
    await o.node.deliver(network.sender)
    await v.node.deliver(network.sender)
    spammed = [t for t in heard["W"].texts if t.startswith("spam")]
    assert len(spammed) == BUDGET
    # M's own alerts are M's too, so its budget was spent; O's is O's own.
    assert "M's own" not in heard["W"].texts
    assert "O's" in heard["W"].texts
    v.node.broadcast_alert("V's own", max_hops=0)
    await v.node.deliver(network.sender)
    assert heard["W"].texts[-1] == "V's own"
    assert len(v.node.outbox) == 0
