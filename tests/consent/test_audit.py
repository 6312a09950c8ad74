"""The audit log: durable appends, the hash chain, signed checkpoints, and every tampering."""

from __future__ import annotations

import hashlib
import itertools
import json
import shutil
import sqlite3
import stat
import subprocess
import sys
import threading
from contextlib import closing, contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from custom_components.porchlight.consent.audit import (
    GENESIS,
    KINDS,
    AuditEntry,
    AuditError,
    AuditKind,
    AuditLog,
    AuditReport,
    checkpoint_message,
    rotation_message,
    store,
    verify_jsonl,
)
from custom_components.porchlight.federation.canonical import b64u, b64u_decode, canon
from custom_components.porchlight.federation.clock import ManualClock
from custom_components.porchlight.federation.identity import Identity, verify

if TYPE_CHECKING:
    from collections.abc import Iterator


COLUMNS = "seq, at, kind, actor, subject, payload_sha256, size, data, prev, hash"
# 250 entries with checkpoints every 100: audit_opened at 1, checkpoints at 101 (covering
# 100) and 202 (covering 201), the last entry at 253.
LAST = 253
COVERED = 50  # an ordinary entry under the first checkpoint
FIRST_CHECKPOINT = 101
SECOND_CHECKPOINT = 202


def _fill(log: AuditLog, clock: ManualClock, count: int, start: int = 0) -> None:
    for i in range(start, start + count):
        clock.advance(7)
        match i % 4:
            case 0:
                log.append("request_received", actor="agency-keyid", subject=f"req-{i}")
            case 1:
                log.append(AuditKind.CLIP_APPROVED, actor="user-1", data={"clip": f"c{i}"})
            case 2:
                log.append("message_sent", subject=f"req-{i}", payload=f"body {i}".encode())
            case _:
                log.append("download", actor="203.0.113.9", size=1000 + i, data={"first": 0})


@pytest.fixture(scope="module")
def written_template(tmp_path_factory: pytest.TempPathFactory, identity: Identity) -> Path:
    """Written once per module: 250 appends cost a commit (and an fsync) each."""
    path = tmp_path_factory.mktemp("template") / "audit.sqlite3"
    clock = ManualClock()
    with AuditLog(path, identity, clock) as log:
        _fill(log, clock, 250)
    return path


@pytest.fixture
def written(written_template: Path, log_path: Path) -> Path:
    """A closed log of 250 appended entries, two automatic checkpoints among them."""
    log_path.parent.mkdir(mode=0o700)
    shutil.copy(written_template, log_path)
    return log_path


@contextmanager
def _tamper(path: Path) -> Iterator[sqlite3.Connection]:
    """The attacker's view: the file, opened with sqlite3 directly."""
    with closing(sqlite3.connect(path, isolation_level=None)) as db:
        yield db


def _row_entry(row: tuple[object, ...], prev: str) -> AuditEntry:
    seq, at, kind, actor, subject, sha, size, data, _, _ = row
    return AuditEntry(seq, at, kind, actor, subject, sha, size, json.loads(data), prev, "")  # type: ignore[arg-type]


def _rechain(db: sqlite3.Connection) -> None:
    """Recompute every link and hash: the best a forger without the key can do."""
    prev = GENESIS
    for row in db.execute(f"SELECT {COLUMNS} FROM entries ORDER BY seq").fetchall():  # noqa: S608
        entry_hash = _row_entry(row, prev).computed_hash()
        db.execute(
            "UPDATE entries SET prev = ?, hash = ? WHERE seq = ?", (prev, entry_hash, row[0])
        )
        prev = entry_hash


def _data(db: sqlite3.Connection, seq: int) -> dict[str, object]:
    data: dict[str, object] = json.loads(
        db.execute("SELECT data FROM entries WHERE seq = ?", (seq,)).fetchone()[0]
    )
    return data


def _set_data(db: sqlite3.Connection, seq: int, data: dict[str, object]) -> None:
    db.execute("UPDATE entries SET data = ? WHERE seq = ?", (canon(data).decode(), seq))


def _reopen(path: Path, identity: Identity, clock: ManualClock) -> AuditReport:
    log = AuditLog(path, identity, clock)
    try:
        report = log.open()
        assert log.last_report == report
    finally:
        log.close()
    return report


def _assert_bad(report: AuditReport, seq: int, problem: str) -> None:
    assert not report.ok
    assert report.first_bad_seq == seq
    assert report.problem is not None
    assert problem in report.problem
    assert report.head[0] == seq - 1


