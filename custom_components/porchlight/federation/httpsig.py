"""RFC 9421 hop signatures in Porchlight's one fixed profile, signed and verified fast.

Every request between instances carries exactly this (docs/protocol.md §4)::

    Content-Type: application/json
    Content-Digest: sha-256=:<base64 of SHA-256(body)>:
    Signature-Input: pl=("@method" "@authority" "@path" "@query" "content-type" \
"content-digest");created=<int>;keyid="<32 base32>";alg="ed25519";expires=<int>;\
nonce="<22 base64url>";tag="porchlight-v1"
    Signature: pl=:<base64 of the 64-byte Ed25519 signature>:

A general RFC 9421 verifier spends most of its time parsing structured fields. Because the
profile is fixed, the fast path here matches each header against one regular expression, which
both extracts the values and proves the header is in the exact serialization the reference
library (`http-message-signatures`) would produce, so the signature base can be assembled from
the received strings directly. Anything else is refused: tests run both verifiers on the same
valid and malformed requests and show that whatever the fast path accepts, the library accepts
with the same key, nonce and times.

Checks are ordered by cost. `parse_hop` (regexes, no crypto) yields the keyid, so a caller can
drop unknown keys before reading the body; `check_times` is integer comparisons; `verify_hop`
hashes the body and runs one Ed25519 verification.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Protocol
from urllib.parse import urlsplit

from cryptography.exceptions import InvalidSignature

from .errors import (
    ClockSkewError,
    DigestMismatchError,
    SignatureProfileError,
    UnauthenticatedError,
    UnsupportedMediaTypeError,
)

if TYPE_CHECKING:
    from collections.abc import Iterable

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from .identity import Identity

LABEL: Final = "pl"
TAG: Final = "porchlight-v1"
ALG: Final = "ed25519"
CONTENT_TYPE: Final = "application/json"
COVERED: Final = ("@method", "@authority", "@path", "@query", "content-type", "content-digest")
_COMPONENTS: Final = "(" + " ".join(f'"{c}"' for c in COVERED) + ")"

# Window (R2.9): created in [now - 300, now + 60]; expires no earlier than now - 60 (the same
# skew tolerance the reference verifier applies); a signature lives at most 300 s.
MAX_AGE: Final = 300
MAX_SKEW: Final = 60
MAX_LIFETIME: Final = 300
DEFAULT_LIFETIME: Final = 60
NONCE_BYTES: Final = 16

_INT = r"([1-9][0-9]{0,9})"  # no leading zeros: the library re-serializes integers
_SIGNATURE_INPUT: Final = re.compile(
    re.escape(f"{LABEL}={_COMPONENTS}")
    + f';created={_INT};keyid="([A-Z2-7]{{32}})";alg="{ALG}";expires={_INT}'
    + f';nonce="([A-Za-z0-9_-]{{22}})";tag="{TAG}"'
)
# Only the keyid, wherever it sits: the flood filter runs before the profile is checked.
_CLAIMED_KEYID: Final = re.compile(r';keyid="([A-Z2-7]{32})"')
_SIGNATURE: Final = re.compile(rf"{LABEL}=:([A-Za-z0-9+/]{{86}}==):")
_DIGEST: Final = re.compile(r"sha-256=:([A-Za-z0-9+/]{43}=):")
# Derived components must be printable ASCII without surrounding spaces (RFC 9421 §2).
_PRINTABLE: Final = re.compile(r"[!-~]([ -~]*[!-~])?")


class Headers(Protocol):
    """The part of a (CI)MultiDict the verifier needs: every value of a header."""

    def getall(self, key: str, default: list[str], /) -> list[str]:
        """Return all values of a header, or default if it is absent."""
        ...


@dataclass(frozen=True, slots=True)
class Hop:
    """The signature headers of one request, parsed without any cryptography."""

    keyid: str
    created: int
    expires: int
    nonce: str
    signature_params: str
    signature: bytes
    digest_header: str
    digest: bytes


def _one(headers: Headers, name: str) -> str | None:
    values = headers.getall(name, [])
    if len(values) > 1:
        # Repeated fields would be combined with ", " by a general verifier; never in profile.
        msg = f"{name} appears more than once"
        raise SignatureProfileError(msg)
    return values[0] if values else None


def check_content_type(headers: Headers) -> None:
    """Refuse anything but a plain, unencoded application/json body (cheap, first)."""
    if _one(headers, "Content-Encoding") is not None:
        msg = "content encodings are not accepted"
        raise UnsupportedMediaTypeError(msg)
    if _one(headers, "Content-Type") != CONTENT_TYPE:
        msg = f"content type must be {CONTENT_TYPE}"
        raise UnsupportedMediaTypeError(msg)


def parse_hop(headers: Headers) -> Hop:
    """Match the signature headers against the profile; raise SignatureProfileError otherwise."""
    signature_input = _one(headers, "Signature-Input")
    signature = _one(headers, "Signature")
    digest_header = _one(headers, "Content-Digest")
    if signature_input is None or signature is None or digest_header is None:
        msg = "Signature-Input, Signature and Content-Digest are required"
        raise SignatureProfileError(msg)
    params = _SIGNATURE_INPUT.fullmatch(signature_input)
    if params is None:
        msg = "Signature-Input is not in the porchlight-v1 profile"
        raise SignatureProfileError(msg)
    sig = _SIGNATURE.fullmatch(signature)
    if sig is None:
        msg = "Signature is not one pl=:<ed25519>: member"
        raise SignatureProfileError(msg)
    digest = _DIGEST.fullmatch(digest_header)
    if digest is None:
        msg = "Content-Digest must be one sha-256 member"
        raise SignatureProfileError(msg)
    created, key_id, expires, nonce = params.groups()
    return Hop(
        keyid=key_id,
        created=int(created),
        expires=int(expires),
        nonce=nonce,
        signature_params=signature_input[len(LABEL) + 1 :],
        signature=base64.b64decode(sig[1]),
        digest_header=digest_header,
        digest=base64.b64decode(digest[1]),
    )


def claimed_keyid(signature_input: str | None) -> str | None:
    """The keyid a raw Signature-Input header names, if any (no other parsing, no crypto)."""
    if signature_input is None:
        return None
    match = _CLAIMED_KEYID.search(signature_input)
    return match[1] if match is not None else None


def check_times(hop: Hop, now: int) -> None:
    """Refuse signatures outside the window; ClockSkewError replies carry server_time."""
    if hop.expires <= hop.created or hop.expires - hop.created > MAX_LIFETIME:
        msg = f"expires must be after created and within {MAX_LIFETIME} s"
        raise SignatureProfileError(msg)
    if hop.created > now + MAX_SKEW:
        msg = "created lies in the future"
        raise ClockSkewError(msg, server_time=now)
    if hop.created < now - MAX_AGE:
        msg = "signature too old"
        raise ClockSkewError(msg, server_time=now)
    if hop.expires < now - MAX_SKEW:
        msg = "signature expired"
        raise ClockSkewError(msg, server_time=now)


def signature_base(  # noqa: PLR0913, PLR0917  # one argument per covered component
    hop_params: str, method: str, authority: str, path: str, query: str, digest_header: str
) -> bytes:
    """The RFC 9421 signature base of a profile request (query without the leading '?')."""
    for value in (authority, path):
        if not _PRINTABLE.fullmatch(value):
            msg = "derived components must be printable ASCII"
            raise UnauthenticatedError(msg)
    if query and not _PRINTABLE.fullmatch(query):
        msg = "derived components must be printable ASCII"
        raise UnauthenticatedError(msg)
    return (
        f'"@method": {method}\n"@authority": {authority}\n"@path": {path}\n'
        f'"@query": ?{query}\n"content-type": {CONTENT_TYPE}\n'
        f'"content-digest": {digest_header}\n"@signature-params": {hop_params}'
    ).encode("ascii")


def verify_hop(  # noqa: PLR0913  # the covered components are the arguments
    hop: Hop,
    public_key: Ed25519PublicKey,
    *,
    method: str,
    authority: str,
    path: str,
    query: str,
    body: bytes,
) -> None:
    """Check the body digest, then the Ed25519 signature over the covered components."""
    if hashlib.sha256(body).digest() != hop.digest:
        msg = "Content-Digest does not match the body"
        raise DigestMismatchError(msg)
    base = signature_base(hop.signature_params, method, authority, path, query, hop.digest_header)
    try:
        public_key.verify(hop.signature, base)
    except InvalidSignature as err:
        msg = "signature does not verify"
        raise UnauthenticatedError(msg) from err


def authority_of(url: str) -> str:
    """The @authority of a URL as RFC 9421 derives it: lowercase, no default port."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    if port is None or (parts.scheme, port) in {("http", 80), ("https", 443)}:
        return host
    return f"{host}:{port}"


