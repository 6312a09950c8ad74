"""One federation participant (a home or an agency): inbox, pairing, outbox, keys.

The node is transport-neutral: `handle_inbox` and `handle_pair` take the request line, the
headers and a body reader, and return a Reply or raise a ProtocolError. The standalone aiohttp
server (transport.py) and Home Assistant's views both wrap these same methods, so the tests,
the benchmark and the integration run one verification path.

Order of checks on the inbox, cheapest first (docs/protocol.md §5): content type, declared
length, signature header shape, keyid lookup (unknown keys stop here: no body read, no
crypto), authority, rate limit per claimed key and address, time window, body read, digest
and signature, per-peer rate limit, nonce replay, strict JSON, envelope schema and signature,
authorization, dedupe, dispatch.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from dataclasses import dataclass, field, replace
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Final, Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from . import canonical
from .canonical import JSON, b64u, b64u_decode, canon
from .errors import (
    BodyTooLargeError,
    ClockSkewError,
    DestinationRefusedError,
    EvidenceError,
    ForbiddenError,
    InviteGoneError,
    InviteInvalidError,
    MessageSignatureError,
    PairingCodeError,
    PeerRefusedError,
    PeerUnreachableError,
    RateLimitedError,
    RevokedKeyError,
    SchemaError,
    SenderMismatchError,
    UnauthenticatedError,
    UntrustedError,
    WrongAuthorityError,
    WrongRecipientError,
)
from .evidence import verify_manifest
from .httpsig import (
    Headers,
    Hop,
    authorities,
    authority_of,
    check_content_type,
    check_times,
    claimed_keyid,
    new_nonce,
    parse_hop,
    verify_hop,
)
from .identity import grouped, keyid, verify
from .invites import Invite, InviteBook, accepted_token_hashes, pairing_code
from .messages import (
    BROADCAST,
    INVITE_TOKEN,
    TYPES,
    Envelope,
    open_envelope,
    seal,
    transition_statement,
    valid_url,
    verify_envelope,
)
from .outbox import RETRYABLE_STATUS, Outbox, OutboxEntry
from .peers import Peer, PeerRegistry, Role, Vouch
from .ratelimit import RateLimiter, address_key
from .replay import ReplayCache

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from .clock import Clock
    from .identity import Identity

_LOGGER = logging.getLogger(__name__)

API_PREFIX: Final = "/api/porchlight/v1"
INBOX: Final = "/inbox"
PAIR: Final = "/pair"
OFFER: Final = "/offer"
IDENTITY: Final = "/identity"
PAIRING_LIFETIME: Final = 300
# R2.9: a peer's clock_skew refusal showing our clock this far off is worth telling the owner.
CLOCK_OFFSET_LIMIT: Final = 30
KEY_MESSAGE_LIFETIME: Final = 7 * 86400
_IDENTITY_DOMAIN: Final = b"porchlight-identity-v1\n"
_STATE_FORMAT: Final = 1


class PairingUnconfirmedError(ForbiddenError):
    """A message from a peer whose pairing code the owner has not confirmed yet (R3.3)."""

    code = "pairing_unconfirmed"


class StaleTransitionError(ForbiddenError):
    """A key transition whose sequence number is not newer than the last one."""

    code = "stale_transition"


# Seconds a request may take to arrive in full, on HA's port and the federation port alike.
REQUEST_TIMEOUT: Final = 10.0


@dataclass(frozen=True, slots=True)
class Settings:
    """Limits and self-description of a node."""

    name: str
    role: Role = "neighbor"
    max_body: int = 65536
    max_pair_body: int = 4096
    # From the moment a route starts on a request to the body's last byte (408 after it).
    body_timeout: float = REQUEST_TIMEOUT
    per_peer_per_minute: int = 60
    pair_per_minute: int = 5
    offer_per_minute: int = 120
    received_max: int = 1000
    dedupe_max: int = 10_000


@dataclass(frozen=True, slots=True)
class Incoming:
    """The parts of an HTTP request the node looks at (query without its '?')."""

    method: str
    authority: str
    path: str
    query: str
    headers: Headers
    content_length: int | None
    remote: str


@dataclass(frozen=True, slots=True)
class Reply:
    """A successful answer."""

    status: int
    payload: dict[str, JSON]


type ReadBody = Callable[[int], Awaitable[bytes]]
type ChangeListener = Callable[[str], None]
# A footage request for this home: the envelope, the originating agency as this home knows it
# (None: not paired here) and the peer that handed it over.
type RequestListener = Callable[[Envelope, Peer | None, Peer], None]
# An offer of ours was delivered (error None) or given up and parked (the error): its request.
type OfferListener = Callable[[str, str | None], None]


class Sender(Protocol):
    """Outbound transport: POST signed bytes, return the status and the parsed reply."""

    async def post(
        self, identity: Identity, url: str, body: bytes, *, lan: bool = False
    ) -> tuple[int, JSON]:
        """Send body to url with a hop signature by identity (private addresses if lan)."""
        ...


@dataclass(slots=True)
class Node:
    """A home or agency on the federation."""

    identity: Identity
    settings: Settings
    clock: Clock
    endpoints: list[str] = field(default_factory=list)
    peers: PeerRegistry = field(default_factory=PeerRegistry)
    invites: InviteBook = field(default_factory=InviteBook)
    outbox: Outbox = field(default_factory=lambda: Outbox(None))
    key_seq: int = 0
    on_change: ChangeListener | None = None
    on_message: Callable[[Envelope], None] | None = None
    on_request: RequestListener | None = None
    on_offer: OfferListener = field(default=lambda _request, _error: None)
    # Called with the remote address and the exact bytes of a reply that carries data (the
    # pair_accept) before it is sent, wherever it is served: the home's audit log.
    record_reply: Callable[[str, bytes], Awaitable[None]] | None = None
    # Footage requests this node (an agency) issued: event id -> expiry. Offers are accepted
    # for these only.
    issued: dict[str, int] = field(default_factory=dict)
    signers: dict[str, Identity] = field(init=False)
    received: deque[Envelope] = field(init=False)
    replay: ReplayCache = field(default_factory=ReplayCache)
    clock_offset: int | None = field(init=False, default=None)
    started: int = field(init=False)
    _delivering: bool = field(init=False, default=False)
    _deliver_again: bool = field(init=False, default=False)
    _stopped: bool = field(init=False, default=False)
    _idle: asyncio.Event = field(init=False, default_factory=asyncio.Event)
    _events: dict[str, int] = field(init=False, default_factory=dict)
    _rate: RateLimiter = field(init=False)
    _claimed_rate: RateLimiter = field(init=False)
    _pair_rate: RateLimiter = field(init=False)
    _offer_rate: RateLimiter = field(init=False)
    _authorities: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        """Derive caches from the settings."""
        self.signers = {self.identity.keyid: self.identity}
        self.started = self.clock.now()
        self.received = deque(maxlen=self.settings.received_max)
        self._rate = RateLimiter(self.settings.per_peer_per_minute)
        self._claimed_rate = RateLimiter(self.settings.per_peer_per_minute)
        self._pair_rate = RateLimiter(self.settings.pair_per_minute)
        self._offer_rate = RateLimiter(self.settings.offer_per_minute)
        self._authorities = authorities(self.endpoints)
        self._idle.set()

    # --- state -------------------------------------------------------------------------------
    @property
    def endpoint(self) -> str | None:
        """The endpoint put in invites and pairing requests (the first advertised)."""
        return self.endpoints[0] if self.endpoints else None

    def advertise(self, endpoint: str) -> None:
        """Make endpoint (URL, API prefix included) the one invites carry.

        Endpoints advertised before stay accepted as @authority: peers paired through them
        keep sending there.
        """
        endpoint = endpoint.rstrip("/")
        if not valid_url(endpoint):
            # Peers would refuse every invite and pairing request carrying it (400 schema).
            msg = "not a usable endpoint URL"
            raise ValueError(msg)
        if self.endpoints[:1] == [endpoint]:
            return
        self.endpoints = [endpoint, *(e for e in self.endpoints if e != endpoint)]
        self._authorities = authorities(self.endpoints)
        self._changed("state")

    def _told(self, authority: str) -> str:
        """Which of our endpoints a redeemer reached us at: the one its invite carried.

        The authority was checked against the advertised endpoints (_check_authority), so
        one of them matches.
        """
        return next(e for e in self.endpoints if authority_of(e) == authority)

    def state_json(self) -> dict[str, Any]:
        """Everything but the keys and the outbox, for storage."""
        return {
            "format": _STATE_FORMAT,
            "endpoints": list(self.endpoints),
            "key_seq": self.key_seq,
            "peers": self.peers.to_json(),
            "invites": self.invites.to_json(),
            "issued": dict(self.issued),
        }

    def load_state(self, data: dict[str, Any]) -> None:
        """Restore what state_json saved."""
        self.endpoints = list(data["endpoints"])
        self._authorities = authorities(self.endpoints)
        self.key_seq = data["key_seq"]
        self.peers = PeerRegistry.from_json(data["peers"])
        self.invites = InviteBook.from_json(data["invites"])
        self.issued = dict(data.get("issued", {}))

    def _changed(self, what: str) -> None:
        if self.on_change is not None:
            self.on_change(what)

    def identity_document(self) -> dict[str, JSON]:
        """The public, self-signed description of this node (no name: it may be an address)."""
        doc: dict[str, JSON] = {
            "v": 1,
            "keyid": self.identity.keyid,
            "fingerprint": self.identity.fingerprint,
            "key": b64u(self.identity.public_key),
            "role": self.settings.role,
        }
        doc["sig"] = b64u(self.identity.sign(_IDENTITY_DOMAIN + canon(doc)))
        return doc

    # --- receiving ---------------------------------------------------------------------------
    def _check_length(self, request: Incoming, limit: int) -> None:
        if request.content_length is None:
            msg = "Content-Length is required"
            raise BodyTooLargeError(msg)
        if request.content_length > limit:
            msg = f"body larger than {limit} bytes"
            raise BodyTooLargeError(msg)

    def _check_times(self, hop: Hop, now: int) -> None:
        """The signature window (§4), which starts no earlier than this node did.

        The replay cache lives in memory: after a restart it cannot tell a replay of a
        request signed before from a new one, so a signature older than the node is
        refused like a skewed one (senders retry those with a fresh signature).
        """
        check_times(hop, now)
        if hop.created < self.started:
            msg = "signed before this instance started; sign again"
            raise ClockSkewError(msg, server_time=now)

    def _check_authority(self, request: Incoming) -> None:
        if request.authority not in self._authorities:
            msg = "this instance does not answer for that host"
            raise WrongAuthorityError(msg)

    def unknown_key(self, signature_input: str | None) -> bool:
        """Step 0 of the inbox: does the raw Signature-Input name a key nobody pinned?

        One regular-expression search and two dict probes: a flood of requests signed by
        strangers is refused before any other header, the body or any cryptography is looked
        at (the transport answers with a prebuilt 401 unknown_key). Anything else, including
        a missing or malformed header, goes through handle_inbox in full.
        """
        key_id = claimed_keyid(signature_input)
        return key_id is not None and not self.peers.knows(key_id)

    async def handle_inbox(self, request: Incoming, read_body: ReadBody) -> Reply:
        """Verify, authorize and act on one signed message from a paired peer."""
        now = self.clock.now()
        check_content_type(request.headers)
        self._check_length(request, self.settings.max_body)
        hop = parse_hop(request.headers)
        peer, key = self.peers.resolve(hop.keyid)
        self._check_authority(request)
        # Before any crypto, the budget of this key *from this address*: keyids are public,
        # so a stranger naming a peer's keyid must not spend that peer's own budget.
        if not self._claimed_rate.allow(f"{peer.keyid} {address_key(request.remote)}", now):
            msg = "too many requests from this address for this peer"
            raise RateLimitedError(msg)
        self._check_times(hop, now)
        body = await read_body(self.settings.max_body)
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
        self.replay.check_and_add(hop.keyid, hop.nonce, hop.created, now)
        # loads() accepts canonical bytes only, so obj is exactly what the hop signature
        # covered: a message straight from its originator needs no second verification.
        obj = canonical.loads(body)
        envelope = open_envelope(obj, now=now, hop_signer=(peer.keyid, peer.public_key))
        self._authorize(peer, envelope)
        if envelope.event_id in self._events:
            return Reply(HTTPStatus.OK, {"status": "duplicate", "event_id": envelope.event_id})
        self._dispatch(peer, envelope, now)
        self._remember(envelope, now)
        return Reply(HTTPStatus.ACCEPTED, {"status": "accepted", "event_id": envelope.event_id})

    def _authorize(self, peer: Peer, envelope: Envelope) -> None:
        spec = TYPES[envelope.type]
        if envelope.type in {"pair_request", "pair_accept"}:
            msg = "pairing messages go to the pairing endpoint"
            raise SchemaError(msg)
        if envelope.to not in {self.identity.keyid, BROADCAST}:
            msg = "message addressed to another instance"
            raise WrongRecipientError(msg)
        if envelope.sender != peer.keyid:
            # Only relayable messages may come through someone else, and a relay always
            # counts a hop: a hop-0 message must come from its originator's own key.
            if not spec.relayable or envelope.hops == 0:
                msg = "message claims another sender than the signing key"
                raise SenderMismatchError(msg)
            if envelope.sender in self.peers.revoked:
                msg = "the originator's key was revoked"
                raise RevokedKeyError(msg)
            # A relayed alert from someone we pinned counts as theirs: the same rules apply.
            # Footage requests are exempt: one from an agency this home does not trust is
            # accepted and then rejected silently at home (consent/rules.py), so the agency
            # learns nothing.
            origin = self.peers.get(envelope.sender)
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

    def _check_open_request(self, request_id: JSON) -> None:
        """An offer must answer a request this node issued and that is still open."""
        expires = self.issued.get(request_id) if isinstance(request_id, str) else None
        if self.settings.role != "agency" or expires is None or expires < self.clock.now():
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
            or manifest.agency != self.identity.keyid
        ):
            msg = "the evidence manifest is not the sender's answer to this request for us"
            raise EvidenceError(msg)

    def _dispatch(self, peer: Peer, envelope: Envelope, now: int) -> None:
        match envelope.type:
            case "alert":
                self._accept_alert(peer, envelope, now)
            case "footage_request":
                self._accept_request(peer, envelope, now)
            case "footage_offer":
                self._store(envelope)
            case "key_transition":
                self._accept_transition(peer, envelope)
            case "revoke":
                self.peers.revoke(peer.keyid, now)
                self.outbox.drop_peer(peer.keyid)
                _LOGGER.warning("Peer %s revoked its key; pair again in person", peer.fingerprint)
                self._changed("outbox")
            case _:  # "vouch": the schema admits no other type here
                self._accept_vouch(peer, envelope, now)
        self._changed("state")

    def _relay(self, peer: Peer, envelope: Envelope, now: int) -> Envelope:
        """Pass a relayable message on to our neighbors if its hop budget allows."""
        if envelope.hops < int(envelope.body["max_hops"]):  # type: ignore[arg-type]
            # A message that may travel on must carry a valid end-to-end signature, even
            # when the originator's hop signature let open_envelope skip it: others will
            # verify what we relay, and we never relay what we did not verify.
            envelope = verify_envelope(envelope)
            relayed = envelope.relayed()
            for neighbor in self.peers.active_neighbors():
                if neighbor.keyid not in {peer.keyid, envelope.sender}:
                    self._queue(neighbor.keyid, relayed, now)
        return envelope

    def _accept_alert(self, peer: Peer, envelope: Envelope, now: int) -> None:
        self._store(self._relay(peer, envelope, now))

    def _accept_request(self, peer: Peer, envelope: Envelope, now: int) -> None:
        """Relay a footage request if we trust its agency, and hand it to the owner's side.

        Relaying never depends on whether this home lies in the area (that would tell the
        neighbors, and through them the agency, something about where the home is). A home
        does carry requests only from agencies its owner trusts.
        """
        origin = self.peers.get(envelope.sender)
        if origin is not None and origin.role == "agency" and origin.trusted and not origin.pending:
            envelope = self._relay(peer, envelope, now)
        if self.on_request is not None:
            self.on_request(envelope, origin, peer)

    def _accept_transition(self, peer: Peer, envelope: Envelope) -> None:
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
        taken = self.peers.knows(keyid(new_key)) or keyid(new_key) == self.identity.keyid
        if taken:  # pinned by someone else, revoked, or ours
            msg = "the new key belongs to someone else"
            raise ForbiddenError(msg)
        rotated = self.peers.rotate(peer.keyid, new_key, seq)
        _LOGGER.info("Peer %s rotated its key to %s", peer.fingerprint, rotated.fingerprint)
        # What we queued for the old key goes to the new one; messages we addressed to the
        # old keyid are signed again for the new one (the peer would refuse them otherwise).
        self.outbox.rewrite(
            lambda entry: (
                replace(
                    entry, peer=rotated.keyid, payload=self._reseal(entry.payload, to=rotated.keyid)
                )
                if entry.peer == peer.keyid
                else entry
            )
        )
        self._changed("outbox")

    def _accept_vouch(self, peer: Peer, envelope: Envelope, now: int) -> None:
        body = envelope.body
        agency_key = b64u_decode(str(body["agency_key"]), 32)
        if keyid(agency_key) != body["agency"]:
            msg = "agency is not the fingerprint of agency_key"
            raise SchemaError(msg)
        vouch = Vouch(str(body["agency"]), agency_key, str(body["name"]), peer.keyid, now)
        self.peers.vouches = [
            v for v in self.peers.vouches if (v.agency, v.by) != (vouch.agency, vouch.by)
        ]
        self.peers.vouches.append(vouch)

    def _store(self, envelope: Envelope) -> None:
        self.received.append(envelope)
        if self.on_message is not None:
            self.on_message(envelope)

    def _remember(self, envelope: Envelope, now: int) -> None:
        if len(self._events) >= self.settings.dedupe_max:
            self._events = {k: v for k, v in self._events.items() if v >= now}
            if len(self._events) >= self.settings.dedupe_max:
                # Still full of live events: forget the oldest half (dicts keep insertion
                # order). Re-delivering one of them still takes a fresh hop signature by a
                # paired peer, so this costs dedupe precision, not authenticity.
                for key in list(self._events)[: len(self._events) // 2]:
                    del self._events[key]
        self._events[envelope.event_id] = envelope.expires

    async def _self_signed(
        self, request: Incoming, read_body: ReadBody, limit: int, rate: RateLimiter
    ) -> tuple[int, Hop, bytes, JSON]:
        """The cheap checks of a request from a key not pinned yet (pairing, offers).

        Content type, declared length, a per-address rate limit, authority, hop header
        shape and time window come before the body is read; the caller verifies the hop
        with the key the message itself introduces.
        """
        now = self.clock.now()
        check_content_type(request.headers)
        self._check_length(request, limit)
        if not rate.allow(address_key(request.remote), now):
            msg = "too many requests from this address"
            raise RateLimitedError(msg)
        self._check_authority(request)
        hop = parse_hop(request.headers)
        if hop.keyid in self.peers.revoked:
            # A revoked key stays revoked: a thief holding it can neither offer footage in
            # its name nor pair it again.
            msg = "this key was revoked by its owner"
            raise RevokedKeyError(msg)
        self._check_times(hop, now)
        body = await read_body(limit)
        return now, hop, body, canonical.loads(body)

    async def handle_pair(self, request: Incoming, read_body: ReadBody) -> Reply:
        """Redeem an invite: pin the redeemer's key and answer with a signed pair_accept."""
        now, hop, body, obj = await self._self_signed(
            request, read_body, self.settings.max_pair_body, self._pair_rate
        )
        # The token is looked up before any cryptography: without an open invite the
        # request is refused for the price of one hash.
        digest = self.invites.check(_peek_token(obj), now)
        try:
            envelope = _verify_redemption(request, hop, obj, body, now)
        except UnauthenticatedError, MessageSignatureError, SenderMismatchError:
            self.invites.fail(digest)
            self._changed("state")
            raise
        self.replay.check_and_add(hop.keyid, hop.nonce, hop.created, now)
        if envelope.to != self.identity.keyid:
            msg = "invite redeemed at the wrong instance"
            raise WrongRecipientError(msg)
        accept = seal(
            self.identity,
            "pair_accept",
            {"token_hash": digest, "name": self.settings.name, "role": self.settings.role},
            to=envelope.sender,
            now=now,
            lifetime=PAIRING_LIFETIME,
            message_id=new_nonce(),
        )
        payload = accept.to_json()
        if self.record_reply is not None:
            # Written ahead, like everything that leaves: if recording fails, nothing is
            # consumed or pinned and the redeemer may try again.
            await self.record_reply(request.remote, canon(payload))
        self.invites.consume(digest)
        role: Role = "agency" if envelope.body["role"] == "agency" else "neighbor"
        peer = Peer(
            keyid=envelope.sender,
            public_key=envelope.sender_key,
            role=role,
            name=str(envelope.body["name"]),
            endpoint=str(envelope.body["endpoint"]),
            paired_at=now,
            trusted=role == "neighbor",
            lan=self.invites.allows_lan(digest),
            pending=True,
            pairing_code=pairing_code(self.identity.public_key, envelope.sender_key, digest),
            told=self._told(request.authority),
        )
        self.peers.add(peer)
        self._changed("state")
        _LOGGER.info("Paired with %s %s", role, peer.fingerprint)
        return Reply(HTTPStatus.OK, payload)

    async def handle_offer(self, request: Incoming, read_body: ReadBody) -> Reply:
        """An agency's offer endpoint: a home's answer to one of our requests.

        Homes that answer may never have paired with the agency (the request reached them
        through their neighbors, and the agency is not told who was asked), so the sender's
        key comes from the offer itself: both the hop and the envelope must be signed by it,
        and the offer must name an open request this agency issued.
        """
        now, hop, body, obj = await self._self_signed(
            request, read_body, self.settings.max_body, self._offer_rate
        )
        if not isinstance(obj, dict) or obj.get("type") != "footage_offer":
            msg = "the offer endpoint takes footage_offer only"
            raise SchemaError(msg)
        # Before any cryptography or nonce: an offer for no open request of ours costs a
        # dict lookup, and strangers cannot fill the replay cache the inbox shares.
        body_obj = obj.get("body")
        self._check_open_request(body_obj.get("request") if isinstance(body_obj, dict) else None)
        envelope = _verify_redemption(request, hop, obj, body, now)
        if envelope.to != self.identity.keyid:
            msg = "offer addressed to another instance"
            raise WrongRecipientError(msg)
        self._check_offer(envelope)
        self.replay.check_and_add(hop.keyid, hop.nonce, hop.created, now)
        if envelope.event_id in self._events:
            return Reply(HTTPStatus.OK, {"status": "duplicate", "event_id": envelope.event_id})
        self._store(envelope)
        self._remember(envelope, now)
        return Reply(HTTPStatus.ACCEPTED, {"status": "accepted", "event_id": envelope.event_id})

    # --- footage requests (agency side) ------------------------------------------------------
    def request_footage(
        self, body: dict[str, JSON], *, lifetime: int, peers: list[str] | None = None
    ) -> Envelope:
        """Sign a footage request and queue it for the given homes (default: every active one).

        The request is addressed to everyone: the homes relay it to their neighbors.
        """
        now = self.clock.now()
        envelope = seal(
            self.identity,
            "footage_request",
            body,
            to=BROADCAST,
            now=now,
            lifetime=lifetime,
            message_id=new_nonce(),
        )
        targets = peers if peers is not None else [p.keyid for p in self.peers.active_neighbors()]
        self.issued = {k: v for k, v in self.issued.items() if v >= now}
        self.issued[envelope.event_id] = envelope.expires
        self._remember(envelope, now)
        for target in targets:
            self._queue(target, envelope, now)
        self._changed("state")
        return envelope

    # --- pairing as the invitee --------------------------------------------------------------
    def create_invite(self, *, lifetime: int | None = None, lan: bool = False) -> Invite:
        """Issue a one-time invite for this node's endpoint (lan: the redeemer may be local)."""
        if self.endpoint is None:
            msg = "advertise an endpoint before inviting"
            raise ValueError(msg)
        invite = self.invites.issue(
            self.identity,
            endpoint=self.endpoint,
            role=self.settings.role,
            name=self.settings.name,
            now=self.clock.now(),
            lan=lan,
            **({"lifetime": lifetime} if lifetime is not None else {}),
        )
        self._changed("state")
        return invite

    async def accept_invite(self, text: str, sender: Sender, *, lan: bool = False) -> Peer:
        """Redeem someone's invite over the network; pin their key once they answer.

        The peer stays pending until the owner confirms the pairing code (R3.3); lan lets
        its endpoint be a private address (R2.7).
        """
        invite = self._usable_invite(text)
        now = self.clock.now()
        if invite.expires < now:
            msg = "the invite has expired"
            raise InviteGoneError(msg)
        if self.endpoint is None:
            msg = "advertise an endpoint before pairing"
            raise ValueError(msg)
        request = seal(
            self.identity,
            "pair_request",
            {
                "token": invite.token,
                "name": self.settings.name,
                "endpoint": self.endpoint,
                "role": self.settings.role,
            },
            to=invite.keyid,
            now=now,
            lifetime=PAIRING_LIFETIME,
            message_id=new_nonce(),
        )
        status, reply = await sender.post(
            self.identity, invite.endpoint + PAIR, request.encode(), lan=lan
        )
        if status != HTTPStatus.OK:
            code = reply.get("error") if isinstance(reply, dict) else None
            raise PeerRefusedError(status, str(code or "unknown"))
        accept = open_envelope(reply, now=self.clock.now())
        if (
            accept.type != "pair_accept"
            or accept.sender_key != invite.public_key
            or accept.to != self.identity.keyid
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
                self.identity.public_key, invite.public_key, str(accept.body["token_hash"])
            ),
            told=self.endpoint,
        )
        self.peers.add(peer)
        self._changed("state")
        return peer

    def _usable_invite(self, text: str) -> Invite:
        """Parse an invite that is not our own and not for a key that was revoked."""
        invite = Invite.from_text(text)
        if invite.keyid == self.identity.keyid:
            msg = "this is our own invite"
            raise InviteInvalidError(msg)
        if invite.keyid in self.peers.revoked:
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
        invite = self._usable_invite(text)
        known = self.peers.get(invite.keyid)
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
                paired_at=self.clock.now(),
                trusted=False,
                lan=bool(lan),
            )
        self.peers.add(peer)
        self._changed("state")
        return peer

    def confirm_pairing(self, key_id: str, code: str | None = None) -> Peer:
        """The owner compared the pairing code with the other owner: activate the peer.

        With code, it must equal the one this side computed (spaces and dashes ignored);
        PairingCodeError otherwise, and the peer stays pending. UnknownKeyError if key_id is
        not paired.
        """
        peer, _ = self.peers.resolve(key_id)
        if code is not None and code.replace(" ", "").replace("-", "") != peer.pairing_code:
            msg = "the pairing code does not match"
            raise PairingCodeError(msg)
        confirmed = self.peers.confirm(key_id)
        self._changed("state")
        return confirmed

    # --- sending -----------------------------------------------------------------------------
    def _queue(
        self,
        peer: str,
        envelope: Envelope,
        now: int,
        signer: str | None = None,
        route: str = INBOX,
    ) -> None:
        queued = self.outbox.enqueue(
            peer=peer,
            payload=envelope.encode().decode("utf-8"),
            signer=signer or self.identity.keyid,
            expires=envelope.expires,
            now=now,
            route=route,
        )
        if not queued:
            _LOGGER.warning("Outbox full; a message for %s was dropped", grouped(peer))
        self._changed("outbox")

    def broadcast_alert(self, text: str, *, max_hops: int = 1, lifetime: int = 3600) -> Envelope:
        """Sign an alert and queue it for every paired neighbor."""
        now = self.clock.now()
        envelope = seal(
            self.identity,
            "alert",
            {"text": text, "max_hops": max_hops},
            to=BROADCAST,
            now=now,
            lifetime=lifetime,
            message_id=new_nonce(),
        )
        self._remember(envelope, now)  # our own alert coming back through a relay is a dup
        for neighbor in self.peers.active_neighbors():
            self._queue(neighbor.keyid, envelope, now)
        return envelope

    def send(
        self,
        peer: str,
        msg_type: str,
        body: dict[str, JSON],
        *,
        lifetime: int,
        route: str = INBOX,
    ) -> Envelope:
        """Sign a direct message to one peer and queue it (for its inbox unless told)."""
        now = self.clock.now()
        envelope = seal(
            self.identity,
            msg_type,
            body,
            to=peer,
            now=now,
            lifetime=lifetime,
            message_id=new_nonce(),
        )
        self._queue(peer, envelope, now, route=route)
        return envelope

    def rotate(self, new_identity: Identity, *, compromised: bool = False) -> None:
        """Switch to a new key and tell every peer, signed by the old key.

        A routine rotation sends key_transition (signed by both keys); after a compromise,
        revoke (peers drop the key and must pair again in person). The old key stays in
        `signers` until the outbox no longer needs it to sign those messages.
        """
        old = self.identity
        now = self.clock.now()
        self.key_seq += 1
        queued = {e.id for e in self.outbox}
        for peer in self.peers:
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
                    old.public_key, new_identity.public_key, self.key_seq
                )
                envelope = seal(
                    old,
                    "key_transition",
                    {
                        "new_key": b64u(new_identity.public_key),
                        "seq": self.key_seq,
                        "new_sig": b64u(new_identity.sign(statement)),
                    },
                    to=peer.keyid,
                    now=now,
                    lifetime=KEY_MESSAGE_LIFETIME,
                    message_id=new_nonce(),
                )
            self._queue(peer.keyid, envelope, now, signer=old.keyid)
        self.identity = new_identity
        self.signers[new_identity.keyid] = new_identity

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

        self.outbox.rewrite(move)
        self._changed("state")
        self._changed("outbox")

    def _reseal(self, payload: str, *, by: Identity | None = None, to: str | None = None) -> str:
        """A queued message we originated, signed again (by `by`, else by its own key).

        Addressed to `to` instead, if it was addressed to one peer. Anyone else's message
        (one we relay) stays as it is: it keeps its originator's signature.
        """
        obj = canonical.loads(payload.encode())
        sealer = self.signers.get(str(obj.get("from"))) if isinstance(obj, dict) else None
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

    def _observe_clock(self, status: int, reply: JSON) -> bool:
        """Track our clock's offset from what peers answer (R2.9); True for clock_skew.

        `clock_offset` (our time minus the peer's, in seconds) is set when a refusal shows
        it beyond CLOCK_OFFSET_LIMIT and cleared by the next accepted delivery; each change
        is reported as "clock". The peer's word is unsigned (R1.5): it is shown to the
        owner, never acted on.
        """
        server_time = _server_time(status, reply)
        if server_time is not None:
            offset = self.clock.now() - server_time
            if abs(offset) > CLOCK_OFFSET_LIMIT and offset != self.clock_offset:
                self.clock_offset = offset
                self._changed("clock")
            return True
        if HTTPStatus.OK <= status < HTTPStatus.MULTIPLE_CHOICES and self.clock_offset is not None:
            self.clock_offset = None
            self._changed("clock")
        return False

    def _waiting_for_key_messages(self) -> set[str]:
        """Peers with a key message of ours still queued (signed by a key we retired)."""
        return {e.peer for e in self.outbox if e.signer != self.identity.keyid}

    async def deliver(self, sender: Sender) -> int:
        """Try every due outbox entry once; return how many were delivered.

        One round at a time: a call while a round runs (the timer, an approval) returns 0
        at once and makes the running round go again when it is done, so nothing is sent
        twice by overlapping rounds and nothing queued meanwhile waits for the next timer.
        """
        if self._stopped:
            return 0
        if self._delivering:
            self._deliver_again = True
            return 0
        self._delivering = True
        self._idle.clear()
        try:
            delivered = 0
            while True:
                self._deliver_again = False
                delivered += await self._deliver_round(sender)
                if not self._deliver_again or self._stopped:
                    return delivered
        finally:
            self._delivering = False
            self._idle.set()

    async def stop_delivering(self) -> None:
        """Start no more attempts; return once the one under way has been recorded.

        Whoever saves the outbox after this (an unload) saves what the peers answered: an
        answer arriving after the save would be lost, and a reloaded home would read the
        delivered message back and send it again.
        """
        self._stopped = True
        await self._idle.wait()

    def offers(self, request_id: str) -> list[OutboxEntry]:
        """Our queued offers answering request_id, parked ones included."""
        return [e for e in self.outbox if e.route == OFFER and _offer_of(e)[0] == request_id]

    def offer_entry(self, envelope: Envelope) -> OutboxEntry | None:
        """The queued entry of an offer we sent, None once it left the outbox."""
        request = str(envelope.body["request"])
        return next((e for e in self.offers(request) if _offer_of(e)[1] == envelope.id), None)

    def retry_offers(self, request_id: str) -> int:
        """Put the parked offers answering request_id back in line; how many."""
        count = self.outbox.retry(
            [e for e in self.offers(request_id) if e.parked], self.clock.now()
        )
        self._changed("outbox")
        return count

    async def _deliver_round(self, sender: Sender) -> int:
        now = self.clock.now()
        delivered = 0
        current = self.identity.keyid
        # Key messages (signed by a key we retired) go first, and a peer that has not taken
        # its key message yet does not know our new key: nothing signed by it goes there.
        due = sorted(self.outbox.due(now), key=lambda e: e.signer == current)
        waiting = self._waiting_for_key_messages()
        for entry in due:
            if self._stopped:
                break
            if entry.signer == current and entry.peer in waiting:
                continue
            delivered += await self._deliver_one(sender, entry, now)
            if entry.signer != current:
                waiting = self._waiting_for_key_messages()
        # Retired keys are forgotten once nothing queued needs them.
        needed = self.outbox.signers() | {self.identity.keyid}
        self.signers = {k: v for k, v in self.signers.items() if k in needed}
        self._changed("outbox")
        return delivered

    async def _deliver_one(self, sender: Sender, entry: OutboxEntry, now: int) -> bool:
        """One attempt at one entry; whatever happens is recorded in the outbox."""
        peer = self.peers.get(entry.peer)
        signer = self.signers.get(entry.signer)
        if peer is None or signer is None:
            self._failed(entry, now, "peer or key gone", retry=False)
            return False
        try:
            status, reply = await sender.post(
                signer, peer.endpoint + entry.route, entry.payload.encode(), lan=peer.lan
            )
        except DestinationRefusedError as err:
            # Not a network hiccup: the pinned endpoint is a private address (R2.7).
            self._failed(entry, now, f"refused: {err}", retry=False)
            return False
        except PeerUnreachableError as err:
            self._failed(entry, now, f"unreachable: {err}", retry=True)
            return False
        except Exception as err:  # noqa: BLE001  # one entry must never stop the round
            _LOGGER.warning(
                "Delivery to %s failed unexpectedly (%s)", peer.fingerprint, type(err).__name__
            )
            self._failed(entry, now, f"error: {type(err).__name__}", retry=False)
            return False
        skewed = self._observe_clock(status, reply)
        if HTTPStatus.OK <= status < HTTPStatus.MULTIPLE_CHOICES:
            self.outbox.delivered(entry)
            if entry.route == OFFER:
                self.on_offer(_offer_of(entry)[0], None)
            return True
        # A clock_skew refusal is ours to fix (R2.9), not the message's fault: retried.
        retry = status >= HTTPStatus.INTERNAL_SERVER_ERROR or status in RETRYABLE_STATUS or skewed
        self._failed(entry, now, f"status {status}", retry=retry)
        return False

    def _failed(self, entry: OutboxEntry, now: int, error: str, *, retry: bool) -> None:
        """Record a failed attempt; say so when the message is given up.

        Offers are parked, not dropped: they carry the owner's consent and links that exist
        nowhere else, so the owner is told (on_offer) and can retry them.
        """
        offer = entry.route == OFFER
        settled = self.outbox.failed(entry, now, error, retry=retry, park=offer)
        if settled is not None and not settled.parked:
            return  # tried again later
        peer = self.peers.get(entry.peer)
        who = peer.fingerprint if peer is not None else grouped(entry.peer)
        if settled is None:
            # The error names a status, an address class or an exception type, never a body.
            _LOGGER.warning("A message for %s was given up (%s)", who, error)
            return
        _LOGGER.warning("An offer for %s could not be delivered (%s); kept for a retry", who, error)
        self.on_offer(_offer_of(settled)[0], error)


