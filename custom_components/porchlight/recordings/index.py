"""The clip index: Porchlight's own SQLite file (never Home Assistant's recorder database).

All methods block; the HA glue calls them in the executor. One connection, serialized by a
lock, because SQLite connections must not be used from two threads at once.
"""

from __future__ import annotations

import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Self

from .models import Clip, Segment, Trigger

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator
    from types import TracebackType

SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS segments (
    path TEXT PRIMARY KEY,
    camera TEXT NOT NULL,
    start REAL NOT NULL,
    end REAL NOT NULL,
    size INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS segments_by_time ON segments (camera, start);
CREATE TABLE IF NOT EXISTS clips (
    id TEXT PRIMARY KEY,
    camera TEXT NOT NULL,
    trigger TEXT NOT NULL,
    start REAL NOT NULL,
    end REAL NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    path TEXT NOT NULL,
    thumbnail TEXT,
    created REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS clips_by_time ON clips (camera, start);
CREATE TABLE IF NOT EXISTS holds (
    clip_id TEXT NOT NULL REFERENCES clips (id) ON DELETE CASCADE,
    reason TEXT NOT NULL,
    PRIMARY KEY (clip_id, reason)
);
"""

_CLIP_COLUMNS = (
    "id, camera, trigger, start, end, size, sha256, path, thumbnail, created,"
    " (SELECT group_concat(reason, char(31)) FROM holds WHERE clip_id = id)"
)


class ClipIndexError(Exception):
    """The index file cannot be opened, is from a newer Porchlight, or a query failed."""


class ClipIndex:
    """Segments and clips of every camera of one home."""

    def __init__(self, path: Path) -> None:
        """Open (and create or migrate) the index at path."""
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        try:
            self._migrate(path)
        except BaseException:
            self._db.close()
            raise

    def _migrate(self, path: Path) -> None:
        """Create or upgrade the schema; refuse files this code cannot trust."""
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA foreign_keys=ON")
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
        except sqlite3.DatabaseError as err:
            msg = f"cannot open clip index {path.name}: {err}"
            raise ClipIndexError(msg) from err
        if version > SCHEMA_VERSION:
            msg = f"index schema {version} is newer than this Porchlight ({SCHEMA_VERSION})"
            raise ClipIndexError(msg)
        self._db.executescript(_SCHEMA)
        self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """Use the database alone; its errors surface as ClipIndexError, callers' one type.

        (A full disk, a database closed by unload: the consent desk and the glue catch one
        exception whatever SQLite raised.)
        """
        with self._lock:
            try:
                yield
            except sqlite3.Error as err:
                msg = f"clip index: {err}"
                raise ClipIndexError(msg) from err

    def __enter__(self) -> Self:
        """Use as a context manager (tests, benchmark)."""
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Close on exit."""
        self.close()

    # --- segments ---------------------------------------------------------------------

    def add_segment(self, segment: Segment) -> None:
        """Record a completed segment."""
        with self._locked():
            self._db.execute(
                "INSERT OR REPLACE INTO segments VALUES (?, ?, ?, ?, ?)",
                (str(segment.path), segment.camera, segment.start, segment.end, segment.size),
            )

    def segments(self, camera: str, start: float, end: float) -> list[Segment]:
        """Segments of camera overlapping [start, end], oldest first."""
        with self._locked():
            rows = self._db.execute(
                "SELECT path, camera, start, end, size FROM segments"
                " WHERE camera = ? AND start < ? AND end > ? ORDER BY start",
                (camera, end, start),
            ).fetchall()
        return [Segment(r[1], Path(r[0]), r[2], r[3], r[4]) for r in rows]

    def segments_before(self, camera: str, before: float) -> list[Segment]:
        """Segments of camera that ended before `before`, oldest first."""
        with self._locked():
            rows = self._db.execute(
                "SELECT path, camera, start, end, size FROM segments"
                " WHERE camera = ? AND end < ? ORDER BY start",
                (camera, before),
            ).fetchall()
        return [Segment(r[1], Path(r[0]), r[2], r[3], r[4]) for r in rows]

    def forget_segments(self, segments: Iterable[Segment]) -> None:
        """Drop segments from the index (their files are the caller's to delete)."""
        with self._locked():
            self._db.executemany(
                "DELETE FROM segments WHERE path = ?", [(str(s.path),) for s in segments]
            )

    def segment_bytes(self, camera: str) -> int:
        """Bytes of segments of camera still on disk."""
        with self._locked():
            row = self._db.execute(
                "SELECT COALESCE(SUM(size), 0) FROM segments WHERE camera = ?", (camera,)
            ).fetchone()
        return int(row[0])

    # --- clips ------------------------------------------------------------------------

    def add_clip(self, clip: Clip) -> None:
        """Record a finished clip."""
        with self._locked():
            self._db.execute(
                "INSERT INTO clips VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    clip.id,
                    clip.camera,
                    clip.trigger.value,
                    clip.start,
                    clip.end,
                    clip.size,
                    clip.sha256,
                    str(clip.path),
                    None if clip.thumbnail is None else str(clip.thumbnail),
                    clip.created,
                ),
            )

    def clip(self, clip_id: str) -> Clip | None:
        """The clip with this id, if any."""
        clips = self._select("WHERE id = ?", (clip_id,))
        return clips[0] if clips else None

    def clips(
        self, camera: str | None = None, start: float | None = None, end: float | None = None
    ) -> list[Clip]:
        """Clips, optionally of one camera and overlapping [start, end], oldest first."""
        where: list[str] = ["1 = 1"]
        params: list[object] = []
        if camera is not None:
            where.append("camera = ?")
            params.append(camera)
        if start is not None:
            where.append("end > ?")
            params.append(start)
        if end is not None:
            where.append("start < ?")
            params.append(end)
        return self._select("WHERE " + " AND ".join(where), tuple(params))

    def _select(self, where: str, params: tuple[object, ...]) -> list[Clip]:
        with self._locked():
            # `where` is built from fixed fragments; values travel as parameters.
            query = f"SELECT {_CLIP_COLUMNS} FROM clips {where} ORDER BY start"  # noqa: S608
            rows = self._db.execute(query, params).fetchall()
        return [
            Clip(
                id=r[0],
                camera=r[1],
                trigger=Trigger(r[2]),
                start=r[3],
                end=r[4],
                size=r[5],
                sha256=r[6],
                path=Path(r[7]),
                thumbnail=None if r[8] is None else Path(r[8]),
                created=r[9],
                holds=frozenset(r[10].split("\x1f")) if r[10] else frozenset(),
            )
            for r in rows
        ]

    def forget_clip(self, clip_id: str) -> None:
        """Drop a clip from the index (its files are the caller's to delete)."""
        with self._locked():
            self._db.execute("DELETE FROM clips WHERE id = ?", (clip_id,))

    def clip_bytes(self, camera: str | None = None) -> int:
        """Bytes of clips, of one camera or all."""
        with self._locked():
            if camera is None:
                row = self._db.execute("SELECT COALESCE(SUM(size), 0) FROM clips").fetchone()
            else:
                row = self._db.execute(
                    "SELECT COALESCE(SUM(size), 0) FROM clips WHERE camera = ?", (camera,)
                ).fetchone()
        return int(row[0])

    # --- holds ------------------------------------------------------------------------

    def hold(self, clip_id: str, reason: str) -> None:
        """Keep a clip from being pruned until the hold is released."""
        with self._locked():
            self._db.execute("INSERT OR IGNORE INTO holds VALUES (?, ?)", (clip_id, reason))

    def release(self, clip_id: str, reason: str) -> None:
        """Release one hold on a clip."""
        with self._locked():
            self._db.execute(
                "DELETE FROM holds WHERE clip_id = ? AND reason = ?", (clip_id, reason)
            )
