"""The owner's audit log: append-only, hash-chained, with signed checkpoints (R6).

Every entry names the hash of the one before it, so changing, removing, inserting or
reordering entries breaks the chain; every `checkpoint_every` entries (and on demand) the home
signs the head with its Ed25519 key, so a rewrite that recomputes every hash still fails at the
first checkpoint it crosses. docs/audit.md says what is logged, what never is, and what a
log file alone cannot prove (that its unsigned tail was not cut off or rewritten).

Blocking: SQLite I/O. The Home Assistant glue calls these methods in the executor. No Home
Assistant imports, so an auditor verifies an exported copy with this same module.

What callers must know:
- `append` is write-ahead for anything that leaves home: log first, send after, and send
  nothing if `append` raised `AuditError`.
- Entries hold metadata only. Never pass tokens, keys, footage, locations or message bodies in
  `actor`, `subject` or `data` (R6.4): pass token *hashes*, clip and request ids, keyids. Bytes
  that left go in `payload`, of which only the SHA-256 and size are kept.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import os
import re
import sqlite3
import threading
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import TYPE_CHECKING, Final, Self

from custom_components.porchlight.federation.canonical import (
    JSON,
    Limits,
    b64u,
    b64u_decode,
    canon,
    loads,
)
from custom_components.porchlight.federation.errors import MalformedJSONError
from custom_components.porchlight.federation.identity import keyid
from custom_components.porchlight.federation.identity import verify as verify_signature

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Mapping
    from pathlib import Path
    from types import TracebackType

    from custom_components.porchlight.federation.clock import Clock
    from custom_components.porchlight.federation.identity import Identity


class AuditKind(StrEnum):
    """What an entry records. The set is closed: anything else is refused."""

    # The log itself (written only by AuditLog, never through append()).
    AUDIT_OPENED = "audit_opened"  # seq 1: the log was created; data.key = first signing key
    CHECKPOINT = "checkpoint"  # signed head (size, head, key, sig)
    KEY_ROTATED = "key_rotated"  # the home's key changed; signed by the old and the new key
    # Peers and trust (R6.3).
    INVITE_CREATED = "invite_created"  # subject = SHA-256 of the invite token, never the token
    PEER_PAIRED = "peer_paired"
    PEER_CONFIRMED = "peer_confirmed"  # the owner compared the pairing code
    PEER_REMOVED = "peer_removed"
    PEER_REVOKED = "peer_revoked"  # a peer revoked its own key
    AGENCY_TRUSTED = "agency_trusted"
    AGENCY_UNTRUSTED = "agency_untrusted"
    RULES_CHANGED = "rules_changed"  # auto-decline rules or agency scope
    # Footage requests, from arrival to decision.
    REQUEST_RECEIVED = "request_received"
    REQUEST_REJECTED = "request_rejected"  # invalid, untrusted, beyond the hard limits
    REQUEST_NOT_IN_AREA = "request_not_in_area"
    REQUEST_AUTO_DECLINED = "request_auto_declined"
    REQUEST_PENDING = "request_pending"
    REQUEST_DECLINED = "request_declined"
    REQUEST_EXPIRED = "request_expired"
    CLIP_APPROVED = "clip_approved"  # the consent record; written before any link exists
    CLIP_DELETED = "clip_deleted"  # a clip tied to a request or share was deleted
    # What left home, and what came in.
    MESSAGE_SENT = "message_sent"  # payload = the exact bytes sent
    MESSAGE_RECEIVED = "message_received"
    OFFER_SENT = "offer_sent"
    OFFER_UNDELIVERABLE = "offer_undeliverable"  # given up; data.error says why
    OFFER_RETRIED = "offer_retried"  # the owner sent undelivered offers again
    DOWNLOAD = "download"  # a clip download starts: size = bytes served
    DOWNLOAD_REFUSED = "download_refused"
    SHARE_REVOKED = "share_revoked"
    SHARE_EXPIRED = "share_expired"


KINDS: Final = frozenset(AuditKind)
# Their data is checked by verify(), so only the log writes them.
_STRUCTURAL: Final = frozenset(
    {AuditKind.AUDIT_OPENED, AuditKind.CHECKPOINT, AuditKind.KEY_ROTATED}
)

GENESIS: Final = "0" * 64  # prev of entry 1
LOG_VERSION: Final = 1
CHECKPOINT_CONTEXT: Final = b"porchlight-audit-checkpoint-v1\n"
KEY_CONTEXT: Final = b"porchlight-audit-key-v1\n"
DEFAULT_CHECKPOINT_EVERY: Final = 100
DEFAULT_CHECKPOINT_SECONDS: Final = 86_400  # R6.2: every 100 entries or 24 h
MAX_TEXT: Final = 512  # actor and subject: ids, keyids, hashes
# Small metadata only; also keeps every exported line within the strict parser's limits.
DATA_LIMITS: Final = Limits(max_bytes=4096, max_depth=4, max_array=100, max_string=1024)

_HEX64: Final = re.compile(r"[0-9a-f]{64}")
_PAGE: Final = 500
SCHEMA_VERSION: Final = 1
_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS entries (
    seq INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    kind TEXT NOT NULL,
    actor TEXT NOT NULL,
    subject TEXT NOT NULL,
    payload_sha256 TEXT,
    size INTEGER,
    data TEXT NOT NULL,
    prev TEXT NOT NULL,
    hash TEXT NOT NULL
) STRICT;
"""
_COLUMNS: Final = "seq, at, kind, actor, subject, payload_sha256, size, data, prev, hash"
_COLUMN_NAMES: Final = tuple(_COLUMNS.split(", "))
_FIELDS: Final = frozenset(_COLUMN_NAMES)

