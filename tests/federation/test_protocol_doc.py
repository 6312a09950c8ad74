"""docs/protocol.md against the code: its test vectors and tables are checked, so they cannot drift.

An outside implementer writes a client from the spec alone; every vector and table the spec
gives is read from the Markdown here and compared with what the library really does.
"""

from __future__ import annotations

import hashlib
import re
from functools import cache
from pathlib import Path

from custom_components.porchlight.federation.canonical import b64u, b64u_decode
from custom_components.porchlight.federation.identity import keyid
from custom_components.porchlight.federation.invites import TOKEN_BYTES, pairing_code, token_hash

SPEC = Path(__file__).parents[2] / "docs" / "protocol.md"


@cache
def spec() -> str:
    """The spec's text."""
    return SPEC.read_text(encoding="utf-8")


def vector(name: str) -> dict[str, str]:
    """The `field = value` lines of the code block after `<!-- vector: name -->`."""
    match = re.search(rf"<!-- vector: {name} -->\s*```[a-z]*\n(.*?)```", spec(), re.DOTALL)
    assert match is not None, f"no vector {name!r} in {SPEC.name}"
    pairs = (line.split("=", 1) for line in match[1].splitlines() if line.strip())
    return {key.strip(): value.strip() for key, value in pairs}


def test_pairing_vector_token_hash_is_sha256_of_the_raw_token() -> None:
    v = vector("pairing")
    raw = bytes.fromhex(v["token bytes"])
    assert len(raw) == TOKEN_BYTES
    assert b64u(raw) == v["tok"]
    assert hashlib.sha256(raw).hexdigest() == v["H(tok)"]
    # What the inviter stores and what pair_accept.token_hash carries.
    assert token_hash(v["tok"]) == v["H(tok)"]


def test_pairing_vector_code_matches_the_library() -> None:
    v = vector("pairing")
    key_a, key_b = bytes.fromhex(v["pk_a"]), bytes.fromhex(v["pk_b"])
    assert keyid(key_a) == v["keyid_a"]
    assert keyid(key_b) == v["keyid_b"]
    assert pairing_code(key_a, key_b, token_hash(v["tok"])) == v["code"]
    assert pairing_code(key_b, key_a, token_hash(v["tok"])) == v["code"]
    # The two 22-character spellings of one token never both decode (§2: canonical only).
    assert b64u_decode(v["tok"], TOKEN_BYTES) == bytes.fromhex(v["token bytes"])
