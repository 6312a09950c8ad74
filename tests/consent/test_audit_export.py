"""The auditor's copy: a JSONL export verifies offline, and every edit to it is found."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from custom_components.porchlight.consent.audit import (
    AuditError,
    AuditLog,
    verify_jsonl,
)

from .audit_helpers import (
    COVERED,
    LAST,
    _assert_bad,
    _fill,
    _tamper,
)

if TYPE_CHECKING:
    from custom_components.porchlight.federation.clock import ManualClock
    from custom_components.porchlight.federation.identity import Identity


# --- export and offline verification ----------------------------------------------------------
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


def test_audit_imports_without_home_assistant() -> None:
    # An auditor verifies an export on a machine without Home Assistant.
    code = (
        "import sys\n"
        "import custom_components.porchlight.consent.audit\n"
        "assert not [m for m in sys.modules if m.startswith('homeassistant')], 'HA imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).parents[2], check=True)