type Head = tuple[int, str]


class AuditError(Exception):
    """The audit log cannot be read or written; whoever was about to send must not."""


# --- the record ------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One line of the log. `hash` covers every other field (canonical JSON, 0x00 prefix)."""

    seq: int
    at: int
    kind: str
    actor: str
    subject: str
    payload_sha256: str | None
    size: int | None
    data: dict[str, JSON]
    prev: str
    hash: str

    def body(self) -> dict[str, JSON]:
        """The hashed fields: everything but the hash."""
        return {
            "seq": self.seq,
            "at": self.at,
            "kind": self.kind,
            "actor": self.actor,
            "subject": self.subject,
            "payload_sha256": self.payload_sha256,
            "size": self.size,
            "data": self.data,
            "prev": self.prev,
        }

    def computed_hash(self) -> str:
        """SHA-256 of 0x00 + canon(body), hex: what `hash` must be."""
        return _entry_hash(self.body())

    def to_json(self) -> dict[str, JSON]:
        """Serialize (one line of an export)."""
        return {**self.body(), "hash": self.hash}

    @classmethod
    def from_json(cls, value: JSON) -> AuditEntry:
        """Deserialize and type-check; raise ValueError for anything that is not an entry."""
        if not isinstance(value, dict) or set(value) != _FIELDS:
            raise ValueError("not an audit entry (fields)")
        seq, at, size, data = value["seq"], value["at"], value["size"], value["data"]
        kind, actor, subject = value["kind"], value["actor"], value["subject"]
        sha, prev, entry_hash = value["payload_sha256"], value["prev"], value["hash"]
        if type(seq) is not int or type(at) is not int:
            raise ValueError("seq and at must be integers")
        if not (isinstance(kind, str) and isinstance(actor, str) and isinstance(subject, str)):
            raise ValueError("kind, actor and subject must be strings")  # noqa: TRY004
        if not (size is None or (type(size) is int and size >= 0)):
            raise ValueError("size must be a non-negative integer or null")
        if not (sha is None or _is_hex64(sha)) or not _is_hex64(prev) or not _is_hex64(entry_hash):
            raise ValueError("hashes must be 64 lowercase hex digits")
        if not isinstance(data, dict):
            raise ValueError("data must be an object")  # noqa: TRY004  # one error type for callers
        return cls(seq, at, kind, actor, subject, sha, size, data, prev, entry_hash)  # type: ignore[arg-type]

    @classmethod
    def from_row(cls, row: tuple[object, ...]) -> AuditEntry:
        """Build from an `entries` row; data must be canonical JSON. Raise ValueError if not."""
        fields = dict(zip(_COLUMN_NAMES, row, strict=True))
        text = fields["data"]
        if not isinstance(text, str):
            raise ValueError("data must be text")  # noqa: TRY004  # one error type for callers
        try:
            fields["data"] = loads(text.encode("utf-8"), DATA_LIMITS)
        except MalformedJSONError as err:
            msg = f"data is not canonical JSON ({err})"
            raise ValueError(msg) from err
        return cls.from_json(fields)  # type: ignore[arg-type]

    def to_row(self) -> tuple[int, int, str, str, str, str | None, int | None, str, str, str]:
        """The `entries` row (data as canonical JSON text)."""
        data = canon(self.data).decode("utf-8")
        return (self.seq, self.at, self.kind, self.actor, self.subject,
                self.payload_sha256, self.size, data, self.prev, self.hash)  # fmt: skip


