"""Canonical JSON: one byte form per value, and a strict parser for untrusted bytes."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING

import pytest
from hypothesis import given
from hypothesis import strategies as st

from custom_components.porchlight.federation.canonical import (
    DEFAULT_LIMITS,
    MAX_INT,
    Limits,
    b64u,
    b64u_decode,
    canon,
    loads,
)
from custom_components.porchlight.federation.errors import MalformedJSONError

if TYPE_CHECKING:
    from collections.abc import Callable

KEYS = st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True)
TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=30)
VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-MAX_INT, MAX_INT) | TEXT,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(KEYS, children, max_size=5),
    max_leaves=20,
)


@given(VALUES)
def test_canonical_form_round_trips(value: object) -> None:
    data = canon(value)
    assert loads(data) == value
    assert canon(loads(data)) == data
    assert canon(json.loads(data)) == data


@given(st.dictionaries(KEYS, st.integers(-5, 5), min_size=2, max_size=6))
def test_key_order_does_not_matter(value: dict[str, int]) -> None:
    reversed_ = dict(reversed(list(value.items())))
    assert canon(value) == canon(reversed_)


def test_canon_is_sorted_compact_utf8() -> None:
    assert canon({"b": 1, "a": ["é", None, True]}) == '{"a":["é",null,true],"b":1}'.encode()


@pytest.mark.parametrize("value", [1.5, {"a": [float("nan")]}, [1.0]])
def test_canon_refuses_floats(value: object) -> None:
    with pytest.raises(ValueError, match=r"float|Out of range"):
        canon(value)


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b'{"a":1,"a":2}', "duplicate key"),
        (b'{"A":1}', "key not allowed"),
        (b'{"a":1.0}', "number form"),
        (b'{"a":1e6}', "number form"),
        (b'{"a":NaN}', "number form"),
        (b'{"a":-Infinity}', "number form"),
        (b'{"a":9007199254740992}', "out of range"),
        (b'{"a":-9007199254740992}', "out of range"),
        (b'{"a":' + b"1" * 5000 + b"}", "out of range"),
        (b'"\\ud800"', "lone surrogate"),
        (b'"\xff"', "not JSON"),
        (b"\xef\xbb\xbf{}", "not JSON"),
        (b"[" * 17 + b"]" * 17, "nested too deeply"),
        (b'{"a":' * 17 + b"1" + b"}" * 17, "nested too deeply"),
        (b"[" + b"1," * 100 + b"1]", "array too long"),
        (b'"' + b"x" * 2049 + b'"', "string too long"),
        (b"{ }", "canonical"),
        (b'{"b":1,"a":2}', "canonical"),
        (b'"\\u0041"', "canonical"),
        (b"-0", "canonical"),
        (b"{", "not JSON"),
    ],
)
def test_strict_parser_refuses(data: bytes, why: str) -> None:
    with pytest.raises(MalformedJSONError, match=why):
        loads(data)


def test_depth_scan_ignores_brackets_in_strings() -> None:
    data = canon({"a": '[[[[[[[[[[[[[[[[[[[[[[\\"{{{{{{{{{{{{{{{{{{{'})
    assert loads(data) == {"a": '[[[[[[[[[[[[[[[[[[[[[[\\"{{{{{{{{{{{{{{{{{{{'}


def test_deep_but_allowed_nesting_passes_the_full_scan() -> None:
    data = b"[[[]," * 8 + b"[]" + b"]" * 8
    # 25 opening brackets in all, but never more than 17 open at once... 9 here.
    assert loads(data.replace(b"[[[],", b"[[],")) is not None


# Strings for the depth properties: brackets, quotes and backslashes are what the scan is about.
SCAN_TEXT = st.text(st.sampled_from('[]{}"\\a'), max_size=8)
SCAN_VALUES = st.recursive(
    st.integers(0, 9) | SCAN_TEXT,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(KEYS, children, max_size=3),
    max_leaves=12,
)


def _depth(value: object) -> int:
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    return 0


def _refused_as_too_deep(data: bytes, max_depth: int) -> bool:
    try:
        loads(data, Limits(max_depth=max_depth))
    except MalformedJSONError as err:
        return "nested too deeply" in str(err)
    return False


@given(SCAN_VALUES, st.integers(0, 4))
def test_depth_scan_agrees_with_the_real_depth(value: object, max_depth: int) -> None:
    assert _refused_as_too_deep(canon(value), max_depth) == (_depth(value) > max_depth)


# The scan before it was made linear, kept as the reference for what it must still decide.
_QUADRATIC_STRING_RE = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)


def _old_scan_too_deep(data: bytes, max_depth: int) -> bool:
    depth = 0
    for byte in _QUADRATIC_STRING_RE.sub(b"", data):
        if byte in b"[{]}":
            depth += 1 if byte in b"[{" else -1
            if depth > max_depth:
                return True
    return False


def _json_refuses(data: bytes) -> bool:
    try:
        json.loads(data)
    except ValueError:
        return True
    return False


@given(st.text(st.sampled_from('[]{}"\\a,'), max_size=40).map(str.encode), st.integers(0, 3))
def test_depth_scan_only_changed_for_bodies_json_refuses(data: bytes, max_depth: int) -> None:
    # It differs from the old scan only after an unterminated string, where the old one
    # counted brackets json never reaches; and a prefix is never deeper than the whole.
    new, old = _refused_as_too_deep(data, max_depth), _old_scan_too_deep(data, max_depth)
    assert new == old or (old and not new and _json_refuses(data))


# Bodies that made the old pre-scan rescan the rest of the body from every quote (64 KiB of
# the first took 20 s), and neighbours of them. Each is refused, and in time linear in its size:
# at 4 MiB a quadratic scan would take hours, so the timeout catches it, not a stopwatch.
PATHOLOGICAL = {
    "escaped quotes": lambda n: b'"' + b'\\"' * (n // 2 - 1),
    "escaped quotes, no opening quote": lambda n: b'\\"' * (n // 2),
    "quote backslash pairs": lambda n: b'"\\' * (n // 2),
    "brackets between escaped quotes": lambda n: b'\\"[' * (n // 3),
    "odd backslash runs": lambda n: (b"\\" * 7 + b'"') * (n // 8),
    "escaped quotes within allowed nesting": lambda n: b"[" * 16 + b'"' + b'\\"' * (n // 2 - 9),
    "backslash run": lambda n: b'"' + b"\\" * (n - 1),
    "deep nesting in an unterminated string": lambda n: b'"' + b"[" * (n - 1),
    "deep nesting in strings": lambda n: b'["' + b"[{" * (n // 2 - 3) + b'"]',
}


@pytest.mark.timeout(20)
@pytest.mark.parametrize("size", [DEFAULT_LIMITS.max_bytes, 4 * 2**20])
@pytest.mark.parametrize("shape", PATHOLOGICAL.values(), ids=PATHOLOGICAL.keys())
def test_pathological_bodies_are_refused_in_linear_time(
    shape: Callable[[int], bytes], size: int
) -> None:
    data = shape(size)
    assert size - 8 < len(data) <= size
    with pytest.raises(MalformedJSONError):
        loads(data, Limits(max_bytes=size))


def test_object_with_too_many_members_is_refused() -> None:
    with pytest.raises(MalformedJSONError, match="object too large"):
        loads(canon({f"k{i}": i for i in range(3)}), Limits(max_array=2))


def test_document_size_limit() -> None:
    with pytest.raises(MalformedJSONError, match="too large"):
        loads(b"[" + b"1," * 10 + b"1]", Limits(max_bytes=10))


@given(st.binary(max_size=64))
def test_base64url_round_trip(data: bytes) -> None:
    assert b64u_decode(b64u(data), len(data)) == data


@pytest.mark.parametrize("text", ["a", "ab+c", "ab==", "AB", "AAB"])
def test_base64url_refuses_non_canonical(text: str) -> None:
    with pytest.raises(ValueError, match="base64url"):
        b64u_decode(text, 2 if text == "AAB" else None)
