"""R2.7 (outbound destinations) and R3.3 (pairing confirmation) over real loopback nodes."""

from __future__ import annotations

import hashlib
import ipaddress
from typing import TYPE_CHECKING, Any

import pytest
from aiohttp import web

from custom_components.porchlight.federation.canonical import JSON, b64u_decode, canon
from custom_components.porchlight.federation.errors import (
    DestinationRefusedError,
    InviteInvalidError,
    PairingCodeError,
    PeerRefusedError,
    PeerUnreachableError,
    UnknownKeyError,
)
from custom_components.porchlight.federation.httpsig import new_nonce
from custom_components.porchlight.federation.identity import Identity
from custom_components.porchlight.federation.invites import (
    Invite,
    OpenInvite,
    pairing_code,
    token_hash,
)
from custom_components.porchlight.federation.messages import seal
from custom_components.porchlight.federation.peers import Peer
from custom_components.porchlight.federation.transport import (
    HttpSender,
    address_class,
    check_destination,
    system_resolve,
)

if TYPE_CHECKING:
    from .loopback import Network

REFUSED = [
    ("127.0.0.1", "loopback"),
    ("::1", "loopback"),
    ("10.1.2.3", "private"),
    ("172.16.0.1", "private"),
    ("192.168.1.10", "private"),
    ("169.254.169.254", "link_local"),
    ("fe80::1", "link_local"),
    ("100.64.0.1", "cgnat"),
    ("fd12:3456::1", "ula"),
    ("::ffff:192.168.1.1", "ipv4_mapped"),
    ("::ffff:8.8.8.8", "ipv4_mapped"),
    ("0.0.0.0", "special"),  # noqa: S104  # an address under test, nothing binds to it
    ("224.0.0.1", "special"),
    ("240.0.0.1", "special"),
    ("2002:c0a8:101::1", "special"),
    ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "special"),
]


@pytest.mark.parametrize(("address", "kind"), REFUSED)
async def test_non_public_destinations_are_refused(
    network: Network, address: str, kind: str
) -> None:
    assert address_class(ipaddress.ip_address(address)) == kind
    host = f"[{address}]" if ":" in address else address
    with pytest.raises(DestinationRefusedError, match=kind):
        await network.sender.post(Identity.generate(), f"http://{host}:8123/inbox", b"{}")


@pytest.mark.parametrize(("address", "kind"), [r for r in REFUSED if r[1] != "special"])
def test_lan_allowance_lifts_local_classes(address: str, kind: str) -> None:
    assert check_destination(address, lan=True) == ipaddress.ip_address(address), kind


@pytest.mark.parametrize("address", [a for a, kind in REFUSED if kind == "special"])
def test_lan_allowance_never_lifts_special_addresses(address: str) -> None:
    with pytest.raises(DestinationRefusedError):
        check_destination(address, lan=True)


@pytest.mark.parametrize("address", ["8.8.8.8", "2001:4860:4860::8888"])
def test_public_destinations_pass(address: str) -> None:
    assert address_class(ipaddress.ip_address(address)) is None
    assert str(check_destination(address, lan=False)) == address


def test_a_resolver_answer_that_is_no_address_is_refused() -> None:
    with pytest.raises(DestinationRefusedError):
        check_destination("not-an-ip", lan=True)


@pytest.mark.parametrize("answer", [["10.0.0.5"], ["93.184.216.34", "192.168.1.1"]])
async def test_hostname_resolving_to_a_private_address_is_refused(
    network: Network, answer: list[str]
) -> None:
    async def resolve(_host: str, _port: int) -> list[str]:
        return answer

    sender = HttpSender(network.session, network.clock, resolve=resolve)
    with pytest.raises(DestinationRefusedError):
        await sender.post(Identity.generate(), "http://evil.example:8123/inbox", b"{}")


