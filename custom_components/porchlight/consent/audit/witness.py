"""Witnessed checkpoints: neighbors keep a home's latest signed head and countersign it.

A checkpoint alone proves only that the home's key signed a head; whoever holds that key (the
home, or someone who took it over) can rewrite the log and sign again. A neighbor that saw a
checkpoint and countersigned it pins the head outside the home: a log that no longer holds
that head at that seq was rewritten after the neighbor saw it (docs/threat-model.md,
"Witnessed audit logs").

Both sides live here, pure (no I/O, no Home Assistant), so an auditor given an exported log
and its witness statements checks them with this same module:
- the witness: `check_checkpoint` (the home's signature, its federation key, size never
  decreasing, one head per size) and `sign_statement`;
- the home and its auditors: `verify_statement` and `check_witnesses`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Final

from custom_components.porchlight.federation.canonical import JSON, b64u, b64u_decode, canon
from custom_components.porchlight.federation.identity import keyid
from custom_components.porchlight.federation.identity import verify as verify_signature

from .entry import AuditEntry, AuditKind, checkpoint_message, encode_key

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

    from custom_components.porchlight.federation.identity import Identity

WITNESS_CONTEXT: Final = b"porchlight-audit-witness-v1\n"
_STATEMENT_FIELDS: Final = frozenset({"home", "size", "head", "witnessed_at", "witness_key", "sig"})


class WitnessError(ValueError):
    """A checkpoint or a witness statement does not verify."""


class EquivocationError(WitnessError):
    """A home showed this witness two histories: a smaller size, or two heads for one size."""


@dataclass(frozen=True, slots=True)
class Witnessed:
    """The head a witness keeps for one home: the checkpoint's size and head."""

    size: int
    head: str

    def to_json(self) -> dict[str, JSON]:
        """As the witness stores it."""
        return {"size": self.size, "head": self.head}

    @classmethod
    def from_json(cls, value: Mapping[str, JSON]) -> Witnessed:
        """From the witness's store (written by to_json)."""
        size, head = value["size"], value["head"]
        if type(size) is not int or not isinstance(head, str):
            raise WitnessError("not a witnessed head")
        return cls(size, head)


def checkpoint_body(entry: AuditEntry) -> dict[str, JSON]:
    """The `audit_checkpoint` message body for a checkpoint entry: its signed statement."""
    if entry.kind != AuditKind.CHECKPOINT:
        raise ValueError("not a checkpoint entry")
    return {name: entry.data[name] for name in ("size", "head", "key", "sig")}


def check_checkpoint(
    body: Mapping[str, JSON], home_key: bytes, last: Witnessed | None
) -> Witnessed:
    """What a witness checks of a home's checkpoint; the head to keep, or WitnessError.

    home_key: the key this witness has pinned for the home (its federation key, which also
    signs the audit chain: a key rotation hands both over at once, so no second key is pinned).
    last: the head kept for this home so far. A smaller size, or another head for the same
    size, is an EquivocationError: the home (or someone with its key) rewrote its log.
    """
    size, head, key, sig = body["size"], body["head"], body["key"], body["sig"]
    if type(size) is not int or not isinstance(head, str) or not isinstance(key, str):
        raise WitnessError("malformed checkpoint")
    if not isinstance(sig, str) or b64u_decode(key, 32) != home_key:
        raise WitnessError("the checkpoint is not signed by the home's pinned key")
    if not verify_signature(home_key, b64u_decode(sig, 64), checkpoint_message(size, head, key)):
        raise WitnessError("the checkpoint signature does not verify")
    if last is not None:
        if size < last.size:
            msg = f"the log shrank from {last.size} to {size} entries"
            raise EquivocationError(msg)
        if size == last.size and head != last.head:
            msg = f"two different heads for entry {size}"
            raise EquivocationError(msg)
    return Witnessed(size, head)


def witness_message(body: Mapping[str, JSON]) -> bytes:
    """What a witness signs: every field of its statement but the signature."""
    return WITNESS_CONTEXT + canon({k: v for k, v in body.items() if k != "sig"})


def sign_statement(identity: Identity, home: str, witnessed: Witnessed, at: int) -> dict[str, JSON]:
    """The `audit_witness` body: home keyid, size, head, when, countersigned by identity.

    The signature is inside the body, so the statement verifies later without the envelope.
    """
    body: dict[str, JSON] = {
        "home": home,
        "size": witnessed.size,
        "head": witnessed.head,
        "witnessed_at": at,
        "witness_key": encode_key(identity.public_key),
    }
    body["sig"] = b64u(identity.sign(witness_message(body)))
    return body


def verify_statement(statement: Mapping[str, JSON]) -> str:
    """Check a statement's shape and signature; return the witness's keyid, or WitnessError."""
    if set(statement) != _STATEMENT_FIELDS:
        raise WitnessError("not a witness statement")
    size, head, at = statement["size"], statement["head"], statement["witnessed_at"]
    key, sig, home = statement["witness_key"], statement["sig"], statement["home"]
    if (
        type(size) is not int
        or type(at) is not int
        or not isinstance(head, str)
        or not isinstance(home, str)
        or not isinstance(key, str)
        or not isinstance(sig, str)
    ):
        raise WitnessError("not a witness statement")
    try:
        raw_key, raw_sig = b64u_decode(key, 32), b64u_decode(sig, 64)
    except ValueError as err:
        raise WitnessError("not a witness statement") from err
    if not verify_signature(raw_key, raw_sig, witness_message(statement)):
        raise WitnessError("the witness signature does not verify")
    return keyid(raw_key)


class WitnessStatus(StrEnum):
    """What one witness statement says of the log."""

    OK = "ok"  # the log still holds the witnessed head
    REWRITTEN = "rewritten"  # the entry at `size` is another one, or is gone
    SIGNATURE_INVALID = "signature_invalid"  # the statement is no evidence at all
    OTHER_HOME = "other_home"  # it witnesses a key this log never had


@dataclass(frozen=True, slots=True)
class WitnessResult:
    """One witness's verdict on the log."""

    witness: str  # the keyid the statement names (its signing key), "" if unreadable
    size: int
    status: WitnessStatus

    @property
    def ok(self) -> bool:
        """Whether this witness vouches for the log."""
        return self.status is WitnessStatus.OK

    def to_json(self) -> dict[str, JSON]:
        """For the verify_audit result."""
        return {"witness": self.witness, "size": self.size, "status": self.status.value}


def check_witnesses(
    statements: Iterable[Mapping[str, JSON]],
    entry_at: Callable[[int], AuditEntry | None],
    home_keys: Iterable[str],
) -> list[WitnessResult]:
    """Check every statement against the log: does the entry at `size` still hash to `head`?

    entry_at: the log's entry at a seq (None past its end). home_keys: the keyids of the
    log's signing keys (AuditReport.keys): a statement for another home proves nothing here.
    """
    keys = set(home_keys)
    results = []
    for statement in statements:
        try:
            witness = verify_statement(statement)
        except WitnessError:
            size = statement.get("size")
            results.append(
                WitnessResult("", size if type(size) is int else 0, WitnessStatus.SIGNATURE_INVALID)
            )
            continue
        size = int(statement["size"])  # type: ignore[arg-type]  # checked by verify_statement
        if statement["home"] not in keys:
            status = WitnessStatus.OTHER_HOME
        else:
            entry = entry_at(size)
            ok = entry is not None and entry.hash == statement["head"]
            status = WitnessStatus.OK if ok else WitnessStatus.REWRITTEN
        results.append(WitnessResult(witness, size, status))
    return results
