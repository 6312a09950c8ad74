"""Requests and shares on disk: one SQLite file, every change committed before it counts.

A share's download count must survive a crash (a single-use link that works again after a
restart is a second copy nobody consented to), so nothing here is written lazily. Blocking
I/O: Home Assistant calls these from its executor.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from typing import TYPE_CHECKING, Final

from .records import AlertGrant, ConsentRecord, FootageRequest, Share

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS requests (
    id TEXT PRIMARY KEY, state TEXT NOT NULL, received_at INTEGER NOT NULL, data TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS shares (
    id TEXT PRIMARY KEY, request TEXT NOT NULL, state TEXT NOT NULL, data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS shares_by_request ON shares (request);
CREATE TABLE IF NOT EXISTS alert_grants (id TEXT PRIMARY KEY, data TEXT NOT NULL);
"""


class ConsentStoreError(Exception):
    """The consent database could not be read or written."""


class ConsentStore:
    """Persisted requests and shares."""

    def __init__(self, path: Path) -> None:
        """Open (and create) the database."""
        self._lock = threading.Lock()
        try:
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            # Private like the audit log: requests name areas around the home, cases,
            # reasons and clips. SQLite gives its -wal and -shm files the same mode.
            os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
            path.chmod(0o600)
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        except (OSError, sqlite3.Error) as err:
            msg = f"cannot open {path.name}: {err}"
            raise ConsentStoreError(msg) from err
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA)
        except sqlite3.Error as err:
            self._db.close()  # not a database we can use: let go of the file
            msg = f"cannot open {path.name}: {err}"
            raise ConsentStoreError(msg) from err

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()

    def _write(self, sql: str, params: tuple[object, ...]) -> None:
        with self._lock:
            self._execute(sql, params)

    def _execute(self, sql: str, params: tuple[object, ...]) -> None:
        """Run one write; the caller holds the lock."""
        try:
            self._db.execute(sql, params)
        except sqlite3.Error as err:
            msg = f"cannot save: {err}"
            raise ConsentStoreError(msg) from err

    def put_request(self, request: FootageRequest) -> None:
        """Insert or replace a request."""
        self._write(
            "INSERT OR REPLACE INTO requests VALUES (?, ?, ?, ?)",
            (request.id, request.state.value, request.received_at, json.dumps(request.to_json())),
        )

    def request(self, request_id: str) -> FootageRequest | None:
        """One request by id."""
        with self._lock:
            row = self._db.execute(
                "SELECT data FROM requests WHERE id = ?", (request_id,)
            ).fetchone()
        return FootageRequest.from_json(json.loads(row[0])) if row else None

    def requests(self) -> list[FootageRequest]:
        """Every request, newest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT data FROM requests ORDER BY received_at DESC, id"
            ).fetchall()
        return [FootageRequest.from_json(json.loads(r[0])) for r in rows]

    def put_grant(self, grant: AlertGrant) -> None:
        """Insert or replace the consent to share an alert's clips with one neighbor."""
        self._write(
            "INSERT OR REPLACE INTO alert_grants VALUES (?, ?)",
            (grant.id, json.dumps(grant.to_json())),
        )

    def grant(self, grant_id: str) -> AlertGrant | None:
        """One alert grant by id."""
        with self._lock:
            row = self._db.execute(
                "SELECT data FROM alert_grants WHERE id = ?", (grant_id,)
            ).fetchone()
        return AlertGrant.from_json(json.loads(row[0])) if row else None

    def consent(self, owner: str, clip: str) -> ConsentRecord | None:
        """The consent record behind a share: its request's, or its alert grant's."""
        if (request := self.request(owner)) is not None:
            return request.approved(clip)
        grant = self.grant(owner)
        return grant.approved(clip) if grant is not None else None

    def put_share(self, share: Share) -> None:
        """Insert or replace a share."""
        with self._lock:
            self._put_share(share)

    def _put_share(self, share: Share) -> None:
        """Write one share's row; the caller holds the lock."""
        self._execute(
            "INSERT OR REPLACE INTO shares VALUES (?, ?, ?, ?)",
            (share.id, share.request, share.state.value, json.dumps(share.to_json())),
        )

    def change_share(self, share_id: str, change: Callable[[Share], Share]) -> Share:
        """Read, change and write back one share in one step; returns it as written.

        Downloads, revocations and expiry all change shares from different tasks; each
        applies its change to what is stored now, never to a copy read earlier. Shares are
        never deleted, so one that is missing means the store was tampered with.
        """
        with self._lock:
            row = self._db.execute("SELECT data FROM shares WHERE id = ?", (share_id,)).fetchone()
            if row is None:
                msg = f"share {share_id[:12]} is not in the store"
                raise ConsentStoreError(msg)
            share = change(Share.from_json(json.loads(row[0])))
            self._put_share(share)
        return share

    def settle_interrupted(self) -> list[Share]:
        """Count downloads a crash or stop cut off as done; return those shares (at start).

        Their reservation was written before the first byte left and nothing says how many
        did: failing closed, the agency may have every byte, so the download is used.
        """
        settled: list[Share] = []
        for share in self.shares():
            if share.in_flight:
                done = self.change_share(
                    share.id,
                    lambda s: s.counted(s.in_flight, reached_end=True, size=s.in_flight),
                )
                settled.append(done)
        return settled

    def share(self, share_id: str) -> Share | None:
        """One share by id (the token's hash)."""
        with self._lock:
            row = self._db.execute("SELECT data FROM shares WHERE id = ?", (share_id,)).fetchone()
        return Share.from_json(json.loads(row[0])) if row else None

    def shares(self, request_id: str | None = None) -> list[Share]:
        """Shares, of one request or all."""
        with self._lock:
            if request_id is None:
                rows = self._db.execute("SELECT data FROM shares ORDER BY rowid").fetchall()
            else:
                rows = self._db.execute(
                    "SELECT data FROM shares WHERE request = ? ORDER BY rowid", (request_id,)
                ).fetchall()
        return [Share.from_json(json.loads(r[0])) for r in rows]
