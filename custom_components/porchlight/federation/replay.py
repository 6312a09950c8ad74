"""ReplayError protection for hop signatures: each (keyid, nonce) is accepted once (R1.4)."""

from __future__ import annotations

from collections import deque
from typing import Final

from .errors import RateLimitedError, ReplayError
from .httpsig import MAX_AGE, MAX_SKEW

# A nonce must be remembered for as long as its signature could still pass the time window.
RETENTION: Final = MAX_AGE + MAX_SKEW


class ReplayCache:
    """Seen (keyid, nonce) pairs, forgotten once their signature can no longer be accepted."""

    def __init__(self, max_entries: int = 200_000) -> None:
        """Bound memory: a full cache refuses new requests instead of forgetting early."""
        self._seen: dict[tuple[str, str], int] = {}
        self._order: deque[tuple[int, tuple[str, str]]] = deque()
        self._max = max_entries

    def __len__(self) -> int:
        """Number of remembered nonces."""
        return len(self._seen)

    def check_and_add(self, keyid: str, nonce: str, created: int, now: int) -> None:
        """Remember the nonce, or raise ReplayError if it was seen while still acceptable."""
        self._expire(now)
        key = (keyid, nonce)
        if key in self._seen:
            msg = "nonce already used"
            raise ReplayError(msg)
        if len(self._seen) >= self._max:
            msg = "too many requests in flight"
            raise RateLimitedError(msg)
        # created may lie up to MAX_SKEW in the future; keep the nonce until its signature
        # is too old to pass check_times.
        until = max(created, now) + RETENTION
        self._seen[key] = until
        self._order.append((until, key))

    def _expire(self, now: int) -> None:
        # Expiry times are almost monotonic in arrival order; an entry behind a later one
        # lingers a little longer, which errs on the safe side.
        while self._order and self._order[0][0] < now:
            _, key = self._order.popleft()
            self._seen.pop(key, None)