# --- writing and reading -------------------------------------------------------------------
def test_new_log_starts_with_our_key_and_is_private(
    log: AuditLog, log_path: Path, identity: Identity
) -> None:
    assert log.last_report == AuditReport(
        ok=True,
        entries=1,
        checkpoints=0,
        head=log.head(),
        first_bad_seq=None,
        problem=None,
        keys=(identity.keyid,),
    )
    (first,) = log.entries()
    assert (first.seq, first.kind, first.prev) == (1, "audit_opened", GENESIS)
    assert first.data == {"v": 1, "key": b64u(identity.public_key)}
    assert log.head() == (1, first.hash)
    assert log.chain_key == identity.public_key
    assert stat.S_IMODE(log_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(log_path.parent.stat().st_mode) == 0o700


def test_250_entries_verify_with_automatic_checkpoints(
    log: AuditLog, clock: ManualClock, identity: Identity
) -> None:
    _fill(log, clock, 250)
    report = log.verify()
    assert report.ok
    assert (report.entries, report.checkpoints) == (LAST, 2)
    assert report.head == log.head()
    entries = list(log.entries())
    assert [e.seq for e in entries] == list(range(1, LAST + 1))
    assert all(e.prev == p.hash for p, e in itertools.pairwise(entries))
    checkpoints = [e for e in entries if e.kind == "checkpoint"]
    assert [c.seq for c in checkpoints] == [FIRST_CHECKPOINT, SECOND_CHECKPOINT]
    for checkpoint in checkpoints:
        data = checkpoint.data
        assert data["size"] == checkpoint.seq - 1
        assert data["head"] == entries[checkpoint.seq - 2].hash
        assert data["key"] == b64u(identity.public_key)
        message = checkpoint_message(checkpoint.seq - 1, checkpoint.prev, b64u(identity.public_key))
        assert verify(identity.public_key, b64u_decode(str(data["sig"])), message)


def test_entry_fields_and_payload_digest(log: AuditLog, clock: ManualClock) -> None:
    clock.advance(5)
    body = b'{"v":1,"type":"alert"}'
    entry = log.append("message_sent", actor="me", subject="peer", payload=body, data={"n": 1})
    assert entry.at == clock.now()
    assert entry.payload_sha256 == hashlib.sha256(body).hexdigest()
    assert entry.size == len(body)
    assert log.append("message_sent", payload=b"abc", size=3).size == 3
    assert log.append("download", size=0).payload_sha256 is None
    plain = log.append("peer_removed")
    assert (plain.actor, plain.subject, plain.size, plain.data) == ("", "", None, {})
    assert AuditEntry.from_json(json.loads(canon(entry.to_json()))) == entry


def test_payload_bytes_are_never_stored(log: AuditLog, log_path: Path) -> None:
    secret = b"FOOTAGE-BYTES-8f3a1c-never-on-disk"
    log.append("message_sent", subject="agency", payload=secret)
    log.checkpoint()
    log.close()
    for file in log_path.parent.iterdir():
        assert secret not in file.read_bytes()
        assert secret.hex().encode() not in file.read_bytes()


def test_reopening_continues_the_chain(
    written: Path, identity: Identity, clock: ManualClock
) -> None:
    log = AuditLog(written, identity, clock)
    with log:
        assert log.last_report is not None
        assert log.last_report.ok
        assert log.last_report.entries == LAST
        head = log.head()
        entry = log.append("peer_paired", subject="neighbor")
        assert (entry.seq, entry.prev) == (LAST + 1, head[1])
        # The checkpoint count resumes from the stored checkpoint, not from zero.
        _fill(log, clock, 47, start=1)
        assert log.head()[0] == SECOND_CHECKPOINT + 99
        _fill(log, clock, 1, start=1)
        assert [e.kind for e in log.entries(since_seq=SECOND_CHECKPOINT + 99)] == [
            "clip_approved",
            "checkpoint",
        ]
        assert log.verify().checkpoints == 3


def test_checkpoint_after_a_day_even_when_quiet(
    log_path: Path, identity: Identity, clock: ManualClock
) -> None:
    with AuditLog(log_path, identity, clock, checkpoint_seconds=3600) as log:
        log.append("peer_paired")
        clock.advance(3600)
        log.append("peer_confirmed")
        assert [e.kind for e in log.entries(since_seq=2)] == ["peer_confirmed", "checkpoint"]


def test_forced_checkpoint_signs_the_head_once(log: AuditLog, clock: ManualClock) -> None:
    _fill(log, clock, 3)
    head = log.head()
    checkpoint = log.checkpoint()
    assert (checkpoint.seq, checkpoint.data["size"], checkpoint.data["head"]) == (
        head[0] + 1,
        head[0],
        head[1],
    )
    assert log.checkpoint() == checkpoint  # nothing new to sign
    assert log.checkpoint_head() == head
    assert log.head() == (checkpoint.seq, checkpoint.hash)
    assert log.verify(expected_head=head).ok


def test_entries_pages_since_and_limit(
    log: AuditLog, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store, "_PAGE", 3)
    _fill(log, clock, 10)
    assert [e.seq for e in log.entries()] == list(range(1, 12))
    assert [e.seq for e in log.entries(since_seq=4, limit=5)] == [5, 6, 7, 8, 9]
    assert list(log.entries(since_seq=11)) == []
    assert log.verify().entries == 11


def test_appends_from_threads_form_one_chain(log: AuditLog) -> None:
    def work(n: int) -> None:
        for i in range(25):
            log.append("message_received", subject=f"t{n}-{i}")

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    report = log.verify()
    assert report.ok
    assert report.entries == 1 + 100 + 1


def test_two_instances_on_one_file_never_fork(
    log: AuditLog, log_path: Path, identity: Identity, clock: ManualClock
) -> None:
    # A reload can overlap the old instance: the head is read inside each write transaction.
    with AuditLog(log_path, identity, clock) as other:
        for i in range(5):
            log.append("request_pending", subject=f"a{i}")
            other.append("request_pending", subject=f"b{i}")
        assert other.verify().ok
    assert log.verify().ok
    assert log.head()[0] == 11


# --- refusing bad input --------------------------------------------------------------------
def test_unknown_kind_is_refused(log: AuditLog) -> None:
    with pytest.raises(ValueError, match="unknown audit kind"):
        log.append("footage_uploaded")
    assert log.head()[0] == 1


@pytest.mark.parametrize("kind", ["audit_opened", "checkpoint", "key_rotated"])
def test_structural_kinds_are_written_only_by_the_log(log: AuditLog, kind: str) -> None:
    with pytest.raises(ValueError, match="written by the audit log itself"):
        log.append(kind, data={"size": 1})


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"data": {"lat": 52.37}}, "canonical JSON"),
        ({"data": {"Bad-Key": 1}}, "canonical JSON"),
        ({"data": {"big": "x" * 1025}}, "canonical JSON"),
        ({"data": {"obj": object()}}, "canonical JSON"),
        ({"actor": "a" * 513}, "at most 512"),
        ({"subject": "s" * 513}, "at most 512"),
        ({"payload": b"abc", "size": 4}, "disagrees"),
        ({"size": -1}, "negative"),
    ],
)
def test_bad_fields_are_refused(log: AuditLog, fields: dict[str, object], error: str) -> None:
    with pytest.raises(ValueError, match=error):
        log.append("download", **fields)  # type: ignore[arg-type]


