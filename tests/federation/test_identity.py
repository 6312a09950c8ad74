"""The identity library on its own, without Home Assistant."""

from __future__ import annotations

import re
import stat
from typing import TYPE_CHECKING

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, generate_private_key
from hypothesis import given
from hypothesis import strategies as st

from custom_components.porchlight.federation import identity as ident
from custom_components.porchlight.federation.identity import (
    Identity,
    IdentityFileError,
    fingerprint,
    load_or_create,
    verify,
)

if TYPE_CHECKING:
    from pathlib import Path

FINGERPRINT = re.compile(r"^[A-Z2-7]{4}(-[A-Z2-7]{4}){7}$")


def test_fingerprint_is_grouped_base32_and_stable() -> None:
    # base32 of SHA-256(32 zero bytes) = 66687aad..., first 32 characters, in groups of 4.
    assert fingerprint(bytes(32)) == "MZUH-VLPY-MK6X-O3EP-YGFY-5H4O-EAEJ-OFEF"
    assert FINGERPRINT.match(Identity.generate().fingerprint)


@given(st.binary(min_size=0, max_size=200))
def test_sign_verify_round_trip(data: bytes) -> None:
    key = Identity.generate()
    signature = key.sign(data)
    assert verify(key.public_key, signature, data)
    assert not verify(key.public_key, signature, data + b"\x00")
    assert not verify(Identity.generate().public_key, signature, data)


def test_verify_rejects_malformed_key_and_signature() -> None:
    key = Identity.generate()
    assert not verify(b"short", key.sign(b"x"), b"x")
    assert not verify(key.public_key, b"\x00" * 10, b"x")


def test_pem_round_trip() -> None:
    key = Identity.generate()
    assert Identity.from_pem(key.to_pem()).public_key == key.public_key


def test_from_pem_rejects_other_key_types() -> None:
    ec_key = generate_private_key(SECP256R1()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    with pytest.raises(IdentityFileError, match="expected an Ed25519 key"):
        Identity.from_pem(ec_key)


def test_load_or_create_creates_once(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "id.pem"
    first = load_or_create(path)
    assert first.created
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    second = load_or_create(path)
    assert not second.created
    assert not second.permissions_tightened
    assert second.identity.public_key == first.identity.public_key


def test_load_or_create_replaces_stale_temp_file(tmp_path: Path) -> None:
    path = tmp_path / "id.pem"
    (tmp_path / ".id.pem.tmp").write_bytes(b"left over from a crash")
    assert load_or_create(path).created
    assert sorted(p.name for p in tmp_path.iterdir()) == ["id.pem"]


def test_unreadable_file_is_reported_not_replaced(tmp_path: Path) -> None:
    path = tmp_path / "id.pem"
    path.mkdir()  # reading a directory fails with an OSError other than "not found"
    with pytest.raises(IdentityFileError, match=r"cannot read id\.pem"):
        load_or_create(path)
    assert path.is_dir()


def test_remove_keeps_folder_with_other_files(tmp_path: Path) -> None:
    path = tmp_path / "id.pem"
    load_or_create(path)
    (tmp_path / "other").write_text("x")
    ident.remove(path)
    assert not path.exists()
    assert tmp_path.exists()
    ident.remove(path)  # removing twice is harmless
