"""Attack catalogue: each request is refused with the right status and nothing is stored.

Every test sends real HTTP to a home served on loopback. "Nothing stored" means the home's
state (peers, invites, vouches, endpoints), its received messages and its outbox are exactly as
before the attack.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import aiohttp
import pytest

from custom_components.porchlight.federation.canonical import JSON, b64u, canon
from custom_components.porchlight.federation.errors import MessageSignatureError
from custom_components.porchlight.federation.httpsig import new_nonce, sign_request
from custom_components.porchlight.federation.identity import Identity
from custom_components.porchlight.federation.invites import Invite, token_hash
from custom_components.porchlight.federation.messages import (
    BROADCAST,
    Envelope,
    seal,
    transition_statement,
)
from custom_components.porchlight.federation.node import INBOX, PAIR
from custom_components.porchlight.federation.peers import Peer

if TYPE_CHECKING:
    from .loopback import Network, Running

ALERT = {"text": "Someone tried the car doors", "category": "other", "name": "", "max_hops": 1}


@dataclass
class Scene:
    """A home (the target), a paired neighbor, and the network they live on."""

    network: Network
    home: Running
    neighbor: Running

    @property
    def now(self) -> int:
        return self.network.clock.now()

    def snapshot(self) -> tuple[bytes, list[str], int]:
        node = self.home.node
        return canon(node.state_json()), [e.event_id for e in node.received], len(node.outbox)

    def envelope(
        self,
        msg_type: str = "alert",
        body: dict[str, JSON] | None = None,
        *,
        by: Identity | None = None,
        to: str | None = None,
        lifetime: int = 600,
        now: int | None = None,
    ) -> Envelope:
        return seal(
            by or self.neighbor.node.identity,
            msg_type,
            dict(ALERT) if body is None else body,
            to=to or (BROADCAST if msg_type == "alert" else self.home.node.identity.keyid),
            now=self.now if now is None else now,
            lifetime=lifetime,
            message_id=new_nonce(),
        )

    async def post(
        self,
        body: bytes,
        *,
        by: Identity | None = None,
        path: str = INBOX,
        headers: dict[str, str] | None = None,
        now: int | None = None,
        lifetime: int = 60,
        **kwargs: Any,
    ) -> tuple[int, dict[str, Any]]:
        url = self.home.endpoint + path
        signed = sign_request(
            by or self.neighbor.node.identity,
            "POST",
            url,
            body,
            now=self.now if now is None else now,
            lifetime=lifetime,
        )
        signed.update(headers or {})
        async with self.network.session.post(
            url, data=kwargs.pop("data", body), headers=signed, **kwargs
        ) as response:
            return response.status, await response.json(content_type=None)


@pytest.fixture
async def scene(network: Network) -> Scene:
    home = await network.start("Home")
    neighbor = await network.start("Neighbor")
    await network.pair(home, neighbor)
    return Scene(network, home, neighbor)


async def refused(
    scene: Scene, status: int, code: str, body: bytes | None = None, **kwargs: Any
) -> dict[str, Any]:
    """Send, check the refusal, check nothing was stored; return the reply."""
    before = scene.snapshot()
    got_status, reply = await scene.post(
        scene.envelope().encode() if body is None else body, **kwargs
    )
    assert (got_status, reply["error"]) == (status, code), reply
    assert scene.snapshot() == before
    return reply


def _flip_signature(headers: dict[str, str]) -> dict[str, str]:
    value = headers["Signature"]
    raw = bytearray(base64.b64decode(value[4:-1]))
    raw[0] ^= 1
    return {"Signature": f"pl=:{base64.b64encode(raw).decode()}:"}


# --- sanity: the same scene accepts a good request ----------------------------------------------
async def test_control_good_alert_is_accepted(scene: Scene) -> None:
    status, reply = await scene.post(scene.envelope().encode())
    assert (status, reply["status"]) == (202, "accepted")
    assert len(scene.home.node.received) == 1


# --- hop signature ----------------------------------------------------------------------------
async def test_forged_signature_is_refused(scene: Scene) -> None:
    body = scene.envelope().encode()
    url = scene.home.endpoint + INBOX
    headers = _flip_signature(
        sign_request(scene.neighbor.node.identity, "POST", url, body, now=scene.now)
    )
    await refused(scene, 401, "bad_signature", body, headers=headers)


async def test_signature_by_another_key_under_the_neighbors_keyid_is_refused(scene: Scene) -> None:
    mallory = Identity.generate()
    body = scene.envelope().encode()
    url = scene.home.endpoint + INBOX
    forged = sign_request(mallory, "POST", url, body, now=scene.now)
    forged["Signature-Input"] = forged["Signature-Input"].replace(
        mallory.keyid, scene.neighbor.node.identity.keyid
    )
    await refused(scene, 401, "bad_signature", body, headers=forged)


async def test_paired_peer_cannot_pass_off_anothers_direct_message(scene: Scene) -> None:
    # A second neighbor forwards a direct (hop-0) message signed by the first one.
    mallory = await scene.network.start("Mallory")
    await scene.network.pair(scene.home, mallory)
    captured = scene.envelope("revoke", {"reason": "compromised"})
    before = scene.snapshot()
    status, reply = await scene.post(captured.encode(), by=mallory.node.identity)
    assert (status, reply["error"]) == (403, "sender_mismatch")
    assert scene.snapshot() == before


async def test_replayed_request_is_refused(scene: Scene) -> None:
    body = scene.envelope().encode()
    url = scene.home.endpoint + INBOX
    headers = sign_request(scene.neighbor.node.identity, "POST", url, body, now=scene.now)
    status, _ = await scene.post(body, headers=headers)
    assert status == 202
    await refused(scene, 409, "replay", body, headers=headers)


async def test_expired_signature_is_refused(scene: Scene) -> None:
    reply = await refused(scene, 401, "clock_skew", now=scene.now - 200, lifetime=100)
    assert reply["server_time"] == scene.now


async def test_future_dated_signature_is_refused(scene: Scene) -> None:
    await refused(scene, 401, "clock_skew", now=scene.now + 61)


async def test_too_old_signature_is_refused(scene: Scene) -> None:
    await refused(scene, 401, "clock_skew", now=scene.now - 301, lifetime=300)


async def test_overlong_signature_lifetime_is_refused(scene: Scene) -> None:
    await refused(scene, 401, "signature_profile", lifetime=301)


async def test_tampered_body_is_refused(scene: Scene) -> None:
    body = scene.envelope().encode()
    tampered = body.replace(b"car doors", b"car alarm")
    assert len(tampered) == len(body)
    url = scene.home.endpoint + INBOX
    headers = sign_request(scene.neighbor.node.identity, "POST", url, body, now=scene.now)
    await refused(scene, 401, "digest_mismatch", tampered, headers=headers)


async def test_digest_rewritten_for_tampered_body_is_refused(scene: Scene) -> None:
    body = scene.envelope().encode()
    tampered = body.replace(b"car doors", b"car alarm")
    url = scene.home.endpoint + INBOX
    headers = sign_request(scene.neighbor.node.identity, "POST", url, body, now=scene.now)
    digest = base64.b64encode(hashlib.sha256(tampered).digest()).decode()
    headers["Content-Digest"] = f"sha-256=:{digest}:"
    await refused(scene, 401, "bad_signature", tampered, headers=headers)


async def test_missing_covered_component_is_refused(scene: Scene) -> None:
    body = scene.envelope().encode()
    url = scene.home.endpoint + INBOX
    headers = sign_request(scene.neighbor.node.identity, "POST", url, body, now=scene.now)
    headers["Signature-Input"] = headers["Signature-Input"].replace(' "content-digest"', "")
    await refused(scene, 401, "signature_profile", body, headers=headers)


async def test_missing_signature_header_is_refused(scene: Scene) -> None:
    async with scene.network.session.post(
        scene.home.endpoint + INBOX,
        data=scene.envelope().encode(),
        headers={"Content-Type": "application/json"},
    ) as response:
        assert response.status == 401
        assert (await response.json())["error"] == "signature_profile"


async def test_unknown_peer_is_refused(scene: Scene) -> None:
    stranger = Identity.generate()
    await refused(scene, 401, "unknown_key", scene.envelope(by=stranger).encode(), by=stranger)


async def test_unknown_key_is_refused_before_the_body_or_other_headers(scene: Scene) -> None:
    """The flood path answers from the raw Signature-Input alone (docs/protocol.md §5 step 0)."""
    stranger = Identity.generate()
    reply = await refused(
        scene,
        401,
        "unknown_key",
        b"not even json",
        by=stranger,
        headers={"Content-Type": "text/plain", "Content-Digest": "junk"},
    )
    assert reply == {"error": "unknown_key", "detail": "key is not pinned to any peer"}


async def test_signature_input_without_keyid_takes_the_full_path(scene: Scene) -> None:
    await refused(scene, 401, "signature_profile", headers={"Signature-Input": "pl=()"})


async def test_revoked_key_is_refused(scene: Scene) -> None:
    scene.home.node.peers.revoke(scene.neighbor.node.identity.keyid, scene.now)
    await refused(scene, 401, "key_revoked")


async def test_wrong_authority_is_refused(scene: Scene) -> None:
    body = scene.envelope().encode()
    await refused(scene, 421, "wrong_authority", body, headers={"Host": "evil.example"})


async def test_rate_limit_per_peer(scene: Scene) -> None:
    for _ in range(60):
        status, _ = await scene.post(scene.envelope().encode())
        assert status == 202
    await refused(scene, 429, "rate_limited")


# --- size and media type, refused before the body is read ------------------------------------
async def test_oversize_body_is_refused(scene: Scene) -> None:
    body = b'{"pad":"' + b"x" * 70_000 + b'"}'
    await refused(scene, 413, "body_too_large", body)


async def test_chunked_body_without_length_is_refused(scene: Scene) -> None:
    body = scene.envelope().encode()

    async def chunks() -> Any:
        yield body

    await refused(scene, 413, "body_too_large", body, data=chunks())


async def test_wrong_content_type_is_refused(scene: Scene) -> None:
    await refused(scene, 415, "unsupported_media_type", headers={"Content-Type": "text/plain"})


async def test_encoded_body_is_refused(scene: Scene) -> None:
    await refused(scene, 415, "unsupported_media_type", headers={"Content-Encoding": "gzip"})


# --- message content --------------------------------------------------------------------------
async def test_deep_json_is_refused(scene: Scene) -> None:
    await refused(scene, 400, "malformed_json", b'{"a":' * 20 + b"1" + b"}" * 20)


async def test_duplicate_keys_are_refused(scene: Scene) -> None:
    await refused(scene, 400, "malformed_json", b'{"a":1,"a":2}')


async def test_floats_are_refused(scene: Scene) -> None:
    await refused(scene, 400, "malformed_json", b'{"a":1.5}')


async def test_nan_is_refused(scene: Scene) -> None:
    await refused(scene, 400, "malformed_json", b'{"a":NaN}')


async def test_out_of_range_integer_is_refused(scene: Scene) -> None:
    await refused(scene, 400, "malformed_json", b'{"a":9007199254740992}')


async def test_lone_surrogate_is_refused(scene: Scene) -> None:
    await refused(scene, 400, "malformed_json", b'{"a":"\\ud800"}')


async def test_invalid_utf8_is_refused(scene: Scene) -> None:
    await refused(scene, 400, "malformed_json", b'{"a":"\xff"}')


async def test_non_canonical_json_is_refused(scene: Scene) -> None:
    await refused(scene, 400, "malformed_json", scene.envelope().encode().replace(b",", b", "))


async def test_unknown_message_type_is_refused(scene: Scene) -> None:
    obj = scene.envelope().to_json()
    obj["type"] = "launch_drone"
    await refused(scene, 400, "schema", canon(obj))


async def test_extra_body_field_is_refused(scene: Scene) -> None:
    obj = scene.envelope().to_json()
    obj["body"] = {**ALERT, "location": 52379189}
    await refused(scene, 400, "schema", canon(obj))


async def test_forged_message_signature_is_refused(scene: Scene) -> None:
    obj = scene.envelope().to_json()
    obj["body"] = {**ALERT, "text": "All clear"}
    await refused(scene, 401, "bad_message_signature", canon(obj))


@pytest.mark.allow_porchlight_warnings(r"relayed a message that does not verify")
async def test_relayed_message_with_forged_signature_is_refused(scene: Scene) -> None:
    obj = scene.envelope(by=Identity.generate()).relayed().to_json()
    obj["body"] = {**ALERT, "text": "All clear"}
    await refused(scene, 401, "bad_message_signature", canon(obj))


async def test_last_hop_message_from_its_originator_rests_on_the_hop_signature(
    scene: Scene,
) -> None:
    """Not relayable any further, hop-signed by its originator: one Ed25519 check suffices.

    The hop signature covers these exact canonical bytes, so the originator vouched for every
    field; the end-to-end signature only matters to third parties, and nothing unverified is
    ever passed on (docs/protocol.md §5.1).
    """
    obj = scene.envelope(
        body={"text": "x", "category": "other", "name": "", "max_hops": 0}
    ).to_json()
    obj["sig"] = b64u(bytes(64))
    status, reply = await scene.post(canon(obj))
    assert (status, reply["status"]) == (202, "accepted")
    stored = scene.home.node.received[-1]
    assert not stored.verified
    with pytest.raises(MessageSignatureError):
        stored.relayed()


async def test_expired_message_is_refused(scene: Scene) -> None:
    old = scene.envelope(now=scene.now - 700, lifetime=600)
    await refused(scene, 400, "message_expired", old.encode())


async def test_message_for_another_home_is_refused(scene: Scene) -> None:
    other = Identity.generate().keyid
    body = scene.envelope("revoke", {"reason": "retired"}, to=other).encode()
    await refused(scene, 403, "wrong_recipient", body)


async def test_relay_beyond_hop_limit_is_refused(scene: Scene) -> None:
    origin = Identity.generate()
    envelope = scene.envelope(
        body={"text": "x", "category": "other", "name": "", "max_hops": 1}, by=origin
    )
    body = envelope.relayed().relayed().encode()
    await refused(scene, 403, "forbidden", body)


async def test_pairing_message_at_the_inbox_is_refused(scene: Scene) -> None:
    body = {"token_hash": "0" * 64, "name": "x", "role": "neighbor"}
    await refused(scene, 400, "schema", scene.envelope("pair_accept", body, lifetime=300).encode())


async def test_untrusted_agency_message_is_refused(scene: Scene) -> None:
    agency = Identity.generate()
    scene.home.node.peers.add(
        Peer(
            agency.keyid,
            agency.public_key,
            "agency",
            "Sheriff",
            "http://127.0.0.1:9/x",
            0,
            trusted=False,
        )
    )
    await refused(scene, 403, "untrusted", scene.envelope(by=agency).encode(), by=agency)


async def test_stale_key_transition_is_refused(scene: Scene) -> None:
    neighbor = scene.neighbor.node.identity
    new = Identity.generate()
    statement = transition_statement(neighbor.public_key, new.public_key, 0)
    body: dict[str, JSON] = {
        "new_key": b64u(new.public_key),
        "seq": 1,
        "new_sig": b64u(new.sign(statement)),
    }
    # seq 1 is signed by the new key as seq 0: the new key did not sign this transition.
    await refused(
        scene, 401, "bad_message_signature", scene.envelope("key_transition", body).encode()
    )


async def test_key_transition_not_newer_than_last_is_refused(scene: Scene) -> None:
    neighbor_keyid = scene.neighbor.node.identity.keyid
    peer = scene.home.node.peers.get(neighbor_keyid)
    assert peer is not None
    scene.home.node.peers.add(replace(peer, key_seq=5))
    new = Identity.generate()
    statement = transition_statement(scene.neighbor.node.identity.public_key, new.public_key, 5)
    body: dict[str, JSON] = {
        "new_key": b64u(new.public_key),
        "seq": 5,
        "new_sig": b64u(new.sign(statement)),
    }
    await refused(scene, 403, "stale_transition", scene.envelope("key_transition", body).encode())


async def test_key_transition_to_anothers_key_is_refused(scene: Scene) -> None:
    taken = scene.home.node.identity  # the home's own key
    statement = transition_statement(scene.neighbor.node.identity.public_key, taken.public_key, 1)
    body: dict[str, JSON] = {
        "new_key": b64u(taken.public_key),
        "seq": 1,
        "new_sig": b64u(taken.sign(statement)),
    }
    await refused(scene, 403, "forbidden", scene.envelope("key_transition", body).encode())


async def test_vouch_with_mismatched_fingerprint_is_refused(scene: Scene) -> None:
    agency = Identity.generate()
    body: dict[str, JSON] = {
        "agency": Identity.generate().keyid,
        "agency_key": b64u(agency.public_key),
        "name": "Sheriff",
    }
    await refused(scene, 400, "schema", scene.envelope("vouch", body).encode())


async def test_duplicate_signature_input_is_refused(scene: Scene) -> None:
    body = scene.envelope().encode()
    url = scene.home.endpoint + INBOX
    headers = sign_request(scene.neighbor.node.identity, "POST", url, body, now=scene.now)
    before = scene.snapshot()
    async with scene.network.session.post(
        url,
        data=body,
        headers=[*headers.items(), ("Signature-Input", headers["Signature-Input"])],
    ) as response:
        assert response.status == 401
        assert (await response.json())["error"] == "signature_profile"
    assert scene.snapshot() == before


# --- pairing ----------------------------------------------------------------------------------
def _redeem(scene: Scene, invite: Invite, by: Identity) -> bytes:
    return scene.envelope(
        "pair_request",
        {
            "token": invite.token,
            "name": "Stranger",
            "endpoint": "http://127.0.0.1:9/api/porchlight/v1",
            "role": "neighbor",
        },
        by=by,
        lifetime=300,
    ).encode()


async def test_reused_invite_is_refused(scene: Scene) -> None:
    invite = scene.home.node.create_invite(lan=True)
    first = Identity.generate()
    status, reply = await scene.post(_redeem(scene, invite, first), by=first, path=PAIR)
    assert status == 200
    assert reply["body"]["token_hash"] == token_hash(invite.token)
    second = Identity.generate()
    await refused(scene, 410, "invite_gone", _redeem(scene, invite, second), by=second, path=PAIR)


async def test_expired_invite_is_refused(scene: Scene) -> None:
    invite = scene.home.node.create_invite(lifetime=60)
    scene.network.clock.advance(61)
    stranger = Identity.generate()
    await refused(
        scene, 410, "invite_gone", _redeem(scene, invite, stranger), by=stranger, path=PAIR
    )


async def test_guessed_invite_token_is_refused(scene: Scene) -> None:
    guess = Invite("http://x", bytes(32), "neighbor", "x", new_nonce(), scene.now + 60)
    stranger = Identity.generate()
    await refused(
        scene, 403, "invite_invalid", _redeem(scene, guess, stranger), by=stranger, path=PAIR
    )


async def test_invite_dies_after_three_failed_redemptions(scene: Scene) -> None:
    invite = scene.home.node.create_invite(lan=True)
    stranger = Identity.generate()
    body = _redeem(scene, invite, stranger)
    url = scene.home.endpoint + PAIR
    for _ in range(3):
        headers = _flip_signature(sign_request(stranger, "POST", url, body, now=scene.now))
        status, _ = await scene.post(body, by=stranger, path=PAIR, headers=headers)
        assert status == 401
    scene.network.clock.advance(60)  # past the per-address pairing rate limit
    await refused(scene, 403, "invite_invalid", body, by=stranger, path=PAIR)
    assert scene.home.node.peers.get(stranger.keyid) is None


async def test_redemption_signed_by_another_key_is_refused(scene: Scene) -> None:
    invite = scene.home.node.create_invite(lan=True)
    stranger = Identity.generate()
    mallory = Identity.generate()
    status, reply = await scene.post(_redeem(scene, invite, stranger), by=mallory, path=PAIR)
    assert (status, reply["error"]) == (403, "sender_mismatch")
    assert [p.keyid for p in scene.home.node.peers] == [scene.neighbor.node.identity.keyid]


async def test_redemption_for_another_instance_is_refused(scene: Scene) -> None:
    invite = scene.home.node.create_invite(lan=True)
    stranger = Identity.generate()
    body = scene.envelope(
        "pair_request",
        {
            "token": invite.token,
            "name": "Stranger",
            "endpoint": "http://127.0.0.1:9/api/porchlight/v1",
            "role": "neighbor",
        },
        by=stranger,
        to=Identity.generate().keyid,
        lifetime=300,
    ).encode()
    status, reply = await scene.post(body, by=stranger, path=PAIR)
    assert (status, reply["error"]) == (403, "wrong_recipient")
    assert scene.home.node.peers.get(stranger.keyid) is None


async def test_other_message_at_pairing_endpoint_is_refused(scene: Scene) -> None:
    await refused(scene, 400, "schema", path=PAIR)


async def test_pairing_request_without_token_is_refused(scene: Scene) -> None:
    await refused(scene, 400, "schema", canon({"type": "pair_request", "body": {}}), path=PAIR)


async def test_pairing_endpoint_limits_attempts_per_address(scene: Scene) -> None:
    for _ in range(5):
        await scene.post(b'{"a":1}', path=PAIR)
    await refused(scene, 429, "rate_limited", b'{"a":1}', path=PAIR)


async def test_oversize_pairing_request_is_refused(scene: Scene) -> None:
    await refused(scene, 413, "body_too_large", b'{"a":"' + b"x" * 5000 + b'"}', path=PAIR)


# --- hostile spellings that must be refused, never crash a handler -----------------------------
def _trailing_bits(text: str) -> str:
    """The same length and alphabet, but non-zero unused bits: not canonical base64url."""
    last = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".index(text[-1])
    return text[:-1] + "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[last ^ 1]


@pytest.mark.parametrize("token", ["é" * 22, "A" * 21 + "B", "A" * 23])
async def test_pairing_token_that_is_not_a_token_is_refused(scene: Scene, token: str) -> None:
    body = canon({"type": "pair_request", "body": {"token": token}})
    await refused(scene, 400, "schema", body, path=PAIR)


def _spoiled(envelope: Envelope, name: str) -> bytes:
    """The envelope with one binary body field given non-zero trailing bits (seal refuses it)."""
    obj = envelope.to_json()
    body = obj["body"]
    assert isinstance(body, dict)
    body[name] = _trailing_bits(str(body[name]))
    return canon(obj)


@pytest.mark.parametrize("field", ["new_key", "new_sig"])
async def test_key_transition_with_non_canonical_binary_field_is_refused(
    scene: Scene, field: str
) -> None:
    new = Identity.generate()
    statement = transition_statement(scene.neighbor.node.identity.public_key, new.public_key, 1)
    body: dict[str, JSON] = {
        "new_key": b64u(new.public_key),
        "seq": 1,
        "new_sig": b64u(new.sign(statement)),
    }
    await refused(scene, 400, "schema", _spoiled(scene.envelope("key_transition", body), field))


async def test_vouch_with_non_canonical_agency_key_is_refused(scene: Scene) -> None:
    agency = Identity.generate()
    body: dict[str, JSON] = {
        "agency": agency.keyid,
        "agency_key": b64u(agency.public_key),
        "name": "Sheriff",
    }
    await refused(scene, 400, "schema", _spoiled(scene.envelope("vouch", body), "agency_key"))


# --- who really originated a message -----------------------------------------------------------
def _pin(scene: Scene, who: Identity, role: str, **flags: bool) -> None:
    scene.home.node.peers.add(
        Peer(who.keyid, who.public_key, role, "Pinned", "http://127.0.0.1:9/x", 0, **flags)  # type: ignore[arg-type]
    )


async def test_neighbor_cannot_originate_a_footage_request_by_claiming_a_hop(
    scene: Scene,
) -> None:
    now = scene.now
    body: dict[str, JSON] = {
        "case": "1",
        "reason": "fishing",
        "area": {"kind": "circle", "lat": 1, "lon": 2, "radius_m": 100},
        "start": now - 3600,
        "end": now - 60,
        "reply_to": "http://127.0.0.1:9/api/porchlight/v1",
        "max_hops": 2,
    }
    # `hops` is unsigned: the neighbor's own request dressed up as relayed is still its own.
    spoofed = scene.envelope("footage_request", body, to=BROADCAST).relayed()
    await refused(scene, 403, "forbidden", spoofed.encode())


async def test_relayed_alert_from_an_agency_the_owner_did_not_trust_is_refused(
    scene: Scene,
) -> None:
    agency = Identity.generate()
    _pin(scene, agency, "agency", trusted=False)
    relayed = scene.envelope(by=agency).relayed()
    await refused(scene, 403, "untrusted", relayed.encode())


async def test_relayed_alert_from_a_peer_not_confirmed_yet_is_refused(scene: Scene) -> None:
    pending = Identity.generate()
    _pin(scene, pending, "neighbor", trusted=True, pending=True)
    relayed = scene.envelope(by=pending).relayed()
    await refused(scene, 403, "pairing_unconfirmed", relayed.encode())


# --- revoked keys stay revoked -----------------------------------------------------------------
async def test_revoked_key_cannot_redeem_an_invite(scene: Scene) -> None:
    invite = scene.home.node.create_invite(lan=True)
    thief = Identity.generate()
    scene.home.node.peers.revoked[thief.keyid] = scene.now
    await refused(scene, 401, "key_revoked", _redeem(scene, invite, thief), by=thief, path=PAIR)
    # The invite is still open for its rightful redeemer.
    honest = Identity.generate()
    status, _ = await scene.post(_redeem(scene, invite, honest), by=honest, path=PAIR)
    assert status == 200


async def test_key_transition_to_a_revoked_key_is_refused(scene: Scene) -> None:
    new = Identity.generate()
    scene.home.node.peers.revoked[new.keyid] = scene.now
    statement = transition_statement(scene.neighbor.node.identity.public_key, new.public_key, 1)
    body: dict[str, JSON] = {
        "new_key": b64u(new.public_key),
        "seq": 1,
        "new_sig": b64u(new.sign(statement)),
    }
    await refused(scene, 403, "forbidden", scene.envelope("key_transition", body).encode())


async def test_strangers_naming_a_peers_keyid_cannot_spend_its_rate_limit(scene: Scene) -> None:
    """Keyids are public: forgeries from elsewhere must not lock the real peer out (429)."""
    url = scene.home.endpoint + INBOX
    connector = aiohttp.TCPConnector(local_addr=("127.0.0.2", 0))
    async with aiohttp.ClientSession(connector=connector) as attacker:
        for n in range(61):
            body = scene.envelope().encode()
            headers = sign_request(scene.neighbor.node.identity, "POST", url, body, now=scene.now)
            headers.update(_flip_signature(headers))
            async with attacker.post(url, data=body, headers=headers) as response:
                # The attacker's own address runs dry; before that every forgery is a 401.
                assert response.status == (429 if n == 60 else 401)
    status, reply = await scene.post(scene.envelope().encode())
    assert (status, reply["status"]) == (202, "accepted")


async def test_a_peer_has_one_budget_whatever_address_it_sends_from(scene: Scene) -> None:
    url = scene.home.endpoint + INBOX
    connector = aiohttp.TCPConnector(local_addr=("127.0.0.2", 0))
    async with aiohttp.ClientSession(connector=connector) as elsewhere:
        for _ in range(30):
            body = scene.envelope().encode()
            headers = sign_request(scene.neighbor.node.identity, "POST", url, body, now=scene.now)
            async with elsewhere.post(url, data=body, headers=headers) as response:
                assert response.status == 202
    for _ in range(30):
        status, _ = await scene.post(scene.envelope().encode())
        assert status == 202
    await refused(scene, 429, "rate_limited")


async def test_request_replayed_after_a_restart_is_refused(scene: Scene) -> None:
    """The replay cache is in memory; a restarted home refuses anything signed before it."""
    body = scene.envelope().encode()
    url = scene.home.endpoint + INBOX
    headers = sign_request(scene.neighbor.node.identity, "POST", url, body, now=scene.now)
    async with scene.network.session.post(url, data=body, headers=headers) as response:
        assert response.status == 202
    # Home Assistant restarts a second later: same key, same peers, an empty replay cache.
    scene.network.clock.advance(1)
    old = scene.home.node
    restarted = scene.network.node("Home", identity=old.identity)
    restarted.load_state(old.state_json())
    port = scene.home.port
    await scene.network.stop(scene.home)
    scene.home = await scene.network.serve(restarted, port=port)
    async with scene.network.session.post(url, data=body, headers=headers) as response:
        assert response.status == 401
        assert (await response.json())["error"] == "clock_skew"  # the sender signs again
    assert len(restarted.received) == 0
    # A fresh signature over the same bytes is the sender's retry: the alert was accepted
    # before the restart, and the saved event ids say so (dedupe.py).
    status, reply = await scene.post(body)
    assert (status, reply["status"]) == (200, "duplicate")
    assert len(restarted.received) == 0
