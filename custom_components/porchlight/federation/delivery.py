"""Delivery of the outbox to the peers: rounds of attempts, and the offers parked on failure.

One round at a time; key messages first (a peer learns our new key from them); every outcome
recorded in the outbox, which retries or gives up (outbox.py). Offers given up are parked
instead: they carry the owner's consent and links that exist nowhere else.
"""

from __future__ import annotations

import asyncio
import logging
from http import HTTPStatus
from typing import TYPE_CHECKING, Protocol

from . import canonical
from .api import OFFER
from .errors import DestinationRefusedError, PeerUnreachableError
from .identity import grouped
from .outbox import RETRYABLE_STATUS

if TYPE_CHECKING:
    from .canonical import JSON
    from .identity import Identity
    from .messages import Envelope
    from .node import Node
    from .outbox import OutboxEntry

_LOGGER = logging.getLogger(__name__)


class Sender(Protocol):
    """Outbound transport: POST signed bytes, return the status and the parsed reply."""

    async def post(
        self, identity: Identity, url: str, body: bytes, *, lan: bool = False
    ) -> tuple[int, JSON]:
        """Send body to url with a hop signature by identity (private addresses if lan)."""
        ...


class Delivery:
    """Takes a node's queued messages to its peers."""

    def __init__(self, node: Node) -> None:
        """Deliver node's outbox."""
        self._node = node
        self._delivering = False
        self._deliver_again = False
        self._stopped = False
        self._idle = asyncio.Event()
        self._idle.set()

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

    async def stop(self) -> None:
        """Start no more attempts; return once the one under way has been recorded.

        Whoever saves the outbox after this (an unload) saves what the peers answered: an
        answer arriving after the save would be lost, and a reloaded home would read the
        delivered message back and send it again.
        """
        self._stopped = True
        await self._idle.wait()

    def offers(self, request_id: str) -> list[OutboxEntry]:
        """Our queued offers answering request_id, parked ones included."""
        return [e for e in self._node.outbox if e.route == OFFER and _offer_of(e)[0] == request_id]

    def offer_entry(self, envelope: Envelope) -> OutboxEntry | None:
        """The queued entry of an offer we sent, None once it left the outbox."""
        request = str(envelope.body["request"])
        return next((e for e in self.offers(request) if _offer_of(e)[1] == envelope.id), None)

    def retry_offers(self, request_id: str) -> int:
        """Put the parked offers answering request_id back in line; how many."""
        node = self._node
        count = node.outbox.retry(
            [e for e in self.offers(request_id) if e.parked], node.clock.now()
        )
        node.hooks.on_change("outbox")
        return count

    def _waiting_for_key_messages(self) -> set[str]:
        """Peers with a key message of ours still queued (signed by a key we retired)."""
        node = self._node
        return {e.peer for e in node.outbox if e.signer != node.identity.keyid}

    async def _deliver_round(self, sender: Sender) -> int:
        node = self._node
        now = node.clock.now()
        delivered = 0
        current = node.identity.keyid
        # Key messages (signed by a key we retired) go first, and a peer that has not taken
        # its key message yet does not know our new key: nothing signed by it goes there.
        due = sorted(node.outbox.due(now), key=lambda e: e.signer == current)
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
        node.rotation.forget_retired_keys()
        node.hooks.on_change("outbox")
        return delivered

    async def _deliver_one(self, sender: Sender, entry: OutboxEntry, now: int) -> bool:
        """One attempt at one entry; whatever happens is recorded in the outbox."""
        node = self._node
        peer = node.peers.get(entry.peer)
        signer = node.signers.get(entry.signer)
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
        skewed = node.clock_watch.observe(status, reply)
        if HTTPStatus.OK <= status < HTTPStatus.MULTIPLE_CHOICES:
            node.outbox.delivered(entry)
            if entry.route == OFFER:
                node.hooks.on_offer(_offer_of(entry)[0], None)
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
        node = self._node
        offer = entry.route == OFFER
        settled = node.outbox.failed(entry, now, error, retry=retry, park=offer)
        if settled is not None and not settled.parked:
            return  # tried again later
        peer = node.peers.get(entry.peer)
        who = peer.fingerprint if peer is not None else grouped(entry.peer)
        if settled is None:
            # The error names a status, an address class or an exception type, never a body.
            _LOGGER.warning("A message for %s was given up (%s)", who, error)
            return
        _LOGGER.warning("An offer for %s could not be delivered (%s); kept for a retry", who, error)
        node.hooks.on_offer(_offer_of(settled)[0], error)


def _offer_of(entry: OutboxEntry) -> tuple[str, str]:
    """The request an offer we queued answers, and its message id."""
    obj = canonical.loads(entry.payload.encode())
    assert isinstance(obj, dict)  # noqa: S101  # our own sealed message
    body = obj["body"]
    assert isinstance(body, dict)  # noqa: S101
    return str(body["request"]), str(obj["id"])
