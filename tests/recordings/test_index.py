"""The clip index: persistence, queries, holds, and refusing files it cannot trust."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from dataclasses import replace
from pathlib import Path

import pytest

from custom_components.porchlight.recordings.index import SCHEMA_VERSION, ClipIndex, ClipIndexError
from custom_components.porchlight.recordings.models import Clip, Segment, Trigger


def _clip(clip_id: str, start: float, size: int = 100, camera: str = "camera.a") -> Clip:
    return Clip(
        id=clip_id,
        camera=camera,
        trigger=Trigger.MOTION,
        start=start,
        end=start + 10,
        size=size,
        sha256="ab" * 32,
        path=Path(f"/clips/{clip_id}.mp4"),
        thumbnail=None if clip_id.endswith("n") else Path(f"/clips/{clip_id}.jpg"),
        created=start + 11,
    )


def test_index_persists_across_reopen(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "clips.sqlite3"
    with ClipIndex(path) as index:
        index.add_segment(Segment("camera.a", Path("/s/1.ts"), 0.0, 2.0, 10))
        index.add_segment(Segment("camera.a", Path("/s/2.ts"), 2.0, 4.0, 20))
        index.add_segment(Segment("camera.b", Path("/s/3.ts"), 0.0, 2.0, 40))
        index.add_clip(_clip("c1", 100.0))
        index.add_clip(_clip("c2n", 50.0, camera="camera.b"))
        index.hold("c1", "request:r1")
        index.hold("c1", "share:s1")
    with ClipIndex(path) as index:
        assert [s.path.name for s in index.segments("camera.a", 1.0, 3.0)] == ["1.ts", "2.ts"]
        assert [s.path.name for s in index.segments_before("camera.a", 3.0)] == ["1.ts"]
        assert index.segment_bytes("camera.a") == 30
        assert index.clip("c1") == replace(
            _clip("c1", 100.0), holds=frozenset({"request:r1", "share:s1"})
        )
        assert index.clip("c2n").thumbnail is None  # type: ignore[union-attr]
        assert index.clip("nope") is None
        assert [c.id for c in index.clips()] == ["c2n", "c1"]
        assert [c.id for c in index.clips(camera="camera.a")] == ["c1"]
        assert [c.id for c in index.clips(start=105.0, end=200.0)] == ["c1"]
        assert index.clips(start=0.0, end=40.0) == []
        assert index.clip_bytes() == 200
        assert index.clip_bytes("camera.b") == 100


def test_holds_and_forgetting(tmp_path: Path) -> None:
    with ClipIndex(tmp_path / "i.db") as index:
        index.add_clip(_clip("c1", 1.0))
        index.hold("c1", "request:r1")
        index.hold("c1", "request:r1")  # holding twice is one hold
        assert index.clip("c1").holds == {"request:r1"}  # type: ignore[union-attr]
        assert index.clip("c1").held  # type: ignore[union-attr]
        index.release("c1", "request:r1")
        assert not index.clip("c1").held  # type: ignore[union-attr]
        index.hold("c1", "share:s")
        index.forget_clip("c1")
        assert index.clip("c1") is None
        segment = Segment("camera.a", Path("/s/1.ts"), 0.0, 2.0, 10)
        index.add_segment(segment)
        index.forget_segments([segment])
        assert index.segment_bytes("camera.a") == 0


def test_as_dict_is_json_friendly() -> None:
    assert _clip("c1", 1.0).as_dict() == {
        "id": "c1",
        "camera": "camera.a",
        "trigger": "motion",
        "start": 1.0,
        "end": 11.0,
        "size": 100,
        "sha256": "ab" * 32,
        "held": False,
    }


def test_corrupt_index_file_is_refused_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "clips.sqlite3"
    path.write_bytes(b"definitely not sqlite" * 100)
    with pytest.raises(ClipIndexError, match=r"cannot open clip index clips\.sqlite3"):
        ClipIndex(path)
    assert path.read_bytes() == b"definitely not sqlite" * 100


def test_index_from_a_newer_porchlight_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "clips.sqlite3"
    with closing(sqlite3.connect(path)) as db:
        db.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    with pytest.raises(ClipIndexError, match="newer than this Porchlight"):
        ClipIndex(path)
