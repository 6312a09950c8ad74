"""Token buckets: keys still limited, and a table the senders cannot grow or make slow."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from multidict import CIMultiDict

from custom_components.porchlight.federation.api import Incoming
from custom_components.porchlight.federation.errors import ProtocolError, RateLimitedError
from custom_components.porchlight.federation.ratelimit import RateLimiter, address_key

if TYPE_CHECKING:
    from .loopback import Network

NOW = 1_700_000_000


def test_a_key_is_limited_to_its_burst_then_its_rate() -> None:
    limiter = RateLimiter(per_minute=60, burst=3)
    assert [limiter.allow("a", NOW) for _ in range(4)] == [True, True, True, False]
    assert limiter.allow("b", NOW)  # other keys have their own bucket
    assert [limiter.allow("a", NOW + 2) for _ in range(3)] == [True, True, False]
    assert [limiter.allow("a", NOW + 100) for _ in range(4)] == [True, True, True, False]


def test_a_flood_of_new_keys_never_grows_the_table_past_max_keys() -> None:
    limiter = RateLimiter(per_minute=5, max_keys=100)
    for i in range(5_000):
        # Each key used once, as a sender spraying source addresses would: the old table kept
        # every such bucket (stored tokens below burst), so it grew by one per key.
        assert limiter.allow(f"k{i}", NOW + i // 50)
        assert len(limiter) <= 100


def test_buckets_refilled_to_burst_are_dropped_when_the_table_is_full() -> None:
    limiter = RateLimiter(per_minute=5, max_keys=3)
    for key in "abc":
        limiter.allow(key, NOW)  # 4 of 5 tokens left: below burst, but not for long
    limiter.allow("d", NOW + 60)  # all three have refilled: they carry no information
    assert len(limiter) == 1


def test_a_flood_of_new_keys_costs_constant_work_per_key(monkeypatch: pytest.MonkeyPatch) -> None:
    # Work counted structurally, not timed: every bucket the limiter looks at is one refill.
    # Rebuilding the table for each new key (the old way) would look at ~max_keys per key.
    looked_at = 0
    level = RateLimiter._level

    def counting(self: RateLimiter, bucket: object, now: int) -> float:
        nonlocal looked_at
        looked_at += 1
        return level(self, bucket, now)  # type: ignore[arg-type]

    monkeypatch.setattr(RateLimiter, "_level", counting)
    limiter = RateLimiter(per_minute=5, max_keys=1_000)
    keys = 20_000
    for i in range(keys):
        limiter.allow(f"k{i}", NOW)
    assert looked_at <= 6 * keys


def test_eviction_keeps_recently_used_limited_keys() -> None:
    limiter = RateLimiter(per_minute=1, burst=2, max_keys=100)
    for _ in range(2):
        assert limiter.allow("victim", NOW)
    for i in range(1_000):
        limiter.allow(f"flood{i}", NOW)
        # The victim keeps trying and so stays recent: it is never evicted and reset.
        if i % 10 == 0:
            assert not limiter.allow("victim", NOW)
    assert len(limiter) <= 100


def test_refilled_buckets_go_before_limited_ones_even_if_more_recent() -> None:
    limiter = RateLimiter(per_minute=1, burst=2, max_keys=3)
    assert limiter.allow("limited", NOW)
    assert limiter.allow("limited", NOW)
    assert limiter.allow("idle", NOW + 1)
    assert limiter.allow("other", NOW + 70)
    # Full: "idle" has refilled (1 + 69/60 tokens, capped at 2) and goes; "limited", the least
    # recently used, has 70/60 tokens: one request now, not a fresh burst of two.
    assert limiter.allow("new", NOW + 70)
    assert len(limiter) == 3
    assert [limiter.allow("limited", NOW + 70) for _ in range(2)] == [True, False]


def test_when_only_limited_keys_remain_the_least_recently_used_go() -> None:
    limiter = RateLimiter(per_minute=1, burst=1, max_keys=4)
    for key in "abcd":
        assert limiter.allow(key, NOW)
    assert not limiter.allow("a", NOW)  # "a" is now the most recently used
    assert limiter.allow("e", NOW)  # full, nothing refilled: "b" goes (down to 3, then "e")
    assert len(limiter) == 4
    assert [limiter.allow(key, NOW) for key in "acde"] == [False, False, False, False]
    assert limiter.allow("b", NOW)  # forgotten, so a fresh bucket


def test_max_keys_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_keys"):
        RateLimiter(per_minute=5, max_keys=0)


@pytest.mark.parametrize(
    ("remote", "key"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:db8:1:2::1", "2001:db8:1:2::/64"),
        ("2001:DB8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
        ("2001:db8:1:3::1", "2001:db8:1:3::/64"),
        ("::1", "::/64"),
        ("fe80::1%eth0", "fe80::/64"),
        # IPv4-mapped: one IPv4 address each, not the whole IPv4 internet in one /64.
        ("::ffff:203.0.113.7", "203.0.113.7"),
        ("", ""),
        ("not an address", "not an address"),
    ],
)
def test_address_key_groups_ipv6_by_64(remote: str, key: str) -> None:
    assert address_key(remote) == key


async def test_pairing_is_limited_per_ipv6_64_not_per_address(network: Network) -> None:
    home = await network.start("Home")

    def attempt(remote: str) -> Incoming:
        # Passes the checks before the limiter and fails the next (authority): the limiter is
        # all this looks at.
        headers = CIMultiDict({"Content-Type": "application/json"})
        return Incoming("POST", "elsewhere.invalid", "/pair", "", headers, 10, remote)

    async def read_body(limit: int) -> bytes:
        raise AssertionError(limit)

    for i in range(home.node.settings.pair_per_minute):
        with pytest.raises(ProtocolError) as refused:
            await home.node.handle_pair(attempt(f"2001:db8:1:2::{i + 1:x}"), read_body)
        assert not isinstance(refused.value, RateLimitedError)
    with pytest.raises(RateLimitedError):
        await home.node.handle_pair(attempt("2001:db8:1:2:dead:beef:0:1"), read_body)
    with pytest.raises(ProtocolError) as other:
        await home.node.handle_pair(attempt("2001:db8:1:3::1"), read_body)
    assert not isinstance(other.value, RateLimitedError)