def test_every_kind_is_documented() -> None:
    content = (Path(__file__).resolve().parents[2] / "docs" / "audit.md").read_text("utf-8")
    assert [kind for kind in KINDS if f"`{kind}`" not in content] == []


def test_bad_checkpoint_intervals_are_refused(
    log_path: Path, identity: Identity, clock: ManualClock
) -> None:
    with pytest.raises(ValueError, match="positive"):
        AuditLog(log_path, identity, clock, checkpoint_every=0)


# --- failures become AuditError ------------------------------------------------------------
def test_read_only_log_is_refused_at_open(
    written: Path, identity: Identity, clock: ManualClock
) -> None:
    # A write version above 2 in the header makes SQLite treat the file as read-only for
    # every user, root included (chmod would not stop root).
    with written.open("r+b") as file:
        file.seek(18)
        file.write(b"\x03")
    log = AuditLog(written, identity, clock)
    with pytest.raises(AuditError, match="readonly"):
        log.open()
    with pytest.raises(AuditError, match="not open"):
        log.append("download")


def test_append_fails_when_the_folder_is_gone(log: AuditLog, log_path: Path) -> None:
    shutil.rmtree(log_path.parent)
    with pytest.raises(AuditError, match="gone"):
        log.append("message_sent", payload=b"x")
    with pytest.raises(AuditError, match="gone"):
        log.checkpoint()


def test_append_fails_when_the_file_was_replaced(log: AuditLog, log_path: Path) -> None:
    copy = log_path.with_name("copy")
    shutil.copy(log_path, copy)
    copy.replace(log_path)
    with pytest.raises(AuditError, match="replaced"):
        log.append("download")


def test_sqlite_failure_during_append_is_an_audit_error(log: AuditLog, log_path: Path) -> None:
    # Another process holding the write lock past the busy timeout.
    with _tamper(log_path) as db:
        db.execute("PRAGMA busy_timeout = 0")
        db.execute("BEGIN IMMEDIATE")
        log._db.execute("PRAGMA busy_timeout = 0")  # type: ignore[union-attr]
        with pytest.raises(AuditError, match="append failed"):
            log.append("download")
        db.execute("ROLLBACK")
    assert log.append("download").seq == 2


def test_unusable_path_is_an_audit_error(
    tmp_path: Path, identity: Identity, clock: ManualClock
) -> None:
    (tmp_path / "porchlight").write_bytes(b"a file where the folder should be")
    with pytest.raises(AuditError, match="open failed"):
        AuditLog(tmp_path / "porchlight" / "audit.sqlite3", identity, clock).open()


def test_not_a_database_is_refused(log_path: Path, identity: Identity, clock: ManualClock) -> None:
    log_path.parent.mkdir()
    log_path.write_bytes(b"not sqlite at all " * 100)
    with pytest.raises(AuditError, match="open failed"):
        AuditLog(log_path, identity, clock).open()


def test_newer_schema_is_refused(written: Path, identity: Identity, clock: ManualClock) -> None:
    with _tamper(written) as db:
        db.execute("PRAGMA user_version = 99")
    with pytest.raises(AuditError, match="newer"):
        AuditLog(written, identity, clock).open()


