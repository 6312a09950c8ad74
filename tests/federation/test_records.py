"""Envelopes, invites, peers, outbox, replay cache and rate limits on their own."""

from __future__ import annotations

import re
import stat
from typing import TYPE_CHECKING

import pytest
from hypothesis import given
from hypothesis import strategies as st

from custom_components.porchlight.federation.canonical import b64u, canon
from custom_components.porchlight.federation.clock import SystemClock
from custom_components.porchlight.federation.errors import (
    ForgedOriginError,
    InviteGoneError,
    InviteInvalidError,
    InviteMalformedError,
    MessageExpiredError,
    RateLimitedError,
    ReplayError,
    SchemaError,
    UnknownKeyError,
)
from custom_components.porchlight.federation.identity import Identity, grouped
from custom_components.porchlight.federation.invites import (
    Invite,
    InviteBook,
    qr_svg,
    qr_text,
)
from custom_components.porchlight.federation.json_file import read_json, write_json
from custom_components.porchlight.federation.messages import (
    BROADCAST,
    open_envelope,
    seal,
)
from custom_components.porchlight.federation.outbox import (
    BASE_DELAY,
    MAX_ATTEMPTS,
    MAX_DELAY,
    Outbox,
    backoff,
)
from custom_components.porchlight.federation.peers import Peer, PeerRegistry, Vouch
from custom_components.porchlight.federation.ratelimit import RateLimiter
from custom_components.porchlight.federation.replay import RETENTION, ReplayCache

if TYPE_CHECKING:
    from pathlib import Path

NOW = 1_800_000_000
ALICE = Identity.generate()


def _alert(text: str = "hi", **kwargs: int) -> dict[str, object]:
    return seal(
        ALICE,
        "alert",
        {"text": text, "category": "other", "name": "", "max_hops": 1},
        to=BROADCAST,
        now=NOW,
        lifetime=kwargs.get("lifetime", 600),
        message_id="A" * 22,
    ).to_json()


# --- envelopes ---------------------------------------------------------------------------------
@given(st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=500))
def test_seal_open_round_trip(text: str) -> None:
    obj = _alert(text)
    envelope = open_envelope(obj, now=NOW)
    assert envelope.body["text"] == text
    assert envelope.sender == ALICE.keyid
    assert envelope.to_json() == obj
    assert len(envelope.event_id) == 64


def test_hop_count_is_not_signed() -> None:
    envelope = open_envelope(_alert(), now=NOW)
    relayed = open_envelope(envelope.relayed().to_json(), now=NOW)
    assert relayed.hops == 1
    assert relayed.event_id == envelope.event_id


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (lambda o: o.update(v=2), "field v"),
        (lambda o: o.update(body=[]), "body must be an object"),
        (lambda o: o.update(unsigned=[]), "unsigned must be an object"),
        (lambda o: o.update(unsigned={"hops": 0}), "field hops"),
        (lambda o: o.update(to=ALICE.keyid), "addressed to everyone"),
        (lambda o: o.update(expires=o["created"]), "lifetime"),
        (lambda o: o.update(sig=o["sig"][:-1] + "B"), "field sig"),  # trailing bits
        (lambda o: o.pop("id"), "fields must be exactly"),
        (lambda o: o["body"].update(max_hops=True), "field max_hops"),
    ],
)
def test_envelope_schema_refusals(change: object, why: str) -> None:
    obj = _alert()
    change(obj)  # type: ignore[operator]
    with pytest.raises(SchemaError, match=why):
        open_envelope(obj, now=NOW)


def test_a_from_key_that_is_not_the_senders_is_a_forged_origin() -> None:
    obj = _alert()
    obj["from_key"] = b64u(Identity.generate().public_key)
    with pytest.raises(ForgedOriginError, match="fingerprint") as err:
        open_envelope(obj, now=NOW)
    assert (err.value.status, err.value.code) == (401, "forged_origin")


def test_direct_types_cannot_be_broadcast() -> None:
    with pytest.raises(SchemaError, match="only relayable"):
        seal(ALICE, "revoke", {"reason": "retired"}, to=BROADCAST, now=NOW, lifetime=60,
             message_id="A" * 22)  # fmt: skip


