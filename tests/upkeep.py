"""What a home queued for a test's scenario, apart from the neighborhood's own upkeep.

Homes send their peers camera map cells and maps, digests and audit checkpoints on their own:
when a pairing becomes active and then daily. Tests that count what a scenario queued leave
those out; the upkeep messages have tests of their own.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from collections.abc import Iterable

    from custom_components.porchlight.federation.node import Node
    from custom_components.porchlight.federation.outbox import OutboxEntry

UPKEEP: Final = frozenset(
    {"map_cell", "camera_map", "digest", "agency_digest", "audit_checkpoint", "audit_witness"}
)


def is_upkeep(entry: OutboxEntry) -> bool:
    """Whether an outbox entry is one of the homes' own periodic messages."""
    return json.loads(entry.payload).get("type") in UPKEEP


def queued(entries: Iterable[OutboxEntry]) -> list[OutboxEntry]:
    """The entries that are not upkeep, in order."""
    return [e for e in entries if not is_upkeep(e)]


def upkeep_heard(node: Node) -> int:
    """How many upkeep messages a peer's node took in (each was sent, and logged, once)."""
    return sum(1 for e in node.received if e.type in UPKEEP)
