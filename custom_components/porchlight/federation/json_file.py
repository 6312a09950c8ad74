"""Small JSON documents on disk, replaced atomically so a crash never leaves half a file."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

FILE_MODE = 0o600


def read_json(path: Path) -> dict[str, Any] | None:
    """Return the document at path, or None if there is none. Blocking."""
    try:
        document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    return document


def write_json(path: Path, document: dict[str, Any]) -> None:
    """Write document atomically (temp file, fsync, rename, folder fsync), owner-only.

    Each call writes its own temp file (mkstemp: mode 0600, unique name), so two saves racing
    in executor threads cannot rename each other's file away; the last rename wins. A write
    that fails removes its temp file and leaves the previous document in place.
    """
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            os.fchmod(file.fileno(), FILE_MODE)
            json.dump(document, file, sort_keys=True, separators=(",", ":"))
            file.flush()
            os.fsync(file.fileno())
        Path(tmp).replace(path)
    except BaseException:
        # Retried writes (a full disk) would otherwise leave one orphan per attempt.
        Path(tmp).unlink(missing_ok=True)
        raise
    sync_folder(path.parent)


def sync_folder(folder: Path) -> None:
    """Make a rename inside folder durable (blocking).

    The file's own fsync covers its bytes, not the folder entry that names it: until the
    folder is synced, a power cut can bring back the old file, or none.
    """
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