def test_message_not_yet_valid_or_expired() -> None:
    with pytest.raises(MessageExpiredError):
        open_envelope(_alert(), now=NOW - 61)
    with pytest.raises(MessageExpiredError):
        open_envelope(_alert(), now=NOW + 601)


def test_envelope_must_be_an_object() -> None:
    with pytest.raises(SchemaError, match="object"):
        open_envelope([], now=NOW)


# --- invites -----------------------------------------------------------------------------------
def _invite(**changes: object) -> Invite:
    base = {
        "endpoint": "https://home.example/api/porchlight/v1",
        "public_key": ALICE.public_key,
        "role": "neighbor",
        "name": "Maple 12",
        "token": "T" * 21 + "Q",
        "expires": NOW,
    }
    return Invite(**{**base, **changes})  # type: ignore[arg-type]


def test_invite_text_round_trip_and_qr() -> None:
    invite = _invite()
    text = invite.to_text()
    assert text.startswith("plinv1.")
    assert Invite.from_text(f"  {text}\n") == invite
    assert invite.keyid == ALICE.keyid
    assert qr_svg(text).startswith("<svg")
    assert "█" in qr_text(text) or "▀" in qr_text(text)


@pytest.mark.parametrize(
    "text",
    [
        "hello",
        "plinv1.!!!",
        "plinv1." + b64u(b"[1]"),
        "plinv1." + b64u(canon({"v": 1})),
        "plinv1." + "A" * 2000,
        _invite(endpoint="ftp://x").to_text(),
        _invite(role="police").to_text(),
        _invite(token="short").to_text(),  # noqa: S106  # not a secret: a malformed token
        # 22 characters, but the last one's 4 spare bits are set: no canonical 16 bytes.
        _invite(token="T" * 22).to_text(),
        _invite(name="").to_text(),
        _invite(expires="soon").to_text(),
    ],
)
def test_malformed_invites_are_refused(text: str) -> None:
    with pytest.raises(InviteMalformedError):
        Invite.from_text(text)


def test_invite_book_lifecycle() -> None:
    book = InviteBook()
    invite = book.issue(ALICE, endpoint="http://x", role="neighbor", name="n", now=NOW)
    digest = book.check(invite.token, NOW)
    book.fail(digest)
    restored = InviteBook.from_json(book.to_json())
    assert len(restored) == 1
    restored.consume(restored.check(invite.token, NOW))
    with pytest.raises(InviteGoneError):
        restored.check(invite.token, NOW)
    with pytest.raises(InviteInvalidError):
        restored.check("A" * 22, NOW)
    # Expired invites are forgotten when the next one is issued.
    restored.issue(ALICE, endpoint="http://x", role="neighbor", name="n", now=NOW + 10**6)
    assert len(restored) == 1


# --- peers -------------------------------------------------------------------------------------
def test_registry_round_trip_and_rotation() -> None:
    registry = PeerRegistry()
    peer = Peer(ALICE.keyid, ALICE.public_key, "agency", "Sheriff", "http://x", NOW, trusted=False)
    registry.add(peer)
    registry.vouches.append(Vouch(ALICE.keyid, ALICE.public_key, "Sheriff", "B" * 32, NOW))
    assert registry.set_trusted(ALICE.keyid, trusted=True).trusted
    new = Identity.generate()
    rotated = registry.rotate(ALICE.keyid, new.public_key, 1)
    assert rotated.retired_keys == (ALICE.public_key,)
    assert rotated.fingerprint == new.fingerprint
    restored = PeerRegistry.from_json(registry.to_json())
    assert restored.to_json() == registry.to_json()
    assert [p.keyid for p in restored.agencies()] == [new.keyid]
    assert restored.neighbors() == []
    assert restored.remove("nobody") is None


def test_grouped_fingerprint() -> None:
    assert grouped(ALICE.keyid) == ALICE.fingerprint


# --- outbox ------------------------------------------------------------------------------------
def test_backoff_doubles_and_caps() -> None:
    def none(_bound: int) -> int:
        return 0

    assert [backoff(n, none) for n in (1, 2, 3)] == [BASE_DELAY, 2 * BASE_DELAY, 4 * BASE_DELAY]
    assert backoff(30, none) == MAX_DELAY


