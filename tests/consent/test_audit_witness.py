"""Witnessed checkpoints: what a witness checks and signs, and what the home checks later."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from custom_components.porchlight.consent.audit import AuditError, AuditKind, AuditLog
from custom_components.porchlight.consent.audit.entry import AuditEntry, checkpoint_message
from custom_components.porchlight.consent.audit.export import (
    verify_witnessed_jsonl,
    write_witnesses,
)
from custom_components.porchlight.consent.audit.witness import (
    EquivocationError,
    Witnessed,
    WitnessError,
    WitnessStatus,
    check_checkpoint,
    check_witnesses,
    checkpoint_body,
    sign_statement,
    verify_statement,
)
from custom_components.porchlight.federation.canonical import b64u, canon
from custom_components.porchlight.federation.identity import Identity

from .audit_helpers import COVERED, FIRST_CHECKPOINT, SECOND_CHECKPOINT, _rewrite_with_key, _tamper

if TYPE_CHECKING:
    from pathlib import Path

    from custom_components.porchlight.federation.canonical import JSON
    from custom_components.porchlight.federation.clock import ManualClock


@pytest.fixture(scope="module")
def witness() -> Identity:
    """A neighbor's key."""
    return Identity.generate()


def _checkpoints(log: AuditLog) -> list[AuditEntry]:
    return [e for e in log.entries() if e.kind == AuditKind.CHECKPOINT]


# --- the witness -----------------------------------------------------------------------------
def test_a_checkpoint_is_checked_and_countersigned(
    written: Path, identity: Identity, clock: ManualClock, witness: Identity
) -> None:
    with AuditLog(written, identity, clock) as log:
        first, second = _checkpoints(log)
        assert log.last_checkpoint == second
        kept = check_checkpoint(checkpoint_body(first), identity.public_key, None)
        assert kept == Witnessed(FIRST_CHECKPOINT - 1, first.prev)
        # A later checkpoint extends it; the same one again is fine too.
        assert check_checkpoint(checkpoint_body(first), identity.public_key, kept) == kept
        later = check_checkpoint(checkpoint_body(second), identity.public_key, kept)
        assert later.size == SECOND_CHECKPOINT - 1
        statement = sign_statement(witness, identity.keyid, later, 1234)
        assert verify_statement(statement) == witness.keyid
        assert Witnessed.from_json(later.to_json()) == later
        [result] = check_witnesses([statement], log.entry_at, log.verify().keys)
    assert result.ok
    assert result.to_json() == {"witness": witness.keyid, "size": 201, "status": "ok"}
    assert json.loads(canon(statement))["witnessed_at"] == 1234


def test_a_checkpoint_not_from_the_homes_key_is_refused(
    written: Path, identity: Identity, clock: ManualClock, witness: Identity
) -> None:
    with AuditLog(written, identity, clock) as log:
        body = checkpoint_body(_checkpoints(log)[0])
        with pytest.raises(ValueError, match="not a checkpoint"):
            checkpoint_body(next(log.entries()))
    with pytest.raises(WitnessError, match="pinned key"):
        check_checkpoint(body, witness.public_key, None)
    # Signed by the pinned key over another head: a forgery.
    with pytest.raises(WitnessError, match="does not verify"):
        check_checkpoint({**body, "head": "1" * 64}, identity.public_key, None)
    with pytest.raises(WitnessError, match="malformed"):
        check_checkpoint({**body, "size": "100"}, identity.public_key, None)
    # The witness's own key signing a checkpoint for the home's: refused too.
    key = b64u(witness.public_key)
    forged = {**body, "key": key, "sig": b64u(witness.sign(checkpoint_message(100, "1" * 64, key)))}
    with pytest.raises(WitnessError, match="pinned key"):
        check_checkpoint(forged, identity.public_key, None)


def test_equivocation_and_a_shrinking_log_are_detected(
    written: Path, identity: Identity, clock: ManualClock
) -> None:
    with AuditLog(written, identity, clock) as log:
        first, second = (checkpoint_body(e) for e in _checkpoints(log))
    seen = check_checkpoint(second, identity.public_key, None)
    with pytest.raises(EquivocationError, match="shrank from 201 to 100"):
        check_checkpoint(first, identity.public_key, seen)
    # The same size with another head, signed by the home's own key: two histories.
    head = "2" * 64
    key = str(second["key"])
    other = {**second, "head": head, "sig": b64u(identity.sign(checkpoint_message(201, head, key)))}
    assert check_checkpoint(other, identity.public_key, None).head == head
    with pytest.raises(EquivocationError, match="two different heads for entry 201"):
        check_checkpoint(other, identity.public_key, seen)


