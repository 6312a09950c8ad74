"""One audit entry: its kinds, its fields and their types, its row form."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from custom_components.porchlight.consent.audit import (
    KINDS,
    AuditEntry,
    AuditLog,
)


# --- the record -------------------------------------------------------------------------------
def test_every_kind_is_documented() -> None:
    content = (Path(__file__).resolve().parents[2] / "docs" / "audit.md").read_text("utf-8")
    assert [kind for kind in KINDS if f"`{kind}`" not in content] == []


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
