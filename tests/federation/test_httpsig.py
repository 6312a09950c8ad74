"""The fast path against the reference RFC 9421 library, on the same valid and malformed input.

Soundness: whatever the fast path accepts, `http-message-signatures` (configured with the
profile's policy) accepts too, with the same keyid, nonce and times. Completeness: everything
the profile signer or the library signer produces in the profile, the fast path accepts. The
library tolerates serializations the profile does not (other parameter order, extra
components); the fast path refuses them by design, and tests below name those cases.
"""

from __future__ import annotations

import base64
import datetime as dt
import time
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import pytest
from http_message_signatures import (
    HTTPMessageSignaturesException,
    HTTPMessageSigner,
    HTTPMessageVerifier,
    InvalidSignature,
    MappingKeyResolver,
    algorithms,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from multidict import CIMultiDict

from custom_components.porchlight.federation import httpsig
from custom_components.porchlight.federation.errors import ProtocolError
from custom_components.porchlight.federation.identity import Identity

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

KEY = Identity.generate()
OTHER = Identity.generate()
KEYS: dict[str, Ed25519PublicKey] = {
    KEY.keyid: KEY.private_key.public_key(),
    OTHER.keyid: OTHER.private_key.public_key(),
}
URL = "http://127.0.0.1:8123/api/porchlight/v1/inbox"
AUTHORITY = "127.0.0.1:8123"
PATH = "/api/porchlight/v1/inbox"


class _Verifier(HTTPMessageVerifier):
    max_clock_skew = dt.timedelta(seconds=httpsig.MAX_SKEW)


REFERENCE = _Verifier(
    signature_algorithm=algorithms.ED25519,
    key_resolver=MappingKeyResolver(public_keys=KEYS, private_keys={}),
)


def reference_accepts(
    method: str, url: str, headers: CIMultiDict[str], body: bytes
) -> tuple[str, str, int, int] | None:
    """The library's verdict under the profile's policy; the accepted parameters or None."""
    message = SimpleNamespace(method=method, url=url, headers=headers)
    try:
        (result,) = REFERENCE.verify(
            message,
            body=body,
            expect_tag=httpsig.TAG,
            expect_label=httpsig.LABEL,
            require_components=httpsig.COVERED,
            max_age=dt.timedelta(seconds=httpsig.MAX_AGE - httpsig.MAX_SKEW),
        )
    except InvalidSignature, HTTPMessageSignaturesException, ValueError:
        return None
    params = result.parameters
    return params["keyid"], params["nonce"], params["created"], params["expires"]


def fast_accepts(
    method: str, authority: str, path: str, query: str, headers: CIMultiDict[str], body: bytes
) -> tuple[str, str, int, int] | None:
    """The fast path's verdict; the accepted parameters or None."""
    try:
        httpsig.check_content_type(headers)
        hop = httpsig.parse_hop(headers)
        key = KEYS.get(hop.keyid)
        if key is None:
            return None
        httpsig.check_times(hop, int(time.time()))
        httpsig.verify_hop(
            hop, key, method=method, authority=authority, path=path, query=query, body=body
        )
    except ProtocolError:
        return None
    return hop.keyid, hop.nonce, hop.created, hop.expires


def signed(body: bytes, *, created_offset: int = 0, lifetime: int = 60) -> CIMultiDict[str]:
    return CIMultiDict(
        httpsig.sign_request(
            KEY, "POST", URL, body, now=int(time.time()) + created_offset, lifetime=lifetime
        )
    )


def both(headers: CIMultiDict[str], body: bytes, **request: str) -> tuple[Any, Any]:
    method = request.get("method", "POST")
    url = request.get("url", URL)
    fast = fast_accepts(
        method,
        request.get("authority", AUTHORITY),
        request.get("path", PATH),
        request.get("query", ""),
        headers,
        body,
    )
    return fast, reference_accepts(method, url, headers, body)


# --- valid requests -------------------------------------------------------------------------
@given(
    body=st.binary(max_size=300),
    # Away from the window's edges: the library reads the clock with sub-second precision.
    created_offset=st.integers(-290, 50),
    lifetime=st.integers(2, httpsig.MAX_LIFETIME),
)
@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
def test_both_accept_profile_signatures(body: bytes, created_offset: int, lifetime: int) -> None:
    headers = signed(body, created_offset=created_offset, lifetime=lifetime)
    fast, reference = both(headers, body)
    if created_offset + lifetime < -httpsig.MAX_SKEW + 2:
        return  # expired: covered by the mutation test below
    assert fast is not None
    assert fast == reference


def test_fast_path_accepts_what_the_library_signs_in_profile() -> None:
    body = b'{"a":1}'
    headers: CIMultiDict[str] = CIMultiDict({"Content-Type": "application/json"})
    now = dt.datetime.now(dt.UTC)
    HTTPMessageSigner(
        signature_algorithm=algorithms.ED25519,
        key_resolver=MappingKeyResolver(public_keys={}, private_keys={KEY.keyid: KEY.private_key}),
    ).sign(
        SimpleNamespace(method="POST", url=URL, headers=headers),
        key_id=KEY.keyid,
        created=now,
        expires=now + dt.timedelta(seconds=60),
        nonce=httpsig.new_nonce(),
        label=httpsig.LABEL,
        tag=httpsig.TAG,
        covered_component_ids=httpsig.COVERED[:5],
        body=body,
    )
    fast, reference = both(headers, body)
    assert fast is not None
    assert fast == reference


def test_query_is_covered_by_both() -> None:
    url = URL + "?page=2"
    body = b"{}"
    headers = CIMultiDict(httpsig.sign_request(KEY, "POST", url, body, now=int(time.time())))
    fast, reference = both(headers, body, url=url, query="page=2")
    assert fast is not None
    assert fast == reference
    fast, reference = both(headers, body, url=URL, query="")
    assert fast is None
    assert reference is None


# --- malformed requests ----------------------------------------------------------------------
def _replace_in(name: str, old: str, new: str) -> Any:
    def mutate(headers: CIMultiDict[str]) -> None:
        headers[name] = headers[name].replace(old, new, 1)

    return mutate


def _set(name: str, value: str) -> Any:
    def mutate(headers: CIMultiDict[str]) -> None:
        headers[name] = value

    return mutate


def _drop(name: str) -> Any:
    def mutate(headers: CIMultiDict[str]) -> None:
        del headers[name]

    return mutate


def _flip_sig(headers: CIMultiDict[str]) -> None:
    raw = bytearray(base64.b64decode(headers["Signature"][4:-1]))
    raw[5] ^= 0x40
    headers["Signature"] = f"pl=:{base64.b64encode(raw).decode()}:"


def _other_keyid(headers: CIMultiDict[str]) -> None:
    headers["Signature-Input"] = headers["Signature-Input"].replace(KEY.keyid, OTHER.keyid)


# Mutations both verifiers must refuse.
REFUSED_BY_BOTH = {
    "flipped signature bit": _flip_sig,
    "other known keyid": _other_keyid,
    "unknown keyid": _replace_in("Signature-Input", 'keyid="', 'keyid="A'),
    "component dropped": _replace_in("Signature-Input", ' "content-digest"', ""),
    "created moved": _replace_in("Signature-Input", "created=1", "created=2"),
    "tag changed": _replace_in("Signature-Input", "porchlight-v1", "porchlight-v2"),
    "alg changed": _replace_in("Signature-Input", "ed25519", "rsa-pss-sha512"),
    "label changed": lambda h: (
        _replace_in("Signature-Input", "pl=", "xx=")(h),
        _replace_in("Signature", "pl=", "xx=")(h),
    ),
    "digest of other body": _set("Content-Digest", "sha-256=:" + "A" * 43 + "=:"),
    "content type changed": _set("Content-Type", "text/plain"),
    "signature missing": _drop("Signature"),
    "signature input missing": _drop("Signature-Input"),
    "digest missing": _drop("Content-Digest"),
    "garbage signature input": _set("Signature-Input", 'pl=("@method";created=1'),
}

# Serializations RFC 9421 allows but the profile does not: the library accepts, the fast path
# refuses (strictly safer, never the other way round).
PROFILE_ONLY = {
    "alg parameter left out": _replace_in("Signature-Input", ';alg="ed25519"', ""),
    "unpadded base64 signature": _replace_in("Signature", "==:", ":"),
    "space after label": _replace_in("Signature", "pl=:", "pl= :"),
}


@pytest.mark.parametrize("mutation", REFUSED_BY_BOTH, ids=list(REFUSED_BY_BOTH))
def test_both_refuse_mutation(mutation: str) -> None:
    body = b'{"a":1}'
    headers = signed(body)
    REFUSED_BY_BOTH[mutation](headers)
    assert both(headers, body) == (None, None)


@pytest.mark.parametrize(
    "request_change",
    [
        {"method": "PUT"},
        {"url": "http://127.0.0.1:8124/api/porchlight/v1/inbox", "authority": "127.0.0.1:8124"},
        {"url": "http://127.0.0.1:8123/api/porchlight/v1/pair", "path": "/api/porchlight/v1/pair"},
    ],
)
def test_both_refuse_other_request_line(request_change: dict[str, str]) -> None:
    body = b'{"a":1}'
    assert both(signed(body), body, **request_change) == (None, None)


def test_both_refuse_tampered_body() -> None:
    headers = signed(b'{"a":1}')
    assert both(headers, b'{"a":2}') == (None, None)


def test_both_refuse_expired_and_future() -> None:
    assert both(signed(b"", created_offset=-200, lifetime=100), b"") == (None, None)
    assert both(signed(b"", created_offset=70), b"") == (None, None)


@pytest.mark.parametrize("variant", PROFILE_ONLY, ids=list(PROFILE_ONLY))
def test_profile_is_stricter_than_rfc_where_it_says_so(variant: str) -> None:
    body = b'{"a":1}'
    headers = signed(body)
    PROFILE_ONLY[variant](headers)
    fast, _ = both(headers, body)
    assert fast is None


@given(
    position=st.integers(0, 400),
    char=st.characters(codec="ascii"),
    which=st.sampled_from(["Signature-Input", "Signature", "Content-Digest", "Content-Type"]),
)
@settings(max_examples=300)
def test_fast_accepts_only_what_the_library_accepts(position: int, char: str, which: str) -> None:
    body = b'{"a":1}'
    headers = signed(body)
    value = headers[which]
    index = position % (len(value) + 1)
    mutated = value[:index] + char + value[index + 1 :]
    try:
        headers[which] = mutated
    except ValueError:
        return  # not even a legal header value
    fast, reference = both(headers, body)
    if fast is not None:
        assert fast == reference


def test_derived_components_must_be_printable() -> None:
    hop = httpsig.parse_hop(signed(b""))
    for authority, path, query in (("a b", "/", ""), ("a", "/\x00", ""), ("a", "/", "\x7f")):
        with pytest.raises(ProtocolError):
            httpsig.verify_hop(
                hop,
                KEYS[KEY.keyid],
                method="POST",
                authority=authority,
                path=path,
                query=query,
                body=b"",
            )


def test_authority_drops_default_ports_and_lowercases() -> None:
    assert httpsig.authority_of("https://Home.Example:443/x") == "home.example"
    assert httpsig.authority_of("http://home.example:80/x") == "home.example"
    assert httpsig.authority_of("http://[::1]:8123/x") == "[::1]:8123"
    assert httpsig.authorities(["http://a:1/x", "http://a:1/y"]) == frozenset({"a:1"})