def _is_hex64(value: object) -> bool:
    return isinstance(value, str) and _HEX64.fullmatch(value) is not None


def _entry_hash(body: Mapping[str, JSON]) -> str:
    return hashlib.sha256(b"\x00" + canon(body)).hexdigest()


def checkpoint_message(size: int, head: str, key: str) -> bytes:
    """What a checkpoint signs: the covered entry's seq and hash, and the signing key (b64u)."""
    return CHECKPOINT_CONTEXT + canon({"size": size, "head": head, "key": key})


def rotation_message(old: str, new: str, seq: int) -> bytes:
    """What both keys sign in a key_rotated entry at seq (keys as b64u)."""
    return KEY_CONTEXT + canon({"old": old, "new": new, "seq": seq})


# --- verification ----------------------------------------------------------------------------
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
        self._add_key(_key(entry.data["key"]))
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
        key = _key(data["key"])
        if key != self.key:
            return "checkpoint signed by a key not in the chain"
        message = checkpoint_message(size, entry.prev, _b64(key))
        if not verify_signature(key, _sig(data["sig"]), message):
            return "checkpoint signature does not verify"
        self.checkpoints += 1
        return None

    def _rotation(self, entry: AuditEntry) -> str | None:
        data = entry.data
        if set(data) != {"old", "key", "sig", "new_sig"}:
            return "malformed key_rotated data"
        old, new = _key(data["old"]), _key(data["key"])
        if old != self.key:
            return "rotation from a key that is not the current one"
        message = rotation_message(_b64(old), _b64(new), entry.seq)
        if not verify_signature(old, _sig(data["sig"]), message):
            return "rotation not signed by the previous key"
        if not verify_signature(new, _sig(data["new_sig"]), message):
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


def _b64(key: bytes) -> str:
    return b64u(key)


def _key(value: JSON) -> bytes:
    if not isinstance(value, str):
        raise TypeError
    return b64u_decode(value, 32)


def _sig(value: JSON) -> bytes:
    if not isinstance(value, str):
        raise TypeError
    return b64u_decode(value, 64)


def _verify_stream(entries: Iterable[AuditEntry], expected: Iterable[Head]) -> AuditReport:
    """Feed entries to a verifier; a ValueError from the source is a malformed entry."""
    verifier = _Verifier(expected)
    try:
        for entry in entries:
            if not verifier.feed(entry):
                break
    except ValueError as err:
        verifier.fail(verifier.next_seq, f"malformed entry ({err})")
    return verifier.report()


def verify_jsonl(path: Path, *, expected_head: Head | None = None) -> AuditReport:
    """Verify an exported copy (one canonical JSON entry per line) with the log's own checks.

    expected_head: an (seq, hash) known from outside the file (a manifest, a saved
    checkpoint); the copy must contain that very entry, which is what detects a cut-off tail.
    Blocking.
    """
    with path.open("rb") as file:
        return _verify_stream(_parse_lines(file), [expected_head] if expected_head else [])


def _parse_lines(lines: Iterable[bytes]) -> Iterator[AuditEntry]:
    for line in lines:
        try:
            value = loads(line.removesuffix(b"\n"))
        except MalformedJSONError as err:
            raise ValueError(str(err)) from err
        yield AuditEntry.from_json(value)


