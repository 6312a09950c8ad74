"""Typed protocol errors: each carries the HTTP status and a stable code a peer can act on.

Views and servers translate them in one place (`ProtocolError.payload`); nothing else decides
what a rejected request looks like on the wire. Messages never contain secrets, tokens or
bodies, because they are returned to an unauthenticated caller.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any, ClassVar


class ProtocolError(Exception):
    """A request or message that the protocol refuses."""

    status: ClassVar[HTTPStatus] = HTTPStatus.BAD_REQUEST
    code: ClassVar[str] = "bad_request"

    def __init__(self, detail: str = "", **extra: int | str) -> None:
        """Keep a short human-readable detail and extra public fields for the reply."""
        super().__init__(detail or self.code)
        self.detail = detail or self.code
        self.extra = extra

    def payload(self) -> dict[str, Any]:
        """The JSON object a peer receives."""
        return {"error": self.code, "detail": self.detail, **self.extra}


# --- before any parsing ----------------------------------------------------------------------
class UnsupportedMediaTypeError(ProtocolError):
    """Content type is not exactly application/json, or the body is encoded."""

    status = HTTPStatus.UNSUPPORTED_MEDIA_TYPE
    code = "unsupported_media_type"


class BodyTooLargeError(ProtocolError):
    """Declared or actual body size beyond the limit, or no Content-Length at all."""

    status = HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    code = "body_too_large"


class WrongAuthorityError(ProtocolError):
    """The request names a host this instance never advertised."""

    status = HTTPStatus.MISDIRECTED_REQUEST
    code = "wrong_authority"


class RequestTimeoutError(ProtocolError):
    """The request's body did not arrive in full in time, however it trickled (slowloris)."""

    status = HTTPStatus.REQUEST_TIMEOUT
    code = "timeout"


class RateLimitedError(ProtocolError):
    """Too many requests from one key (or, for pairing, one address)."""

    status = HTTPStatus.TOO_MANY_REQUESTS
    code = "rate_limited"


# --- hop signature (RFC 9421) ----------------------------------------------------------------
class UnauthenticatedError(ProtocolError):
    """The hop signature is missing, malformed or does not verify."""

    status = HTTPStatus.UNAUTHORIZED
    code = "bad_signature"


class SignatureProfileError(UnauthenticatedError):
    """Signature headers do not follow Porchlight's fixed profile exactly."""

    code = "signature_profile"


class UnknownKeyError(UnauthenticatedError):
    """The keyid is not pinned to any peer."""

    code = "unknown_key"


class RevokedKeyError(UnauthenticatedError):
    """The keyid was revoked by its owner."""

    code = "key_revoked"


class ClockSkewError(UnauthenticatedError):
    """created/expires outside the accepted window; the reply carries server_time."""

    code = "clock_skew"


class DigestMismatchError(UnauthenticatedError):
    """Content-Digest does not match the body that arrived."""

    code = "digest_mismatch"


class ReplayError(ProtocolError):
    """The (keyid, nonce) pair was seen before."""

    status = HTTPStatus.CONFLICT
    code = "replay"


# --- message content -------------------------------------------------------------------------
class MalformedJSONError(ProtocolError):
    """The body is not strict canonical JSON within limits."""

    code = "malformed_json"


class SchemaError(ProtocolError):
    """The message does not match the schema of its type (or the type is unknown)."""

    code = "schema"


class AreaError(SchemaError):
    """A request area (circle or polygon) that is malformed or geometrically unusable."""

    code = "invalid_area"


class EvidenceError(SchemaError):
    """An evidence manifest that is malformed or whose signature does not verify.

    Also raised for an evidence folder that does not match its manifest; the message is one
    line a command-line tool can print as it is.
    """

    code = "invalid_evidence"


class DigestError(SchemaError):
    """A transparency digest that is malformed, inconsistent, unsigned by its home or unknown.

    Also raised for a neighborhood aggregate that does not match the digests it claims to sum.
    """

    code = "invalid_digest"


class DigestThresholdError(DigestError):
    """An aggregate from too few homes (or unpinned keys) to be shown to an agency."""

    code = "digest_threshold"


class MessageSignatureError(ProtocolError):
    """The end-to-end message signature does not verify."""

    status = HTTPStatus.UNAUTHORIZED
    code = "bad_message_signature"


class ForgedOriginError(MessageSignatureError):
    """The envelope's `from` is not the fingerprint of its `from_key`."""

    code = "forged_origin"


class MessageExpiredError(ProtocolError):
    """The message's own signed lifetime is over (or not yet begun)."""

    code = "message_expired"


class ForbiddenError(ProtocolError):
    """Authenticated, but this peer may not send this message."""

    status = HTTPStatus.FORBIDDEN
    code = "forbidden"


class SenderMismatchError(ForbiddenError):
    """The message claims a sender other than the key that signed the hop."""

    code = "sender_mismatch"


class WrongRecipientError(ForbiddenError):
    """The message is addressed to another instance."""

    code = "wrong_recipient"


class UntrustedError(ForbiddenError):
    """The sender is an agency the owner has not trusted."""

    code = "untrusted"


class PairingUnconfirmedError(ForbiddenError):
    """A message from a peer whose pairing code the owner has not confirmed yet (R3.3)."""

    code = "pairing_unconfirmed"


class StaleTransitionError(ForbiddenError):
    """A key transition whose sequence number is not newer than the last one."""

    code = "stale_transition"


# --- pairing ---------------------------------------------------------------------------------
class InviteInvalidError(ProtocolError):
    """No open invite has this token (never issued, or dead after failures)."""

    status = HTTPStatus.FORBIDDEN
    code = "invite_invalid"


class InviteGoneError(ProtocolError):
    """The invite was used already or expired."""

    status = HTTPStatus.GONE
    code = "invite_gone"


class InviteMalformedError(ProtocolError):
    """The invite text cannot be decoded."""

    code = "invite_malformed"


class PeerUnreachableError(Exception):
    """An outbound request failed in transport (timeout, refused, oversize reply)."""


class DestinationRefusedError(PeerUnreachableError):
    """An outbound destination that is not a public address, for a peer not paired as LAN."""


class PairingCodeError(Exception):
    """The pairing code the owner typed is not the one both sides computed."""


class PeerRefusedError(Exception):
    """A peer answered an outbound request with an error status."""

    def __init__(self, status: int, code: str) -> None:
        """Remember the peer's status and stable error code."""
        super().__init__(f"{status} {code}")
        self.status = status
        self.code = code
