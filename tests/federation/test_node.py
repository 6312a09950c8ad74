"""Node behaviour not covered by the network and attack tests."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING
from unittest.mock import Mock

import pytest
from aiohttp import StreamReader, web
from aiohttp.test_utils import make_mocked_request

from custom_components.porchlight.federation import transport
from custom_components.porchlight.federation.api import OFFER
from custom_components.porchlight.federation.canonical import canon
from custom_components.porchlight.federation.errors import (
    BodyTooLargeError,
    InviteInvalidError,
    PeerRefusedError,
    RevokedKeyError,
    SenderMismatchError,
)
from custom_components.porchlight.federation.httpsig import new_nonce
from custom_components.porchlight.federation.identity import Identity
from custom_components.porchlight.federation.messages import seal
from custom_components.porchlight.federation.node import NodeHooks
from custom_components.porchlight.federation.peers import Peer, PeerRegistry

from .loopback import offer_body

if TYPE_CHECKING:
    from .loopback import Network


async def test_callbacks_report_changes_and_messages(network: Network) -> None:
    changes: list[str] = []
    messages: list[str] = []
    hooks = NodeHooks(
        on_change=changes.append, on_message=lambda envelope: messages.append(envelope.event_id)
    )
    alice = await network.start("Alice")
    bob = await network.start("Bob", hooks=hooks)
    await network.pair(alice, bob)
    sent = alice.node.broadcast_alert("hello")
    await alice.node.deliver(network.sender)
    assert messages == [sent.event_id]
    assert "state" in changes


@pytest.mark.allow_porchlight_warnings(r"was given up \(status 401\)")
async def test_relayed_message_from_revoked_originator_is_refused(network: Network) -> None:
    alice = await network.start("Alice")
    bob = await network.start("Bob")
    carol = await network.start("Carol")
    await network.pair(alice, bob)
    await network.pair(bob, carol)
    carol.node.peers.revoked[alice.node.identity.keyid] = 0
    alice.node.broadcast_alert("hello")
    await alice.node.deliver(network.sender)
    assert await bob.node.deliver(network.sender) == 0
    assert len(carol.node.received) == 0


async def test_event_dedupe_table_is_pruned(network: Network) -> None:
    alice = await network.start("Alice")
    bob = await network.start("Bob", dedupe_max=4)
    await network.pair(alice, bob)
    for i in range(6):
        alice.node.broadcast_alert(f"alert {i}", lifetime=60)
        network.clock.advance(61)
        assert await alice.node.deliver(network.sender) == 0  # expired before delivery
    for i in range(6):
        alice.node.broadcast_alert(f"alert {i}", lifetime=60)
        assert await alice.node.deliver(network.sender) == 1
        network.clock.advance(61)
    assert len(bob.node.seen) <= 4


async def test_dedupe_table_full_of_live_events_forgets_the_oldest(network: Network) -> None:
    alice = await network.start("Alice")
    bob = await network.start("Bob", dedupe_max=4)
    await network.pair(alice, bob)
    for i in range(6):
        alice.node.broadcast_alert(f"alert {i}")
    assert await alice.node.deliver(network.sender) == 6
    assert len(bob.node.seen) <= 4


async def test_node_without_endpoint_cannot_invite_or_pair(network: Network) -> None:
    node = network.node("Lonely")
    with pytest.raises(ValueError, match="endpoint"):
        node.create_invite(lan=True)
    alice = await network.start("Alice")
    with pytest.raises(ValueError, match="endpoint"):
        await node.accept_invite(
            alice.node.create_invite(lan=True).to_text(), network.sender, lan=True
        )


async def test_advertising_twice_changes_nothing(network: Network) -> None:
    alice = await network.start("Alice")
    alice.node.advertise(alice.endpoint + "/")
    assert alice.node.endpoints == [alice.endpoint]


async def test_advertising_an_older_endpoint_again_puts_it_in_invites(network: Network) -> None:
    alice = await network.start("Alice")
    alice.node.advertise("https://alice.example/api/porchlight/v1")
    assert alice.node.endpoint == "https://alice.example/api/porchlight/v1"
    alice.node.advertise(alice.endpoint)
    assert alice.node.endpoints == [alice.endpoint, "https://alice.example/api/porchlight/v1"]
    assert alice.node.create_invite().endpoint == alice.endpoint


async def test_pairing_answer_must_match_the_invite(network: Network) -> None:
    impostor = Identity.generate()
    bob = await network.start("Bob")

    async def answer(request: web.Request) -> web.Response:
        body = await request.json()
        accept = seal(
            impostor,
            "pair_accept",
            {"token_hash": "0" * 64, "name": "Impostor", "role": "neighbor"},
            to=body["from"],
            now=network.clock.now(),
            lifetime=300,
            message_id=new_nonce(),
        )
        return web.Response(body=canon(accept.to_json()), content_type="application/json")

    app = web.Application()
    app.router.add_post("/api/porchlight/v1/pair", answer)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        # A genuine-looking invite naming the impostor's key, but the answer's token hash is wrong.
        real = (await network.start("Real")).node
        real.endpoints = [f"http://127.0.0.1:{port}/api/porchlight/v1"]
        real.identity = impostor
        text = real.invites.issue(
            impostor, endpoint=real.endpoints[0], role="neighbor", name="x", now=network.clock.now()
        ).to_text()
        with pytest.raises(SenderMismatchError):
            await bob.node.accept_invite(text, network.sender, lan=True)
        assert len(bob.node.peers) == 0
    finally:
        await runner.cleanup()


@pytest.mark.allow_porchlight_warnings(r"Outbox full; a message for")
async def test_full_outbox_drops_with_warning(
    network: Network, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr("custom_components.porchlight.federation.outbox.MAX_ENTRIES", 0)
    alice = await network.start("Alice")
    bob = await network.start("Bob")
    await network.pair(alice, bob)
    alice.node.broadcast_alert("hello")
    assert "Outbox full" in caplog.text
    assert "hello" not in caplog.text


@pytest.mark.allow_porchlight_warnings(r"was given up \(peer or key gone\)")
async def test_entries_for_removed_peers_are_dropped(network: Network) -> None:
    alice = await network.start("Alice")
    bob = await network.start("Bob")
    await network.pair(alice, bob)
    alice.node.broadcast_alert("hello")
    alice.node.peers.remove(bob.node.identity.keyid)
    assert await alice.node.deliver(network.sender) == 0
    assert len(alice.node.outbox) == 0


async def test_server_reader_stops_at_the_limit() -> None:
    # aiohttp never delivers more than Content-Length, so the guard is driven directly.
    protocol = Mock(_reading_paused=False)
    stream = StreamReader(protocol, 2**16, loop=asyncio.get_running_loop())
    stream.feed_data(b"x" * 20)
    stream.feed_eof()
    request = make_mocked_request("POST", "/", payload=stream)
    with pytest.raises(BodyTooLargeError):
        await transport._reader(request, asyncio.get_running_loop().time() + 10)(10)


async def test_invites_for_revoked_keys_are_refused(network: Network) -> None:
    home = await network.start("A")
    agency = await network.start("Metro PD", role="agency")
    neighbor = await network.start("B")
    for invite in (agency.node.create_invite(), neighbor.node.create_invite()):
        home.node.peers.revoked[invite.keyid] = 0
    with pytest.raises(InviteInvalidError, match="revoked"):
        home.node.import_agency(agency.node.create_invite().to_text())
    with pytest.raises(InviteInvalidError, match="revoked"):
        await home.node.accept_invite(neighbor.node.create_invite().to_text(), network.sender)
    assert list(home.node.peers) == []


def test_a_revoked_key_is_never_pinned_again() -> None:
    registry = PeerRegistry()
    key = Identity.generate()
    registry.revoked[key.keyid] = 0
    with pytest.raises(RevokedKeyError):
        registry.add(Peer(key.keyid, key.public_key, "neighbor", "x", "http://x", 0, trusted=True))
    assert registry.knows(key.keyid)
    assert registry.get(key.keyid) is None


async def test_pairing_answer_is_recorded_before_it_is_sent(network: Network) -> None:
    recorded: list[tuple[str, bytes]] = []

    async def record(remote: str, body: bytes) -> None:
        recorded.append((remote, body))

    home = await network.start("A", hooks=NodeHooks(record_reply=record))
    neighbor = await network.start("B")
    peer = await neighbor.node.accept_invite(
        home.node.create_invite(lan=True).to_text(), network.sender, lan=True
    )
    [(remote, body)] = recorded
    assert remote == "127.0.0.1"
    assert b'"type":"pair_accept"' in body
    assert peer.keyid == home.node.identity.keyid


@pytest.mark.allow_porchlight_warnings(r"Error handling request from 127\.0\.0\.1")
async def test_pairing_that_cannot_be_recorded_changes_nothing(network: Network) -> None:
    disk_full = True

    async def record(_remote: str, _body: bytes) -> None:
        if disk_full:
            msg = "disk full"
            raise OSError(msg)

    home = await network.start("A", hooks=NodeHooks(record_reply=record))
    neighbor = await network.start("B")
    text = home.node.create_invite(lan=True).to_text()
    with pytest.raises(PeerRefusedError):
        await neighbor.node.accept_invite(text, network.sender, lan=True)
    assert list(home.node.peers) == []
    # The invite was not used up: once the log works again, the same invite pairs.
    disk_full = False
    await neighbor.node.accept_invite(text, network.sender, lan=True)
    assert [p.keyid for p in home.node.peers] == [neighbor.node.identity.keyid]


async def test_a_full_outbox_still_queues_the_owners_offer(
    network: Network, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The cap keeps floods of alerts out; an offer is the owner's approval of clips and is
    # queued all the same (dropped, the approval would be recorded and nothing sent).
    monkeypatch.setattr("custom_components.porchlight.federation.outbox.MAX_ENTRIES", 0)
    home = await network.start("Maple Street 12")
    agency = await network.start("Metro PD", role="agency")
    await network.pair(agency, home)
    envelope = home.node.send(
        agency.node.identity.keyid,
        "footage_offer",
        offer_body(home, agency.node.identity.keyid, "1" * 64),
        lifetime=3600,
        route=OFFER,
    )
    [entry] = list(home.node.outbox)
    assert entry.route == OFFER
    assert home.node.offer_entry(envelope) is entry