def test_backoff_jitter_shortens_by_at_most_half() -> None:
    assert backoff(1, lambda bound: bound - 1) == BASE_DELAY - BASE_DELAY // 2
    waits = {backoff(5) for _ in range(200)}
    delay = 16 * BASE_DELAY
    assert all(delay - delay // 2 <= w <= delay for w in waits)
    assert len(waits) > 1  # homes that failed together spread their retries


def test_outbox_persists_and_gives_up(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "outbox.json"
    outbox = Outbox(path)
    outbox.load()  # no file yet
    assert outbox.enqueue(peer="P", payload="{}", signer="S", expires=NOW + 10**6, now=NOW)
    outbox.save()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = Outbox(path)
    again.load()
    (entry,) = again.due(NOW)
    for attempt in range(1, MAX_ATTEMPTS):
        again.failed(entry, NOW, "x", retry=True)
        (entry,) = again
        assert entry.attempts == attempt
    again.failed(entry, NOW, "x", retry=True)
    assert len(again) == 0


def test_outbox_writes_the_snapshot_it_was_given(tmp_path: Path) -> None:
    """The loop snapshots, a thread writes: entries added meanwhile wait for the next save."""
    outbox = Outbox(tmp_path / "outbox.json")
    assert outbox.enqueue(peer="P", payload="{}", signer="S", expires=NOW + 99, now=NOW)
    snapshot = outbox.snapshot()
    assert outbox.enqueue(peer="Q", payload="{}", signer="S", expires=NOW + 99, now=NOW)
    outbox.save(snapshot)
    again = Outbox(tmp_path / "outbox.json")
    again.load()
    assert [e.peer for e in again] == ["P"]


def test_outbox_drops_expired_and_removed_peers() -> None:
    outbox = Outbox(None)
    outbox.load()
    outbox.save()
    outbox.enqueue(peer="P", payload="{}", signer="S", expires=NOW, now=NOW)
    outbox.enqueue(peer="Q", payload="{}", signer="S", expires=NOW + 100, now=NOW)
    assert len(outbox.due(NOW + 1)) == 1
    outbox.drop_peer("Q")
    assert len(outbox) == 0


def test_full_outbox_refuses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("custom_components.porchlight.federation.outbox.MAX_ENTRIES", 1)
    outbox = Outbox(None)
    assert outbox.enqueue(peer="P", payload="{}", signer="S", expires=NOW, now=NOW)
    assert not outbox.enqueue(peer="P", payload="{}", signer="S", expires=NOW, now=NOW)


def test_json_file_missing_is_none(tmp_path: Path) -> None:
    assert read_json(tmp_path / "none.json") is None
    (tmp_path / ".x.json.tmp").write_text("stale")
    write_json(tmp_path / "x.json", {"a": 1})
    assert read_json(tmp_path / "x.json") == {"a": 1}


# --- replay and rate limits ---------------------------------------------------------------------
def test_replay_cache_forgets_after_retention() -> None:
    cache = ReplayCache()
    cache.check_and_add("K", "n", NOW, NOW)
    with pytest.raises(ReplayError):
        cache.check_and_add("K", "n", NOW, NOW + RETENTION)
    cache.check_and_add("K", "n", NOW, NOW + RETENTION + 1)
    assert len(cache) == 1


def test_full_replay_cache_refuses() -> None:
    cache = ReplayCache(max_entries=1)
    cache.check_and_add("K", "a", NOW, NOW)
    with pytest.raises(RateLimitedError):
        cache.check_and_add("K", "b", NOW, NOW)


def test_rate_limiter_refills() -> None:
    limiter = RateLimiter(per_minute=60, burst=2, max_keys=1)
    assert limiter.allow("a", NOW)
    assert limiter.allow("a", NOW)
    assert not limiter.allow("a", NOW)
    assert limiter.allow("a", NOW + 1)
    assert limiter.allow("b", NOW)  # table full: idle buckets are dropped


def test_system_clock_is_integer_seconds() -> None:
    assert isinstance(SystemClock().now(), int)
    assert re.fullmatch(r"\d{10}", str(SystemClock().now()))


def test_registry_resolves_only_pinned_keys() -> None:
    registry = PeerRegistry()
    stranger = Identity.generate().keyid
    assert not registry.knows(stranger)
    with pytest.raises(UnknownKeyError):
        registry.resolve(stranger)