def test_foreign_entries_table_is_refused(
    log_path: Path, identity: Identity, clock: ManualClock
) -> None:
    log_path.parent.mkdir()
    with _tamper(log_path) as db:
        db.execute("CREATE TABLE entries (seq INTEGER PRIMARY KEY, other TEXT)")
    log = AuditLog(log_path, identity, clock)
    with pytest.raises(AuditError, match="open failed"):
        log.open()
    with pytest.raises(AuditError, match="not open"):
        log.head()


def test_open_twice_and_close_twice(log: AuditLog) -> None:
    with pytest.raises(AuditError, match="open already"):
        log.open()
    log.close()
    log.close()
    with pytest.raises(AuditError, match="not open"):
        log.verify()


# --- tampering: every case is found ----------------------------------------------------------
@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("at", 1),
        ("kind", "request_declined"),
        ("actor", "someone else"),
        ("subject", "req-other"),
        ("payload_sha256", "0" * 64),
        ("size", 1),
        ("data", '{"clip":"c-other"}'),
        ("prev", "1" * 64),
        ("hash", "2" * 64),
    ],
)
def test_changed_field_is_detected(
    written: Path, identity: Identity, clock: ManualClock, column: str, value: object
) -> None:
    with _tamper(written) as db:
        db.execute(f"UPDATE entries SET {column} = ? WHERE seq = ?", (value, COVERED))  # noqa: S608
    _assert_bad(_reopen(written, identity, clock), COVERED, "hash does not match")


def test_changed_entry_with_its_own_hash_recomputed_breaks_the_next_link(
    written: Path, identity: Identity, clock: ManualClock
) -> None:
    with _tamper(written) as db:
        row = db.execute(f"SELECT {COLUMNS} FROM entries WHERE seq = ?", (COVERED,)).fetchone()  # noqa: S608
        forged = replace(_row_entry(row, row[8]), subject="req-innocent")
        db.execute(
            "UPDATE entries SET subject = ?, hash = ? WHERE seq = ?",
            (forged.subject, forged.computed_hash(), COVERED),
        )
    _assert_bad(_reopen(written, identity, clock), COVERED + 1, f"does not link to entry {COVERED}")


def test_changed_field_with_recomputed_hashes_fails_at_the_checkpoint(
    written: Path, identity: Identity, clock: ManualClock
) -> None:
    with _tamper(written) as db:
        db.execute("UPDATE entries SET subject = 'req-innocent' WHERE seq = ?", (COVERED,))
        _rechain(db)
    _assert_bad(
        _reopen(written, identity, clock),
        FIRST_CHECKPOINT,
        f"checkpoint head does not match entry {FIRST_CHECKPOINT - 1}",
    )


def test_changed_checkpoint_is_detected(
    written: Path, identity: Identity, clock: ManualClock
) -> None:
    with _tamper(written) as db:
        data = _data(db, FIRST_CHECKPOINT)
        _set_data(db, FIRST_CHECKPOINT, {**data, "size": 99})
        _rechain(db)
    _assert_bad(_reopen(written, identity, clock), FIRST_CHECKPOINT, "names entry 99")


def test_deleted_middle_entry_is_detected(
    written: Path, identity: Identity, clock: ManualClock
) -> None:
    with _tamper(written) as db:
        db.execute("DELETE FROM entries WHERE seq = ?", (COVERED,))
    _assert_bad(_reopen(written, identity, clock), COVERED, f"entry {COVERED} is missing")


def test_deleted_first_entry_is_detected(
    written: Path, identity: Identity, clock: ManualClock
) -> None:
    with _tamper(written) as db:
        db.execute("DELETE FROM entries WHERE seq = 1")
    _assert_bad(_reopen(written, identity, clock), 1, "entry 1 is missing")


def _renumber(db: sqlite3.Connection, above: int, by: int) -> None:
    seqs = [r[0] for r in db.execute("SELECT seq FROM entries WHERE seq > ?", (above,))]
    for seq in sorted(seqs, reverse=by > 0):
        db.execute("UPDATE entries SET seq = ? WHERE seq = ?", (seq + by, seq))


def test_entries_cut_from_under_a_checkpoint_are_detected(
    written: Path, identity: Identity, clock: ManualClock
) -> None:
    # Truncation below the last checkpoint: entries it covers removed, the rest renumbered
    # and re-hashed so the chain itself is whole. The signed head no longer matches.
    with _tamper(written) as db:
        db.execute("DELETE FROM entries WHERE seq BETWEEN 150 AND 190")
        _renumber(db, 149, -41)
        _rechain(db)
    _assert_bad(
        _reopen(written, identity, clock),
        SECOND_CHECKPOINT - 41,
        f"checkpoint names entry {SECOND_CHECKPOINT - 1}",
    )


