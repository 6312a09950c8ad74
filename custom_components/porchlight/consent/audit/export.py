"""The auditor's copy: a log exported as JSONL, and verifying such a file.

One canonical-JSON entry per line, exactly `AuditEntry.to_json()`, so the copy holds the same
hashes and signatures as the home's SQLite file and is verified by the same checks
(`verify.verify_stream`), on a machine without Home Assistant.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from custom_components.porchlight.federation.canonical import JSON, canon, loads
from custom_components.porchlight.federation.errors import MalformedJSONError

from .entry import AuditEntry, AuditError, Head
from .verify import AuditReport, verify_stream
from .witness import WitnessResult, check_witnesses

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping
    from pathlib import Path


def write_jsonl(entries: Iterable[AuditEntry], path: Path) -> int:
    """Write entries to path, one canonical entry per line; return the count.

    The copy is written beside path and renamed into place, so it is never half a file.
    Raises AuditError if the file cannot be written; whatever entries raises is passed on.
    Either way no file is left behind.
    """
    tmp = path.with_name(f".{path.name}.tmp")
    count = 0
    try:
        with tmp.open("wb") as file:
            for entry in entries:
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


def verify_jsonl(path: Path, *, expected_head: Head | None = None) -> AuditReport:
    """Verify an exported copy (one canonical JSON entry per line) with the log's own checks.

    expected_head: an (seq, hash) known from outside the file (a manifest, a saved
    checkpoint); the copy must contain that very entry, which is what detects a cut-off tail.
    Blocking.
    """
    with path.open("rb") as file:
        return verify_stream(_parse_lines(file), [expected_head] if expected_head else [])


def _parse_lines(lines: Iterable[bytes]) -> Iterator[AuditEntry]:
    for line in lines:
        try:
            value = loads(line.removesuffix(b"\n"))
        except MalformedJSONError as err:
            raise ValueError(str(err)) from err
        yield AuditEntry.from_json(value)


def write_witnesses(statements: Iterable[Mapping[str, JSON]], path: Path) -> int:
    """Write witness statements beside an export, one canonical statement per line, verbatim.

    They are evidence signed by the neighbors, so whoever is given the log and this file
    checks them with `verify_witnessed_jsonl`, without asking the neighbors. Atomic as
    write_jsonl; raises AuditError if the file cannot be written.
    """
    tmp = path.with_name(f".{path.name}.tmp")
    count = 0
    try:
        with tmp.open("wb") as file:
            for statement in statements:
                file.write(canon(dict(statement)) + b"\n")
                count += 1
            file.flush()
            os.fsync(file.fileno())
        tmp.replace(path)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        msg = f"cannot write the witness statements: {err.strerror}"
        raise AuditError(msg) from err
    return count


def verify_witnessed_jsonl(path: Path, witnesses: Path) -> tuple[AuditReport, list[WitnessResult]]:
    """Verify an exported log and check every witness statement of the file beside it.

    The log is read twice (once for the chain, once for the witnessed entries), never held
    in memory. Blocking.
    """
    report = verify_jsonl(path)
    with witnesses.open("rb") as file:
        statements = [_parse_object(line) for line in file]
    wanted = {s["size"] for s in statements if type(s.get("size")) is int}
    found: dict[int, AuditEntry] = {}
    with path.open("rb") as file:
        for entry in _parse_lines(file):
            if entry.seq in wanted:
                found[entry.seq] = entry
    return report, check_witnesses(statements, found.get, report.keys)


def _parse_object(line: bytes) -> dict[str, JSON]:
    try:
        value = loads(line.removesuffix(b"\n"))
    except MalformedJSONError as err:
        raise ValueError(str(err)) from err
    if not isinstance(value, dict):
        raise ValueError("not a witness statement")  # noqa: TRY004  # one error type for callers
    return value
