"""Endpoint URLs a peer gives are usable for as long as they stay pinned.

URL_RE used to accept URLs the client (yarl) refuses to parse or the resolver refuses to
encode. Pinned at pairing, such an endpoint made every later delivery round raise ValueError
(UnicodeError from the resolver) and abort. Now they are refused where they arrive (a bad
invite, 400 schema for a pair_request), and the sender turns any it still meets into
DestinationRefusedError, which the outbox drops without retry.
"""

from __future__ import annotations

import socket
from dataclasses import replace
from typing import TYPE_CHECKING

import aiohttp
import pytest

from custom_components.porchlight.federation.canonical import b64u, canon
from custom_components.porchlight.federation.errors import (
    DestinationRefusedError,
    InviteMalformedError,
    PeerUnreachableError,
    SchemaError,
)
from custom_components.porchlight.federation.httpsig import new_nonce, sign_request
from custom_components.porchlight.federation.identity import Identity
from custom_components.porchlight.federation.invites import Invite
from custom_components.porchlight.federation.messages import TYPES, seal, valid_url
from custom_components.porchlight.federation.node import PAIR
from custom_components.porchlight.federation.transport import HttpSender

if TYPE_CHECKING:
    from custom_components.porchlight.federation.clock import ManualClock
    from custom_components.porchlight.federation.peers import Role

    from .loopback import Network, Running

PREFIX = "/api/porchlight/v1"
BAD = [
    f"http://x:99999{PREFIX}",  # port out of range: yarl raises
    f"http://x:0{PREFIX}",  # port 0: nothing listens there
    f"http://x:abc{PREFIX}",  # not a port
    f"http://[::1{PREFIX}",  # unclosed IPv6 literal
    f"http://[:::]{PREFIX}",  # not an IPv6 address
    f"http://[::1]x{PREFIX}",  # junk after the literal
    f"http://x:1:2{PREFIX}",  # two ports
    f"http://...{PREFIX}",  # empty labels: the resolver's IDNA step raises UnicodeError
    f"http://x..y{PREFIX}",
    f"http://{'a' * 64}.example{PREFIX}",  # a label over 63 characters: UnicodeError too
    f"http://-x.example{PREFIX}",  # a label starting with a hyphen
    f"http://1.2.3.999{PREFIX}",  # looks like IPv4, is not
    "http://x/api/../porchlight/v1",  # yarl drops the dot segment the signature covered
    f"http://x:{PREFIX}",  # a colon without a port
]
GOOD = [
    f"http://127.0.0.1:8123{PREFIX}",
    f"http://[::1]:8123{PREFIX}",
    f"https://home.example.org{PREFIX}",
    f"https://Home.Example.ORG:443{PREFIX}",
    f"http://homeassistant.local:8123{PREFIX}",
    "http://x",
]


@pytest.mark.parametrize("url", GOOD)
def test_usable_urls_are_accepted(url: str) -> None:
    assert valid_url(url)
    assert TYPES["pair_request"].body["endpoint"].check(url)


@pytest.mark.parametrize("url", BAD)
def test_unusable_urls_are_refused_by_every_url_field(url: str) -> None:
    assert not valid_url(url)
    assert not TYPES["pair_request"].body["endpoint"].check(url)
    assert not TYPES["footage_request"].body["reply_to"].check(url)
    with pytest.raises(SchemaError):
        seal(
            Identity.generate(),
            "pair_request",
            {"token": new_nonce(), "name": "x", "endpoint": url, "role": "neighbor"},
            to=Identity.generate().keyid,
            now=0,
            lifetime=60,
            message_id=new_nonce(),
        )


def _invite(endpoint: str, role: Role = "neighbor") -> str:
    inviter = Identity.generate()
    return Invite(endpoint, inviter.public_key, role, "Oak 3", new_nonce(), 2**40).to_text()


@pytest.mark.parametrize("url", BAD)
async def test_an_invite_with_an_unusable_endpoint_is_malformed(network: Network, url: str) -> None:
    home = await network.start("Home")
    with pytest.raises(InviteMalformedError):
        Invite.from_text(_invite(url))
    with pytest.raises(InviteMalformedError):
        await home.node.accept_invite(_invite(url), network.sender, lan=True)
    with pytest.raises(InviteMalformedError):
        home.node.import_agency(_invite(url, "agency"))
    assert len(home.node.peers) == 0


