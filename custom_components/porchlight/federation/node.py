"""One federation participant (a home or an agency): its state, and the parts that act on it.

The node is transport-neutral: `handle_inbox`, `handle_pair` and `handle_offer` take the
request line, the headers and a body reader, and return a Reply or raise a ProtocolError. The
standalone aiohttp server (transport.py), the dedicated listener (listener.py) and Home
Assistant's views all wrap these same methods, so the tests, the benchmark and the integration
run one verification path.

The node holds what its parts share (keys, peers, invites, outbox, the hooks to its owner's
side) and composes them, one job each:

- admission.py: the checks every request passes before its body is read;
- inbox.py: messages from peers verified, authorized and acted on; an agency's offers;
- pairing.py: invites issued and redeemed, agencies imported, pairing codes confirmed;
- sending.py: our own messages signed and queued; delivery.py: the outbox delivered;
- rotation.py: our key changes and our peers'; clock_offset.py: what peers say of our clock.

The paths of the API (api.py) are importable from here too, for the integration's modules.
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from .admission import Admission
from .api import API_PREFIX, IDENTITY, INBOX, OFFER, PAIR, REQUEST_TIMEOUT
from .canonical import b64u, canon
from .clock_offset import ClockWatch
from .dedupe import SeenEvents
from .delivery import Delivery
from .httpsig import authorities
from .inbox import Inbox
from .invites import InviteBook
from .messages import valid_url
from .outbox import Outbox
from .pairing import Pairing
from .peers import PeerRegistry
from .replay import ReplayCache
from .rotation import Rotation
from .sending import Sending

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from .api import Incoming, ReadBody, Reply
    from .camera_map import Cell
    from .canonical import JSON
    from .clock import Clock
    from .delivery import Sender
    from .digest import HomeDigest
    from .identity import Identity
    from .invites import Invite
    from .messages import Envelope
    from .outbox import OutboxEntry
    from .peers import Peer, Role

__all__ = [
    "API_PREFIX",
    "IDENTITY",
    "INBOX",
    "OFFER",
    "PAIR",
    "Node",
    "NodeHooks",
    "Settings",
]

_LOGGER = logging.getLogger(__name__)

_IDENTITY_DOMAIN: Final = b"porchlight-identity-v1\n"
_STATE_FORMAT: Final = 1


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
    # Alerts relayed per originator, an originator nobody pinned counting as the neighbor
    # that handed its alerts over (inbox.py `_relay`): what one neighbor can spend of this
    # home's budget at the others (per_peer_per_minute there), however many keys it mints.
    relay_per_minute: int = 10
    pair_per_minute: int = 5
    offer_per_minute: int = 120
    received_max: int = 1000
    dedupe_max: int = 10_000
    # How many of the live relayable event ids the saved state keeps (dedupe.py): ~90 bytes
    # each, written with every state change.
    dedupe_saved: int = 1000


# What changed: "state" (peers, invites, endpoints: save them), "outbox" or "clock".
type ChangeListener = Callable[[str], None]
# An accepted alert or offer (the node keeps the last ones in `received` too).
type MessageListener = Callable[[Envelope], None]
# An accepted alert (after on_message): the envelope, its originator as this home knows it
# (None: not pinned here, so its claimed name is unverified) and the peer that handed it over,
# which answers for an originator nobody pinned.
type AlertListener = Callable[[Envelope, Peer | None, Peer], None]
# A footage request for this home: the envelope, the originating agency as this home knows it
# (None: not paired here) and the peer that handed it over.
type RequestListener = Callable[[Envelope, Peer | None, Peer], None]
# An offer of ours was delivered (error None) or given up and parked (the error): its request.
type OfferListener = Callable[[str, str | None], None]
# A paired peer relayed a message whose originator's signature fails (inbox.py): the peer and
# the error code. The message itself was refused.
type TamperListener = Callable[[Peer, str], None]
# A neighbor reported its camera map cell (camera_map.py): the neighbor and the checked cell.
type MapCellListener = Callable[[Peer, Cell], None]
# A neighbor's verified own digest (digest_exchange.py): its envelope's created, the digest.
type DigestListener = Callable[[int, HomeDigest], None]
# A neighbor's audit_checkpoint or audit_witness body (schema-checked; its signatures are
# checked by the listener, consent/audit/witness.py): the neighbor and the body.
type AuditWitnessListener = Callable[[Peer, dict[str, JSON]], None]
# The remote address and the exact bytes of a reply that carries data (the pair_accept),
# before it is sent, wherever it is served: the home's audit log.
type ReplyRecorder = Callable[[str, bytes], Awaitable[None]]


def _ignore_change(_what: str) -> None:
    """No one listens."""


def _ignore_message(_envelope: Envelope) -> None:
    """No one listens."""


def _ignore_alert(_envelope: Envelope, _origin: Peer | None, _via: Peer) -> None:
    """No one listens."""


def _ignore_request(_envelope: Envelope, _origin: Peer | None, _via: Peer) -> None:
    """No one listens."""


def _ignore_offer(_request: str, _error: str | None) -> None:
    """No one listens."""


def _ignore_tamper(_peer: Peer, _code: str) -> None:
    """No one listens."""


def _ignore_map_cell(_peer: Peer, _cell: Cell) -> None:
    """No one builds a map."""


def _ignore_digest(_created: int, _digest: HomeDigest) -> None:
    """No one keeps digests."""


def _ignore_audit(_peer: Peer, _body: dict[str, JSON]) -> None:
    """No audit log is witnessed."""


async def _record_nothing(_remote: str, _body: bytes) -> None:
    """No audit log to write ahead to."""


@dataclass(frozen=True, slots=True)
class NodeHooks:
    """What a node tells its owner's side, given when it is built; each is optional."""

    on_change: ChangeListener = _ignore_change
    on_message: MessageListener = _ignore_message
    on_alert: AlertListener = _ignore_alert
    on_request: RequestListener = _ignore_request
    on_offer: OfferListener = _ignore_offer
    on_tamper: TamperListener = _ignore_tamper
    on_map_cell: MapCellListener = _ignore_map_cell
    on_digest: DigestListener = _ignore_digest
    on_audit_checkpoint: AuditWitnessListener = _ignore_audit
    on_audit_witness: AuditWitnessListener = _ignore_audit
    # Awaited before the reply is sent: if it raises, the pairing is not made.
    record_reply: ReplyRecorder = _record_nothing


