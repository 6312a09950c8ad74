"""Per-key token buckets: one noisy peer cannot starve the others or the home (R2.8)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class _Bucket:
    tokens: float
    stamp: int


class RateLimiter:
    """Allow `per_minute` requests per key on average, with bursts up to `burst`."""

    def __init__(self, per_minute: int, burst: int | None = None, max_keys: int = 10_000) -> None:
        """Configure the rate; the bucket table is bounded by max_keys."""
        self.rate = per_minute / 60
        self.burst = float(burst if burst is not None else per_minute)
        self._buckets: dict[str, _Bucket] = {}
        self._max_keys = max_keys

    def allow(self, key: str, now: int) -> bool:
        """Take one token for key; return False when its bucket is empty."""
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self._max_keys:
                # Full buckets carry no information; dropping them all is the cheap reset.
                self._buckets = {k: b for k, b in self._buckets.items() if b.tokens < self.burst}
            bucket = self._buckets[key] = _Bucket(self.burst, now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.stamp) * self.rate)
        bucket.stamp = now
        if bucket.tokens < 1:
            return False
        bucket.tokens -= 1
        return True
