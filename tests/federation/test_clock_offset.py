"""R2.9: a sender learns from peers' clock_skew refusals that its clock is off, and retries."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from aiohttp import web

from custom_components.porchlight.federation.canonical import canon
from custom_components.porchlight.federation.clock import ManualClock
from custom_components.porchlight.federation.clock_offset import CLOCK_OFFSET_LIMIT
from custom_components.porchlight.federation.identity import Identity, keyid
from custom_components.porchlight.federation.node import Node, NodeHooks, Settings
from custom_components.porchlight.federation.outbox import Outbox
from custom_components.porchlight.federation.peers import Peer
from custom_components.porchlight.federation.transport import HttpSender

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator

    from .loopback import Network


async def test_clock_skew_refusal_reports_the_offset_and_is_retried(network: Network) -> None:
    own_clock = ManualClock(network.clock.now())
    changes: list[str] = []
    node = Node(
        Identity.generate(),
        Settings(name="Alice"),
        own_clock,
        outbox=Outbox(None),
        hooks=NodeHooks(on_change=changes.append),
    )
    alice = await network.serve(node)
    bob = await network.listen(network.node("Bob"))
    await network.pair(alice, bob)

    own_clock.advance(400)  # a Pi that booted with the wrong time
    sender = HttpSender(network.session, own_clock, timeout=5)  # signs with the same clock
    alice.node.broadcast_alert("from the future")
    assert await alice.node.deliver(sender) == 0
    assert alice.node.clock_offset == 400
    assert "clock" in changes
    (entry,) = alice.node.outbox  # kept: the message is fine, the clock is not
    assert entry.last_error == "status 401"

    changes.clear()
    own_clock.time = network.clock.now()  # NTP caught up
    alice.node.broadcast_alert("on time")
    assert await alice.node.deliver(sender) == 1
    assert alice.node.clock_offset is None
    assert "clock" in changes
    assert [e.body["text"] for e in bob.node.received] == ["on time"]


class _Peer:
    """A peer that answers each delivery with the next canned reply."""

    def __init__(self) -> None:
        self.replies: list[web.Response] = []

    async def handle(self, _request: web.Request) -> web.Response:
        return self.replies.pop(0)


@pytest.fixture
def changes() -> list[str]:
    """What the canned node reported as changed."""
    return []


@pytest.fixture
async def canned(network: Network, changes: list[str]) -> AsyncGenerator[tuple[Node, _Peer]]:
    """A node paired (by hand) with a peer whose answers each test chooses."""
    peer = _Peer()
    app = web.Application()
    app.router.add_post("/v1/inbox", peer.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    node = network.node("Alice", hooks=NodeHooks(on_change=changes.append))
    node.advertise("http://127.0.0.1:9/v1")
    key = Identity.generate().public_key
    endpoint = f"http://127.0.0.1:{runner.addresses[0][1]}/v1"
    node.peers.add(Peer(keyid(key), key, "neighbor", "Bob", endpoint, 0, trusted=True, lan=True))
    yield node, peer
    await runner.cleanup()


async def _answered(network: Network, node: Node, peer: _Peer, reply: web.Response) -> None:
    """Send one new alert and have the peer answer it with reply."""
    peer.replies.append(reply)
    node.broadcast_alert("x")
    await node.deliver(network.sender)


def _reply(status: int, payload: dict[str, Any]) -> web.Response:
    return web.Response(status=status, body=canon(payload), content_type="application/json")


def _skew(server_time: Any) -> web.Response:
    return _reply(401, {"error": "clock_skew", "detail": "late", "server_time": server_time})


async def test_offset_within_the_limit_is_not_reported_but_retried(
    network: Network, canned: tuple[Node, _Peer]
) -> None:
    node, peer = canned
    await _answered(network, node, peer, _skew(network.clock.now() - CLOCK_OFFSET_LIMIT))
    assert node.clock_offset is None
    assert len(node.outbox) == 1


async def test_same_offset_is_reported_once(
    network: Network, canned: tuple[Node, _Peer], changes: list[str]
) -> None:
    node, peer = canned
    for _ in range(2):
        await _answered(network, node, peer, _skew(network.clock.now() + 500))
    assert node.clock_offset == -500  # we are behind
    assert changes.count("clock") == 1
    assert len(node.outbox) == 2


@pytest.mark.parametrize(
    "reply",
    [
        _skew("soon"),
        _skew(server_time=True),
        _reply(401, {"error": "unknown_key"}),
        web.Response(status=401, text="no JSON"),
        _reply(400, {"error": "clock_skew", "server_time": 1}),
    ],
)
@pytest.mark.allow_porchlight_warnings(r"was given up \(status 40[01]\)")
async def test_other_refusals_say_nothing_about_the_clock(
    network: Network, canned: tuple[Node, _Peer], reply: web.Response
) -> None:
    node, peer = canned
    await _answered(network, node, peer, reply)
    assert node.clock_offset is None
    assert len(node.outbox) == 0  # a plain 4xx: dropped
