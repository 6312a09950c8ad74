"""What the audit tests share: the written log's layout, the attacker's tools, checks.

The names keep the leading underscore they had when every audit test lived in one file, so
the moved tests read exactly as they did.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing, contextmanager
from dataclasses import replace
from typing import TYPE_CHECKING

from custom_components.porchlight.consent.audit import (
    GENESIS,
    AuditEntry,
    AuditKind,
    AuditLog,
    AuditReport,
)
from custom_components.porchlight.consent.audit.entry import checkpoint_message
from custom_components.porchlight.federation.canonical import b64u, canon

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from custom_components.porchlight.federation.clock import ManualClock
    from custom_components.porchlight.federation.identity import Identity


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


def _rewrite_with_key(db: sqlite3.Connection, identity: Identity, seq: int) -> None:
    """The strongest forger: holds the home's key, edits entry seq, re-chains and re-signs.

    Every hash, link and checkpoint signature is recomputed, so the log verifies on its own.
    """
    prev = "0" * 64
    for row in db.execute(f"SELECT {COLUMNS} FROM entries ORDER BY seq").fetchall():  # noqa: S608
        entry = AuditEntry.from_row(row)
        data = dict(entry.data)
        if entry.seq == seq:
            data["forged"] = 1
        if entry.kind == AuditKind.CHECKPOINT:
            key = str(data["key"])
            data["head"] = prev
            data["sig"] = b64u(identity.sign(checkpoint_message(entry.seq - 1, prev, key)))
        entry = replace(entry, data=data, prev=prev, hash="")
        entry = replace(entry, hash=entry.computed_hash())
        db.execute(
            "UPDATE entries SET data = ?, prev = ?, hash = ? WHERE seq = ?",
            (canon(data).decode(), prev, entry.hash, entry.seq),
        )
        prev = entry.hash
