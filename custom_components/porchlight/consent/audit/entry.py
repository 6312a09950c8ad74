"""One audit entry and the rules every entry obeys: kinds, fields, hashing, limits.

The bottom of the audit package: everything here is pure (no I/O), so the verifier, the
SQLite store and the JSONL export all build on it and it imports none of them. What a
checkpoint or a key rotation signs is defined here too, because the store signs exactly the
bytes the verifier checks.

New kinds go in `AuditKind` (and in docs/audit.md, which a test checks).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Final

from custom_components.porchlight.federation.canonical import (
    JSON,
    Limits,
    b64u,
    b64u_decode,
    canon,
    loads,
)
from custom_components.porchlight.federation.errors import MalformedJSONError

if TYPE_CHECKING:
    from collections.abc import Mapping


class AuditKind(StrEnum):
    """What an entry records. The set is closed: anything else is refused."""

    # The log itself (written only by AuditLog, never through append()).
    AUDIT_OPENED = "audit_opened"  # seq 1: the log was created; data.key = first signing key
    CHECKPOINT = "checkpoint"  # signed head (size, head, key, sig)
    KEY_ROTATED = "key_rotated"  # the home's key changed; signed by the old and the new key
    # Peers and trust (R6.3).
    INVITE_CREATED = "invite_created"  # subject = SHA-256 of the invite token, never the token
    PEER_PAIRED = "peer_paired"
    PEER_CONFIRMED = "peer_confirmed"  # the owner compared the pairing code
    PEER_REMOVED = "peer_removed"
    PEER_REVOKED = "peer_revoked"  # a peer revoked its own key
    AGENCY_TRUSTED = "agency_trusted"
    AGENCY_UNTRUSTED = "agency_untrusted"
    RULES_CHANGED = "rules_changed"  # auto-decline rules or agency scope
    # Footage requests, from arrival to decision.
    REQUEST_RECEIVED = "request_received"
    REQUEST_REJECTED = "request_rejected"  # invalid, untrusted, beyond the hard limits
    REQUEST_NOT_IN_AREA = "request_not_in_area"
    REQUEST_AUTO_DECLINED = "request_auto_declined"
    REQUEST_PENDING = "request_pending"
    REQUEST_DECLINED = "request_declined"
    REQUEST_EXPIRED = "request_expired"
    CLIP_APPROVED = "clip_approved"  # the consent record; written before any link exists
    CLIP_DELETED = "clip_deleted"  # a clip tied to a request or share was deleted
    # A clip attached to the owner's alert, for one neighbor: that consent record's hash,
    # written before any link exists (subject = the share group, data.neighbor its key).
    ALERT_CLIP_SHARED = "alert_clip_shared"
    # What left home, and what came in.
    MESSAGE_SENT = "message_sent"  # payload = the exact bytes sent
    MESSAGE_RECEIVED = "message_received"
    OFFER_SENT = "offer_sent"
    OFFER_UNDELIVERABLE = "offer_undeliverable"  # given up; data.error says why
    OFFER_RETRIED = "offer_retried"  # the owner sent undelivered offers again
    DOWNLOAD = "download"  # a clip download starts: size = bytes served
    DOWNLOAD_REFUSED = "download_refused"
    SHARE_REVOKED = "share_revoked"
    SHARE_EXPIRED = "share_expired"


KINDS: Final = frozenset(AuditKind)
# Their data is checked by verify(), so only the log writes them.
STRUCTURAL_KINDS: Final = frozenset(
    {AuditKind.AUDIT_OPENED, AuditKind.CHECKPOINT, AuditKind.KEY_ROTATED}
)

GENESIS: Final = "0" * 64  # prev of entry 1
LOG_VERSION: Final = 1
CHECKPOINT_CONTEXT: Final = b"porchlight-audit-checkpoint-v1\n"
KEY_CONTEXT: Final = b"porchlight-audit-key-v1\n"
MAX_TEXT: Final = 512  # actor and subject: ids, keyids, hashes
# Small metadata only; also keeps every exported line within the strict parser's limits.
DATA_LIMITS: Final = Limits(max_bytes=4096, max_depth=4, max_array=100, max_string=1024)

_HEX64: Final = re.compile(r"[0-9a-f]{64}")
# The fields of an entry, in the order of a row of the store's `entries` table.
COLUMNS: Final = "seq, at, kind, actor, subject, payload_sha256, size, data, prev, hash"
_COLUMN_NAMES: Final = tuple(COLUMNS.split(", "))
_FIELDS: Final = frozenset(_COLUMN_NAMES)

type Head = tuple[int, str]


class AuditError(Exception):
    """The audit log cannot be read or written; whoever was about to send must not."""


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One line of the log. `hash` covers every other field (canonical JSON, 0x00 prefix)."""

    seq: int
    at: int
    kind: str
    actor: str
    subject: str
    payload_sha256: str | None
    size: int | None
    data: dict[str, JSON]
    prev: str
    hash: str

    def body(self) -> dict[str, JSON]:
        """The hashed fields: everything but the hash."""
        return {
            "seq": self.seq,
            "at": self.at,
            "kind": self.kind,
            "actor": self.actor,
            "subject": self.subject,
            "payload_sha256": self.payload_sha256,
            "size": self.size,
            "data": self.data,
            "prev": self.prev,
        }

    def computed_hash(self) -> str:
        """SHA-256 of 0x00 + canon(body), hex: what `hash` must be."""
        return _entry_hash(self.body())

    def to_json(self) -> dict[str, JSON]:
        """Serialize (one line of an export)."""
        return {**self.body(), "hash": self.hash}

    @classmethod
    def from_json(cls, value: JSON) -> AuditEntry:
        """Deserialize and type-check; raise ValueError for anything that is not an entry."""
        if not isinstance(value, dict) or set(value) != _FIELDS:
            raise ValueError("not an audit entry (fields)")
        seq, at, size, data = value["seq"], value["at"], value["size"], value["data"]
        kind, actor, subject = value["kind"], value["actor"], value["subject"]
        sha, prev, entry_hash = value["payload_sha256"], value["prev"], value["hash"]
        if type(seq) is not int or type(at) is not int:
            raise ValueError("seq and at must be integers")
        if not (isinstance(kind, str) and isinstance(actor, str) and isinstance(subject, str)):
            raise ValueError("kind, actor and subject must be strings")  # noqa: TRY004
        if not (size is None or (type(size) is int and size >= 0)):
            raise ValueError("size must be a non-negative integer or null")
        if not (sha is None or _is_hex64(sha)) or not _is_hex64(prev) or not _is_hex64(entry_hash):
            raise ValueError("hashes must be 64 lowercase hex digits")
        if not isinstance(data, dict):
            raise ValueError("data must be an object")  # noqa: TRY004  # one error type for callers
        return cls(seq, at, kind, actor, subject, sha, size, data, prev, entry_hash)  # type: ignore[arg-type]

    @classmethod
    def from_row(cls, row: tuple[object, ...]) -> AuditEntry:
        """Build from an `entries` row; data must be canonical JSON. Raise ValueError if not."""
        fields = dict(zip(_COLUMN_NAMES, row, strict=True))
        text = fields["data"]
        if not isinstance(text, str):
            raise ValueError("data must be text")  # noqa: TRY004  # one error type for callers
        try:
            fields["data"] = loads(text.encode("utf-8"), DATA_LIMITS)
        except MalformedJSONError as err:
            msg = f"data is not canonical JSON ({err})"
            raise ValueError(msg) from err
        return cls.from_json(fields)  # type: ignore[arg-type]

    def to_row(self) -> tuple[int, int, str, str, str, str | None, int | None, str, str, str]:
        """The `entries` row (data as canonical JSON text)."""
        data = canon(self.data).decode("utf-8")
        return (self.seq, self.at, self.kind, self.actor, self.subject,
                self.payload_sha256, self.size, data, self.prev, self.hash)  # fmt: skip


def _is_hex64(value: object) -> bool:
    return isinstance(value, str) and _HEX64.fullmatch(value) is not None


def _entry_hash(body: Mapping[str, JSON]) -> str:
    return hashlib.sha256(b"\x00" + canon(body)).hexdigest()


def checkpoint_message(size: int, head: str, key: str) -> bytes:
    """What a checkpoint signs: the covered entry's seq and hash, and the signing key (b64u)."""
    return CHECKPOINT_CONTEXT + canon({"size": size, "head": head, "key": key})


def rotation_message(old: str, new: str, seq: int) -> bytes:
    """What both keys sign in a key_rotated entry at seq (keys as b64u)."""
    return KEY_CONTEXT + canon({"old": old, "new": new, "seq": seq})


def encode_key(key: bytes) -> str:
    """A public key as entry data carries it (b64u of the raw Ed25519 key)."""
    return b64u(key)


def decode_key(value: JSON) -> bytes:
    """A public key from entry data; TypeError or ValueError if it is not one."""
    if not isinstance(value, str):
        raise TypeError
    return b64u_decode(value, 32)
