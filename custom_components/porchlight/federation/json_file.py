"""Small JSON documents on disk, replaced atomically so a crash never leaves half a file."""

from __future__ import annotations

import contextlib
import json
import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

FILE_MODE = 0o600


def read_json(path: Path) -> dict[str, Any] | None:
    """Return the document at path, or None if there is none. Blocking."""
    try:
        document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    return document


def write_json(path: Path, document: dict[str, Any]) -> None:
    """Write document atomically (temp file, fsync, rename), readable by the owner only."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        json.dump(document, file, sort_keys=True, separators=(",", ":"))
        file.flush()
        os.fsync(file.fileno())
    tmp.replace(path)