def test_cut_off_tail_needs_an_outside_head(
    log: AuditLog, log_path: Path, identity: Identity, clock: ManualClock
) -> None:
    _fill(log, clock, 250)
    saved = log.checkpoint_head()  # e.g. carried in a manifest the agency holds
    with _tamper(log_path) as db:
        db.execute("DELETE FROM entries WHERE seq >= 150")
    # The open instance remembers what it wrote ...
    _assert_bad(log.verify(), 150, "ends at entry 149, before the expected entry")
    log.close()
    # ... but the file alone is a consistent, shorter log: the documented limit.
    assert _reopen(log_path, identity, clock).ok
    # An outside copy of a later head closes it.
    reopened = AuditLog(log_path, identity, clock)
    with reopened:
        _assert_bad(reopened.verify(expected_head=saved), 150, f"expected entry {LAST}")
        assert reopened.last_report is not None
        assert not reopened.last_report.ok


def test_expected_head_must_match_not_just_exist(
    written: Path, identity: Identity, clock: ManualClock
) -> None:
    with AuditLog(written, identity, clock) as log:
        assert log.verify(expected_head=(COVERED, "f" * 64)).first_bad_seq == COVERED
        assert log.verify(expected_head=(LAST, log.head()[1])).ok


def test_reordered_rows_are_detected(written: Path, identity: Identity, clock: ManualClock) -> None:
    with _tamper(written) as db:
        a = db.execute(f"SELECT {COLUMNS} FROM entries WHERE seq = 40").fetchone()  # noqa: S608
        b = db.execute(f"SELECT {COLUMNS} FROM entries WHERE seq = 41").fetchone()  # noqa: S608
        for seq, row in ((40, b), (41, a)):
            db.execute(
                "UPDATE entries SET at=?, kind=?, actor=?, subject=?, payload_sha256=?, size=?,"
                " data=?, prev=?, hash=? WHERE seq = ?",
                (*row[1:], seq),
            )
    _assert_bad(_reopen(written, identity, clock), 40, "hash does not match")


def test_reordered_rows_with_recomputed_hashes_fail_at_the_checkpoint(
    written: Path, identity: Identity, clock: ManualClock
) -> None:
    with _tamper(written) as db:
        db.execute("UPDATE entries SET seq = -40 WHERE seq = 40")
        db.execute("UPDATE entries SET seq = 40 WHERE seq = 41")
        db.execute("UPDATE entries SET seq = 41 WHERE seq = -40")
        _rechain(db)
    _assert_bad(_reopen(written, identity, clock), FIRST_CHECKPOINT, "checkpoint head")


def test_row_before_the_first_is_detected(
    written: Path, identity: Identity, clock: ManualClock
) -> None:
    with _tamper(written) as db:
        db.execute(
            f"INSERT INTO entries ({COLUMNS}) SELECT 0, at, kind, actor, subject,"  # noqa: S608
            " payload_sha256, size, data, prev, hash FROM entries WHERE seq = 1"
        )
    _assert_bad(_reopen(written, identity, clock), 1, "entry 0 is out of order")


def test_inserted_entry_is_detected(written: Path, identity: Identity, clock: ManualClock) -> None:
    with _tamper(written) as db:
        _renumber(db, COVERED, 1)
        db.execute(
            f"INSERT INTO entries ({COLUMNS}) SELECT seq + 1, at, 'request_declined', actor,"  # noqa: S608
            " subject, NULL, NULL, '{}', hash, hash FROM entries WHERE seq = ?",
            (COVERED,),
        )
    _assert_bad(_reopen(written, identity, clock), COVERED + 1, "hash does not match")


def test_inserted_entry_with_recomputed_hashes_fails_at_the_checkpoint(
    written: Path, identity: Identity, clock: ManualClock
) -> None:
    with _tamper(written) as db:
        _renumber(db, COVERED, 1)
        db.execute(
            f"INSERT INTO entries ({COLUMNS}) VALUES (?, 1, 'request_declined', 'owner', 'req-1',"  # noqa: S608
            " NULL, NULL, '{}', '', '')",
            (COVERED + 1,),
        )
        _rechain(db)
    _assert_bad(_reopen(written, identity, clock), FIRST_CHECKPOINT + 1, "names entry 100")


def test_forged_entry_appended_below_nothing_is_caught_by_its_link(
    written: Path, identity: Identity, clock: ManualClock
) -> None:
    with _tamper(written) as db:
        db.execute(
            f"INSERT INTO entries ({COLUMNS}) VALUES (?, 1, 'download', '', '', NULL, 5, '{{}}',"  # noqa: S608
            " ?, ?)",
            (LAST + 1, "3" * 64, "4" * 64),
        )
    _assert_bad(_reopen(written, identity, clock), LAST + 1, "hash does not match")


def test_forged_checkpoint_signature_is_detected(
    written: Path, identity: Identity, clock: ManualClock
) -> None:
    with _tamper(written) as db:
        data = _data(db, SECOND_CHECKPOINT)
        sig = bytearray(b64u_decode(str(data["sig"])))
        sig[0] ^= 1
        _set_data(db, SECOND_CHECKPOINT, {**data, "sig": b64u(bytes(sig))})
        _rechain(db)
    _assert_bad(_reopen(written, identity, clock), SECOND_CHECKPOINT, "signature does not verify")


