"""The checks a request to the node passes before its body is read, cheapest first.

Shared by the inbox (peers we pinned) and by the routes that take a key not pinned yet: the
pairing endpoint and an agency's offer endpoint (docs/protocol.md §5, §6, §11).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from . import canonical
from .errors import (
    BodyTooLargeError,
    ClockSkewError,
    RateLimitedError,
    RevokedKeyError,
    SenderMismatchError,
    WrongAuthorityError,
)
from .httpsig import check_content_type, check_times, parse_hop, verify_hop
from .messages import open_envelope
from .ratelimit import address_key

if TYPE_CHECKING:
    from .api import Incoming, ReadBody
    from .canonical import JSON
    from .httpsig import Hop
    from .messages import Envelope
    from .node import Node
    from .ratelimit import RateLimiter


class Admission:
    """What a node checks of every request before it reads the body."""

    def __init__(self, node: Node) -> None:
        """Check requests to node; signatures older than now are refused (check_times)."""
        self._node = node
        self.started = node.clock.now()

    def check_length(self, request: Incoming, limit: int) -> None:
        """The declared body length must be there and within limit."""
        if request.content_length is None:
            msg = "Content-Length is required"
            raise BodyTooLargeError(msg)
        if request.content_length > limit:
            msg = f"body larger than {limit} bytes"
            raise BodyTooLargeError(msg)

    def check_times(self, hop: Hop, now: int) -> None:
        """The signature window (§4), which starts no earlier than this node did.

        The replay cache lives in memory: after a restart it cannot tell a replay of a
        request signed before from a new one, so a signature older than the node is
        refused like a skewed one (senders retry those with a fresh signature).
        """
        check_times(hop, now)
        if hop.created < self.started:
            msg = "signed before this instance started; sign again"
            raise ClockSkewError(msg, server_time=now)

    def check_authority(self, request: Incoming) -> None:
        """The request must be for one of the hosts the node advertised."""
        if request.authority not in self._node.authorities:
            msg = "this instance does not answer for that host"
            raise WrongAuthorityError(msg)

    async def self_signed(
        self, request: Incoming, read_body: ReadBody, limit: int, rate: RateLimiter
    ) -> tuple[int, Hop, bytes, JSON]:
        """The cheap checks of a request from a key not pinned yet (pairing, offers).

        Content type, declared length, a per-address rate limit, authority, hop header
        shape and time window come before the body is read; the caller verifies the hop
        with the key the message itself introduces (verify_self_signed).
        """
        now = self._node.clock.now()
        check_content_type(request.headers)
        self.check_length(request, limit)
        if not rate.allow(address_key(request.remote), now):
            msg = "too many requests from this address"
            raise RateLimitedError(msg)
        self.check_authority(request)
        hop = parse_hop(request.headers)
        if hop.keyid in self._node.peers.revoked:
            # A revoked key stays revoked: a thief holding it can neither offer footage in
            # its name nor pair it again.
            msg = "this key was revoked by its owner"
            raise RevokedKeyError(msg)
        self.check_times(hop, now)
        body = await read_body(limit)
        return now, hop, body, canonical.loads(body)


def verify_self_signed(request: Incoming, hop: Hop, obj: JSON, body: bytes, now: int) -> Envelope:
    """Both signatures of a request from a key not pinned yet, by the key it introduces."""
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
