"""docs/protocol.md against the code: its test vectors and tables are checked, so they cannot drift.

An outside implementer writes a client from the spec alone; every vector and table the spec
gives is read from the Markdown here and compared with what the library really does.
"""

from __future__ import annotations

import hashlib
import re
from functools import cache
from pathlib import Path

from custom_components.porchlight.federation import errors, listener
from custom_components.porchlight.federation.canonical import b64u, b64u_decode
from custom_components.porchlight.federation.errors import ProtocolError
from custom_components.porchlight.federation.identity import keyid
from custom_components.porchlight.federation.invites import TOKEN_BYTES, pairing_code, token_hash
from custom_components.porchlight.federation.messages import (
    ENDPOINT,
    NAME,
    ROLE,
    TYPES,
    ListOf,
    Obj,
    Str,
    Url,
)

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


def table(name: str) -> list[list[str]]:
    """The body rows of the Markdown table after `<!-- table: name -->`, cells stripped."""
    match = re.search(rf"<!-- table: {name} -->\n((?:\|.*\n)+)", spec())
    assert match is not None, f"no table {name!r} in {SPEC.name}"
    rows = [
        [c.strip() for c in line.strip().strip("|").split("|")] for line in match[1].splitlines()
    ]
    return rows[2:]  # after the header and its separator


def code(cell: str) -> str:
    """The text of a cell's first `code span`."""
    found = re.search(r"`([^`]+)`", cell)
    assert found is not None, cell
    return found[1]


# errors defines the pairing and key-transition refusals too: every code is a subclass here.
assert errors.PairingUnconfirmedError.code == "pairing_unconfirmed"


def _subclasses(cls: type[ProtocolError]) -> set[type[ProtocolError]]:
    found = set(cls.__subclasses__())
    for sub in list(found):
        found |= _subclasses(sub)
    return found


def test_error_table_lists_exactly_the_codes_the_code_answers() -> None:
    documented = {(int(status), code(c)) for status, c, _ in table("errors")}
    raised = {(int(e.status), e.code) for e in _subclasses(ProtocolError) | {ProtocolError}}
    refusals = {
        (int(v.status), v.code)
        for v in vars(listener).values()
        if isinstance(v, listener._Refusal)  # the listener's fixed answers
    }
    served = {(503, "not_ready"), (503, "busy"), (404, "not_found")}  # views, agency, shares
    assert documented == raised | refusals | served


def test_message_type_table_matches_the_schemas() -> None:
    rows = _section3_rows()
    assert {name for name, *_ in rows} == set(TYPES)
    for name, _body, to, lifetime, _who in rows:
        message = TYPES[name]
        amount, unit = lifetime.split()
        assert int(amount) * {"s": 1, "h": 3600, "d": 86400}[unit] == message.max_lifetime, name
        assert ("`*`" in to) == message.relayable, name


def _section3_rows() -> list[list[str]]:
    section = spec()[spec().index("## 3. Envelope") : spec().index("## 4.")]
    lines = [line for line in section.splitlines() if line.startswith("| `")]
    return [[code(c) if i == 0 else c for i, c in enumerate(_cells(line))] for line in lines]


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def test_roles_table_matches_the_schema() -> None:
    assert {code(role) for role, _ in table("roles")} == ROLE.values


def test_field_limits_table_matches_the_schemas() -> None:
    offer_link = TYPES["footage_offer"].body["links"]
    assert isinstance(offer_link, ListOf)
    assert isinstance(offer_link.item, Obj)
    fields = {
        "name": TYPES["pair_request"].body["name"],
        "endpoint": TYPES["pair_request"].body["endpoint"],
        "reply_to": TYPES["footage_request"].body["reply_to"],
        "url": offer_link.item.fields["url"],
        "text": TYPES["alert"].body["text"],
        "reason": TYPES["footage_request"].body["reason"],
        "case": TYPES["footage_request"].body["case"],
        "clip": offer_link.item.fields["clip"],
    }
    rows = {code(field): length for field, length in table("limits")}
    assert set(rows) == set(fields)
    for name, length in rows.items():
        spec_field = fields[name]
        if isinstance(spec_field, Str):
            assert length == f"{spec_field.min_len}..{spec_field.max_len}", name
        else:
            assert isinstance(spec_field, Url)
            assert length == f"≤ {spec_field.max_len}", name
    # The same limits where they are used outside a message body.
    assert TYPES["vouch"].body["name"] is NAME
    assert TYPES["pair_accept"].body["name"] is NAME
    assert ENDPOINT is TYPES["pair_request"].body["endpoint"]