def test_checkpoint_by_a_key_not_in_the_chain_is_detected(
    written: Path, identity: Identity, clock: ManualClock
) -> None:
    # A forger rewrites history and signs it properly, with a key of their own.
    forger = Identity.generate()
    with _tamper(written) as db:
        db.execute("UPDATE entries SET subject = 'req-innocent' WHERE seq = ?", (COVERED,))
        _rechain(db)
        for seq in (FIRST_CHECKPOINT, SECOND_CHECKPOINT):
            prev = db.execute("SELECT prev FROM entries WHERE seq = ?", (seq,)).fetchone()[0]
            key = b64u(forger.public_key)
            sig = forger.sign(checkpoint_message(seq - 1, prev, key))
            _set_data(db, seq, {"size": seq - 1, "head": prev, "key": key, "sig": b64u(sig)})
            _rechain(db)
    _assert_bad(_reopen(written, identity, clock), FIRST_CHECKPOINT, "key not in the chain")


@pytest.mark.parametrize(
    ("seq", "data", "problem"),
    [
        (1, {"v": 2, "key": "x"}, "malformed audit_opened data"),
        (1, {"v": 1, "key": "not-a-key"}, "malformed audit_opened data"),
        (FIRST_CHECKPOINT, {"size": 100}, "malformed checkpoint data"),
        (FIRST_CHECKPOINT, {"size": 100, "head": 1, "key": 2, "sig": 3}, "checkpoint head"),
        (FIRST_CHECKPOINT, {"size": "100", "head": "", "key": "", "sig": ""}, "names entry"),
    ],
)
def test_malformed_structural_entries_are_detected(
    written: Path,
    identity: Identity,
    clock: ManualClock,
    seq: int,
    data: dict[str, object],
    problem: str,
) -> None:
    with _tamper(written) as db:
        _set_data(db, seq, data)
        _rechain(db)
    _assert_bad(_reopen(written, identity, clock), seq, problem)


@pytest.mark.parametrize("field", ["key", "sig"])
def test_checkpoint_with_an_unreadable_key_or_signature_is_detected(
    written: Path, identity: Identity, clock: ManualClock, field: str
) -> None:
    with _tamper(written) as db:
        data = _data(db, FIRST_CHECKPOINT)
        _set_data(db, FIRST_CHECKPOINT, {**data, field: 12})
        _rechain(db)
    _assert_bad(_reopen(written, identity, clock), FIRST_CHECKPOINT, "malformed checkpoint data")


@pytest.mark.parametrize(
    ("seq", "kind", "problem"),
    [
        (1, "download", "must start with audit_opened"),
        (COVERED, "audit_opened", "must start with audit_opened"),
        (COVERED, "video_uploaded", "unknown kind 'video_uploaded'"),
    ],
)
def test_misplaced_or_unknown_kinds_are_detected(
    written: Path, identity: Identity, clock: ManualClock, seq: int, kind: str, problem: str
) -> None:
    with _tamper(written) as db:
        db.execute("UPDATE entries SET kind = ? WHERE seq = ?", (kind, seq))
        _rechain(db)
    _assert_bad(_reopen(written, identity, clock), seq, problem)


@pytest.mark.parametrize(
    "data",
    ['{"clip": "c1"}', '{"clip":1.5}', "[1]", '{"a":"\\ud800"}'],
)
def test_malformed_row_is_reported_and_unreadable(
    written: Path, identity: Identity, clock: ManualClock, data: str
) -> None:
    with _tamper(written) as db:
        db.execute("UPDATE entries SET data = CAST(? AS TEXT) WHERE seq = ?", (data, COVERED))
    with AuditLog(written, identity, clock) as log:
        _assert_bad(log.last_report, COVERED, "malformed entry")  # type: ignore[arg-type]
        with pytest.raises(AuditError, match=f"entry {COVERED} is malformed"):
            list(log.entries())


def test_corrupted_bytes_are_a_changed_entry(
    written: Path, identity: Identity, clock: ManualClock
) -> None:
    with _tamper(written) as db:
        db.execute("UPDATE entries SET actor = CAST(X'61FF62' AS TEXT) WHERE seq = ?", (COVERED,))
    _assert_bad(_reopen(written, identity, clock), COVERED, "hash does not match")


def test_damaged_log_still_takes_new_entries(
    written: Path, identity: Identity, clock: ManualClock
) -> None:
    with _tamper(written) as db:
        db.execute("UPDATE entries SET actor = 'x' WHERE seq = ?", (COVERED,))
        last = db.execute("SELECT hash FROM entries WHERE seq = ?", (LAST,)).fetchone()[0]
    with AuditLog(written, identity, clock) as log:
        assert log.last_report is not None
        assert not log.last_report.ok
        entry = log.append("message_sent", payload=b"still logged")
        assert (entry.seq, entry.prev) == (LAST + 1, last)
        assert log.verify().first_bad_seq == COVERED


