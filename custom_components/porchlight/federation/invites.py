"""One-time pairing invites: text form `plinv1.<base64url(canonical JSON)>` and QR code.

An invite carries the inviter's endpoint, raw public key, role, a display name, a random
128-bit token and an expiry. The inviter keeps only SHA-256(token) (R3.1): a token is
single-use, short-lived, and dies after MAX_FAILURES redemptions whose signatures fail.
"""

from __future__ import annotations

import hashlib
import io
import secrets
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Final, cast

from . import canonical
from .canonical import b64u, b64u_decode, canon
from .errors import InviteGoneError, InviteInvalidError, InviteMalformedError, MalformedJSONError
from .identity import keyid
from .messages import ENDPOINT, INVITE_TOKEN, NAME, ROLE

if TYPE_CHECKING:
    import segno

    from .identity import Identity
    from .peers import Role

PREFIX: Final = "plinv1."
DEFAULT_LIFETIME: Final = 24 * 3600
MAX_FAILURES: Final = 3
TOKEN_BYTES: Final = 16
_MAX_TEXT: Final = 1024
# Marks a stored invite whose token_hash is H(tok) (the raw token's SHA-256).
_HASH_RAW: Final = "sha256-raw"


PAIRING_CODE_DOMAIN: Final = b"porchlight-pair-v1"
PAIRING_CODE_DIGITS: Final = 8


def token_hash(token: str) -> str:
    """H(tok): hex SHA-256 of the token's 16 raw bytes, what the inviter stores (§6).

    Raises ValueError for anything but canonical base64url of 16 bytes.
    """
    return hashlib.sha256(b64u_decode(token, TOKEN_BYTES)).hexdigest()


def legacy_token_hash(token: str) -> str:
    """The hash releases before H(tok) was fixed used: SHA-256 of the token's base64url text.

    Only for invites those releases stored and for their pair_accept answers (§6, upgrade).
    """
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def accepted_token_hashes(token: str) -> frozenset[str]:
    """The token_hash values a redeemer accepts in a pair_accept for this token.

    H(tok), and the legacy hash from an inviter not upgraded yet; the pairing code is
    computed with whichever the inviter sent, as the inviter computed it.
    """
    return frozenset({token_hash(token), legacy_token_hash(token)})


def pairing_code(key_a: bytes, key_b: bytes, digest: str) -> str:
    """The 8-digit code both owners compare before a pairing becomes active (R3.3).

    SHA-256("porchlight-pair-v1" || pkA || pkB || H(tok)) mod 10^8, zero-padded, where the
    two raw public keys are in byte order (so both sides get the same code) and H(tok) is
    the raw 32-byte SHA-256 of the invite token (the hex `digest` decoded).
    """
    low, high = sorted((key_a, key_b))
    value = hashlib.sha256(PAIRING_CODE_DOMAIN + low + high + bytes.fromhex(digest)).digest()
    return f"{int.from_bytes(value, 'big') % 10**PAIRING_CODE_DIGITS:0{PAIRING_CODE_DIGITS}d}"


@dataclass(frozen=True, slots=True)
class Invite:
    """What the invitee scans or pastes."""

    endpoint: str
    public_key: bytes
    role: Role
    name: str
    token: str
    expires: int

    @property
    def keyid(self) -> str:
        """The inviter's keyid."""
        return keyid(self.public_key)

    def to_text(self) -> str:
        """The text form, `plinv1.` + base64url of the canonical JSON."""
        return PREFIX + b64u(
            canon(
                {
                    "v": 1,
                    "ep": self.endpoint,
                    "pk": b64u(self.public_key),
                    "role": self.role,
                    "name": self.name,
                    "tok": self.token,
                    "exp": self.expires,
                }
            )
        )

    @classmethod
    def from_text(cls, text: str) -> Invite:
        """Decode and check an invite's text form; raise InviteMalformedError otherwise."""
        text = text.strip()
        if len(text) > _MAX_TEXT or not text.startswith(PREFIX):
            msg = "not a Porchlight invite"
            raise InviteMalformedError(msg)
        try:
            obj = canonical.loads(b64u_decode(text.removeprefix(PREFIX)))
            if not isinstance(obj, dict) or set(obj) != {
                "v", "ep", "pk", "role", "name", "tok", "exp"
            }:  # fmt: skip
                raise ValueError  # noqa: TRY301  # one message for every malformed shape
            invite = cls(
                endpoint=str(obj["ep"]),
                public_key=b64u_decode(str(obj["pk"]), 32),
                role=cast("Role", obj["role"]),
                name=str(obj["name"]),
                token=str(obj["tok"]),
                expires=cast("int", obj["exp"]),
            )
            valid = (
                obj["v"] == 1
                # Pinned as the inviter's endpoint: checked as strictly as a pair_request's.
                and ENDPOINT.check(obj["ep"])
                and ROLE.check(obj["role"])
                and NAME.check(obj["name"])
                # Canonical base64url of 16 bytes, as H(tok) needs it (§2).
                and INVITE_TOKEN.check(obj["tok"])
                and type(obj["exp"]) is int
            )
        except (ValueError, MalformedJSONError) as err:
            msg = "not a Porchlight invite"
            raise InviteMalformedError(msg) from err
        if not valid:
            msg = "not a Porchlight invite"
            raise InviteMalformedError(msg)
        return invite


