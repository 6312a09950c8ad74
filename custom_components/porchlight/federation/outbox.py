"""Messages waiting for a peer, kept in a JSON file so they survive restarts.

Delivery is at least once; receivers dedupe by event id, so a retry after a lost reply is
harmless. A failed attempt waits BASE_DELAY * 2^(attempts-1), capped at MAX_DELAY, minus a random
jitter of up to half of it. An entry is given up after MAX_ATTEMPTS, or when the peer refuses it
for good (a 4xx other than 408, 425 and 429): retrying a request the peer rejected on its merits
would only repeat the rejection. Given up, it is dropped, unless the caller parks it: a parked
entry stays in the file, is never tried by the timer, and waits for the owner to retry it
(`retry`). Every entry is dropped once its message expires.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Final

from .json_file import read_json, write_json

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator
    from pathlib import Path

BASE_DELAY: Final = 30
MAX_DELAY: Final = 3600
MAX_ATTEMPTS: Final = 20
MAX_ENTRIES: Final = 10_000
RETRYABLE_STATUS: Final = frozenset({408, 425, 429})
_FORMAT: Final = 1


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """One message for one peer."""

    id: str
    peer: str
    payload: str
    signer: str
    expires: int
    attempts: int = 0
    next_attempt: int = 0
    last_error: str = ""
    # The route under the peer's endpoint: the inbox, or an agency's offer endpoint.
    route: str = "/inbox"
    # Given up and kept for the owner to retry; the timer leaves it alone.
    parked: bool = False

    def to_json(self) -> dict[str, Any]:
        """Serialize for the file."""
        return {
            "id": self.id,
            "peer": self.peer,
            "payload": self.payload,
            "signer": self.signer,
            "expires": self.expires,
            "attempts": self.attempts,
            "next_attempt": self.next_attempt,
            "last_error": self.last_error,
            "route": self.route,
            "parked": self.parked,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> OutboxEntry:
        """Deserialize from the file (files written before parking have no "parked")."""
        return cls(**data)


def backoff(attempts: int, randbelow: Callable[[int], int] = secrets.randbelow) -> int:
    """Seconds to wait after the given number of failed attempts, randomly shortened.

    The wait lies in [delay/2, delay] for the exponential delay: homes whose deliveries failed
    together (a peer restarting, a network outage) do not all retry in the same second, and
    no retry waits longer than the documented delay.
    """
    delay = int(min(MAX_DELAY, BASE_DELAY * 2 ** (attempts - 1)))
    return delay - randbelow(delay // 2 + 1)


class Outbox:
    """Queued messages, persisted to one JSON file (blocking I/O: call from an executor)."""

    def __init__(self, path: Path | None) -> None:
        """Keep entries in memory; path None means not persisted (tests, benchmarks)."""
        self.path = path
        self._entries: dict[str, OutboxEntry] = {}

    def __len__(self) -> int:
        """Number of queued messages."""
        return len(self._entries)

    def __iter__(self) -> Iterator[OutboxEntry]:
        """Iterate over queued entries."""
        return iter(list(self._entries.values()))

    def load(self) -> None:
        """Read the file, if any."""
        if self.path is None:
            return
        document = read_json(self.path)
        if document is None:
            return
        self._entries = {e["id"]: OutboxEntry.from_json(e) for e in document["entries"]}

    def snapshot(self) -> dict[str, Any]:
        """The file's content now (cheap; take it where the entries change, in the loop)."""
        return {"format": _FORMAT, "entries": [e.to_json() for e in self._entries.values()]}

    def save(self, snapshot: dict[str, Any] | None = None) -> None:
        """Write the file: the given snapshot, else the entries as they are (blocking).

        Callers on an event loop take the snapshot in the loop and write it in a thread, so
        the thread never iterates entries the loop is changing, and write one snapshot at a
        time: threads finish in no order, and an older snapshot written last would win.
        """
        if self.path is not None:
            write_json(self.path, snapshot if snapshot is not None else self.snapshot())

    def enqueue(  # noqa: PLR0913  # one keyword per field of an entry
        self,
        *,
        peer: str,
        payload: str,
        signer: str,
        expires: int,
        now: int,
        route: str = "/inbox",
        always: bool = False,
    ) -> bool:
        """Queue a message; False if the outbox is full (the message is dropped).

        always: queue it even over the cap. For an owner's own decision (an offer of
        approved clips): the cap keeps floods of alerts and relays from filling the disk,
        and must never silently undo what the owner approved.
        """
        if len(self._entries) >= MAX_ENTRIES and not always:
            return False
        entry_id = secrets.token_urlsafe(12)
        self._entries[entry_id] = OutboxEntry(
            entry_id, peer, payload, signer, expires, 0, now, route=route
        )
        return True

    def due(self, now: int) -> list[OutboxEntry]:
        """Entries to try now, parked ones aside (expired ones are dropped first)."""
        for entry in list(self._entries.values()):
            if entry.expires < now:
                del self._entries[entry.id]
        return [e for e in self._entries.values() if e.next_attempt <= now and not e.parked]

    def delivered(self, entry: OutboxEntry) -> None:
        """The peer accepted the message."""
        self._entries.pop(entry.id, None)

    def failed(  # the failure and how to settle it, all keywords
        self, entry: OutboxEntry, now: int, error: str, *, retry: bool, park: bool = False
    ) -> OutboxEntry | None:
        """Record a failure; keep the entry for a later attempt unless told not to retry.

        An entry given up (no retry, or MAX_ATTEMPTS reached) is dropped, or kept parked if
        park. Returns the entry as it stands now, None if it is gone. Entry may be a copy the
        outbox changed since (the owner removed its peer, a key rotation rewrote it): an
        entry no longer queued stays gone, and the failure counts on the current one.
        """
        current = self._entries.get(entry.id)
        if current is None:
            return None
        attempts = current.attempts + 1
        if retry and attempts < MAX_ATTEMPTS:
            settled = replace(
                current, attempts=attempts, next_attempt=now + backoff(attempts), last_error=error
            )
        elif park:
            settled = replace(current, attempts=attempts, parked=True, last_error=error)
        else:
            del self._entries[entry.id]
            return None
        self._entries[entry.id] = settled
        return settled

    def retry(self, entries: Iterable[OutboxEntry], now: int) -> int:
        """Unpark these entries: due now, with a fresh budget of attempts; how many."""
        ids = {e.id for e in entries if e.id in self._entries and self._entries[e.id].parked}
        fresh = {"parked": False, "attempts": 0, "next_attempt": now, "last_error": ""}
        self._entries = {
            k: replace(e, **fresh) if k in ids else e  # type: ignore[arg-type]
            for k, e in self._entries.items()
        }
        return len(ids)

    def rewrite(self, change: Callable[[OutboxEntry], OutboxEntry | None]) -> None:
        """Apply change to every entry: its result replaces the entry, None drops it.

        For key rotations, ours or a peer's: queued messages move to the new key instead of
        failing against the old one.
        """
        changed = {k: change(e) for k, e in self._entries.items()}
        self._entries = {k: e for k, e in changed.items() if e is not None}

    def drop_peer(self, peer: str) -> None:
        """Forget everything queued for a peer (it was removed)."""
        self._entries = {k: e for k, e in self._entries.items() if e.peer != peer}

    def signers(self) -> set[str]:
        """Keyids whose private keys queued entries still need."""
        return {e.signer for e in self._entries.values()}