def test_damaged_key_and_checkpoint_rows_do_not_stop_opening(
    written: Path, identity: Identity, clock: ManualClock
) -> None:
    with _tamper(written) as db:
        db.execute("UPDATE entries SET data = 'garbage' WHERE seq IN (1, ?)", (SECOND_CHECKPOINT,))
    with AuditLog(written, identity, clock) as log:
        assert log.chain_key == identity.public_key
        assert log.last_report is not None
        assert log.last_report.first_bad_seq == 1
        assert log.append("download").seq == LAST + 1


# --- key rotation ------------------------------------------------------------------------------
def test_rotation_then_checkpoints_verify(
    log: AuditLog, log_path: Path, identity: Identity, clock: ManualClock
) -> None:
    _fill(log, clock, 10)
    new = Identity.generate()
    rotation = log.rotate_key(new)
    entries = list(log.entries())
    assert [e.kind for e in entries[-2:]] == ["checkpoint", "key_rotated"]
    assert entries[-2].data["key"] == b64u(identity.public_key)
    assert rotation.data["old"] == b64u(identity.public_key)
    assert rotation.data["key"] == b64u(new.public_key)
    assert (rotation.actor, rotation.subject) == (identity.keyid, new.keyid)
    assert log.chain_key == new.public_key
    _fill(log, clock, 150)
    report = log.verify()
    assert report.ok
    assert report.checkpoints == 2
    assert report.keys == (identity.keyid, new.keyid)
    last = [e for e in log.entries() if e.kind == "checkpoint"][-1]
    assert last.data["key"] == b64u(new.public_key)
    log.close()
    # The home restarts with its new key: the log agrees.
    with AuditLog(log_path, new, clock) as again:
        assert again.chain_key == new.public_key
        assert again.last_report == report
        assert again.checkpoint().data["key"] == b64u(new.public_key)


def test_rotation_right_after_a_checkpoint_adds_no_second_one(log: AuditLog) -> None:
    checkpoint = log.checkpoint()
    rotation = log.rotate_key(Identity.generate())
    assert rotation.seq == checkpoint.seq + 1
    assert log.verify().ok


def test_rotation_to_the_same_key_is_refused(log: AuditLog, identity: Identity) -> None:
    with pytest.raises(ValueError, match="current key"):
        log.rotate_key(identity)


def _forge_rotation(
    db: sqlite3.Connection, seq: int, old: Identity, signer: Identity, new: Identity
) -> None:
    message = rotation_message(b64u(old.public_key), b64u(new.public_key), seq)
    db.execute(
        f"INSERT INTO entries ({COLUMNS}) VALUES (?, 1, 'key_rotated', '', '', NULL, NULL,"  # noqa: S608
        " ?, '', '')",
        (
            seq,
            canon(
                {
                    "old": b64u(old.public_key),
                    "key": b64u(new.public_key),
                    "sig": b64u(signer.sign(message)),
                    "new_sig": b64u(new.sign(message)),
                }
            ).decode(),
        ),
    )
    _rechain(db)


def test_forged_rotation_is_detected(written: Path, identity: Identity, clock: ManualClock) -> None:
    # The forger claims the home handed its log over to the forger's key.
    forger = Identity.generate()
    with _tamper(written) as db:
        _forge_rotation(db, LAST + 1, identity, forger, forger)
    _assert_bad(_reopen(written, identity, clock), LAST + 1, "not signed by the previous key")


def test_rotation_from_a_key_outside_the_chain_is_detected(
    written: Path, identity: Identity, clock: ManualClock
) -> None:
    forger = Identity.generate()
    with _tamper(written) as db:
        _forge_rotation(db, LAST + 1, forger, forger, Identity.generate())
    _assert_bad(_reopen(written, identity, clock), LAST + 1, "not the current one")


def test_rotation_without_the_new_keys_consent_is_detected(
    log: AuditLog, log_path: Path, identity: Identity, clock: ManualClock
) -> None:
    rotation = log.rotate_key(Identity.generate())
    log.close()
    with _tamper(log_path) as db:
        _set_data(db, rotation.seq, {**rotation.data, "new_sig": rotation.data["sig"]})
        _rechain(db)
    _assert_bad(_reopen(log_path, identity, clock), rotation.seq, "not signed by the new key")


def test_malformed_rotation_is_detected(
    log: AuditLog, log_path: Path, identity: Identity, clock: ManualClock
) -> None:
    rotation = log.rotate_key(Identity.generate())
    log.close()
    with _tamper(log_path) as db:
        _set_data(db, rotation.seq, {"key": rotation.data["key"]})
        _rechain(db)
    _assert_bad(_reopen(log_path, identity, clock), rotation.seq, "malformed key_rotated data")


def test_a_replaced_key_file_gets_no_checkpoints(
    written: Path, clock: ManualClock, identity: Identity
) -> None:
    # The home's key changed without rotate_key: appends go on, signatures stop.
    stranger = Identity.generate()
    with AuditLog(written, stranger, clock, checkpoint_every=1) as log:
        assert log.chain_key == identity.public_key
        log.append("download")
        log.append("download")
        assert [e.kind for e in log.entries(since_seq=LAST)] == ["download", "download"]
        with pytest.raises(AuditError, match="rotate_key"):
            log.checkpoint()
        with pytest.raises(AuditError, match="rotate_key"):
            log.rotate_key(Identity.generate())
        assert log.verify().ok