class QRUnavailableError(Exception):
    """A QR code was asked for, but segno (an optional dependency) is not installed."""


def _qr_code(text: str) -> segno.QRCode:
    # Imported here, not at the top: QR codes are a convenience (the text form is the
    # invite), so the library and the agency CLI work where segno is not installed.
    try:
        import segno  # noqa: PLC0415
    except ImportError as err:
        msg = "QR codes need the segno package (pip install segno)"
        raise QRUnavailableError(msg) from err
    return segno.make(text, error="m")


def qr_svg(text: str) -> str:
    """The invite as an SVG QR code (scanned from the owner's screen).

    Raises QRUnavailableError where segno is not installed.
    """
    return _qr_code(text).svg_inline(scale=4)


def qr_image(text: str) -> bytes:
    """The invite as a standalone SVG document (served as image/svg+xml).

    Raises QRUnavailableError where segno is not installed.
    """
    out = io.BytesIO()
    _qr_code(text).save(out, kind="svg", scale=4)
    return out.getvalue()


def qr_text(text: str) -> str:
    """The invite as a QR code drawn with block characters (for terminals and logs-free UIs).

    Raises QRUnavailableError where segno is not installed.
    """
    out = io.StringIO()
    _qr_code(text).terminal(out=out, compact=True)
    return out.getvalue()


@dataclass(frozen=True, slots=True)
class OpenInvite:
    """An issued invite as the inviter remembers it (never the token itself)."""

    token_hash: str
    expires: int
    failures: int = 0
    used: bool = False
    lan: bool = False
    # Stored by a release that hashed the token's text (legacy_token_hash), not H(tok).
    legacy: bool = False

    def to_json(self) -> dict[str, Any]:
        """Serialize for storage."""
        return {
            "token_hash": self.token_hash,
            "expires": self.expires,
            "failures": self.failures,
            "used": self.used,
            "lan": self.lan,
            **({} if self.legacy else {"hash": _HASH_RAW}),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> OpenInvite:
        """Deserialize from storage (entries without a hash marker are legacy ones)."""
        return cls(
            data["token_hash"],
            data["expires"],
            data["failures"],
            data["used"],
            data.get("lan", False),
            legacy=data.get("hash") != _HASH_RAW,
        )


class InviteBook:
    """Issued invites by token hash."""

    def __init__(self) -> None:
        """Start empty."""
        self._invites: dict[str, OpenInvite] = {}

    def __len__(self) -> int:
        """Number of remembered invites (open, used or dead)."""
        return len(self._invites)

    def issue(  # noqa: PLR0913  # an invite has this many parts
        self,
        identity: Identity,
        *,
        endpoint: str,
        role: Role,
        name: str,
        now: int,
        lifetime: int = DEFAULT_LIFETIME,
        lan: bool = False,
    ) -> Invite:
        """Create an invite and remember its token hash."""
        self._forget_expired(now)
        invite = Invite(
            endpoint=endpoint,
            public_key=identity.public_key,
            role=role,
            name=name,
            token=secrets.token_urlsafe(TOKEN_BYTES),
            expires=now + lifetime,
        )
        self._invites[token_hash(invite.token)] = OpenInvite(
            token_hash(invite.token), invite.expires, lan=lan
        )
        return invite

    def check(self, token: str, now: int) -> str:
        """Return the token hash of a redeemable invite, or raise why it is not."""
        digest = token_hash(token)
        invite = self._invites.get(digest)
        if invite is None:
            invite = self._upgraded(token, digest)
        if invite is None or invite.failures >= MAX_FAILURES:
            msg = "no open invite with this token"
            raise InviteInvalidError(msg)
        if invite.used or invite.expires < now:
            msg = "invite used or expired"
            raise InviteGoneError(msg)
        return digest

    def _upgraded(self, token: str, digest: str) -> OpenInvite | None:
        """An invite stored under the legacy hash, now kept under H(tok) (§6, upgrade)."""
        old = self._invites.get(legacy_token_hash(token))
        if old is None or not old.legacy:
            return None
        del self._invites[old.token_hash]
        invite = self._invites[digest] = replace(old, token_hash=digest, legacy=False)
        return invite

    def allows_lan(self, digest: str) -> bool:
        """Whether the owner issued this invite with a LAN allowance (R2.7)."""
        return self._invites[digest].lan

    def fail(self, digest: str) -> None:
        """Count a redemption whose signatures did not verify."""
        invite = self._invites[digest]
        self._invites[digest] = replace(invite, failures=invite.failures + 1)

    def consume(self, digest: str) -> None:
        """Mark the invite used: a second redemption gets InviteGoneError."""
        self._invites[digest] = replace(self._invites[digest], used=True)

    def _forget_expired(self, now: int) -> None:
        self._invites = {k: v for k, v in self._invites.items() if v.expires >= now}

    def to_json(self) -> list[dict[str, Any]]:
        """Serialize for storage."""
        return [i.to_json() for i in self._invites.values()]

    @classmethod
    def from_json(cls, data: list[dict[str, Any]]) -> InviteBook:
        """Deserialize from storage."""
        book = cls()
        for item in data:
            invite = OpenInvite.from_json(item)
            book._invites[invite.token_hash] = invite
        return book
