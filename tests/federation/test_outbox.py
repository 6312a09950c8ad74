"""Overlapping delivery rounds: a late failure never brings back a settled entry.

Rounds overlap when one outlasts the 30 s timer (slow peers, many entries) or when a key
rotation delivers at once. A round that fails an entry after another round delivered it, or
after the entry was dropped, used to write its stale copy back: the message came back from
the dead, was sent again and kept its signer's retired key alive.
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


async def test_a_round_that_fails_late_does_not_resend_what_another_round_delivered(
    network: Network,
) -> None:
    alice = await network.start("Alice")
    bob = await network.start("Bob")
    await network.pair(alice, bob)
    sent = alice.node.broadcast_alert("Garage door open")
    started, release = asyncio.Event(), asyncio.Event()

    async def slow_audit(_url: str, _body: bytes) -> None:
        # The home's audit log (before_send) stalls, then fails: nothing is sent.
        started.set()
        await release.wait()
        raise OSError("audit log unavailable")

    stalled = HttpSender(network.session, network.clock, before_send=slow_audit)
    first_round = asyncio.create_task(alice.node.deliver(stalled))
    await started.wait()
    assert await alice.node.deliver(network.sender) == 1  # an overlapping round gets through
    release.set()
    assert await first_round == 0
    assert len(alice.node.outbox) == 0
    assert await alice.node.deliver(network.sender) == 0
    assert [e.event_id for e in bob.node.received] == [sent.event_id]
