"""Several real nodes over loopback HTTP: pairing, relaying, outbox, keys, agencies."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import pytest
from aiohttp import web

from custom_components.porchlight.federation.canonical import b64u
from custom_components.porchlight.federation.errors import (
    InviteGoneError,
    InviteInvalidError,
    PeerRefusedError,
    PeerUnreachableError,
)
from custom_components.porchlight.federation.identity import Identity
from custom_components.porchlight.federation.messages import open_envelope
from custom_components.porchlight.federation.outbox import BASE_DELAY
from custom_components.porchlight.federation.transport import HttpSender

if TYPE_CHECKING:
    from pathlib import Path

    from custom_components.porchlight.federation.canonical import JSON

    from .loopback import Network, Running


async def test_pairing_pins_both_keys(network: Network) -> None:
    alice = await network.start("Alice")
    bob = await network.start("Bob")
    invite = alice.node.create_invite(lan=True)
    peer = await bob.node.accept_invite(invite.to_text(), network.sender, lan=True)
    assert peer.keyid == alice.node.identity.keyid
    assert peer.endpoint == alice.endpoint
    assert peer.trusted
    at_alice = alice.node.peers.get(bob.node.identity.keyid)
    assert at_alice is not None
    assert at_alice.public_key == bob.node.identity.public_key
    assert at_alice.endpoint == bob.endpoint
    assert at_alice.name == "Bob"
    assert at_alice.role == "neighbor"


async def test_second_redemption_of_an_invite_is_refused(network: Network) -> None:
    alice = await network.start("Alice")
    bob = await network.start("Bob")
    carol = await network.start("Carol")
    text = alice.node.create_invite(lan=True).to_text()
    await bob.node.accept_invite(text, network.sender, lan=True)
    with pytest.raises(PeerRefusedError) as refused:
        await carol.node.accept_invite(text, network.sender, lan=True)
    assert (refused.value.status, refused.value.code) == (410, "invite_gone")
    assert alice.node.peers.get(carol.node.identity.keyid) is None
    assert len(carol.node.peers) == 0


async def test_expired_invite_is_not_even_sent(network: Network) -> None:
    alice = await network.start("Alice")
    bob = await network.start("Bob")
    text = alice.node.create_invite(lifetime=60).to_text()
    network.clock.advance(61)
    with pytest.raises(InviteGoneError):
        await bob.node.accept_invite(text, network.sender, lan=True)


async def test_own_invite_cannot_be_accepted(network: Network) -> None:
    alice = await network.start("Alice")
    with pytest.raises(InviteInvalidError):
        await alice.node.accept_invite(
            alice.node.create_invite(lan=True).to_text(), network.sender, lan=True
        )


async def test_alert_is_relayed_and_verified_end_to_end(network: Network) -> None:
    # Alice - Bob - Carol in a line: Carol never paired with Alice, yet verifies her alert.
    alice = await network.start("Alice")
    bob = await network.start("Bob")
    carol = await network.start("Carol")
    await network.pair(alice, bob)
    await network.pair(bob, carol)
    sent = alice.node.broadcast_alert("Package thief on Maple Street", max_hops=1)
    assert await alice.node.deliver(network.sender) == 1
    assert [e.event_id for e in bob.node.received] == [sent.event_id]
    # Bob relays to Carol only (not back to Alice).
    assert await bob.node.deliver(network.sender) == 1
    (got,) = carol.node.received
    assert got.event_id == sent.event_id
    assert got.sender == alice.node.identity.keyid
    assert got.hops == 1
    assert got.body["text"] == "Package thief on Maple Street"
    # Anyone can re-check the originator's signature on the stored envelope.
    assert open_envelope(got.to_json(), now=network.clock.now()).event_id == sent.event_id
    # Carol's hop limit is reached: nothing goes further.
    assert len(carol.node.outbox) == 0


async def test_relay_loop_ends_in_duplicates(network: Network) -> None:
    alice = await network.start("Alice")
    bob = await network.start("Bob")
    carol = await network.start("Carol")
    await network.pair(alice, bob)
    await network.pair(bob, carol)
    await network.pair(carol, alice)
    alice.node.broadcast_alert("Loose dog", max_hops=3)
    for _ in range(4):
        for running in (alice, bob, carol):
            await running.node.deliver(network.sender)
    assert len(bob.node.received) == 1
    assert len(carol.node.received) == 1
    assert len(alice.node.received) == 0  # her own alert came back as a duplicate


async def test_outbox_survives_restart_and_delivers_when_peer_returns(
    network: Network, tmp_path: Path
) -> None:
    alice = await network.serve(network.node("Alice", outbox_path=tmp_path / "outbox.json"))
    bob = await network.start("Bob")
    await network.pair(alice, bob)
    bob_port = bob.port
    await network.stop(bob)

    sent = alice.node.broadcast_alert("Power cut on our street")
    assert await alice.node.deliver(network.sender) == 0
    (entry,) = alice.node.outbox
    assert entry.attempts == 1
    assert entry.last_error.startswith("unreachable")
    alice.node.outbox.save()
    state = alice.node.state_json()
    await network.stop(alice)

    # Alice restarts from her files; Bob comes back on the same address.
    restarted = network.node(
        "Alice", identity=alice.node.identity, outbox_path=tmp_path / "outbox.json"
    )
    restarted.load_state(state)
    restarted.outbox.load()
    assert len(restarted.outbox) == 1
    await network.serve(bob.node, port=bob_port)

    assert await restarted.deliver(network.sender) == 0  # still backing off
    network.clock.advance(BASE_DELAY)
    assert await restarted.deliver(network.sender) == 1
    assert [e.event_id for e in bob.node.received] == [sent.event_id]
    assert len(restarted.outbox) == 0


@pytest.mark.allow_porchlight_warnings(r"was given up \(status 401\)")
async def test_peer_refusal_is_not_retried(network: Network) -> None:
    alice = await network.start("Alice")
    bob = await network.start("Bob")
    await network.pair(alice, bob)
    bob.node.peers.remove(alice.node.identity.keyid)  # Bob forgot Alice: 401 unknown_key
    alice.node.broadcast_alert("hello")
    assert await alice.node.deliver(network.sender) == 0
    assert len(alice.node.outbox) == 0


async def test_server_error_is_retried(network: Network) -> None:
    alice, _bob, port = await bob_away(network)
    runner = await _raw_server(port, web.Response(status=503))
    try:
        alice.node.broadcast_alert("hello")
        assert await alice.node.deliver(network.sender) == 0
        (entry,) = alice.node.outbox
        assert entry.last_error == "status 503"
    finally:
        await runner.cleanup()


async def _raw_server(port: int, response: web.StreamResponse) -> web.AppRunner:
    async def handler(_request: web.Request) -> web.StreamResponse:
        return response

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port, reuse_address=True).start()
    return runner


async def _post_to(network: Network, response: web.StreamResponse) -> tuple[int, object]:
    runner = await _raw_server(0, response)
    try:
        port = runner.addresses[0][1]
        sender = HttpSender(network.session, network.clock, max_response=1024)
        return await sender.post(Identity.generate(), f"http://127.0.0.1:{port}/x", b"{}", lan=True)
    finally:
        await runner.cleanup()


async def test_client_does_not_follow_redirects(network: Network) -> None:
    status, payload = await _post_to(
        network, web.Response(status=307, headers={"Location": "http://127.0.0.1:1/evil"})
    )
    assert (status, payload) == (307, None)


async def test_client_caps_reply_size(network: Network) -> None:
    with pytest.raises(PeerUnreachableError, match="too large"):
        await _post_to(network, web.Response(body=b"[" + b"1," * 1000 + b"1]"))


async def test_client_reports_unreachable_peer(network: Network) -> None:
    runner = await _raw_server(0, web.Response())
    port = runner.addresses[0][1]
    await runner.cleanup()
    with pytest.raises(PeerUnreachableError):
        await network.sender.post(
            Identity.generate(), f"http://127.0.0.1:{port}/x", b"{}", lan=True
        )


async def test_key_rotation_keeps_pairing(network: Network) -> None:
    alice = await network.start("Alice")
    bob = await network.start("Bob")
    await network.pair(alice, bob)
    old = alice.node.identity
    new = Identity.generate()
    alice.node.rotate(new)
    assert await alice.node.deliver(network.sender) == 1
    at_bob = bob.node.peers.get(new.keyid)
    assert at_bob is not None
    assert at_bob.retired_keys == (old.public_key,)
    assert at_bob.key_seq == 1
    assert bob.node.peers.get(old.keyid) is None
    assert old.keyid not in alice.node.signers  # the old key is forgotten once delivered
    # Messages signed with the new key are accepted.
    alice.node.broadcast_alert("new key works")
    assert await alice.node.deliver(network.sender) == 1
    assert bob.node.received[-1].sender == new.keyid


async def bob_away(network: Network) -> tuple[Running, Running, int]:
    """Alice and Bob, paired; Bob off the network (serve his node on the port to bring him back)."""
    alice = await network.start("Alice")
    bob = await network.start("Bob")
    await network.pair(alice, bob)
    port = bob.port
    await network.stop(bob)
    return alice, bob, port


async def test_messages_queued_before_our_rotation_arrive_signed_by_the_new_key(
    network: Network,
) -> None:
    alice, bob, port = await bob_away(network)
    alice.node.broadcast_alert("queued while Bob was away")
    assert await alice.node.deliver(network.sender) == 0  # now waiting in its backoff
    new = Identity.generate()
    alice.node.rotate(new)
    await network.serve(bob.node, port=port)
    # The key message goes at once; the alert's backoff has not run out yet.
    assert await alice.node.deliver(network.sender) == 1
    assert bob.node.peers.get(new.keyid) is not None
    network.clock.advance(BASE_DELAY)
    # Before: still signed by the old key Bob no longer knows, refused 401 and dropped.
    assert await alice.node.deliver(network.sender) == 1
    (alert,) = [m for m in bob.node.received if m.type == "alert"]
    assert (alert.sender, alert.body["text"]) == (new.keyid, "queued while Bob was away")


async def test_key_message_goes_before_what_was_queued_for_the_same_peer(
    network: Network,
) -> None:
    alice, bob, port = await bob_away(network)
    alice.node.broadcast_alert("queued first")
    new = Identity.generate()
    alice.node.rotate(new)
    assert await alice.node.deliver(network.sender) == 0
    await network.serve(bob.node, port=port)
    network.clock.advance(2 * BASE_DELAY)  # both due in the same round
    assert await alice.node.deliver(network.sender) == 2
    assert [m.type for m in bob.node.received] == ["alert"]
    assert bob.node.received[0].sender == new.keyid
    assert len(alice.node.outbox) == 0


async def test_what_we_queued_for_a_peer_follows_its_new_key(network: Network) -> None:
    alice, bob, port = await bob_away(network)
    alice.node.broadcast_alert("for Bob")
    agency = Identity.generate()
    vouch = {"agency": agency.keyid, "agency_key": b64u(agency.public_key), "name": "Sheriff"}
    alice.node.send(bob.node.identity.keyid, "vouch", vouch, lifetime=3600)
    assert await alice.node.deliver(network.sender) == 0
    await network.serve(bob.node, port=port)
    new = Identity.generate()
    bob.node.rotate(new)
    assert await bob.node.deliver(network.sender) == 1  # Alice takes Bob's new key
    network.clock.advance(BASE_DELAY)
    # Before: "peer or key gone", both dropped; and the vouch was addressed to the old keyid.
    assert await alice.node.deliver(network.sender) == 2
    assert sorted(m.type for m in bob.node.received) == ["alert"]
    assert [v.by for v in bob.node.peers.vouches] == [alice.node.identity.keyid]


async def test_a_relayed_message_keeps_its_originators_signature_across_our_rotation(
    network: Network,
) -> None:
    alice = await network.start("Alice")
    bob = await network.start("Bob")
    carol = await network.start("Carol")
    await network.pair(alice, bob)
    await network.pair(alice, carol)
    port = bob.port
    await network.stop(bob)
    original = carol.node.broadcast_alert("Fire on Elm Street", max_hops=1)
    assert await carol.node.deliver(network.sender) == 1  # Alice queues it for Bob
    new = Identity.generate()
    alice.node.rotate(new)
    await network.serve(bob.node, port=port)
    network.clock.advance(BASE_DELAY)
    assert await alice.node.deliver(network.sender) >= 2
    (relayed,) = [m for m in bob.node.received if m.type == "alert"]
    assert (relayed.sender, relayed.event_id) == (carol.node.identity.keyid, original.event_id)


@pytest.mark.allow_porchlight_warnings(r"revoked its key; pair again in person")
async def test_after_a_compromise_nothing_else_is_sent_with_either_key(network: Network) -> None:
    alice, bob, port = await bob_away(network)
    alice.node.broadcast_alert("queued before the theft was noticed")
    alice.node.rotate(Identity.generate(), compromised=True)
    assert [e.payload.count('"type":"revoke"') for e in alice.node.outbox] == [1]
    await network.serve(bob.node, port=port)
    assert await alice.node.deliver(network.sender) == 1
    assert len(bob.node.received) == 0


@pytest.mark.allow_porchlight_warnings(r"revoked its key; pair again in person")
async def test_revocation_drops_the_peer(network: Network) -> None:
    alice = await network.start("Alice")
    bob = await network.start("Bob")
    await network.pair(alice, bob)
    old = alice.node.identity
    alice.node.rotate(Identity.generate(), compromised=True)
    assert await alice.node.deliver(network.sender) == 1
    assert bob.node.peers.get(old.keyid) is None
    assert old.keyid in bob.node.peers.revoked


@pytest.mark.allow_porchlight_warnings(r"was given up \(status 403\)")
async def test_agency_is_untrusted_until_owner_trusts_it(network: Network) -> None:
    agency = await network.start("County Sheriff", role="agency")
    home = await network.start("Maple 12")
    peer = await home.node.accept_invite(
        agency.node.create_invite(lan=True).to_text(), network.sender, lan=True
    )
    assert peer.role == "agency"
    assert not peer.trusted
    assert agency.node.peers.get(home.node.identity.keyid) is not None
    home.node.confirm_pairing(peer.keyid)
    agency.node.confirm_pairing(home.node.identity.keyid)

    agency.node.broadcast_alert("Road closed")
    assert await agency.node.deliver(network.sender) == 0  # 403 untrusted, not retried
    assert len(home.node.received) == 0
    assert len(agency.node.outbox) == 0

    home.node.peers.set_trusted(peer.keyid, trusted=True)
    agency.node.broadcast_alert("Road closed")
    assert await agency.node.deliver(network.sender) == 1
    assert home.node.received[-1].body["text"] == "Road closed"


@pytest.mark.allow_porchlight_warnings(r"was given up \(status 403\)")
async def test_agency_cannot_vouch(network: Network) -> None:
    agency = await network.start("County Sheriff", role="agency")
    home = await network.start("Maple 12")
    peer = await home.node.accept_invite(
        agency.node.create_invite(lan=True).to_text(), network.sender, lan=True
    )
    home.node.confirm_pairing(peer.keyid)
    home.node.peers.set_trusted(peer.keyid, trusted=True)
    agency.node.send(home.node.identity.keyid, "vouch", _vouch(agency.node.identity), lifetime=600)
    assert await agency.node.deliver(network.sender) == 0
    assert home.node.peers.vouches == []


async def test_neighbor_vouch_is_shown_but_trusts_nothing(network: Network) -> None:
    agency = await network.start("County Sheriff", role="agency")
    alice = await network.start("Alice")
    bob = await network.start("Bob")
    await network.pair(alice, bob)
    await bob.node.accept_invite(
        agency.node.create_invite(lan=True).to_text(), network.sender, lan=True
    )
    alice.node.send(bob.node.identity.keyid, "vouch", _vouch(agency.node.identity), lifetime=600)
    assert await alice.node.deliver(network.sender) == 1
    (vouch,) = bob.node.peers.vouches
    assert vouch.agency == agency.node.identity.keyid
    assert vouch.by == alice.node.identity.keyid
    assert not bob.node.peers.get(agency.node.identity.keyid).trusted  # type: ignore[union-attr]


def _vouch(agency: Identity) -> dict[str, str | int | None]:
    return {"agency": agency.keyid, "agency_key": b64u(agency.public_key), "name": "Sheriff"}


async def test_identity_document_is_self_signed(network: Network) -> None:
    alice = await network.start("Alice")
    async with network.session.get(alice.endpoint + "/identity") as response:
        assert response.status == 200
        doc = await response.json()
    assert doc["keyid"] == alice.node.identity.keyid
    assert "name" not in doc


class _Buggy:
    """The real client, except that sending to one endpoint hits a bug."""

    def __init__(self, real: HttpSender, broken: str) -> None:
        self.real = real
        self.broken = broken

    async def post(
        self, identity: Identity, url: str, body: bytes, *, lan: bool = False
    ) -> tuple[int, JSON]:
        if url.startswith(self.broken):
            msg = "a bug somewhere in the sending path"
            raise RuntimeError(msg)
        return await self.real.post(identity, url, body, lan=lan)


@pytest.mark.allow_porchlight_warnings(
    r"failed unexpectedly \(RuntimeError\)", r"was given up \(error: RuntimeError\)"
)
async def test_one_entry_failing_unexpectedly_does_not_stop_the_round(
    network: Network, caplog: pytest.LogCaptureFixture
) -> None:
    alice = await network.start("Alice")
    bob = await network.start("Bob")
    carol = await network.start("Carol")
    await network.pair(alice, bob)
    await network.pair(alice, carol)
    alice.node.broadcast_alert("Van idling on Oak Street")
    assert await alice.node.deliver(_Buggy(network.sender, bob.endpoint)) == 1
    assert [m.type for m in carol.node.received] == ["alert"]
    assert len(alice.node.outbox) == 0  # dropped, not retried for ever ahead of the others
    assert "failed unexpectedly (RuntimeError)" in caplog.text


async def test_a_stopped_node_finishes_the_attempt_under_way_and_starts_no_other(
    network: Network,
) -> None:
    """Unload stops delivery before saving the outbox: what was sent is recorded first."""
    alice = await network.start("Alice")
    bob = await network.start("Bob")
    await network.pair(alice, bob)
    alice.node.broadcast_alert("Lost dog")
    alice.node.broadcast_alert("Found dog")
    delivering = asyncio.create_task(alice.node.deliver(network.sender))
    await asyncio.sleep(0)  # the first POST is on its way
    await alice.node.stop_delivering()
    assert delivering.done()
    assert await delivering == 1
    assert [m.body["text"] for m in bob.node.received] == ["Lost dog"]
    assert len(alice.node.outbox) == 1  # recorded as still queued, not lost
    assert await alice.node.deliver(network.sender) == 0
    assert len(alice.node.outbox) == 1
