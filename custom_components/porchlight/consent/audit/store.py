"""The home's audit log on disk: `AuditLog`, one SQLite file, append-only.

This is the only part of the audit package that writes. It seals new entries onto the stored
head inside one write transaction, signs checkpoints (every `checkpoint_every` entries or
`checkpoint_seconds`, and on demand) and key rotations with the home's identity, and
re-verifies the whole file with `verify.verify_stream` whenever it is opened. The row
format is `AuditEntry.to_row`/`from_row`; exporting goes through `export.write_jsonl`.

Blocking: SQLite I/O. The Home Assistant glue calls these methods in the executor.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import os
import sqlite3
import threading
from dataclasses import replace
from typing import TYPE_CHECKING, Final, Self

from custom_components.porchlight.federation.canonical import JSON, b64u, canon, loads
from custom_components.porchlight.federation.errors import MalformedJSONError
from custom_components.porchlight.federation.identity import keyid

from .entry import (
    COLUMNS,
    DATA_LIMITS,
    GENESIS,
    KINDS,
    LOG_VERSION,
    MAX_TEXT,
    STRUCTURAL_KINDS,
    AuditEntry,
    AuditError,
    AuditKind,
    Head,
    checkpoint_message,
    decode_key,
    encode_key,
    rotation_message,
)
from .export import write_jsonl
from .verify import AuditReport, verify_stream

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping
    from pathlib import Path
    from types import TracebackType

    from custom_components.porchlight.federation.clock import Clock
    from custom_components.porchlight.federation.identity import Identity

DEFAULT_CHECKPOINT_EVERY: Final = 100
DEFAULT_CHECKPOINT_SECONDS: Final = 86_400  # R6.2: every 100 entries or 24 h
SCHEMA_VERSION: Final = 1
_PAGE: Final = 500  # rows read per query while iterating
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
            f"SELECT {COLUMNS} FROM entries WHERE kind IN (?, ?) ORDER BY seq DESC LIMIT 1",  # noqa: S608
            (AuditKind.AUDIT_OPENED, AuditKind.KEY_ROTATED),
        ).fetchone()
        self._chain_key = self._identity.public_key
        if row is not None:
            with contextlib.suppress(ValueError, TypeError, KeyError):
                self._chain_key = decode_key(AuditEntry.from_row(row).data["key"])
        row = db.execute(
            f"SELECT {COLUMNS} FROM entries WHERE kind = ? ORDER BY seq DESC LIMIT 1",  # noqa: S608
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
            data={"v": LOG_VERSION, "key": encode_key(self._identity.public_key)},
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
        if kind in STRUCTURAL_KINDS:
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
            old_b64, new_b64 = encode_key(self._identity.public_key), encode_key(new.public_key)
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
        key = encode_key(self._identity.public_key)
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
            f"INSERT INTO entries ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",  # noqa: S608
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

    @property
    def last_checkpoint(self) -> AuditEntry | None:
        """The latest checkpoint written or read (what neighbors are asked to witness)."""
        return self._checkpoint

    def entry_at(self, seq: int) -> AuditEntry | None:
        """The entry at seq, None past the end (what a witness statement is checked against).

        Raises AuditError for a row that is not an entry at all.
        """
        return next(self.entries(seq - 1, 1), None) if seq >= 1 else None

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
                    query = f"SELECT {COLUMNS} FROM entries ORDER BY seq LIMIT ?"  # noqa: S608
                    rows = db.execute(query, (_PAGE,)).fetchall()
                else:
                    query = f"SELECT {COLUMNS} FROM entries WHERE seq > ? ORDER BY seq LIMIT ?"  # noqa: S608
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
        report = verify_stream(map(AuditEntry.from_row, self._rows(None)), expected)
        self.last_report = report
        return report

    def export_jsonl(self, path: Path) -> int:
        """Write a copy for an auditor (one canonical entry per line); return the count.

        The copy is written beside path and renamed into place, so it is never half a file
        (export.write_jsonl).
        """
        return write_jsonl(self.entries(), path)

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
