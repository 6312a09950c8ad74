"""Files that must survive a power cut: the outbox (write_json) and the identity key.

A rename is only durable once the folder holding it is synced too: until then a crash can
bring back the old file, or none, although the new one's bytes were fsynced. The fsync spy
wraps the real call; it only records what was synced and when.
"""

from __future__ import annotations

import os
import stat
from typing import TYPE_CHECKING

import pytest

from custom_components.porchlight.federation.identity import (
    Identity,
    load_or_create,
    replace_key_file,
)
from custom_components.porchlight.federation.json_file import read_json, write_json

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path


class FsyncSpy:
    """Which folders were synced, and what the watched file held at that moment."""

    def __init__(self, watched: Path, real: Callable[[int], None]) -> None:
        self.watched = watched
        self.real = real
        self.folders: list[tuple[int, bytes | None]] = []

    def __call__(self, fd: int) -> None:
        status = os.fstat(fd)
        if stat.S_ISDIR(status.st_mode):
            content = self.watched.read_bytes() if self.watched.exists() else None
            self.folders.append((status.st_ino, content))
        self.real(fd)


@pytest.fixture
def spy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FsyncSpy:
    recorder = FsyncSpy(tmp_path / "keys" / "file", os.fsync)
    monkeypatch.setattr(os, "fsync", recorder)
    return recorder


def test_write_json_syncs_the_folder_after_the_rename(tmp_path: Path, spy: FsyncSpy) -> None:
    path = spy.watched
    write_json(path, {"a": 1})
    write_json(path, {"a": 2})
    folder = path.parent.stat().st_ino
    # One folder sync per write, each after its rename (the new content is in place).
    assert spy.folders == [(folder, b'{"a":1}'), (folder, b'{"a":2}')]


def test_identity_key_write_syncs_the_folder_after_the_rename(
    tmp_path: Path, spy: FsyncSpy
) -> None:
    path = spy.watched
    created = load_or_create(path).identity
    rotated = Identity.generate()
    replace_key_file(path, rotated)
    folder = path.parent.stat().st_ino
    assert spy.folders == [(folder, created.to_pem()), (folder, rotated.to_pem())]


def test_a_failed_write_leaves_no_temp_file_and_the_old_document(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    write_json(path, {"a": 1})
    with pytest.raises(TypeError):
        write_json(path, {"a": object()})  # not JSON: fails half way through the temp file
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.json"]
    assert read_json(path) == {"a": 1}