async def test_host_is_resolved_once_and_the_checked_address_is_used(network: Network) -> None:
    seen: list[str] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append(request.host)
        return web.Response(body=b'{"ok":1}', content_type="application/json")

    app = web.Application()
    app.router.add_post("/x", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    port = runner.addresses[0][1]
    lookups: list[str] = []

    async def resolve(host: str, _port: int) -> list[str]:
        lookups.append(host)
        return ["127.0.0.1"]

    sender = HttpSender(network.session, network.clock, resolve=resolve)
    try:
        status, reply = await sender.post(
            Identity.generate(), f"http://peer.test:{port}/x", b"{}", lan=True
        )
    finally:
        await runner.cleanup()
    assert (status, reply) == (200, {"ok": 1})
    assert lookups == ["peer.test"]
    assert seen == [f"peer.test:{port}"]  # Host (and the signed @authority) keep the name


async def test_resolution_failures_are_unreachable(network: Network) -> None:
    async def fails(_host: str, _port: int) -> list[str]:
        raise OSError

    async def empty(_host: str, _port: int) -> list[str]:
        return []

    for resolve in (fails, empty):
        sender = HttpSender(network.session, network.clock, resolve=resolve)
        with pytest.raises(PeerUnreachableError):
            await sender.post(Identity.generate(), "https://peer.test/inbox", b"{}", lan=True)


async def test_system_resolver_answers_literals(network: Network) -> None:
    assert await system_resolve("127.0.0.1", 80) == ["127.0.0.1"]


async def test_accepting_a_loopback_invite_needs_the_lan_flag(network: Network) -> None:
    alice = await network.start("Alice")
    bob = await network.start("Bob")
    with pytest.raises(DestinationRefusedError):
        await bob.node.accept_invite(alice.node.create_invite().to_text(), network.sender)
    assert len(bob.node.peers) == 0
    assert len(alice.node.peers) == 0  # nothing was sent


@pytest.mark.allow_porchlight_warnings(r"was given up \(refused: destination is a loopback address")
async def test_outbox_drops_messages_for_a_private_endpoint_without_lan(network: Network) -> None:
    alice = await network.start("Alice")
    bob = await network.start("Bob")
    # Alice invited without the LAN allowance; Bob accepted with it.
    peer = await bob.node.accept_invite(
        alice.node.create_invite().to_text(), network.sender, lan=True
    )
    at_alice = alice.node.peers.get(bob.node.identity.keyid)
    assert at_alice is not None
    assert (at_alice.lan, peer.lan) == (False, True)
    alice.node.confirm_pairing(bob.node.identity.keyid)
    alice.node.broadcast_alert("Parcel thief on Elm")
    assert await alice.node.deliver(network.sender) == 0
    assert len(alice.node.outbox) == 0  # refused for good, not retried
    assert len(bob.node.received) == 0


# --- R3.3 ------------------------------------------------------------------------------------
async def test_both_sides_compute_the_same_code(network: Network) -> None:
    alice = await network.start("Alice")
    bob = await network.start("Bob")
    invite = alice.node.create_invite(lan=True)
    peer = await bob.node.accept_invite(invite.to_text(), network.sender, lan=True)
    at_alice = alice.node.peers.get(bob.node.identity.keyid)
    assert at_alice is not None
    assert peer.pending
    assert at_alice.pending
    assert at_alice.lan
    assert peer.pairing_code == at_alice.pairing_code
    low, high = sorted((alice.node.identity.public_key, bob.node.identity.public_key))
    digest = hashlib.sha256(
        b"porchlight-pair-v1" + low + high + hashlib.sha256(b64u_decode(invite.token)).digest()
    ).digest()
    assert peer.pairing_code == f"{int.from_bytes(digest, 'big') % 10**8:08d}"
    assert len(peer.pairing_code) == 8
    assert peer.pairing_code.isdigit()


def test_code_is_symmetric_and_bound_to_the_token() -> None:
    a, b = Identity.generate().public_key, Identity.generate().public_key
    digest = token_hash("A" * 22)
    assert pairing_code(a, b, digest) == pairing_code(b, a, digest)
    assert pairing_code(a, b, digest) != pairing_code(a, b, token_hash("B" * 21 + "A"))


@pytest.mark.allow_porchlight_warnings(r"was given up \(status 403\)")
async def test_pending_peer_alerts_are_refused_and_not_relayed(network: Network) -> None:
    alice = await network.start("Alice")
    bob = await network.start("Bob")
    carol = await network.start("Carol")
    await network.pair(alice, bob)  # confirmed
    await network.pair(bob, carol, confirm=False)  # pending on both sides

    # Carol's alert reaches Bob, who refuses it: Bob's owner has not confirmed Carol.
    carol.node.peers.confirm(bob.node.identity.keyid)  # only Carol's side
    carol.node.broadcast_alert("Unconfirmed")
    assert await carol.node.deliver(network.sender) == 0
    assert len(bob.node.received) == 0
    assert len(carol.node.outbox) == 0  # 403 pairing_unconfirmed, not retried

    # Alice's relayable alert is accepted by Bob but not relayed to pending Carol.
    alice.node.broadcast_alert("Relay me", max_hops=2)
    assert await alice.node.deliver(network.sender) == 1
    assert bob.node.received[-1].body["text"] == "Relay me"
    assert len(bob.node.outbox) == 0
    # Nor does Bob's own alert go to Carol.
    bob.node.broadcast_alert("Only Alice")
    assert [e.peer for e in bob.node.outbox] == [alice.node.identity.keyid]


async def test_confirm_makes_the_peer_active(network: Network) -> None:
    alice = await network.start("Alice")
    bob = await network.start("Bob")
    await network.pair(alice, bob, confirm=False)
    peer = bob.node.peers.get(alice.node.identity.keyid)
    assert peer is not None
    with pytest.raises(PairingCodeError):
        bob.node.confirm_pairing(peer.keyid, "12345678" if peer.pairing_code != "12345678" else "0")
    assert bob.node.peers.get(peer.keyid).pending  # type: ignore[union-attr]
    with pytest.raises(UnknownKeyError):
        bob.node.confirm_pairing("NOBODY")
    code = f"{peer.pairing_code[:4]}-{peer.pairing_code[4:]}"
    assert not bob.node.confirm_pairing(peer.keyid, code).pending
    alice.node.confirm_pairing(bob.node.identity.keyid, peer.pairing_code)
    bob.node.broadcast_alert("Now it flows")
    assert await bob.node.deliver(network.sender) == 1
    assert alice.node.received[-1].body["text"] == "Now it flows"


def test_records_stored_before_r27_and_r33_load_as_active_non_lan() -> None:
    key = Identity.generate().public_key
    stored = Peer("K", key, "neighbor", "n", "http://x", 0, trusted=True).to_json()
    for field in ("lan", "pending", "pairing_code"):
        del stored[field]
    peer = Peer.from_json(stored)
    assert (peer.lan, peer.pending, peer.pairing_code) == (False, False, "")
    invite = OpenInvite("h", 0).to_json()
    del invite["lan"]
    assert not OpenInvite.from_json(invite).lan


# --- H(tok) = SHA-256 of the raw token, and the upgrade from the text hash --------------------
async def test_pair_accept_carries_the_hash_of_the_raw_token(network: Network) -> None:
    # What a client written from docs/protocol.md checks before pinning the inviter.
    alice = await network.start("Alice")
    bob = await network.start("Bob")
    answers: list[str] = []
    invite = alice.node.create_invite(lan=True)

    class Recording(HttpSender):
        async def post(self, *args: Any, **kwargs: Any) -> tuple[int, JSON]:
            status, reply = await super().post(*args, **kwargs)
            assert isinstance(reply, dict)
            assert isinstance(reply["body"], dict)
            answers.append(str(reply["body"]["token_hash"]))
            return status, reply

    sender = Recording(network.session, network.clock)
    peer = await bob.node.accept_invite(invite.to_text(), sender, lan=True)
    raw_hash = hashlib.sha256(b64u_decode(invite.token)).hexdigest()
    assert answers == [raw_hash]
    expected = pairing_code(alice.node.identity.public_key, bob.node.identity.public_key, raw_hash)
    assert peer.pairing_code == expected
    assert len(alice.node.invites) == 1
    assert [i["token_hash"] for i in alice.node.invites.to_json()] == [raw_hash]


async def test_invite_stored_before_the_upgrade_is_still_redeemed(network: Network) -> None:
    alice = await network.start("Alice")
    bob = await network.start("Bob")
    invite = alice.node.create_invite(lan=True)
    # As a release that hashed the token's text stored it: that hash, no marker.
    state = alice.node.state_json()
    [stored] = state["invites"]
    del stored["hash"]
    stored["token_hash"] = hashlib.sha256(invite.token.encode()).hexdigest()
    alice.node.load_state(state)
    peer = await bob.node.accept_invite(invite.to_text(), network.sender, lan=True)
    at_alice = alice.node.peers.get(bob.node.identity.keyid)
    assert at_alice is not None
    assert at_alice.pairing_code == peer.pairing_code
    # Now kept under H(tok), used: a second redemption is refused as for any used invite.
    [kept] = alice.node.state_json()["invites"]
    assert kept["token_hash"] == token_hash(invite.token)
    assert kept["used"]
    with pytest.raises(PeerRefusedError) as refused:
        await bob.node.accept_invite(invite.to_text(), network.sender, lan=True)
    assert refused.value.status == 410


async def test_legacy_hash_of_another_token_is_not_upgraded(network: Network) -> None:
    alice = await network.start("Alice")
    invite = alice.node.create_invite()
    # An upgraded entry is never found by the text hash: only unmarked (old) entries are.
    state = alice.node.state_json()
    [stored] = state["invites"]
    stored["token_hash"] = hashlib.sha256(invite.token.encode()).hexdigest()
    alice.node.load_state(state)
    with pytest.raises(InviteInvalidError):
        alice.node.invites.check(invite.token, network.clock.now())


async def test_redeemer_accepts_an_inviter_not_yet_upgraded(network: Network) -> None:
    # An inviter on an older release answers with the hash of the token's text; the code is
    # computed with the hash it sent, which is the one it computed its own code with.
    old_release = Identity.generate()
    bob = await network.start("Bob")
    token = "AAECAwQFBgcICQoLDA0ODw"  # noqa: S105  # the spec's test token, no secret
    text_hash = hashlib.sha256(token.encode()).hexdigest()

    async def answer(request: web.Request) -> web.Response:
        body = await request.json()
        accept = seal(
            old_release,
            "pair_accept",
            {"token_hash": text_hash, "name": "Maple 12", "role": "neighbor"},
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
    try:
        invite = Invite(
            endpoint=f"http://127.0.0.1:{runner.addresses[0][1]}/api/porchlight/v1",
            public_key=old_release.public_key,
            role="neighbor",
            name="Maple 12",
            token=token,
            expires=network.clock.now() + 3600,
        )
        peer = await bob.node.accept_invite(invite.to_text(), network.sender, lan=True)
    finally:
        await runner.cleanup()
    assert peer.pending
    assert peer.pairing_code == pairing_code(
        bob.node.identity.public_key, old_release.public_key, text_hash
    )
