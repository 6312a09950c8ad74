"""The messages a node originates, signed and queued in its outbox for delivery.

Alerts for the neighbors, footage requests (agency side), direct messages; and the queueing
every outgoing message goes through, the relayed and the key messages included. What is
queued leaves with the next delivery round (delivery.py).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from .api import INBOX, OFFER
from .httpsig import new_nonce
from .identity import grouped
from .messages import BROADCAST, seal

if TYPE_CHECKING:
    from .canonical import JSON
    from .messages import Envelope
    from .node import Node

_LOGGER = logging.getLogger(__name__)


class Sending:
    """Signs a node's own messages and queues them, and anything else it sends."""

    def __init__(self, node: Node) -> None:
        """Queue in node's outbox."""
        self._node = node

    def queue(
        self,
        peer: str,
        envelope: Envelope,
        now: int,
        signer: str | None = None,
        route: str = INBOX,
    ) -> None:
        """Queue envelope for peer's route, to be sent with a hop signature by signer.

        The signer defaults to our current key; key messages name the key they retire.
        """
        node = self._node
        queued = node.outbox.enqueue(
            peer=peer,
            payload=envelope.encode().decode("utf-8"),
            signer=signer or node.identity.keyid,
            expires=envelope.expires,
            now=now,
            route=route,
            always=route == OFFER,
        )
        if not queued:
            _LOGGER.warning("Outbox full; a message for %s was dropped", grouped(peer))
        node.hooks.on_change("outbox")

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
        node = self._node
        now = node.clock.now()
        envelope = seal(
            node.identity,
            "alert",
            {"text": text, "category": category, "name": name, "max_hops": max_hops},
            to=BROADCAST,
            now=now,
            lifetime=lifetime,
            message_id=new_nonce(),
        )
        node.seen.remember(envelope, now)  # our own alert coming back through a relay is a dup
        for neighbor in node.peers.active_neighbors():
            self.queue(neighbor.keyid, envelope, now)
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
        """Sign a direct message to one peer and queue it (for its inbox unless told).

        A map cell is where this home is, to 250 m: ValueError unless both ends are homes;
        a camera map goes from a home to an agency only (ValueError otherwise).
        """
        node = self._node
        if msg_type == "map_cell":
            target = node.peers.get(peer)
            if node.settings.role != "neighbor" or target is None or target.role != "neighbor":
                msg = "a map cell goes from a home to a paired neighbor only"
                raise ValueError(msg)
        if msg_type == "camera_map":
            target = node.peers.get(peer)
            if node.settings.role != "neighbor" or target is None or target.role != "agency":
                msg = "a camera map goes from a home to a paired agency only"
                raise ValueError(msg)
        now = node.clock.now()
        envelope = seal(
            node.identity,
            msg_type,
            body,
            to=peer,
            now=now,
            lifetime=lifetime,
            message_id=new_nonce(),
        )
        self.queue(peer, envelope, now, route=route)
        return envelope

    def request_footage(
        self, body: dict[str, JSON], *, lifetime: int, peers: list[str] | None = None
    ) -> Envelope:
        """Sign a footage request and queue it for the given homes (default: every active one).

        The request is addressed to everyone: the homes relay it to their neighbors. Offers
        are accepted for the requests the node issued only (node.issued).
        """
        node = self._node
        now = node.clock.now()
        envelope = seal(
            node.identity,
            "footage_request",
            body,
            to=BROADCAST,
            now=now,
            lifetime=lifetime,
            message_id=new_nonce(),
        )
        targets = peers if peers is not None else [p.keyid for p in node.peers.active_neighbors()]
        node.issued = {k: v for k, v in node.issued.items() if v >= now}
        node.issued[envelope.event_id] = envelope.expires
        node.seen.remember(envelope, now)
        for target in targets:
            self.queue(target, envelope, now)
        node.hooks.on_change("state")
        return envelope