def sign_request(  # noqa: PLR0913  # each is a separate, named part of the signature
    identity: Identity,
    method: str,
    url: str,
    body: bytes,
    *,
    now: int,
    lifetime: int = DEFAULT_LIFETIME,
    nonce: str | None = None,
) -> dict[str, str]:
    """Return the four headers that sign a request to url with identity's key."""
    parts = urlsplit(url)
    digest_header = f"sha-256=:{base64.b64encode(hashlib.sha256(body).digest()).decode()}:"
    params = (
        f'{_COMPONENTS};created={now};keyid="{identity.keyid}";alg="{ALG}";'
        f'expires={now + lifetime};nonce="{nonce or new_nonce()}";tag="{TAG}"'
    )
    base = signature_base(
        params, method, authority_of(url), parts.path or "/", parts.query, digest_header
    )
    signature = base64.b64encode(identity.sign(base)).decode()
    return {
        "Content-Type": CONTENT_TYPE,
        "Content-Digest": digest_header,
        "Signature-Input": f"{LABEL}={params}",
        "Signature": f"{LABEL}=:{signature}:",
    }


def new_nonce() -> str:
    """A fresh 128-bit nonce in base64url (22 characters)."""
    return secrets.token_urlsafe(NONCE_BYTES)


def authorities(urls: Iterable[str]) -> frozenset[str]:
    """The @authority values of the endpoint URLs an instance advertises."""
    return frozenset(authority_of(url) for url in urls)
