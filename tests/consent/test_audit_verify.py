"""The verifier: every tampering with a stored log is found, at the entry where it happened."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import pytest

from custom_components.porchlight.consent.audit import (
    AuditError,
    AuditLog,
    checkpoint_message,
    rotation_message,
)
from custom_components.porchlight.federation.canonical import b64u, b64u_decode, canon
from custom_components.porchlight.federation.identity import Identity

from .audit_helpers import (
    COLUMNS,
    COVERED,
    FIRST_CHECKPOINT,
    LAST,
    SECOND_CHECKPOINT,
    _assert_bad,
    _data,
    _fill,
    _rechain,
    _reopen,
    _row_entry,
    _set_data,
    _tamper,
)

if TYPE_CHECKING:
    import sqlite3
    from pathlib import Path

    from custom_components.porchlight.federation.clock import ManualClock


# --- tampering: every case is found -----------------------------------------------------------
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


# --- forged key rotations ---------------------------------------------------------------------
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
