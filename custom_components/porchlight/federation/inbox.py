"""The inbox: signed messages from paired peers, verified, authorized and acted on.

Order of checks, cheapest first (docs/protocol.md §5): content type, declared length,
signature header shape, keyid lookup (unknown keys stop here: no body read, no crypto),
authority, rate limit per claimed key and address, time window, body read, digest and
signature, per-peer rate limit, nonce replay, strict JSON, envelope schema and signature,
authorization, dedupe, dispatch.

An agency's offer endpoint is an inbox too, for homes it never paired with: the offer brings
the sender's key, and must answer an open request of this agency.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import TYPE_CHECKING

from . import canonical
from .admission import verify_self_signed
from .api import Reply
from .camera_map import cell_from_json, map_from_json
from .canonical import b64u_decode
from .digest_exchange import accept_digest, check_agency_view
from .errors import (
    EvidenceError,
    ForbiddenError,
    ForgedOriginError,
    MessageSignatureError,
    PairingUnconfirmedError,
    RateLimitedError,
    RevokedKeyError,
    SchemaError,
    SenderMismatchError,
    UntrustedError,
    WrongRecipientError,
)
from .evidence import alert_share_group, verify_manifest
from .httpsig import check_content_type, claimed_keyid, parse_hop, verify_hop
from .identity import keyid
from .messages import BROADCAST, TYPES, open_envelope, verify_envelope
from .peers import Vouch
from .ratelimit import RateLimiter, address_key

if TYPE_CHECKING:
    from .admission import Admission
    from .api import Incoming, ReadBody
    from .canonical import JSON
    from .errors import ProtocolError
    from .messages import Envelope
    from .node import Node
    from .peers import Peer

_LOGGER = logging.getLogger(__name__)


class Inbox:
    """Receives a node's messages: its inbox, and an agency's offer endpoint."""

    def __init__(self, node: Node, admission: Admission) -> None:
        """Receive for node, after admission's checks; rate limits from its settings."""
        self._node = node
        self._admission = admission
        settings = node.settings
        self._rate = RateLimiter(settings.per_peer_per_minute)
        self._claimed_rate = RateLimiter(settings.per_peer_per_minute)
        self._offer_rate = RateLimiter(settings.offer_per_minute)
        self._relay_rate = RateLimiter(settings.relay_per_minute)

    def unknown_key(self, signature_input: str | None) -> bool:
        """Step 0 of the inbox: does the raw Signature-Input name a key nobody pinned?

        One regular-expression search and two dict probes: a flood of requests signed by
        strangers is refused before any other header, the body or any cryptography is looked
        at (the transport answers with a prebuilt 401 unknown_key). Anything else, including
        a missing or malformed header, goes through handle_inbox in full.
        """
        key_id = claimed_keyid(signature_input)
        return key_id is not None and not self._node.peers.knows(key_id)

    async def handle_inbox(self, request: Incoming, read_body: ReadBody) -> Reply:
        """Verify, authorize and act on one signed message from a paired peer."""
        node = self._node
        now = node.clock.now()
        check_content_type(request.headers)
        self._admission.check_length(request, node.settings.max_body)
        hop = parse_hop(request.headers)
        peer, key = node.peers.resolve(hop.keyid)
        self._admission.check_authority(request)
        # Before any crypto, the budget of this key *from this address*: keyids are public,
        # so a stranger naming a peer's keyid must not spend that peer's own budget.
        if not self._claimed_rate.allow(f"{peer.keyid} {address_key(request.remote)}", now):
            msg = "too many requests from this address for this peer"
            raise RateLimitedError(msg)
        self._admission.check_times(hop, now)
        body = await read_body(node.settings.max_body)
        verify_hop(
            hop,
            key,
            method=request.method,
            authority=request.authority,
            path=request.path,
            query=request.query,
            body=body,
        )
        # Only now is it the peer speaking: its own budget, wherever it sends from.
        if not self._rate.allow(peer.keyid, now):
            msg = "too many requests from this peer"
            raise RateLimitedError(msg)
        node.replay.check_and_add(hop.keyid, hop.nonce, hop.created, now)
        # loads() accepts canonical bytes only, so obj is exactly what the hop signature
        # covered: a message straight from its originator needs no second verification.
        obj = canonical.loads(body)
        try:
            envelope = open_envelope(obj, now=now, hop_signer=(peer.keyid, peer.public_key))
        except (MessageSignatureError, ForgedOriginError) as err:
            self._tampered(peer, obj, err)
            raise
        self._authorize(peer, envelope)
        if envelope.sender in node.signers:
            # Our own alert or request, relayed back to us: we showed and sent it already.
            # Not only a dedupe question: the seen set may have forgotten it (full, or its
            # saved part damaged), and a home must never show its own alert as a neighbor's.
            return Reply(HTTPStatus.OK, {"status": "duplicate", "event_id": envelope.event_id})
        if envelope.event_id in node.seen:
            if node.seen.fewer_hops(envelope):
                self._relay_again(peer, envelope, now)
            return Reply(HTTPStatus.OK, {"status": "duplicate", "event_id": envelope.event_id})
        self._dispatch(peer, envelope, now)
        node.seen.remember(envelope, now)
        return Reply(HTTPStatus.ACCEPTED, {"status": "accepted", "event_id": envelope.event_id})

    async def handle_offer(self, request: Incoming, read_body: ReadBody) -> Reply:
        """An agency's offer endpoint: a home's answer to one of our requests.

        Homes that answer may never have paired with the agency (the request reached them
        through their neighbors, and the agency is not told who was asked), so the sender's
        key comes from the offer itself: both the hop and the envelope must be signed by it,
        and the offer must name an open request this agency issued.
        """
        node = self._node
        now, hop, body, obj = await self._admission.self_signed(
            request, read_body, node.settings.max_body, self._offer_rate
        )
        if not isinstance(obj, dict) or obj.get("type") != "footage_offer":
            msg = "the offer endpoint takes footage_offer only"
            raise SchemaError(msg)
        # Before any cryptography or nonce: an offer for no open request of ours costs a
        # dict lookup, and strangers cannot fill the replay cache the inbox shares.
        body_obj = obj.get("body")
        self._check_open_request(body_obj.get("request") if isinstance(body_obj, dict) else None)
        envelope = verify_self_signed(request, hop, obj, body, now)
        if envelope.to != node.identity.keyid:
            msg = "offer addressed to another instance"
            raise WrongRecipientError(msg)
        self._check_offer(envelope)
        node.replay.check_and_add(hop.keyid, hop.nonce, hop.created, now)
        if envelope.event_id in node.seen:
            return Reply(HTTPStatus.OK, {"status": "duplicate", "event_id": envelope.event_id})
        self._store(envelope)
        node.seen.remember(envelope, now)
        return Reply(HTTPStatus.ACCEPTED, {"status": "accepted", "event_id": envelope.event_id})

    def _tampered(self, peer: Peer, obj: JSON, err: ProtocolError) -> None:
        """A paired peer handed over a message of someone else's that does not verify.

        Its hop signature verified, so the peer itself sent these bytes; an honest relay
        verifies every message before passing it on (`Envelope.relayed`), so a relayed
        message whose originator's signature fails was altered by this peer, or by a peer
        it did not check. Either way the owner is told which neighbor it was. A peer's own
        message with a broken signature is only refused: there is no relay to name.
        """
        if isinstance(obj, dict) and obj.get("from") != peer.keyid:
            _LOGGER.warning(
                "Peer %s relayed a message that does not verify (%s); refused",
                peer.fingerprint,
                err.detail,
            )
            self._node.hooks.on_tamper(peer, err.code)

    # --- authorization -----------------------------------------------------------------------
    def _authorize(self, peer: Peer, envelope: Envelope) -> None:
        node = self._node
        spec = TYPES[envelope.type]
        if envelope.type in {"pair_request", "pair_accept"}:
            msg = "pairing messages go to the pairing endpoint"
            raise SchemaError(msg)
        if envelope.to not in {node.identity.keyid, BROADCAST}:
            msg = "message addressed to another instance"
            raise WrongRecipientError(msg)
        if envelope.sender != peer.keyid:
            # Only relayable messages may come through someone else, and a relay always
            # counts a hop: a hop-0 message must come from its originator's own key.
            if not spec.relayable or envelope.hops == 0:
                msg = "message claims another sender than the signing key"
                raise SenderMismatchError(msg)
            if envelope.sender in node.peers.revoked:
                msg = "the originator's key was revoked"
                raise RevokedKeyError(msg)
            # A relayed alert from someone we pinned counts as theirs: the same rules apply.
            # Footage requests are exempt: one from an agency this home does not trust is
            # accepted and then rejected silently at home (consent/rules.py), so the agency
            # learns nothing.
            origin = node.peers.get(envelope.sender)
            if origin is not None and envelope.type == "alert":
                _check_standing(origin, "that sent this alert")
        # Untrusted agencies and unconfirmed peers may still hand over their key messages.
        if envelope.type not in {"key_transition", "revoke"}:
            _check_standing(peer, "signing this request")
        self._authorize_type(peer, envelope)

    def _authorize_type(self, peer: Peer, envelope: Envelope) -> None:
        """What each message type additionally demands of its sender."""
        if envelope.type == "vouch" and peer.role != "neighbor":
            msg = "only neighbors vouch for agencies"
            raise ForbiddenError(msg)
        if envelope.type in {"alert", "footage_request"} and envelope.hops > int(
            envelope.body["max_hops"]  # type: ignore[arg-type]
        ):
            msg = "relayed further than its originator allowed"
            raise ForbiddenError(msg)
        # Who originated a message is the signed `from`, never the unsigned hop count.
        if (
            envelope.type == "footage_request"
            and envelope.sender == peer.keyid
            and peer.role != "agency"
        ):
            msg = "only agencies request footage"
            raise ForbiddenError(msg)
        if envelope.type == "footage_offer":
            self._check_offer(envelope)
        if envelope.type == "alert_clips":
            self._check_alert_clips(peer, envelope)
        self._authorize_neighborhood(peer, envelope)

    def _authorize_neighborhood(self, peer: Peer, envelope: Envelope) -> None:
        """Map, digest and witness messages: who may send them to whom, checked on arrival."""
        if envelope.type == "map_cell":
            # Homes map each other; an agency has no cell. The cell is checked on arrival
            # (AreaError), so only cells on the grid reach the owner's map.
            if peer.role != "neighbor" or self._node.settings.role != "neighbor":
                msg = "map cells go between neighbors only"
                raise ForbiddenError(msg)
            cell_from_json(envelope.body)
        if envelope.type == "camera_map":
            # A home's map is for the agencies it is paired with; homes build their own.
            if peer.role != "neighbor" or self._node.settings.role != "agency":
                msg = "camera maps go from a home to an agency only"
                raise ForbiddenError(msg)
            map_from_json(envelope.body)
        if envelope.type in {"digest", "agency_digest"}:
            self._check_digest(peer, envelope)
        if envelope.type in {"audit_checkpoint", "audit_witness"} and (
            peer.role != "neighbor" or self._node.settings.role != "neighbor"
        ):
            msg = "audit logs are witnessed between neighbors only"
            raise ForbiddenError(msg)

    def _check_digest(self, peer: Peer, envelope: Envelope) -> None:
        """A digest goes home to neighbor, a view home to agency; each checked on arrival.

        A digest must be the sending home's own (its key is the peer's: no home speaks for
        another), a view must be for this agency only, so nothing unverified is kept.
        """
        to_agency = envelope.type == "agency_digest"
        wanted = "agency" if to_agency else "neighbor"
        if peer.role != "neighbor" or self._node.settings.role != wanted:
            whom = "an agency" if to_agency else "a home"
            msg = f"{envelope.type} messages go from a home to {whom}"
            raise ForbiddenError(msg)
        if to_agency:
            check_agency_view(envelope.body["view"], self._node.identity.keyid)
        else:
            accept_digest(envelope.body, peer.keyid, peer.public_key)

    def _check_open_request(self, request_id: JSON) -> None:
        """An offer must answer a request this node issued and that is still open."""
        node = self._node
        expires = node.issued.get(request_id) if isinstance(request_id, str) else None
        if node.settings.role != "agency" or expires is None or expires < node.clock.now():
            msg = "no open request of ours matches this offer"
            raise ForbiddenError(msg)

    def _check_offer(self, envelope: Envelope) -> None:
        """An offer's request must be open, and its manifest the sender's, for us (§11, §13).

        Checked on arrival, so nothing unverifiable is ever stored: the manifest's signature,
        its home key (the offer's sender), its request and its agency (this node).
        """
        self._check_open_request(envelope.body["request"])
        manifest = verify_manifest(envelope.body["manifest"])
        if (
            manifest.home_key != envelope.sender_key
            or manifest.request != envelope.body["request"]
            or manifest.agency != self._node.identity.keyid
        ):
            msg = "the evidence manifest is not the sender's answer to this request for us"
            raise EvidenceError(msg)

    def _check_alert_clips(self, peer: Peer, envelope: Envelope) -> None:
        """Alert clips go between neighbors, with the sender's manifest for us and this alert.

        Checked on arrival like an offer's, so the owner is only ever shown links that come
        with a verified manifest naming each linked clip.
        """
        if peer.role != "neighbor" or self._node.settings.role != "neighbor":
            msg = "alert clips go between neighbors only"
            raise ForbiddenError(msg)
        body = envelope.body
        manifest = verify_manifest(body["manifest"])
        group = alert_share_group(str(body["alert"]), self._node.identity.keyid)
        links: list[dict[str, JSON]] = body["links"]  # type: ignore[assignment]  # schema-checked
        linked = sorted(str(link["clip"]) for link in links)
        if (
            manifest.home_key != envelope.sender_key
            or manifest.agency != self._node.identity.keyid
            or manifest.request != group
            or linked != sorted(c.clip for c in manifest.clips)
        ):
            msg = "the evidence manifest is not the sender's, for us, for these clips of this alert"
            raise EvidenceError(msg)

    # --- acting on a message -----------------------------------------------------------------
    def _dispatch(self, peer: Peer, envelope: Envelope, now: int) -> None:
        node = self._node
        match envelope.type:
            case "alert":
                envelope = self._relay(peer, envelope, now)
                self._store(envelope)
                node.hooks.on_alert(envelope, node.peers.get(envelope.sender), peer)
            case "footage_request":
                self._accept_request(peer, envelope, now)
            case "footage_offer" | "camera_map" | "alert_clips" | "agency_digest":
                self._store(envelope)
            case "map_cell":
                node.hooks.on_map_cell(peer, cell_from_json(envelope.body))
            case "digest":
                node.hooks.on_digest(
                    envelope.created, accept_digest(envelope.body, peer.keyid, peer.public_key)
                )
            case "audit_checkpoint":
                node.hooks.on_audit_checkpoint(peer, envelope.body)
            case "audit_witness":
                node.hooks.on_audit_witness(peer, envelope.body)
            case "key_transition":
                node.rotation.accept_transition(peer, envelope)
            case "revoke":
                node.peers.revoke(peer.keyid, now)
                node.outbox.drop_peer(peer.keyid)
                _LOGGER.warning("Peer %s revoked its key; pair again in person", peer.fingerprint)
                node.hooks.on_change("outbox")
            case _:  # "vouch": the schema admits no other type here
                self._accept_vouch(peer, envelope, now)
        node.hooks.on_change("state")

    def _relay(self, peer: Peer, envelope: Envelope, now: int) -> Envelope:
        """Pass a relayable message on to our neighbors if its hop budget allows."""
        node = self._node
        if envelope.hops < int(envelope.body["max_hops"]):  # type: ignore[arg-type]
            # A message that may travel on must carry a valid end-to-end signature, even
            # when the originator's hop signature let open_envelope skip it: others will
            # verify what we relay, and we never relay what we did not verify. Checked
            # whether or not this home relays, so what it keeps is the same either way.
            envelope = verify_envelope(envelope)
            if not node.relaying or not self._relay_budget(peer, envelope, now):
                return envelope
            relayed = envelope.relayed()
            for neighbor in node.peers.active_neighbors():
                if neighbor.keyid not in {peer.keyid, envelope.sender}:
                    node.sending.queue(neighbor.keyid, relayed, now)
        return envelope

    def _relay_again(self, peer: Peer, envelope: Envelope, now: int) -> None:
        """A duplicate with fewer hops than any copy before: relayed again, not shown again.

        The hop count is signed by nobody: a neighbor that hands us a copy with its hops
        raised to max_hops first would otherwise make the honest copy a duplicate that goes
        no further, and homes that only we reach would never hear it. The owner's side was
        told of the first copy and is not told again.
        """
        origin = self._node.peers.get(envelope.sender)
        if envelope.type == "alert" or _carries_requests_of(origin):
            self._relay(peer, envelope, now)
        self._node.hooks.on_change("state")  # the lower count is saved (dedupe.py)

    def _relay_budget(self, peer: Peer, envelope: Envelope, now: int) -> bool:
        """Whether an alert's originator may have one more alert relayed by this home.

        Our neighbors count what we relay against our own per-peer budget, so without this a
        neighbor signing alerts with keys it mints, each an originator of its own, would
        spend all of it and leave no room for our own alerts or anyone else's relays. An
        originator nobody pinned counts as the neighbor that handed it over, which shares its
        own budget with every key it mints. Footage requests are relayed from agencies this
        home trusts only.
        """
        if envelope.type != "alert":
            return True
        who = envelope.sender if self._node.peers.get(envelope.sender) is not None else peer.keyid
        if self._relay_rate.allow(who, now):
            return True
        _LOGGER.debug(
            "Alert %s kept here, not relayed: its relay budget is spent", envelope.event_id
        )
        return False

    def _accept_request(self, peer: Peer, envelope: Envelope, now: int) -> None:
        """Relay a footage request if we trust its agency, and hand it to the owner's side.

        Relaying never depends on whether this home lies in the area (that would tell the
        neighbors, and through them the agency, something about where the home is). A home
        does carry requests only from agencies its owner trusts.
        """
        origin = self._node.peers.get(envelope.sender)
        if _carries_requests_of(origin):
            envelope = self._relay(peer, envelope, now)
        self._node.hooks.on_request(envelope, origin, peer)

    def _accept_vouch(self, peer: Peer, envelope: Envelope, now: int) -> None:
        peers = self._node.peers
        body = envelope.body
        agency_key = b64u_decode(str(body["agency_key"]), 32)
        if keyid(agency_key) != body["agency"]:
            msg = "agency is not the fingerprint of agency_key"
            raise SchemaError(msg)
        vouch = Vouch(str(body["agency"]), agency_key, str(body["name"]), peer.keyid, now)
        peers.vouches = [v for v in peers.vouches if (v.agency, v.by) != (vouch.agency, vouch.by)]
        peers.vouches.append(vouch)

    def _store(self, envelope: Envelope) -> None:
        """Keep an accepted alert or offer, and tell the owner's side."""
        self._node.received.append(envelope)
        self._node.hooks.on_message(envelope)


def _carries_requests_of(origin: Peer | None) -> bool:
    """Whether this home relays the footage requests of origin: an agency its owner trusts."""
    return origin is not None and origin.role == "agency" and origin.trusted and not origin.pending


def _check_standing(peer: Peer, which: str) -> None:
    """Refuse a peer the owner has not trusted (an agency) or not confirmed yet (R3.3)."""
    if peer.role == "agency" and not peer.trusted:
        msg = f"the owner has not trusted the agency {which}"
        raise UntrustedError(msg)
    if peer.pending:
        msg = f"the owner has not confirmed the pairing with the peer {which}"
        raise PairingUnconfirmedError(msg)
