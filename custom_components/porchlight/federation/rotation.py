"""Key changes: ours (rotation, or revocation after a compromise) and a peer's.

A routine rotation tells every peer with a key_transition signed by both keys; after a
compromise, a revoke signed by the stolen key (peers drop it and must pair again in person).
A peer's key_transition re-pins it to its new key. Either way, what waits in the outbox is
signed again, or re-addressed, so it still reaches its peer.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import TYPE_CHECKING, Final

from . import canonical
from .canonical import b64u, b64u_decode
from .errors import ForbiddenError, MessageSignatureError, StaleTransitionError
from .httpsig import new_nonce
from .identity import keyid, verify
from .messages import BROADCAST, seal, transition_statement

if TYPE_CHECKING:
    from .identity import Identity
    from .messages import Envelope
    from .node import Node
    from .outbox import OutboxEntry
    from .peers import Peer

_LOGGER = logging.getLogger(__name__)

KEY_MESSAGE_LIFETIME: Final = 7 * 86400


class Rotation:
    """Switches a node to a new key, and follows its peers to theirs."""

    def __init__(self, node: Node) -> None:
        """Change node's keys and the peers it pinned."""
        self._node = node

    def rotate(self, new_identity: Identity, *, compromised: bool = False) -> None:
        """Switch to a new key and tell every peer, signed by the old key.

        A routine rotation sends key_transition (signed by both keys); after a compromise,
        revoke (peers drop the key and must pair again in person). The old key stays in
        `signers` until the outbox no longer needs it to sign those messages.
        """
        node = self._node
        old = node.identity
        now = node.clock.now()
        node.key_seq += 1
        queued = {e.id for e in node.outbox}
        for peer in node.peers:
            if compromised:
                envelope = seal(
                    old,
                    "revoke",
                    {"reason": "compromised"},
                    to=peer.keyid,
                    now=now,
                    lifetime=KEY_MESSAGE_LIFETIME,
                    message_id=new_nonce(),
                )
            else:
                statement = transition_statement(
                    old.public_key, new_identity.public_key, node.key_seq
                )
                envelope = seal(
                    old,
                    "key_transition",
                    {
                        "new_key": b64u(new_identity.public_key),
                        "seq": node.key_seq,
                        "new_sig": b64u(new_identity.sign(statement)),
                    },
                    to=peer.keyid,
                    now=now,
                    lifetime=KEY_MESSAGE_LIFETIME,
                    message_id=new_nonce(),
                )
            node.sending.queue(peer.keyid, envelope, now, signer=old.keyid)
        node.identity = new_identity
        node.signers[new_identity.keyid] = new_identity

        def move(entry: OutboxEntry) -> OutboxEntry | None:
            if entry.signer != old.keyid or entry.id not in queued:
                return entry  # older key messages, or the ones just queued
            if compromised:
                return None  # peers drop the stolen key and do not know the new one
            # Peers re-pin to the new key once they take the key message, which deliver()
            # sends first; so what waits behind it is sent, and signed, with the new key.
            return replace(
                entry,
                signer=new_identity.keyid,
                payload=self._reseal(entry.payload, by=new_identity),
            )

        node.outbox.rewrite(move)
        node.hooks.on_change("state")
        node.hooks.on_change("outbox")

    def forget_retired_keys(self) -> None:
        """Drop the retired keys nothing queued needs any more (after a delivery round)."""
        node = self._node
        needed = node.outbox.signers() | {node.identity.keyid}
        node.signers = {k: v for k, v in node.signers.items() if k in needed}

    def accept_transition(self, peer: Peer, envelope: Envelope) -> None:
        """A peer's key_transition: pin its new key, send what waits for it there."""
        node = self._node
        body = envelope.body
        seq = int(body["seq"])  # type: ignore[arg-type]
        new_key = b64u_decode(str(body["new_key"]), 32)
        new_sig = b64u_decode(str(body["new_sig"]), 64)
        if seq <= peer.key_seq:
            msg = "key transition is not newer than the last one"
            raise StaleTransitionError(msg)
        if not verify(new_key, new_sig, transition_statement(peer.public_key, new_key, seq)):
            msg = "the new key did not sign the transition"
            raise MessageSignatureError(msg)
        taken = node.peers.knows(keyid(new_key)) or keyid(new_key) == node.identity.keyid
        if taken:  # pinned by someone else, revoked, or ours
            msg = "the new key belongs to someone else"
            raise ForbiddenError(msg)
        rotated = node.peers.rotate(peer.keyid, new_key, seq)
        _LOGGER.info("Peer %s rotated its key to %s", peer.fingerprint, rotated.fingerprint)
        # What we queued for the old key goes to the new one; messages we addressed to the
        # old keyid are signed again for the new one (the peer would refuse them otherwise).
        node.outbox.rewrite(
            lambda entry: (
                replace(
                    entry, peer=rotated.keyid, payload=self._reseal(entry.payload, to=rotated.keyid)
                )
                if entry.peer == peer.keyid
                else entry
            )
        )
        node.hooks.on_change("outbox")

    def _reseal(self, payload: str, *, by: Identity | None = None, to: str | None = None) -> str:
        """A queued message we originated, signed again (by `by`, else by its own key).

        Addressed to `to` instead, if it was addressed to one peer. Anyone else's message
        (one we relay) stays as it is: it keeps its originator's signature.
        """
        obj = canonical.loads(payload.encode())
        sealer = self._node.signers.get(str(obj.get("from"))) if isinstance(obj, dict) else None
        if not isinstance(obj, dict) or sealer is None:
            return payload
        created, expires = int(obj["created"]), int(obj["expires"])  # type: ignore[arg-type]
        body = obj["body"]
        assert isinstance(body, dict)  # noqa: S101  # our own sealed message
        envelope = seal(
            by or sealer,
            str(obj["type"]),
            body,
            to=str(obj["to"]) if to is None or obj["to"] == BROADCAST else to,
            now=created,
            lifetime=expires - created,
            message_id=str(obj["id"]),
        )
        return envelope.encode().decode("utf-8")
