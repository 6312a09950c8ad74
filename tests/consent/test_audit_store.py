"""The audit log on disk (AuditLog): durable appends, checkpoints, key rotation, failures."""

from __future__ import annotations

import hashlib
import itertools
import json
import shutil
import stat
import threading
from typing import TYPE_CHECKING

import pytest

from custom_components.porchlight.consent.audit import (
    GENESIS,
    AuditEntry,
    AuditError,
    AuditLog,
    AuditReport,
    checkpoint_message,
    store,
)
from custom_components.porchlight.federation.canonical import b64u, b64u_decode, canon
from custom_components.porchlight.federation.identity import Identity, verify

from .audit_helpers import (
    COVERED,
    FIRST_CHECKPOINT,
    LAST,
    SECOND_CHECKPOINT,
    _fill,
    _tamper,
)

if TYPE_CHECKING:
    from pathlib import Path

    from custom_components.porchlight.federation.clock import ManualClock


# --- writing and reading ----------------------------------------------------------------------
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


# --- refusing bad input -----------------------------------------------------------------------
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


def test_bad_checkpoint_intervals_are_refused(
    log_path: Path, identity: Identity, clock: ManualClock
) -> None:
    with pytest.raises(ValueError, match="positive"):
        AuditLog(log_path, identity, clock, checkpoint_every=0)


# --- failures become AuditError ---------------------------------------------------------------
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


# --- a damaged log is reported, not refused ---------------------------------------------------
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


# --- key rotation -----------------------------------------------------------------------------
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
