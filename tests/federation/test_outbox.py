"""Delivery rounds and settled entries: a late failure never brings back a settled entry.

A round that failed an entry after another round delivered it, or after the entry was
dropped, used to write its stale copy back: the message came back from the dead, was sent
again and kept its signer's retired key alive. Rounds no longer overlap (Node.deliver), and
the outbox refuses stale copies anyway.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from custom_components.porchlight.federation.outbox import Outbox
from custom_components.porchlight.federation.transport import HttpSender

if TYPE_CHECKING:
    from .loopback import Network

NOW = 1_700_000_000


def _one(outbox: Outbox) -> None:
    assert outbox.enqueue(peer="P", payload="{}", signer="S", expires=NOW + 3600, now=NOW)


def test_a_failure_after_delivery_does_not_resurrect_the_entry() -> None:
    outbox = Outbox(None)
    _one(outbox)
    (entry,) = outbox.due(NOW)
    outbox.delivered(entry)  # the other round got through
    outbox.failed(entry, NOW, "unreachable", retry=True)
    assert len(outbox) == 0


def test_a_failure_after_the_peer_was_dropped_does_not_resurrect_the_entry() -> None:
    outbox = Outbox(None)
    _one(outbox)
    (entry,) = outbox.due(NOW)
    outbox.drop_peer("P")  # removed or revoked while the attempt was on the wire
    outbox.failed(entry, NOW, "unreachable", retry=True)
    assert len(outbox) == 0


def test_failures_from_overlapping_rounds_both_count() -> None:
    outbox = Outbox(None)
    _one(outbox)
    (first,) = outbox.due(NOW)
    (second,) = outbox.due(NOW)  # the same entry, taken by a second round
    outbox.failed(second, NOW, "status 503", retry=True)
    outbox.failed(first, NOW, "unreachable", retry=True)
    (entry,) = outbox
    assert entry.attempts == 2
    assert entry.last_error == "unreachable"


async def test_a_delivery_asked_for_during_a_round_makes_that_round_go_again(
    network: Network,
) -> None:
    """Rounds never overlap: a second call returns at once and the running round repeats."""
    alice = await network.start("Alice")
    bob = await network.start("Bob")
    await network.pair(alice, bob)
    alice.node.broadcast_alert("Garage door open")
    started, release = asyncio.Event(), asyncio.Event()

    async def slow_audit(_url: str, _body: bytes) -> None:
        started.set()  # the home's audit log (before_send) is slow this time
        await release.wait()

    slow = HttpSender(network.session, network.clock, before_send=slow_audit)
    first_round = asyncio.create_task(alice.node.deliver(slow))
    await started.wait()
    alice.node.broadcast_alert("Queued during the round")
    assert await alice.node.deliver(network.sender) == 0  # no second round on the same entry
    release.set()
    assert await first_round == 2  # it went again for what was queued meanwhile
    assert [e.body["text"] for e in bob.node.received] == [
        "Garage door open",
        "Queued during the round",
    ]
    assert len(alice.node.outbox) == 0
