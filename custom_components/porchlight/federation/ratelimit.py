"""Per-key token buckets: one noisy peer cannot starve the others or the home (R2.8)."""

from __future__ import annotations

import ipaddress
from collections import OrderedDict
from dataclasses import dataclass


@dataclass(slots=True)
class _Bucket:
    tokens: float
    stamp: int


class RateLimiter:
    """Allow `per_minute` requests per key on average, with bursts up to `burst`.

    The table holds at most `max_keys` buckets whatever the keys: limiters keyed by remote
    address run before any signature check, so the keys are the sender's to choose.
    """

    def __init__(self, per_minute: int, burst: int | None = None, max_keys: int = 10_000) -> None:
        """Configure the rate; the bucket table is bounded by max_keys."""
        if max_keys < 1:
            msg = "max_keys must be at least 1"
            raise ValueError(msg)
        self.rate = per_minute / 60
        self.burst = float(burst if burst is not None else per_minute)
        # Least recently used first: the order eviction falls back on.
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()
        self._max_keys = max_keys
        # A full table is swept down to this, so the O(n) sweep runs at most once per
        # max_keys/4 new keys and a flood of new keys costs O(1) each, amortised.
        self._low_water = max_keys * 3 // 4

    def __len__(self) -> int:
        """How many buckets the table holds."""
        return len(self._buckets)

    def allow(self, key: str, now: int) -> bool:
        """Take one token for key; return False when its bucket is empty."""
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self._max_keys:
                self._make_room(now)
            bucket = self._buckets[key] = _Bucket(self.burst, now)
        else:
            self._buckets.move_to_end(key)
        bucket.tokens = self._level(bucket, now)
        bucket.stamp = now
        if bucket.tokens < 1:
            return False
        bucket.tokens -= 1
        return True

    def _level(self, bucket: _Bucket, now: int) -> float:
        return min(self.burst, bucket.tokens + (now - bucket.stamp) * self.rate)

    def _make_room(self, now: int) -> None:
        # A bucket that has refilled to burst behaves exactly like a missing one, so dropping
        # those loses nothing. The stored tokens alone say nothing: a key used once stays below
        # burst forever unless the refill is applied first.
        for key in [k for k, b in self._buckets.items() if self._level(b, now) >= self.burst]:
            del self._buckets[key]
        # Still crowded by keys that are being limited: forget the least recently used. Such a
        # key starts again with a full burst, but only after a quarter of the table's worth of
        # other keys turned up since it was last seen; a key that keeps trying stays recent.
        while len(self._buckets) > self._low_water:
            self._buckets.popitem(last=False)


def address_key(remote: str) -> str:
    """The rate-limit key for a remote address: IPv6 by /64, which one subscriber gets.

    Anyone with an IPv6 /64 (the usual smallest assignment) can use 2^64 source addresses; per
    address, each would get its own budget. IPv4-mapped addresses count as the IPv4 address.
    Anything that does not parse (an empty string when the peer is unknown) is its own key.
    """
    try:
        address = ipaddress.ip_address(remote)
    except ValueError:
        return remote
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((int(address) >> 64 << 64, 64)))
    return str(address)
