"""The Ed25519 key pair that identifies a home or an agency, and its on-disk form.

A fingerprint is what people compare aloud when pairing, so it is short, grouped and drawn
from an alphabet without look-alike digits (RFC 4648 base32: A-Z and 2-7).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import stat
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from .json_file import sync_folder

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

# 160 bits of SHA-256: far beyond what a second-preimage search can reach, still only
# 32 characters to read out.
_FINGERPRINT_CHARS = 32
_GROUP = 4
KEY_FILE_MODE = 0o600


class IdentityFileError(Exception):
    """The identity key file exists but cannot be used; it is never overwritten."""


def fingerprint(public_key: bytes) -> str:
    """Return the grouped fingerprint of a raw 32-byte Ed25519 public key."""
    digest = hashlib.sha256(public_key).digest()
    text = base64.b32encode(digest).decode("ascii")[:_FINGERPRINT_CHARS]
    return "-".join(text[i : i + _GROUP] for i in range(0, _FINGERPRINT_CHARS, _GROUP))


def keyid(public_key: bytes) -> str:
    """Return the fingerprint without dashes (32 base32 characters), used on the wire."""
    return fingerprint(public_key).replace("-", "")


def grouped(key_id: str) -> str:
    """Return a wire keyid in the grouped form people read aloud."""
    return "-".join(key_id[i : i + _GROUP] for i in range(0, len(key_id), _GROUP))


@dataclass(frozen=True, slots=True)
class Identity:
    """A private signing key with its public half and fingerprint."""

    private_key: Ed25519PrivateKey
    # Derived once: the inbox compares against the keyid on every request.
    public_key: bytes = field(init=False, repr=False, compare=False)
    keyid: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Derive the raw public key (32 bytes) and the keyid (RFC 9421 keyid, message ids)."""
        raw = self.private_key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        object.__setattr__(self, "public_key", raw)
        object.__setattr__(self, "keyid", keyid(raw))

    @classmethod
    def generate(cls) -> Identity:
        """Create a fresh random identity."""
        return cls(Ed25519PrivateKey.generate())

    @property
    def fingerprint(self) -> str:
        """The grouped fingerprint people compare aloud."""
        return grouped(self.keyid)

    def sign(self, data: bytes) -> bytes:
        """Sign data; the signature is 64 bytes."""
        return self.private_key.sign(data)

    def to_pem(self) -> bytes:
        """Serialize the private key as unencrypted PKCS#8 PEM."""
        return self.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    @classmethod
    def from_pem(cls, data: bytes) -> Identity:
        """Load a private key from PKCS#8 PEM; raise IdentityFileError if it is not Ed25519."""
        try:
            key = serialization.load_pem_private_key(data, password=None)
        except (ValueError, TypeError) as err:
            msg = f"not a readable private key ({err})"
            raise IdentityFileError(msg) from err
        if not isinstance(key, Ed25519PrivateKey):
            msg = f"expected an Ed25519 key, found {type(key).__name__}"
            raise IdentityFileError(msg)
        return cls(key)


def verify(public_key: bytes, signature: bytes, data: bytes) -> bool:
    """Return whether signature is a valid Ed25519 signature of data by public_key."""
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, data)
    except InvalidSignature, ValueError:
        return False
    return True


@dataclass(frozen=True, slots=True)
class LoadedIdentity:
    """An identity read from (or just written to) disk, with what setup should report."""

    identity: Identity
    created: bool
    permissions_tightened: bool


def load_or_create(
    path: Path, generate: Callable[[], Identity] = Identity.generate
) -> LoadedIdentity:
    """Load the identity at path, creating it (mode 0600) if the file does not exist.

    Blocking: call it from an executor. An existing but unusable file raises
    IdentityFileError and is left untouched, because replacing a home's identity silently
    would break every pairing and every evidence signature made with it.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        identity = generate()
        _write_private(path, identity.to_pem())
        return LoadedIdentity(identity, created=True, permissions_tightened=False)
    except OSError as err:
        msg = f"cannot read {path.name}: {err.strerror}"
        raise IdentityFileError(msg) from err

    identity = Identity.from_pem(data)
    tightened = False
    if stat.S_IMODE(path.stat().st_mode) & ~KEY_FILE_MODE:
        path.chmod(KEY_FILE_MODE)
        tightened = True
    return LoadedIdentity(identity, created=False, permissions_tightened=tightened)


def _write_private(path: Path, data: bytes) -> None:
    """Write data atomically to a new file only its owner can read."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    # O_EXCL with the mode given at creation: the key is never readable by others, not even
    # for the moment between open and chmod.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, KEY_FILE_MODE)
    with os.fdopen(fd, "wb") as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())
    tmp.replace(path)
    # Synced folder: after a power cut the home has this key, not the one it just replaced.
    sync_folder(path.parent)


def replace_key_file(path: Path, identity: Identity) -> None:
    """Write a new identity over the key file (after a rotation). Blocking."""
    _write_private(path, identity.to_pem())


def remove(path: Path) -> None:
    """Delete the identity file and its folder if that is then empty. Blocking."""
    path.unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        path.parent.rmdir()