def _forged_pair_request(identity: Identity, to: str, token: str, endpoint: str, now: int) -> bytes:
    """A pair_request signed properly by its sender, with a body seal() would refuse."""
    signed = {
        "v": 1,
        "type": "pair_request",
        "id": new_nonce(),
        "from": identity.keyid,
        "from_key": b64u(identity.public_key),
        "to": to,
        "created": now,
        "expires": now + 300,
        "body": {"token": token, "name": "Stranger", "endpoint": endpoint, "role": "neighbor"},
    }
    sig = identity.sign(b"porchlight-msg-v1\n" + canon(signed))
    return canon({**signed, "sig": b64u(sig)})


async def _redeem(network: Network, home: Running, endpoint: str) -> tuple[int, str, str]:
    """Redeem a fresh invite of home's with a pair_request naming endpoint.

    Returns the status, the error code (empty if none) and the invite's token.
    """
    invite = home.node.create_invite(lan=True)
    stranger = Identity.generate()
    now = network.clock.now()
    body = _forged_pair_request(stranger, home.node.identity.keyid, invite.token, endpoint, now)
    target = home.endpoint + PAIR
    headers = sign_request(stranger, "POST", target, body, now=now)
    async with network.session.post(target, data=body, headers=headers) as response:
        reply = await response.json(content_type=None)
    return response.status, str(reply.get("error", "")), invite.token


async def test_a_pair_request_with_a_usable_endpoint_pairs(network: Network) -> None:
    """The control for the refusals below: the same hand-signed request is accepted."""
    home = await network.start("Home")
    status, _, _ = await _redeem(network, home, f"http://127.0.0.1:9{PREFIX}")
    assert status == 200
    assert len(home.node.peers) == 1


@pytest.mark.parametrize("url", BAD)
async def test_a_pair_request_with_an_unusable_endpoint_is_a_schema_error(
    network: Network, url: str
) -> None:
    home = await network.start("Home")
    status, error, token = await _redeem(network, home, url)
    assert (status, error) == (400, "schema")
    assert len(home.node.peers) == 0
    home.node.invites.check(token, network.clock.now())  # still open: nothing was consumed


@pytest.mark.parametrize("url", BAD)
async def test_the_sender_refuses_an_unusable_url_before_any_lookup(
    clock: ManualClock, url: str
) -> None:
    looked_up: list[str] = []

    async def resolve(host: str, _port: int) -> list[str]:
        looked_up.append(host)
        return ["127.0.0.1"]

    async with aiohttp.ClientSession() as session:
        sender = HttpSender(session, clock, resolve=resolve)
        with pytest.raises(DestinationRefusedError):
            await sender.pinned(url + "/inbox", lan=True)
        with pytest.raises(DestinationRefusedError):
            await sender.post(Identity.generate(), url + "/inbox", b"{}", lan=True)
    assert looked_up == []


@pytest.mark.parametrize("error", [UnicodeError("label empty or too long"), ValueError()])
async def test_a_resolver_that_cannot_encode_the_host_refuses_the_destination(
    clock: ManualClock, error: Exception
) -> None:
    async def resolve(_host: str, _port: int) -> list[str]:
        raise error

    async with aiohttp.ClientSession() as session:
        sender = HttpSender(session, clock, resolve=resolve)
        with pytest.raises(DestinationRefusedError):
            await sender.pinned(f"https://home.example.org{PREFIX}/inbox", lan=False)


async def test_a_resolver_failure_is_still_unreachable_not_refused(clock: ManualClock) -> None:
    async def resolve(_host: str, _port: int) -> list[str]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    async with aiohttp.ClientSession() as session:
        sender = HttpSender(session, clock, resolve=resolve)
        with pytest.raises(PeerUnreachableError) as caught:
            await sender.pinned(f"https://home.example.org{PREFIX}/inbox", lan=False)
    assert not isinstance(caught.value, DestinationRefusedError)


@pytest.mark.parametrize("url", [f"http://x:99999{PREFIX}", f"http://...{PREFIX}"])
@pytest.mark.allow_porchlight_warnings(r"was given up \(refused: not a usable endpoint URL\)")
async def test_a_peer_pinned_with_an_unusable_endpoint_is_dropped_not_fatal(
    network: Network, url: str
) -> None:
    """A peer pinned before this check: its entries are refused; the others still go."""
    alice = await network.start("Alice")
    bob = await network.start("Bob")
    carol = await network.start("Carol")
    await network.pair(alice, bob)
    await network.pair(alice, carol)
    stale = alice.node.peers.get(bob.node.identity.keyid)
    assert stale is not None
    alice.node.peers.add(replace(stale, endpoint=url))
    sent = alice.node.broadcast_alert("Van idling outside number 7")
    assert await alice.node.deliver(network.sender) == 1
    assert [e.event_id for e in carol.node.received] == [sent.event_id]
    assert len(alice.node.outbox) == 0  # bob's entry dropped, not retried