class Node:
    """A home or agency on the federation."""

    # Fixed attributes: a hook assigned from outside would be silently ignored otherwise.
    __slots__ = (
        "admission",
        "authorities",
        "clock",
        "clock_watch",
        "delivery",
        "endpoints",
        "hooks",
        "identity",
        "inbox",
        "invites",
        "issued",
        "key_seq",
        "outbox",
        "pairing",
        "peers",
        "received",
        "relaying",
        "replay",
        "rotation",
        "seen",
        "sending",
        "settings",
        "signers",
    )

    def __init__(
        self,
        identity: Identity,
        settings: Settings,
        clock: Clock,
        *,
        outbox: Outbox | None = None,
        hooks: NodeHooks | None = None,
    ) -> None:
        """A node with no peers yet (load_state brings them back); outbox in memory if None."""
        self.identity = identity
        self.settings = settings
        self.clock = clock
        self.hooks = hooks if hooks is not None else NodeHooks()
        self.outbox = outbox if outbox is not None else Outbox(None)
        # Saved (state_json).
        self.endpoints: list[str] = []
        self.key_seq = 0
        self.peers = PeerRegistry()
        self.invites = InviteBook()
        # Footage requests this node (an agency) issued: event id -> expiry. Offers are
        # accepted for these only.
        self.issued: dict[str, int] = {}
        # Event ids acted on; the relayable ones are saved (dedupe.py), so a restart does not
        # show an alert again, or relay it again, when another neighbor brings it.
        self.seen = SeenEvents(settings.dedupe_max)
        # The owner's choice (an option, not saved here): pass relayable messages on to our
        # neighbors. Off, the home still receives and judges them itself.
        self.relaying = True
        # In memory.
        self.authorities: frozenset[str] = frozenset()  # of the endpoints
        # Our keys by keyid: the current one, and retired ones the outbox still signs with.
        self.signers: dict[str, Identity] = {identity.keyid: identity}
        self.received: deque[Envelope] = deque(maxlen=settings.received_max)
        self.replay = ReplayCache()
        # The parts, one job each.
        self.clock_watch = ClockWatch(clock, self.hooks.on_change)
        self.admission = Admission(self)
        self.inbox = Inbox(self, self.admission)
        self.pairing = Pairing(self, self.admission)
        self.sending = Sending(self)
        self.delivery = Delivery(self)
        self.rotation = Rotation(self)

    # --- state -------------------------------------------------------------------------------
    @property
    def endpoint(self) -> str | None:
        """The endpoint put in invites and pairing requests (the first advertised)."""
        return self.endpoints[0] if self.endpoints else None

    @property
    def clock_offset(self) -> int | None:
        """Our time minus the peers', in seconds, while a peer says it is off (R2.9)."""
        return self.clock_watch.offset

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
        self.authorities = authorities(self.endpoints)
        self.hooks.on_change("state")

    def state_json(self) -> dict[str, Any]:
        """Everything but the keys and the outbox, for storage."""
        return {
            "format": _STATE_FORMAT,
            "endpoints": list(self.endpoints),
            "key_seq": self.key_seq,
            "peers": self.peers.to_json(),
            "invites": self.invites.to_json(),
            "issued": dict(self.issued),
            "seen": self.seen.to_json(self.clock.now(), self.settings.dedupe_saved),
        }

    def load_state(self, data: dict[str, Any]) -> None:
        """Restore what state_json saved."""
        self.endpoints = list(data["endpoints"])
        self.authorities = authorities(self.endpoints)
        self.key_seq = data["key_seq"]
        self.peers = PeerRegistry.from_json(data["peers"])
        self.invites = InviteBook.from_json(data["invites"])
        self.issued = dict(data.get("issued", {}))
        now = self.clock.now()
        try:
            self.seen = SeenEvents.from_json(data.get("seen", {}), self.settings.dedupe_max, now)
        except ValueError:
            # Only dedupe is lost: an alert or request still alive may be shown or relayed once
            # more. Not worth refusing to start over.
            _LOGGER.warning("The saved list of messages seen was damaged; starting afresh")
            self.seen = SeenEvents(self.settings.dedupe_max)

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

    # --- receiving (inbox.py, pairing.py) ----------------------------------------------------
    def unknown_key(self, signature_input: str | None) -> bool:
        """Step 0 of the inbox: does the raw Signature-Input name a key nobody pinned?"""
        return self.inbox.unknown_key(signature_input)

    async def handle_inbox(self, request: Incoming, read_body: ReadBody) -> Reply:
        """Verify, authorize and act on one signed message from a paired peer."""
        return await self.inbox.handle_inbox(request, read_body)

    async def handle_offer(self, request: Incoming, read_body: ReadBody) -> Reply:
        """An agency's offer endpoint: a home's answer to one of our requests."""
        return await self.inbox.handle_offer(request, read_body)

    async def handle_pair(self, request: Incoming, read_body: ReadBody) -> Reply:
        """Redeem an invite: pin the redeemer's key and answer with a signed pair_accept."""
        return await self.pairing.handle_pair(request, read_body)

    # --- pairing (pairing.py) ----------------------------------------------------------------
    def create_invite(self, *, lifetime: int | None = None, lan: bool = False) -> Invite:
        """Issue a one-time invite for this node's endpoint (lan: the redeemer may be local)."""
        return self.pairing.create_invite(lifetime=lifetime, lan=lan)

    async def accept_invite(self, text: str, sender: Sender, *, lan: bool = False) -> Peer:
        """Redeem someone's invite over the network; the peer stays pending (R3.3)."""
        return await self.pairing.accept_invite(text, sender, lan=lan)

    def import_agency(self, text: str, *, lan: bool | None = None) -> Peer:
        """Pin an agency's key from its invite without contacting it (one-sided)."""
        return self.pairing.import_agency(text, lan=lan)

    def confirm_pairing(self, key_id: str, code: str | None = None) -> Peer:
        """The owner compared the pairing code with the other owner: activate the peer."""
        return self.pairing.confirm_pairing(key_id, code)

    # --- sending (sending.py) ----------------------------------------------------------------
    def broadcast_alert(
        self,
        text: str,
        *,
        category: str = "other",
        name: str = "",
        max_hops: int = 1,
        lifetime: int = 3600,
    ) -> Envelope:
        """Sign an alert and queue it for every paired neighbor (name "": anonymous)."""
        return self.sending.broadcast_alert(
            text, category=category, name=name, max_hops=max_hops, lifetime=lifetime
        )

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
        return self.sending.send(peer, msg_type, body, lifetime=lifetime, route=route)

    def request_footage(
        self, body: dict[str, JSON], *, lifetime: int, peers: list[str] | None = None
    ) -> Envelope:
        """Sign a footage request and queue it for the given homes (default: every active one)."""
        return self.sending.request_footage(body, lifetime=lifetime, peers=peers)

    # --- delivery (delivery.py) --------------------------------------------------------------
    async def deliver(self, sender: Sender) -> int:
        """Try every due outbox entry once (one round at a time); how many were delivered."""
        return await self.delivery.deliver(sender)

    async def stop_delivering(self) -> None:
        """Start no more attempts; return once the one under way has been recorded."""
        await self.delivery.stop()

    def offers(self, request_id: str) -> list[OutboxEntry]:
        """Our queued offers answering request_id, parked ones included."""
        return self.delivery.offers(request_id)

    def offer_entry(self, envelope: Envelope) -> OutboxEntry | None:
        """The queued entry of an offer we sent, None once it left the outbox."""
        return self.delivery.offer_entry(envelope)

    def retry_offers(self, request_id: str) -> int:
        """Put the parked offers answering request_id back in line; how many."""
        return self.delivery.retry_offers(request_id)

    # --- keys (rotation.py) ------------------------------------------------------------------
    def rotate(self, new_identity: Identity, *, compromised: bool = False) -> None:
        """Switch to new_identity and tell every peer; revoke the old key if compromised."""
        self.rotation.rotate(new_identity, compromised=compromised)
