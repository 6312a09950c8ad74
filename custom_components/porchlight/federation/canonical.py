"""Canonical JSON: the one byte form every Porchlight message is signed and sent in.

canon() is sorted keys, no whitespace, UTF-8, integers only (identical to Matrix canonical
JSON on that subset). loads() is the strict parser for untrusted bytes: it rejects anything
that has no single canonical meaning (duplicate keys, floats, NaN, integers beyond ±(2^53-1),
lone surrogates) and anything beyond the size limits, and it insists the bytes already are the
canonical form, so what a receiver verifies, stores and relays is exactly what was signed.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from typing import Any, Final, NoReturn

from .errors import MalformedJSONError

MAX_INT: Final = 2**53 - 1
KEY_RE: Final = re.compile(r"[a-z][a-z0-9_]{0,63}")
# Strings (with escapes) are removed before brackets are counted for the depth pre-scan. The
# closing quote is optional so that a match starting at a quote never fails: an unterminated
# string runs to the end of the body (json gives up there too, so its brackets can never nest).
# A pattern that can fail makes the engine rescan the rest of the body from every later quote,
# which is quadratic (64 KiB of `\"` took 20 s). Possessive quantifiers: no backtracking either.
_STRING_RE: Final = re.compile(rb'"(?:[^"\\]++|\\.)*+"?', re.DOTALL)
_NOT_BRACKETS: Final = bytes(b for b in range(256) if b not in b"[]{}")

type JSON = bool | int | str | list[JSON] | dict[str, JSON] | None


@dataclass(frozen=True, slots=True)
class Limits:
    """What one parsed document may contain (R2.8)."""

    max_bytes: int = 65536
    max_depth: int = 16
    max_array: int = 100
    max_string: int = 2048


DEFAULT_LIMITS: Final = Limits()


def canon(value: object) -> bytes:
    """Serialize a JSON value in canonical form; floats and NaN raise ValueError."""
    _reject_floats(value)
    return json.dumps(
        value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False
    ).encode("utf-8")


def _reject_floats(value: object) -> None:
    if isinstance(value, float):
        msg = "floats have no canonical form"
        raise ValueError(msg)  # noqa: TRY004  # json.dumps raises ValueError for NaN too
    if isinstance(value, dict):
        for item in value.values():
            _reject_floats(item)
    elif isinstance(value, list):
        for item in value:
            _reject_floats(item)


def loads(data: bytes, limits: Limits = DEFAULT_LIMITS) -> JSON:
    """Parse untrusted bytes strictly; raise MalformedJSONError for anything not canonical."""
    if len(data) > limits.max_bytes:
        _fail("document too large")
    _check_depth(data, limits.max_depth)
    try:
        text = data.decode("utf-8")
        value: JSON = json.loads(
            text,
            object_pairs_hook=_object,
            parse_int=_int,
            parse_float=_no_number,
            parse_constant=_no_number,
        )
    except MalformedJSONError:
        raise
    except (UnicodeDecodeError, ValueError, RecursionError) as err:
        # ValueError covers JSONDecodeError and int() refusals; the detail stays generic so
        # nothing of the body is echoed to the sender.
        _fail(f"not JSON ({type(err).__name__})")
    _check_values(value, limits)
    if canon(value) != data:
        _fail("not in canonical form")
    return value


def _fail(detail: str) -> NoReturn:
    raise MalformedJSONError(detail)


def _check_depth(data: bytes, max_depth: int) -> None:
    # Cheap pre-scan before json's recursive descent: count brackets outside strings.
    brackets = _STRING_RE.sub(b"", data).translate(None, _NOT_BRACKETS)
    if brackets.count(b"[") + brackets.count(b"{") <= max_depth:
        return
    depth = 0
    for byte in brackets:
        depth += 1 if byte in b"[{" else -1
        if depth > max_depth:
            _fail("nested too deeply")


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            _fail("duplicate key")
        if not KEY_RE.fullmatch(key):
            _fail("key not allowed")
        result[key] = value
    return result


def _int(text: str) -> int:
    # Length first: int() of a huge digit string is quadratic and the result out of range.
    if len(text) > len(str(MAX_INT)) + 1:
        _fail("integer out of range")
    value = int(text)
    if abs(value) > MAX_INT:
        _fail("integer out of range")
    return value


def _no_number(text: str) -> NoReturn:
    _fail(f"number form not allowed ({text[:8]})")


def _check_values(value: JSON, limits: Limits) -> None:
    if isinstance(value, str):
        if len(value) > limits.max_string:
            _fail("string too long")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            _fail("lone surrogate")
    elif isinstance(value, list):
        if len(value) > limits.max_array:
            _fail("array too long")
        for item in value:
            _check_values(item, limits)
    elif isinstance(value, dict):
        if len(value) > limits.max_array:
            _fail("object too large")
        for item in value.values():
            _check_values(item, limits)


def b64u(data: bytes) -> str:
    """Unpadded base64url, the form keys, tokens and signatures take inside messages."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


_B64U_RE: Final = re.compile(r"[A-Za-z0-9_-]*")


def b64u_decode(text: str, size: int | None = None) -> bytes:
    """Decode unpadded base64url strictly; raise ValueError if malformed or the wrong size."""
    if not _B64U_RE.fullmatch(text) or len(text) % 4 == 1:
        msg = "not base64url"
        raise ValueError(msg)
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    # Non-zero trailing bits would give two spellings of the same bytes.
    if b64u(data) != text or (size is not None and len(data) != size):
        msg = "not canonical base64url of the expected size"
        raise ValueError(msg)
    return data
