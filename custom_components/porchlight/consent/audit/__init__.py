"""The owner's audit log: append-only, hash-chained, with signed checkpoints (R6).

Every entry names the hash of the one before it, so changing, removing, inserting or
reordering entries breaks the chain; every `checkpoint_every` entries (and on demand) the home
signs the head with its Ed25519 key, so a rewrite that recomputes every hash still fails at the
first checkpoint it crosses. docs/audit.md says what is logged, what never is, and what a
log file alone cannot prove (that its unsigned tail was not cut off or rewritten).

One job a module, each importing only those before it:
- `entry`: what an entry is (kinds, fields, hash, limits) and what checkpoints and key
  rotations sign;
- `verify`: the streaming verifier and its `AuditReport`;
- `export`: the JSONL copy for an auditor, and `verify_jsonl` for such a file;
- `store`: `AuditLog`, the log in its SQLite file (the only writer).

No Home Assistant imports, so an auditor verifies an exported copy with this same package.

What callers must know:
- `append` is write-ahead for anything that leaves home: log first, send after, and send
  nothing if `append` raised `AuditError`.
- Entries hold metadata only. Never pass tokens, keys, footage, locations or message bodies in
  `actor`, `subject` or `data` (R6.4): pass token *hashes*, clip and request ids, keyids. Bytes
  that left go in `payload`, of which only the SHA-256 and size are kept.
"""

from .entry import (
    CHECKPOINT_CONTEXT,
    DATA_LIMITS,
    GENESIS,
    KEY_CONTEXT,
    KINDS,
    LOG_VERSION,
    MAX_TEXT,
    AuditEntry,
    AuditError,
    AuditKind,
    Head,
    checkpoint_message,
    rotation_message,
)
from .export import verify_jsonl
from .store import (
    DEFAULT_CHECKPOINT_EVERY,
    DEFAULT_CHECKPOINT_SECONDS,
    SCHEMA_VERSION,
    AuditLog,
)
from .verify import AuditReport

__all__ = [
    "CHECKPOINT_CONTEXT",
    "DATA_LIMITS",
    "DEFAULT_CHECKPOINT_EVERY",
    "DEFAULT_CHECKPOINT_SECONDS",
    "GENESIS",
    "KEY_CONTEXT",
    "KINDS",
    "LOG_VERSION",
    "MAX_TEXT",
    "SCHEMA_VERSION",
    "AuditEntry",
    "AuditError",
    "AuditKind",
    "AuditLog",
    "AuditReport",
    "Head",
    "checkpoint_message",
    "rotation_message",
    "verify_jsonl",
]