# --- the log ---------------------------------------------------------------------------------
class _Chain:
    """Entries being sealed in one transaction, each linked to the one before."""

    def __init__(self, head: Head, at: int) -> None:
        self.head = head
        self.at = at
        self.sealed: list[AuditEntry] = []

    def add(  # noqa: PLR0913  # mirrors append()
        self,
        kind: str,
        *,
        actor: str = "",
        subject: str = "",
        sha256: str | None = None,
        size: int | None = None,
        data: dict[str, JSON] | None = None,
    ) -> AuditEntry:
        entry = AuditEntry(
            self.head[0] + 1, self.at, kind, actor, subject, sha256, size, data or {},
            self.head[1], "",
        )  # fmt: skip
        entry = replace(entry, hash=entry.computed_hash())
        self.sealed.append(entry)
        self.head = (entry.seq, entry.hash)
        return entry


class AuditLog:
    """The append-only audit log of one home, in its own SQLite file.

    Thread-safe (one connection, one lock). Opening an existing log re-verifies it in full
    (R6.5) and keeps the result in `last_report`; a damaged log is *not* refused: new entries
    continue from the last stored row, because losing new records would be worse than
    appending to a chain that already shows where it was damaged.
    """

    def __init__(
        self,
        path: Path,
        identity: Identity,
        clock: Clock,
        *,
        checkpoint_every: int = DEFAULT_CHECKPOINT_EVERY,
        checkpoint_seconds: int = DEFAULT_CHECKPOINT_SECONDS,
    ) -> None:
        """Prepare the log at path, signed by identity; nothing is touched until open()."""
        if checkpoint_every < 1 or checkpoint_seconds < 1:
            raise ValueError("checkpoint intervals must be positive")
        self.path = path
        self._identity = identity
        self._clock = clock
        self._every = checkpoint_every
        self._seconds = checkpoint_seconds
        self._lock = threading.RLock()  # rotate_key holds it around _write
        self._db: sqlite3.Connection | None = None
        self._file: tuple[int, int] = (0, 0)
        self._known: Head = (0, GENESIS)
        self._chain_key = identity.public_key
        self._checkpoint: AuditEntry | None = None
        # (seq, time) the next automatic checkpoint is counted from
        self._checkpoint_since = (0, 0)
        self.last_report: AuditReport | None = None

    # --- lifecycle ---------------------------------------------------------------------------
    def open(self) -> AuditReport:
        """Open (creating it if new) and verify the log; return and keep the report."""
        with self._lock:
            if self._db is not None:
                raise AuditError("the audit log is open already")
            self._db = self._connect()
            try:
                with self._sqlite("open"):
                    self._file = _file_id(self.path)
                    self._load_state(self._db)
                    if self._known[0] == 0:
                        self._create(self._db)
            except BaseException:
                self._db.close()
                self._db = None
                raise
        return self.verify()

    def _connect(self) -> sqlite3.Connection:
        with self._sqlite("open"):
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            # Created with the mode from the start; SQLite gives -wal and -shm the same mode.
            os.close(os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600))
            db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            # A corrupted byte must show up as a changed entry (its hash no longer matches),
            # not as a decoding error that would stop the log from opening.
            db.text_factory = _decode_text
        try:
            with self._sqlite("open"):
                db.execute("PRAGMA journal_mode=WAL")
                # FULL: every commit reaches the disk before append() returns. With NORMAL
                # a power cut could lose the last entries of a message that already left.
                db.execute("PRAGMA synchronous=FULL")
                version = db.execute("PRAGMA user_version").fetchone()[0]
                if version <= SCHEMA_VERSION:
                    db.executescript(_SCHEMA)
                    # Also a write: a log we could not append to is refused here, at open.
                    db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        except BaseException:
            db.close()
            raise
        if version > SCHEMA_VERSION:
            db.close()
            msg = f"audit log schema {version} is newer than this Porchlight"
            raise AuditError(msg)
        return db

    def _load_state(self, db: sqlite3.Connection) -> None:
        """Where appending continues, which key signs, when the next checkpoint is due."""
        row = db.execute("SELECT seq, hash FROM entries ORDER BY seq DESC LIMIT 1").fetchone()
        self._known = (row[0], row[1]) if row else (0, GENESIS)
        # The chain's current key, read from the last entry that set one. If it is unreadable
        # (a damaged log) our own key is assumed; verify() has reported the damage already.
        row = db.execute(
            f"SELECT {_COLUMNS} FROM entries WHERE kind IN (?, ?) ORDER BY seq DESC LIMIT 1",  # noqa: S608
            (AuditKind.AUDIT_OPENED, AuditKind.KEY_ROTATED),
        ).fetchone()
        self._chain_key = self._identity.public_key
        if row is not None:
            with contextlib.suppress(ValueError, TypeError, KeyError):
                self._chain_key = _key(AuditEntry.from_row(row).data["key"])
        row = db.execute(
            f"SELECT {_COLUMNS} FROM entries WHERE kind = ? ORDER BY seq DESC LIMIT 1",  # noqa: S608
            (AuditKind.CHECKPOINT,),
        ).fetchone()
        self._checkpoint = None
        self._checkpoint_since = (0, self._clock.now())
        if row is not None:
            with contextlib.suppress(ValueError):
                self._checkpoint = AuditEntry.from_row(row)
            self._checkpoint_since = (row[0], row[1])

    def _create(self, db: sqlite3.Connection) -> None:
        chain = _Chain((0, GENESIS), self._clock.now())
        chain.add(
            AuditKind.AUDIT_OPENED,
            actor=self._identity.keyid,
            data={"v": LOG_VERSION, "key": _b64(self._identity.public_key)},
        )
        with self._sqlite("create"):
            self._insert(db, chain)
        self._committed(chain)
        self._chain_key = self._identity.public_key

    def close(self) -> None:
        """Close the database (a no-op if it is not open)."""
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    def __enter__(self) -> Self:
        """Open on entry (tests, tools)."""
        self.open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Close on exit."""
        self.close()

    @property
    def chain_key(self) -> bytes:
        """The public key the chain expects the next checkpoint from.

        If it is not our identity's key (the key file was replaced without rotate_key),
        checkpoints are refused rather than written in a form verify() would reject.
        """
        return self._chain_key

    # --- writing -----------------------------------------------------------------------------
    def append(  # noqa: PLR0913  # every field is keyword-only and optional
        self,
        kind: str,
        *,
        actor: str = "",
        subject: str = "",
        payload: bytes | None = None,
        size: int | None = None,
        data: Mapping[str, JSON] | None = None,
    ) -> AuditEntry:
        """Record one event, durably, and return its entry.

        kind: one of AuditKind, except the three the log writes itself.
        actor: who acted (a keyid, an HA user id, a remote address).
        subject: what it concerns (request id, clip id, keyid, token *hash*).
        payload: bytes that left or arrived; only their SHA-256 and size are stored.
        size: byte count, defaults to len(payload); must agree with it when both are given.
        data: small canonical-JSON metadata (ids, counts, hashes; no secrets, no location).

        Raises ValueError for a bad argument and AuditError if the entry could not be
        committed, in which case nothing it announces may be sent.
        """
        if kind not in KINDS:
            msg = f"unknown audit kind {kind!r}"
            raise ValueError(msg)
        if kind in _STRUCTURAL:
            msg = f"{kind} entries are written by the audit log itself"
            raise ValueError(msg)
        if len(actor) > MAX_TEXT or len(subject) > MAX_TEXT:
            raise ValueError("actor and subject are ids, at most 512 characters")
        sha256 = None
        if payload is not None:
            sha256 = hashlib.sha256(payload).hexdigest()
            if size is not None and size != len(payload):
                raise ValueError("size disagrees with the payload")
            size = len(payload)
        if size is not None and size < 0:
            raise ValueError("size must not be negative")
        metadata = _checked_data(data)

        def build(chain: _Chain) -> AuditEntry:
            entry = chain.add(
                kind, actor=actor, subject=subject, sha256=sha256, size=size, data=metadata
            )
            if self._checkpoint_due(chain):
                self._add_checkpoint(chain)
            return entry

        return self._write(build)

    def checkpoint(self) -> AuditEntry:
        """Sign the current head now (on unload, before a manifest); return the checkpoint.

        If the head already is a checkpoint, that one is returned and nothing is written.
        """

        def build(chain: _Chain) -> AuditEntry:
            if self._checkpoint is not None and self._checkpoint.seq == chain.head[0]:
                return self._checkpoint
            self._require_chain_key()
            return self._add_checkpoint(chain)

        return self._write(build)

    def checkpoint_head(self) -> Head:
        """Force a checkpoint; return the (seq, hash) it signs, for a manifest to carry."""
        entry = self.checkpoint()
        return entry.seq - 1, entry.prev

    def rotate_key(self, new: Identity) -> AuditEntry:
        """Hand the log over to a new key; the old one signs a last checkpoint and the handover.

        Call it while the old identity is still the log's (before the key file is replaced).
        """
        if new.public_key == self._identity.public_key:
            raise ValueError("the new key is the current key")

        def build(chain: _Chain) -> AuditEntry:
            self._require_chain_key()
            if self._checkpoint is None or self._checkpoint.seq != chain.head[0]:
                self._add_checkpoint(chain)
            old_b64, new_b64 = _b64(self._identity.public_key), _b64(new.public_key)
            message = rotation_message(old_b64, new_b64, chain.head[0] + 1)
            return chain.add(
                AuditKind.KEY_ROTATED,
                actor=self._identity.keyid,
                subject=new.keyid,
                data={
                    "old": old_b64,
                    "key": new_b64,
                    "sig": b64u(self._identity.sign(message)),
                    "new_sig": b64u(new.sign(message)),
                },
            )

        # One lock around both, so no other append can checkpoint with the old key after
        # the handover is committed.
        with self._lock:
            entry = self._write(build)
            self._identity = new
            self._chain_key = new.public_key
        return entry

    def _checkpoint_due(self, chain: _Chain) -> bool:
        if self._identity.public_key != self._chain_key:
            return False  # see chain_key
        since_seq, since_at = self._checkpoint_since
        return chain.head[0] - since_seq >= self._every or chain.at - since_at >= self._seconds

    def _require_chain_key(self) -> None:
        if self._identity.public_key != self._chain_key:
            msg = (
                f"the log is signed by {keyid(self._chain_key)}, not by this home's key;"
                " rotate_key() must be called before the key changes"
            )
            raise AuditError(msg)

    def _add_checkpoint(self, chain: _Chain) -> AuditEntry:
        size, head = chain.head
        key = _b64(self._identity.public_key)
        signature = self._identity.sign(checkpoint_message(size, head, key))
        return chain.add(
            AuditKind.CHECKPOINT,
            actor=self._identity.keyid,
            data={"size": size, "head": head, "key": key, "sig": b64u(signature)},
        )

    def _writable(self) -> sqlite3.Connection:
        """The connection, after checking the file we opened is still the one at our path.

        Writes to a file that was deleted (or replaced) under us would succeed and vanish.
        """
        db = self._connection()
        try:
            current = _file_id(self.path)
        except OSError as err:
            raise AuditError("the audit log file is gone") from err
        if current != self._file:
            raise AuditError("the audit log file was replaced while open")
        return db

    def _write(self, build: Callable[[_Chain], AuditEntry]) -> AuditEntry:
        """Seal entries on top of the stored head and commit them in one transaction.

        The head is read inside the write transaction, so two writers on one file (a reload
        overlapping the old instance) extend the chain one after the other, never fork it.
        """
        with self._lock:
            db = self._writable()
            with self._sqlite("append"):
                db.execute("BEGIN IMMEDIATE")
                try:
                    chain = _Chain(self._stored_head(db), self._clock.now())
                    result = build(chain)
                    self._insert(db, chain)
                    db.execute("COMMIT")
                except BaseException:
                    with contextlib.suppress(sqlite3.Error):
                        db.execute("ROLLBACK")
                    raise
            self._committed(chain)
        return result

    def _insert(self, db: sqlite3.Connection, chain: _Chain) -> None:
        db.executemany(
            f"INSERT INTO entries ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",  # noqa: S608
            [entry.to_row() for entry in chain.sealed],
        )

    def _committed(self, chain: _Chain) -> None:
        self._known = max(self._known, chain.head)
        for entry in chain.sealed:
            if entry.kind == AuditKind.CHECKPOINT:
                self._checkpoint = entry
                self._checkpoint_since = (entry.seq, entry.at)

    # --- reading -----------------------------------------------------------------------------
    def head(self) -> Head:
        """(seq, hash) of the last stored entry."""
        with self._lock:
            return self._stored_head(self._connection())

    def _stored_head(self, db: sqlite3.Connection) -> Head:
        with self._sqlite("read"):
            row = db.execute("SELECT seq, hash FROM entries ORDER BY seq DESC LIMIT 1").fetchone()
        return (row[0], row[1]) if row else (0, GENESIS)

    def entries(self, since_seq: int = 0, limit: int | None = None) -> Iterator[AuditEntry]:
        """Entries after since_seq, oldest first, at most limit of them (read page by page).

        Raises AuditError for a row that is not an entry at all (verify() says more).
        """
        for row in itertools.islice(self._rows(since_seq), limit):
            try:
                yield AuditEntry.from_row(row)
            except ValueError as err:
                msg = f"entry {row[0]} is malformed: {err}"
                raise AuditError(msg) from err

    def _rows(self, after: int | None) -> Iterator[tuple[object, ...]]:
        """Raw rows in seq order, a page at a time; after=None starts before any seq."""
        while True:
            with self._lock, self._sqlite("read"):
                db = self._connection()
                if after is None:
                    query = f"SELECT {_COLUMNS} FROM entries ORDER BY seq LIMIT ?"  # noqa: S608
                    rows = db.execute(query, (_PAGE,)).fetchall()
                else:
                    query = f"SELECT {_COLUMNS} FROM entries WHERE seq > ? ORDER BY seq LIMIT ?"  # noqa: S608
                    rows = db.execute(query, (after, _PAGE)).fetchall()
            yield from rows
            if len(rows) < _PAGE:
                return
            after = rows[-1][0]

    def verify(self, expected_head: Head | None = None) -> AuditReport:
        """Recompute the whole chain, checkpoints and keys; keep and return the report.

        expected_head: an (seq, hash) from outside this file (a manifest, a saved checkpoint)
        that the log must still contain. The head this object last wrote or read is always
        checked too, so a log cut off while open is caught; a log cut off while closed is
        caught only through expected_head (docs/audit.md).
        """
        expected = [self._known] if expected_head is None else [self._known, expected_head]
        report = _verify_stream(map(AuditEntry.from_row, self._rows(None)), expected)
        self.last_report = report
        return report

    def export_jsonl(self, path: Path) -> int:
        """Write a copy for an auditor (one canonical entry per line); return the count.

        The copy is written beside path and renamed into place, so it is never half a file.
        """
        tmp = path.with_name(f".{path.name}.tmp")
        count = 0
        try:
            with tmp.open("wb") as file:
                for entry in self.entries():
                    file.write(canon(entry.to_json()) + b"\n")
                    count += 1
                file.flush()
                os.fsync(file.fileno())
            tmp.replace(path)
        except OSError as err:
            tmp.unlink(missing_ok=True)
            msg = f"cannot write the export: {err.strerror}"
            raise AuditError(msg) from err
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return count

    # --- helpers -----------------------------------------------------------------------------
    def _connection(self) -> sqlite3.Connection:
        if self._db is None:
            raise AuditError("the audit log is not open")
        return self._db

    @contextlib.contextmanager
    def _sqlite(self, what: str) -> Iterator[None]:
        """Turn every SQLite or file-system failure into AuditError."""
        try:
            yield
        except (sqlite3.Error, OSError) as err:
            msg = f"audit log {what} failed: {err}"
            raise AuditError(msg) from err


def _decode_text(raw: bytes) -> str:
    return raw.decode("utf-8", "replace")


def _file_id(path: Path) -> tuple[int, int]:
    status = path.stat()
    return (status.st_dev, status.st_ino)


def _checked_data(data: Mapping[str, JSON] | None) -> dict[str, JSON]:
    if not data:
        return {}
    value = dict(data)
    try:
        parsed = loads(canon(value), DATA_LIMITS)
    except (MalformedJSONError, TypeError, ValueError) as err:
        msg = f"audit data must be small canonical JSON: {err}"
        raise ValueError(msg) from err
    assert isinstance(parsed, dict)  # noqa: S101  # canon of a dict
    return parsed