# --- the home and its auditors ---------------------------------------------------------------
def test_a_forged_witness_statement_fails(identity: Identity, witness: Identity) -> None:
    statement = sign_statement(witness, identity.keyid, Witnessed(100, "a" * 64), 5)
    for forged in (
        {**statement, "head": "b" * 64},  # the home changed what was witnessed
        {**statement, "size": 99},
        {**statement, "witness_key": b64u(identity.public_key)},  # claims another witness
    ):
        with pytest.raises(WitnessError, match="does not verify"):
            verify_statement(forged)
    for broken in (
        {k: v for k, v in statement.items() if k != "sig"},
        {**statement, "witnessed_at": "5"},
        {**statement, "sig": "not base64!"},
    ):
        with pytest.raises(WitnessError, match="not a witness statement"):
            verify_statement(broken)
    results = check_witnesses(
        [{**statement, "head": "b" * 64}, {**statement, "size": "x"}],
        lambda _seq: None,
        [identity.keyid],
    )
    assert [(r.status, r.size, r.witness) for r in results] == [
        (WitnessStatus.SIGNATURE_INVALID, 100, ""),
        (WitnessStatus.SIGNATURE_INVALID, 0, ""),
    ]
    with pytest.raises(WitnessError, match="not a witnessed head"):
        Witnessed.from_json({"size": "1", "head": "a"})


def test_a_rewritten_log_verifies_alone_but_fails_against_its_witness(
    written: Path, identity: Identity, clock: ManualClock, witness: Identity
) -> None:
    with AuditLog(written, identity, clock) as log:
        kept = check_checkpoint(checkpoint_body(_checkpoints(log)[1]), identity.public_key, None)
    statement = sign_statement(witness, identity.keyid, kept, 77)
    with _tamper(written) as db:
        _rewrite_with_key(db, identity, COVERED)
    with AuditLog(written, identity, clock) as log:
        report = log.verify()
        # Without the witness, nothing shows: every hash and signature was recomputed.
        assert report.ok
        assert report.checkpoints == 2
        [result] = check_witnesses([statement], log.entry_at, report.keys)
        assert result.status is WitnessStatus.REWRITTEN
        assert not result.ok
        assert result.witness == witness.keyid
        # A log cut off before the witnessed entry fails the same way.
        cut = sign_statement(witness, identity.keyid, Witnessed(10_000, kept.head), 77)
        [result] = check_witnesses([cut], log.entry_at, report.keys)
        assert result.status is WitnessStatus.REWRITTEN
        assert log.entry_at(0) is None
        # A statement for some other home proves nothing about this log.
        other = sign_statement(witness, witness.keyid, kept, 77)
        [result] = check_witnesses([other], log.entry_at, report.keys)
        assert result.status is WitnessStatus.OTHER_HOME


def test_an_export_carries_its_witness_statements(
    written: Path, identity: Identity, clock: ManualClock, witness: Identity
) -> None:
    copy, sidecar = written.with_name("export.jsonl"), written.with_name("witnesses.jsonl")
    with AuditLog(written, identity, clock) as log:
        kept = check_checkpoint(checkpoint_body(_checkpoints(log)[0]), identity.public_key, None)
        log.export_jsonl(copy)
    statements: list[dict[str, JSON]] = [sign_statement(witness, identity.keyid, kept, 9)]
    assert write_witnesses(statements, sidecar) == 1
    report, [result] = verify_witnessed_jsonl(copy, sidecar)
    assert report.ok
    assert result.ok
    # Someone rewrites the copy with the key: the chain alone still verifies, the witness not.
    with _tamper(written) as db:
        _rewrite_with_key(db, identity, COVERED)
    with AuditLog(written, identity, clock) as log:
        log.export_jsonl(copy)
    report, [result] = verify_witnessed_jsonl(copy, sidecar)
    assert report.ok
    assert result.status is WitnessStatus.REWRITTEN


def test_witness_files_that_cannot_be_written_or_read(tmp_path: Path) -> None:
    with pytest.raises(AuditError, match="cannot write the witness statements"):
        write_witnesses([], tmp_path / "missing" / "witnesses.jsonl")
    log, sidecar = tmp_path / "log.jsonl", tmp_path / "witnesses.jsonl"
    log.write_bytes(b"")
    for content in (b"[1]\n", b"{bad\n"):
        sidecar.write_bytes(content)
        with pytest.raises(ValueError, match=r"witness statement|JSON|expect"):
            verify_witnessed_jsonl(log, sidecar)
