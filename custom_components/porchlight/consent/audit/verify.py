"""Checking a log: the streaming verifier and its report.

The verifier takes entries one at a time, from wherever they come (the SQLite store's rows,
the lines of an exported file), so the home and an auditor run the very same checks, in
constant memory for a log of any length. It recomputes every hash and link, and checks the
entries the log writes itself: the opening key, each checkpoint's signature and each key
rotation's two signatures. It reads nothing and writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from custom_components.porchlight.federation.canonical import JSON, b64u_decode
from custom_components.porchlight.federation.identity import keyid
from custom_components.porchlight.federation.identity import verify as verify_signature

from .entry import (
    GENESIS,
    KINDS,
    LOG_VERSION,
    AuditEntry,
    AuditKind,
    Head,
    checkpoint_message,
    decode_key,
    encode_key,
    rotation_message,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable


@dataclass(frozen=True, slots=True)
class AuditReport:
    """The outcome of a verification.

    `entries`, `checkpoints` and `head` count what verified before the first problem;
    `keys` are the keyids of the chain of signing keys, oldest first: compare the last one
    with the home's fingerprint, because a log rewritten from scratch under another key is
    internally consistent.
    """

    ok: bool
    entries: int
    checkpoints: int
    head: Head
    first_bad_seq: int | None
    problem: str | None
    keys: tuple[str, ...] = ()


def verify_stream(entries: Iterable[AuditEntry], expected: Iterable[Head]) -> AuditReport:
    """Verify entries in order; a ValueError from the source is a malformed entry.

    expected: (seq, hash) pairs known from outside the entries, that the log must contain.
    """
    verifier = _Verifier(expected)
    try:
        for entry in entries:
            if not verifier.feed(entry):
                break
    except ValueError as err:
        verifier.fail(verifier.next_seq, f"malformed entry ({err})")
    return verifier.report()


class _Verifier:
    """Checks entries one at a time, so a log of any length verifies in constant memory."""

    def __init__(self, expected: Iterable[Head]) -> None:
        self.expected = dict(expected)
        self.head: Head = (0, GENESIS)
        self.entries = 0
        self.checkpoints = 0
        self.key: bytes | None = None
        self.keys: list[str] = []
        self.first_bad_seq: int | None = None
        self.problem: str | None = None
        self._checks: dict[str, Callable[[AuditEntry], str | None]] = {
            AuditKind.AUDIT_OPENED: self._opened,
            AuditKind.CHECKPOINT: self._checkpoint,
            AuditKind.KEY_ROTATED: self._rotation,
        }

    @property
    def next_seq(self) -> int:
        return self.head[0] + 1

    def fail(self, seq: int, problem: str) -> None:
        self.first_bad_seq, self.problem = seq, problem

    def feed(self, entry: AuditEntry) -> bool:
        """Check the next entry; False (and a problem) at the first thing wrong."""
        if entry.seq != self.next_seq:
            if entry.seq > self.next_seq:
                self.fail(self.next_seq, f"entry {self.next_seq} is missing (found {entry.seq})")
            else:
                self.fail(self.next_seq, f"entry {entry.seq} is out of order")
            return False
        problem = self._problem(entry)
        if problem is not None:
            self.fail(entry.seq, problem)
            return False
        self.head = (entry.seq, entry.hash)
        self.entries += 1
        return True

    def _problem(self, entry: AuditEntry) -> str | None:
        return self._link_problem(entry) or self._data_problem(entry)

    def _link_problem(self, entry: AuditEntry) -> str | None:
        """Hash, link, kind and position: what every entry must satisfy."""
        if entry.computed_hash() != entry.hash:
            return "hash does not match the entry's contents"
        if entry.prev != self.head[1]:
            return f"does not link to entry {self.head[0]}"
        if entry.kind not in KINDS:
            return f"unknown kind {entry.kind[:40]!r}"
        if (entry.seq == 1) != (entry.kind == AuditKind.AUDIT_OPENED):
            return "the log must start with audit_opened, and only there"
        if self.expected.get(entry.seq, entry.hash) != entry.hash:
            return "differs from the expected head"
        return None

    def _data_problem(self, entry: AuditEntry) -> str | None:
        """The signed contents of the entries the log writes itself."""
        check = self._checks.get(entry.kind)
        if check is None:
            return None
        try:
            return check(entry)
        except KeyError, TypeError, ValueError:
            return f"malformed {entry.kind} data"

    def _opened(self, entry: AuditEntry) -> str | None:
        version = entry.data.get("v")
        if set(entry.data) != {"v", "key"} or type(version) is not int or version != LOG_VERSION:
            return "malformed audit_opened data"
        self._add_key(decode_key(entry.data["key"]))
        return None

    def _checkpoint(self, entry: AuditEntry) -> str | None:
        data = entry.data
        if set(data) != {"size", "head", "key", "sig"}:
            return "malformed checkpoint data"
        # A checkpoint covers the entry right before it, so its own link ties it to the chain.
        size = entry.seq - 1
        if type(data["size"]) is not int or data["size"] != size:
            return f"checkpoint names entry {data['size']!r:.20}, not the entry before it"
        if data["head"] != entry.prev:
            return f"checkpoint head does not match entry {size}"
        key = decode_key(data["key"])
        if key != self.key:
            return "checkpoint signed by a key not in the chain"
        message = checkpoint_message(size, entry.prev, encode_key(key))
        if not verify_signature(key, _signature(data["sig"]), message):
            return "checkpoint signature does not verify"
        self.checkpoints += 1
        return None

    def _rotation(self, entry: AuditEntry) -> str | None:
        data = entry.data
        if set(data) != {"old", "key", "sig", "new_sig"}:
            return "malformed key_rotated data"
        old, new = decode_key(data["old"]), decode_key(data["key"])
        if old != self.key:
            return "rotation from a key that is not the current one"
        message = rotation_message(encode_key(old), encode_key(new), entry.seq)
        if not verify_signature(old, _signature(data["sig"]), message):
            return "rotation not signed by the previous key"
        if not verify_signature(new, _signature(data["new_sig"]), message):
            return "rotation not signed by the new key"
        self._add_key(new)
        return None

    def _add_key(self, key: bytes) -> None:
        self.key = key
        self.keys.append(keyid(key))

    def report(self) -> AuditReport:
        """The verdict once every entry was fed (or the first problem found)."""
        if self.problem is None:
            if self.entries == 0:
                self.fail(1, "the log is empty")
            else:
                for seq in sorted(self.expected):
                    if seq > self.head[0]:
                        self.fail(
                            self.head[0] + 1,
                            f"the log ends at entry {self.head[0]}, before the expected"
                            f" entry {seq}: it was cut off",
                        )
                        break
        return AuditReport(
            ok=self.problem is None,
            entries=self.entries,
            checkpoints=self.checkpoints,
            head=self.head,
            first_bad_seq=self.first_bad_seq,
            problem=self.problem,
            keys=tuple(self.keys),
        )


def _signature(value: JSON) -> bytes:
    if not isinstance(value, str):
        raise TypeError
    return b64u_decode(value, 64)
