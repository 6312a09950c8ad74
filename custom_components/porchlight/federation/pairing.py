"""Pairing: invites issued and redeemed, agencies imported, pairing codes confirmed (§6).

Both sides pin the other's key when an invite is redeemed (handle_pair on the inviter's side,
accept_invite on the redeemer's); the peer stays pending until its owner compared the pairing
code with the other owner (R3.3). The pairing endpoint is rate-limited per address, and an
invite's token is checked before any cryptography.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from http import HTTPStatus
from typing import TYPE_CHECKING, Final

from .admission import verify_self_signed
from .api import PAIR, Reply
from .canonical import canon
from .errors import (
    InviteGoneError,
    InviteInvalidError,
    MessageSignatureError,
    PairingCodeError,
    PeerRefusedError,
    SchemaError,
    SenderMismatchError,
    UnauthenticatedError,
    WrongRecipientError,
)
from .httpsig import authority_of, new_nonce
from .invites import Invite, accepted_token_hashes, pairing_code
from .messages import INVITE_TOKEN, open_envelope, seal
from .peers import Peer
from .ratelimit import RateLimiter

if TYPE_CHECKING:
    from .admission import Admission
    from .api import Incoming, ReadBody
    from .canonical import JSON
    from .delivery import Sender
    from .node import Node
    from .peers import Role

_LOGGER = logging.getLogger(__name__)

PAIRING_LIFETIME: Final = 300


class Pairing:
    """Pairs a node with other homes and agencies."""

    def __init__(self, node: Node, admission: Admission) -> None:
        """Pair node, redemptions admitted by admission and rate-limited per its settings."""
        self._node = node
        self._admission = admission
        self._pair_rate = RateLimiter(node.settings.pair_per_minute)

    # --- as the inviter ----------------------------------------------------------------------
    def create_invite(self, *, lifetime: int | None = None, lan: bool = False) -> Invite:
        """Issue a one-time invite for this node's endpoint (lan: the redeemer may be local)."""
        node = self._node
        if node.endpoint is None:
            msg = "advertise an endpoint before inviting"
            raise ValueError(msg)
        invite = node.invites.issue(
            node.identity,
            endpoint=node.endpoint,
            role=node.settings.role,
            name=node.settings.name,
            now=node.clock.now(),
            lan=lan,
            **({"lifetime": lifetime} if lifetime is not None else {}),
        )
        node.hooks.on_change("state")
        return invite

    async def handle_pair(self, request: Incoming, read_body: ReadBody) -> Reply:
        """Redeem an invite: pin the redeemer's key and answer with a signed pair_accept."""
        node = self._node
        now, hop, body, obj = await self._admission.self_signed(
            request, read_body, node.settings.max_pair_body, self._pair_rate
        )
        # The token is looked up before any cryptography: without an open invite the
        # request is refused for the price of one hash.
        digest = node.invites.check(_peek_token(obj), now)
        try:
            envelope = verify_self_signed(request, hop, obj, body, now)
        except UnauthenticatedError, MessageSignatureError, SenderMismatchError:
            node.invites.fail(digest)
            node.hooks.on_change("state")
            raise
        node.replay.check_and_add(hop.keyid, hop.nonce, hop.created, now)
        if envelope.to != node.identity.keyid:
            msg = "invite redeemed at the wrong instance"
            raise WrongRecipientError(msg)
        accept = seal(
            node.identity,
            "pair_accept",
            {"token_hash": digest, "name": node.settings.name, "role": node.settings.role},
            to=envelope.sender,
            now=now,
            lifetime=PAIRING_LIFETIME,
            message_id=new_nonce(),
        )
        payload = accept.to_json()
        # Written ahead, like everything that leaves: if recording fails, nothing is
        # consumed or pinned and the redeemer may try again.
        await node.hooks.record_reply(request.remote, canon(payload))
        node.invites.consume(digest)
        role: Role = "agency" if envelope.body["role"] == "agency" else "neighbor"
        peer = Peer(
            keyid=envelope.sender,
            public_key=envelope.sender_key,
            role=role,
            name=str(envelope.body["name"]),
            endpoint=str(envelope.body["endpoint"]),
            paired_at=now,
            trusted=role == "neighbor",
            lan=node.invites.allows_lan(digest),
            pending=True,
            pairing_code=pairing_code(node.identity.public_key, envelope.sender_key, digest),
            told=self._told(request.authority),
        )
        node.peers.add(peer)
        node.hooks.on_change("state")
        _LOGGER.info("Paired with %s %s", role, peer.fingerprint)
        return Reply(HTTPStatus.OK, payload)

    def _told(self, authority: str) -> str:
        """Which of our endpoints a redeemer reached us at: the one its invite carried.

        The authority was checked against the advertised endpoints (check_authority), so
        one of them matches.
        """
        return next(e for e in self._node.endpoints if authority_of(e) == authority)

    # --- as the invitee ----------------------------------------------------------------------
    async def accept_invite(self, text: str, sender: Sender, *, lan: bool = False) -> Peer:
        """Redeem someone's invite over the network; pin their key once they answer.

        The peer stays pending until the owner confirms the pairing code (R3.3); lan lets
        its endpoint be a private address (R2.7).
        """
        node = self._node
        invite = self._usable_invite(text)
        now = node.clock.now()
        if invite.expires < now:
            msg = "the invite has expired"
            raise InviteGoneError(msg)
        if node.endpoint is None:
            msg = "advertise an endpoint before pairing"
            raise ValueError(msg)
        request = seal(
            node.identity,
            "pair_request",
            {
                "token": invite.token,
                "name": node.settings.name,
                "endpoint": node.endpoint,
                "role": node.settings.role,
            },
            to=invite.keyid,
            now=now,
            lifetime=PAIRING_LIFETIME,
            message_id=new_nonce(),
        )
        status, reply = await sender.post(
            node.identity, invite.endpoint + PAIR, request.encode(), lan=lan
        )
        if status != HTTPStatus.OK:
            code = reply.get("error") if isinstance(reply, dict) else None
            raise PeerRefusedError(status, str(code or "unknown"))
        accept = open_envelope(reply, now=node.clock.now())
        if (
            accept.type != "pair_accept"
            or accept.sender_key != invite.public_key
            or accept.to != node.identity.keyid
            or accept.body["token_hash"] not in accepted_token_hashes(invite.token)
        ):
            msg = "the pairing answer does not match the invite"
            raise SenderMismatchError(msg)
        peer = Peer(
            keyid=invite.keyid,
            public_key=invite.public_key,
            role=invite.role,
            name=invite.name,
            endpoint=invite.endpoint,
            paired_at=now,
            trusted=invite.role == "neighbor",
            lan=lan,
            pending=True,
            # With the hash the inviter sent, so both sides compute the same code (§6, upgrade).
            pairing_code=pairing_code(
                node.identity.public_key, invite.public_key, str(accept.body["token_hash"])
            ),
            told=node.endpoint,
        )
        node.peers.add(peer)
        node.hooks.on_change("state")
        return peer

    def _usable_invite(self, text: str) -> Invite:
        """Parse an invite that is not our own and not for a key that was revoked."""
        invite = Invite.from_text(text)
        if invite.keyid == self._node.identity.keyid:
            msg = "this is our own invite"
            raise InviteInvalidError(msg)
        if invite.keyid in self._node.peers.revoked:
            msg = "the invite is for a key its owner revoked"
            raise InviteInvalidError(msg)
        return invite

    def import_agency(self, text: str, *, lan: bool | None = None) -> Peer:
        """Pin an agency's key from its invite without contacting it (one-sided).

        The agency does not learn that this home exists; it can reach the home only through
        neighbors that relay its requests. The agency stays untrusted until the owner, having
        checked its fingerprint through an independent channel (R3.4), trusts it.

        The invite of an agency already pinned (imported or paired) updates its name and
        endpoint only: the key is the same, so what the owner decided about it stands (its
        trust, its confirmed pairing) and so does its LAN allowance unless lan says otherwise.
        """
        node = self._node
        invite = self._usable_invite(text)
        known = node.peers.get(invite.keyid)
        if invite.role != "agency" or (known is not None and known.role != "agency"):
            msg = "this invite is not an agency's"
            raise InviteInvalidError(msg)
        if known is not None:
            peer = replace(
                known,
                name=invite.name,
                endpoint=invite.endpoint,
                lan=known.lan if lan is None else lan,
            )
        else:
            peer = Peer(
                keyid=invite.keyid,
                public_key=invite.public_key,
                role="agency",
                name=invite.name,
                endpoint=invite.endpoint,
                paired_at=node.clock.now(),
                trusted=False,
                lan=bool(lan),
            )
        node.peers.add(peer)
        node.hooks.on_change("state")
        return peer

    # --- both sides --------------------------------------------------------------------------
    def confirm_pairing(self, key_id: str, code: str | None = None) -> Peer:
        """The owner compared the pairing code with the other owner: activate the peer.

        With code, it must equal the one this side computed (spaces and dashes ignored);
        PairingCodeError otherwise, and the peer stays pending. UnknownKeyError if key_id is
        not paired.
        """
        node = self._node
        peer, _ = node.peers.resolve(key_id)
        if code is not None and code.replace(" ", "").replace("-", "") != peer.pairing_code:
            msg = "the pairing code does not match"
            raise PairingCodeError(msg)
        confirmed = node.peers.confirm(key_id)
        node.hooks.on_change("state")
        return confirmed


def _peek_token(obj: JSON) -> str:
    """The invite token of what claims to be a pair_request (checked properly later)."""
    if not isinstance(obj, dict) or obj.get("type") != "pair_request":
        msg = "the pairing endpoint takes pair_request only"
        raise SchemaError(msg)
    body = obj.get("body")
    token = body.get("token") if isinstance(body, dict) else None
    # Checked as the schema will: a stranger's odd string must be a 400, never a crash in
    # the token hash.
    if not INVITE_TOKEN.check(token) or not isinstance(token, str):
        msg = "a pairing request carries an invite token"
        raise SchemaError(msg)
    return token