# --- export and offline verification -----------------------------------------------------------
def test_export_verifies_offline(written: Path, identity: Identity, clock: ManualClock) -> None:
    copy = written.with_name("export.jsonl")
    with AuditLog(written, identity, clock) as log:
        assert log.export_jsonl(copy) == LAST
        head = log.head()
        expected = log.verify()
    lines = copy.read_bytes().splitlines()
    assert len(lines) == LAST
    assert json.loads(lines[0])["kind"] == "audit_opened"
    assert verify_jsonl(copy) == expected
    assert verify_jsonl(copy, expected_head=head).ok
    assert not list(copy.parent.glob(".*.tmp"))


def _rewrite(copy: Path, edit: str) -> None:
    lines = copy.read_text(encoding="utf-8").splitlines(keepends=True)
    match edit:
        case "change":
            lines[COVERED - 1] = lines[COVERED - 1].replace("req-", "REQ-")
        case "swap":
            lines[39], lines[40] = lines[40], lines[39]
        case "drop_tail":
            del lines[150:]
        case "garbage":
            lines[COVERED - 1] = "{not json}\n"
        case "not_entry":
            lines[COVERED - 1] = '{"seq":50}\n'
    copy.write_text("".join(lines), encoding="utf-8")


@pytest.mark.parametrize(
    ("edit", "seq", "problem"),
    [
        ("change", COVERED, "hash does not match"),
        ("swap", 40, "entry 40 is missing (found 41)"),
        ("garbage", COVERED, "malformed entry"),
        ("not_entry", COVERED, "malformed entry"),
    ],
)
def test_tampered_export_fails(
    log: AuditLog, clock: ManualClock, tmp_path: Path, edit: str, seq: int, problem: str
) -> None:
    _fill(log, clock, 250)
    copy = tmp_path / "export.jsonl"
    log.export_jsonl(copy)
    _rewrite(copy, edit)
    _assert_bad(verify_jsonl(copy), seq, problem)


def test_truncated_export_needs_the_outside_head(
    log: AuditLog, clock: ManualClock, tmp_path: Path
) -> None:
    _fill(log, clock, 250)
    saved = log.checkpoint_head()
    copy = tmp_path / "export.jsonl"
    log.export_jsonl(copy)
    _rewrite(copy, "drop_tail")
    assert verify_jsonl(copy).ok
    _assert_bad(verify_jsonl(copy, expected_head=saved), 151, "cut off")


def test_empty_export_is_not_a_log(tmp_path: Path) -> None:
    copy = tmp_path / "empty.jsonl"
    copy.write_bytes(b"")
    _assert_bad(verify_jsonl(copy), 1, "empty")


def test_export_failures_leave_no_file(
    written: Path, identity: Identity, clock: ManualClock, tmp_path: Path
) -> None:
    with AuditLog(written, identity, clock) as log:
        with pytest.raises(AuditError, match="cannot write the export"):
            log.export_jsonl(tmp_path / "missing" / "export.jsonl")
        log.close()
        with _tamper(written) as db:
            db.execute("UPDATE entries SET data = 'x' WHERE seq = 3")
        log.open()
        with pytest.raises(AuditError, match="malformed"):
            log.export_jsonl(tmp_path / "export.jsonl")
    assert not (tmp_path / "export.jsonl").exists()
    assert not (tmp_path / ".export.jsonl.tmp").exists()


# --- the record --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"extra": 1}, "fields"),
        ({"seq": True}, "integers"),
        ({"at": "1"}, "integers"),
        ({"kind": 1}, "strings"),
        ({"size": -1}, "non-negative"),
        ({"size": "1"}, "non-negative"),
        ({"payload_sha256": "AB" * 32}, "hex"),
        ({"prev": ""}, "hex"),
        ({"hash": None}, "hex"),
        ({"data": []}, "object"),
    ],
)
def test_entry_from_json_checks_types(log: AuditLog, change: dict[str, object], error: str) -> None:
    good = next(iter(log.entries())).to_json()
    with pytest.raises(ValueError, match=error):
        AuditEntry.from_json({**good, **change})  # type: ignore[dict-item]
    with pytest.raises(ValueError, match="fields"):
        AuditEntry.from_json([])


def test_entry_from_row_needs_text_data(log: AuditLog) -> None:
    row = next(iter(log.entries())).to_row()
    assert AuditEntry.from_row(row) == next(iter(log.entries()))
    with pytest.raises(ValueError, match="text"):
        AuditEntry.from_row((*row[:7], b"{}", *row[8:]))
    assert replace(AuditEntry.from_row(row), seq=5).computed_hash() != row[9]


def test_audit_imports_without_home_assistant() -> None:
    # An auditor verifies an export on a machine without Home Assistant.
    code = (
        "import sys\n"
        "import custom_components.porchlight.consent.audit\n"
        "assert not [m for m in sys.modules if m.startswith('homeassistant')], 'HA imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).parents[2], check=True)