def _offer_of(entry: OutboxEntry) -> tuple[str, str]:
    """The request an offer we queued answers, and its message id."""
    obj = canonical.loads(entry.payload.encode())
    assert isinstance(obj, dict)  # noqa: S101  # our own sealed message
    body = obj["body"]
    assert isinstance(body, dict)  # noqa: S101
    return str(body["request"]), str(obj["id"])


def _check_standing(peer: Peer, which: str) -> None:
    """Refuse a peer the owner has not trusted (an agency) or not confirmed yet (R3.3)."""
    if peer.role == "agency" and not peer.trusted:
        msg = f"the owner has not trusted the agency {which}"
        raise UntrustedError(msg)
    if peer.pending:
        msg = f"the owner has not confirmed the pairing with the peer {which}"
        raise PairingUnconfirmedError(msg)


def _server_time(status: int, reply: JSON) -> int | None:
    """The peer's time in a 401 clock_skew refusal, if that is what reply is."""
    if status != HTTPStatus.UNAUTHORIZED or not isinstance(reply, dict):
        return None
    server_time = reply.get("server_time")
    if reply.get("error") != "clock_skew" or type(server_time) is not int:
        return None
    return server_time


def _verify_redemption(request: Incoming, hop: Hop, obj: JSON, body: bytes, now: int) -> Envelope:
    """Both signatures of a pairing request, by the key it introduces."""
    envelope = open_envelope(obj, now=now)
    if envelope.sender != hop.keyid:
        msg = "hop and message are signed by different keys"
        raise SenderMismatchError(msg)
    verify_hop(
        hop,
        Ed25519PublicKey.from_public_bytes(envelope.sender_key),
        method=request.method,
        authority=request.authority,
        path=request.path,
        query=request.query,
        body=body,
    )
    return envelope


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
