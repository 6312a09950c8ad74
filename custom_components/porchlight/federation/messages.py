r"""Signed message envelopes, one schema per message type.

An envelope is a canonical-JSON object signed end to end by its originator, so it stays
verifiable after any number of relays::

    {"v":1, "type":..., "id":<random>, "from":<keyid>, "from_key":<raw key, base64url>,
     "to":<keyid or "*">, "created":<s>, "expires":<s>, "body":{...}, "sig":<base64url>,
     "unsigned":{"hops":<n>}}

`sig` is Ed25519 over "porchlight-msg-v1\n" + canon(object without sig and unsigned); the
event id is SHA-256 of the same canonical bytes, recomputed by every receiver (R2.4).
`unsigned` carries only the relay hop count, which is advisory.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from yarl import URL

from . import canonical
from .canonical import JSON, b64u, b64u_decode, canon
from .errors import ForgedOriginError, MessageExpiredError, MessageSignatureError, SchemaError
from .identity import keyid

if TYPE_CHECKING:
    from collections.abc import Mapping

    from .identity import Identity

VERSION: Final = 1
BROADCAST: Final = "*"
MAX_HOPS: Final = 3
# Footage requests may travel further than alerts: only a trusted agency's are relayed, and
# with ~6 neighbors a home, 3 relays from 10 seed homes reach ~85 % of 1,000 homes, 5 reach
# 99.8 % (scripts/bench fanout). Nodes before this limit refuse a request past 3 (schema).
REQUEST_MAX_HOPS: Final = 6
_MAX_RELAYS: Final = max(MAX_HOPS, REQUEST_MAX_HOPS)
CLOCK_SKEW: Final = 60
_DOMAIN: Final = b"porchlight-msg-v1\n"
KEY_TRANSITION_DOMAIN: Final = b"porchlight-key-transition-v1\n"

KEYID_RE: Final = re.compile(r"[A-Z2-7]{32}")
_B64U_RE = r"[A-Za-z0-9_-]"
HEX64_RE: Final = re.compile(r"[0-9a-f]{64}")
# The characters of a URL a peer may give: scheme, host (a bracketed IPv6 literal or a name),
# port, path; no user, query or fragment. valid_url checks the rest.
URL_RE: Final = re.compile(
    r"(?P<scheme>https?)://(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.\-]+)(?::(?P<port>[0-9]{1,5}))?"
    r"(?P<path>/[A-Za-z0-9._~/\-]*)?"
)
_LABEL_RE: Final = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?")
_DEFAULT_PORTS: Final = {"http": 80, "https": 443}
_MAX_HOST: Final = 253
_MAX_PORT: Final = 65535


def valid_url(value: str) -> bool:
    """Whether value is a URL the node can sign for, connect to and resolve.

    A peer's URL is pinned at pairing and used for every later delivery, so anything the
    client (yarl) would refuse or rewrite, or the resolver choke on, is refused up front:
    yarl must parse it and read the same host, port and path (no dot segments it would
    drop after the signature covered them); the port is 1..65535; a bracketed host is an
    IPv6 address (yarl takes `[:::]`); a name's labels are 1..63 letters, digits and inner
    hyphens (an empty or over-long label makes the resolver's IDNA step raise), and a name
    ending in a number must be an IPv4 address.
    """
    match = URL_RE.fullmatch(value)
    if match is None:
        return False
    host, path = match["host"].lower(), match["path"] or "/"
    port = int(match["port"]) if match["port"] else _DEFAULT_PORTS[match["scheme"]]
    try:
        url = URL(value)
        read = (url.raw_host, url.port, url.raw_path)
    except ValueError:  # e.g. a port beyond 65535
        return False
    return read == (host.strip("[]"), port, path) and 0 < port <= _MAX_PORT and _valid_host(host)


def _valid_host(host: str) -> bool:
    try:
        if host.startswith("["):
            ipaddress.IPv6Address(host[1:-1])
        elif host.rsplit(".", 1)[-1].isdigit():
            ipaddress.IPv4Address(host)
        else:
            return len(host) <= _MAX_HOST and all(map(_LABEL_RE.fullmatch, host.split(".")))
    except ValueError:
        return False
    return True


# --- schemas ---------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Str:
    """A string field, optionally matching a pattern in full (empty only if min_len is 0)."""

    max_len: int
    pattern: re.Pattern[str] | None = None
    min_len: int = 1

    def check(self, value: JSON) -> bool:
        """Return whether value fits."""
        return (
            isinstance(value, str)
            and self.min_len <= len(value) <= self.max_len
            and (self.pattern is None or self.pattern.fullmatch(value) is not None)
        )


@dataclass(frozen=True, slots=True)
class Bin:
    """Binary data as canonical unpadded base64url of exactly `size` bytes (§2).

    Checked by decoding, not by pattern: a string of the right length and alphabet can still
    carry non-zero trailing bits, and decoding such a field later must not be the first place
    that notices.
    """

    size: int

    def check(self, value: JSON) -> bool:
        """Return whether value fits."""
        if not isinstance(value, str) or len(value) != -(-self.size * 4 // 3):
            return False
        try:
            canonical.b64u_decode(value, self.size)
        except ValueError:
            return False
        return True


@dataclass(frozen=True, slots=True)
class Url:
    """A URL a peer gives for later requests or downloads (see valid_url)."""

    max_len: int

    def check(self, value: JSON) -> bool:
        """Return whether value fits."""
        return isinstance(value, str) and len(value) <= self.max_len and valid_url(value)


@dataclass(frozen=True, slots=True)
class Int:
    """An integer field within bounds (booleans are not integers here)."""

    low: int
    high: int

    def check(self, value: JSON) -> bool:
        """Return whether value fits."""
        return type(value) is int and self.low <= value <= self.high


@dataclass(frozen=True, slots=True)
class OneOf:
    """A string drawn from a fixed set."""

    values: frozenset[str]

    def check(self, value: JSON) -> bool:
        """Return whether value fits."""
        return isinstance(value, str) and value in self.values


@dataclass(frozen=True, slots=True)
class Obj:
    """A nested object with exactly the given fields."""

    fields: Mapping[str, Field]

    def check(self, value: JSON) -> bool:
        """Return whether value fits."""
        return (
            isinstance(value, dict)
            and set(value) == set(self.fields)
            and all(spec.check(value[name]) for name, spec in self.fields.items())
        )


@dataclass(frozen=True, slots=True)
class Variant:
    """A nested object whose "kind" field picks one of several exact shapes."""

    kinds: Mapping[str, Obj]

    def check(self, value: JSON) -> bool:
        """Return whether value fits."""
        if not isinstance(value, dict):
            return False
        shape = self.kinds.get(value.get("kind"))  # type: ignore[arg-type]  # any JSON key
        return shape is not None and shape.check(value)


@dataclass(frozen=True, slots=True)
class ListOf:
    """An array of min_len..max_len items of one shape."""

    item: Field
    min_len: int
    max_len: int

    def check(self, value: JSON) -> bool:
        """Return whether value fits."""
        return (
            isinstance(value, list)
            and self.min_len <= len(value) <= self.max_len
            and all(self.item.check(item) for item in value)
        )


@dataclass(frozen=True, slots=True)
class AnyObject:
    """An object checked elsewhere by its own strict parser (an evidence manifest)."""

    def check(self, value: JSON) -> bool:
        """Return whether value is an object at all."""
        return isinstance(value, dict)


type Field = Str | Url | Bin | Int | OneOf | Obj | Variant | ListOf | AnyObject
ROLE: Final = OneOf(frozenset({"neighbor", "agency"}))
NAME: Final = Str(64)
# A peer's endpoint: where its inbox and pairing routes are (API prefix included).
ENDPOINT: Final = Url(256)
# Coordinates are integer micro-degrees (R2.5: no floats); geometry is checked by geo.py.
LAT: Final = Int(-90_000_000, 90_000_000)
LON: Final = Int(-180_000_000, 180_000_000)
AREA: Final = Variant(
    {
        "circle": Obj(
            {
                "kind": OneOf(frozenset({"circle"})),
                "lat": LAT,
                "lon": LON,
                "radius_m": Int(1, 50_000),
            }
        ),
        "polygon": Obj(
            {
                "kind": OneOf(frozenset({"polygon"})),
                "points": ListOf(ListOf(Int(-180_000_000, 180_000_000), 2, 2), 3, 100),
            }
        ),
    }
)
CLIP_ID_RE: Final = re.compile(r"[A-Za-z0-9_-]{1,64}")
REQUEST_LIFETIME: Final = 14 * 86400
OFFER_LIFETIME: Final = 7 * 86400
# How many clips one alert may share (each is a consent record and a link per neighbor).
ALERT_MAX_CLIPS: Final = 10


@dataclass(frozen=True, slots=True)
class MessageType:
    """What one message type's body holds and how it may travel."""

    body: Mapping[str, Field]
    # Relayable messages are addressed to "*" and may arrive through a peer other than
    # their originator; all others must come straight from the key that signed them.
    relayable: bool = False
    max_lifetime: int = 3600


INVITE_TOKEN: Final = Bin(16)
# What an alert is about (a fixed list, so automations can route them and nobody can smuggle
# free-form data into the field).
ALERT_CATEGORIES: Final = frozenset(
    {"suspicious", "theft", "package", "lost_pet", "found", "hazard", "other"}
)
TYPES: Final[Mapping[str, MessageType]] = {
    "pair_request": MessageType(
        {
            "token": INVITE_TOKEN,
            "name": NAME,
            "endpoint": ENDPOINT,
            "role": ROLE,
        },
        max_lifetime=300,
    ),
    "pair_accept": MessageType(
        {"token_hash": Str(64, HEX64_RE), "name": NAME, "role": ROLE}, max_lifetime=300
    ),
    # A neighbor's alert. `name` is the poster's home name only when its owner chose to show
    # it ("" otherwise: "a neighbor"); nothing in it says where the poster lives.
    "alert": MessageType(
        {
            "text": Str(500),
            "category": OneOf(ALERT_CATEGORIES),
            "name": Str(64, min_len=0),
            "max_hops": Int(0, MAX_HOPS),
        },
        relayable=True,
        max_lifetime=6 * 3600,
    ),
    "key_transition": MessageType(
        {"new_key": Bin(32), "seq": Int(1, canonical.MAX_INT), "new_sig": Bin(64)},
        max_lifetime=7 * 86400,
    ),
    "revoke": MessageType(
        {"reason": OneOf(frozenset({"compromised", "retired"}))}, max_lifetime=7 * 86400
    ),
    "vouch": MessageType(
        {"agency": Str(32, KEYID_RE), "agency_key": Bin(32), "name": NAME},
        max_lifetime=86400,
    ),
    # An agency asks the homes of an area for footage of a time window (docs/protocol.md §12).
    # Relayed between neighbors; every home decides locally whether it lies in the area.
    "footage_request": MessageType(
        {
            "case": Str(64, min_len=0),
            "reason": Str(500),
            "area": AREA,
            "start": Int(0, canonical.MAX_INT),
            "end": Int(0, canonical.MAX_INT),
            "reply_to": Url(256),
            "max_hops": Int(0, REQUEST_MAX_HOPS),
        },
        relayable=True,
        max_lifetime=REQUEST_LIFETIME,
    ),
    # A home's answer to a request: one capability link per clip its owner approved, and the
    # signed evidence manifest (federation/evidence.py checks it). Only approvals travel.
    "footage_offer": MessageType(
        {
            "request": Str(64, HEX64_RE),
            "manifest": AnyObject(),
            "links": ListOf(
                Obj(
                    {
                        "clip": Str(64, CLIP_ID_RE),
                        "url": Url(512),
                        "expires": Int(0, canonical.MAX_INT),
                    }
                ),
                1,
                100,
            ),
        },
        max_lifetime=OFFER_LIFETIME,
    ),
    # The clips a home attached to its own alert, for one directly paired neighbor: one
    # single-use, expiring link per clip (made for that neighbor alone) and the signed
    # evidence manifest, whose `agency` names the recipient and `request` the share group.
    # Never relayed: the relayed `alert` itself carries no links (docs/protocol.md §15).
    "alert_clips": MessageType(
        {
            "alert": Str(64, HEX64_RE),
            "manifest": AnyObject(),
            "links": ListOf(
                Obj(
                    {
                        "clip": Str(64, CLIP_ID_RE),
                        "url": Url(512),
                        "expires": Int(0, canonical.MAX_INT),
                    }
                ),
                1,
                ALERT_MAX_CLIPS,
            ),
        },
        max_lifetime=OFFER_LIFETIME,
    ),
    # A home tells a neighbor which cell of the camera map's grid it lies in (camera_map.py,
    # docs/protocol.md §16): never its location. Straight to that neighbor only; the bounds
    # here are the loosest grid's, camera_map.cell_from_json checks the cell is on the grid.
    "map_cell": MessageType(
        {"cell_m": Int(250, 10_000), "row": Int(0, 200_000), "col": Int(0, 200_000)},
        max_lifetime=86400,
    ),
    # A home's camera map for a paired agency (docs/protocol.md §16): only the cells its map
    # shows, each of at least k homes; camera_map.map_from_json checks them on arrival.
    "camera_map": MessageType(
        {
            "cell_m": Int(250, 10_000),
            "k": Int(3, 100),
            "cells": ListOf(
                Obj(
                    {
                        "row": Int(0, 200_000),
                        "col": Int(0, 200_000),
                        "homes": Int(3, canonical.MAX_INT),
                    }
                ),
                0,
                1000,
            ),
        },
        max_lifetime=2 * 86400,
    ),
    # Transparency digests (digest_exchange.py, docs/protocol.md §15), straight to one peer:
    # a home's own signed weekly digest to a neighbor, and an agency's own row of the
    # neighborhood's aggregate to that agency. digest_exchange checks the objects.
    "digest": MessageType({"digest": AnyObject()}, max_lifetime=7 * 86400),
    "agency_digest": MessageType({"view": AnyObject()}, max_lifetime=7 * 86400),
    # A home's latest signed audit checkpoint, straight to each neighbor, which checks it
    # and keeps the head (consent/audit/witness.py, docs/protocol.md §17): size and head hash
    # only, nothing of the log's content.
    "audit_checkpoint": MessageType(
        {
            "size": Int(1, canonical.MAX_INT),
            "head": Str(64, HEX64_RE),
            "key": Bin(32),
            "sig": Bin(64),
        },
        max_lifetime=2 * 86400,
    ),
    # The neighbor's answer: that head, countersigned inside the body (verifiable later
    # without this envelope), for the home to keep as evidence.
    "audit_witness": MessageType(
        {
            "home": Str(32, KEYID_RE),
            "size": Int(1, canonical.MAX_INT),
            "head": Str(64, HEX64_RE),
            "witnessed_at": Int(0, canonical.MAX_INT),
            "witness_key": Bin(32),
            "sig": Bin(64),
        },
        max_lifetime=2 * 86400,
    ),
}

_ENVELOPE: Final[Mapping[str, Field]] = {
    "v": Int(VERSION, VERSION),
    "type": OneOf(frozenset(TYPES)),
    "id": Bin(16),
    "from": Str(32, KEYID_RE),
    "from_key": Bin(32),
    "to": Str(32, re.compile(r"[A-Z2-7]{32}|\*")),
    "created": Int(0, canonical.MAX_INT),
    "expires": Int(0, canonical.MAX_INT),
    "sig": Bin(64),
}


def _check_fields(obj: Mapping[str, JSON], fields: Mapping[str, Field], where: str) -> None:
    if set(obj) != set(fields):
        msg = f"{where}: fields must be exactly {sorted(fields)}"
        raise SchemaError(msg)
    for name, spec in fields.items():
        if not spec.check(obj[name]):
            msg = f"{where}: field {name} is invalid"
            raise SchemaError(msg)


# --- envelope --------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Envelope:
    """A verified (or freshly sealed) message."""

    type: str
    id: str
    sender: str
    sender_key: bytes
    to: str
    created: int
    expires: int
    body: dict[str, JSON]
    sig: bytes
    hops: int = 0
    event_id: str = field(default="", compare=False)
    # False only for a message whose originator hop-signed its exact bytes to us: then the
    # end-to-end signature was not checked yet (see open_envelope).
    verified: bool = field(default=True, compare=False)

    def signed_part(self) -> dict[str, JSON]:
        """The object the signature and the event id cover."""
        return {
            "v": VERSION,
            "type": self.type,
            "id": self.id,
            "from": self.sender,
            "from_key": b64u(self.sender_key),
            "to": self.to,
            "created": self.created,
            "expires": self.expires,
            "body": self.body,
        }

    def to_json(self) -> dict[str, JSON]:
        """The wire object."""
        obj = self.signed_part()
        obj["sig"] = b64u(self.sig)
        if self.hops:
            obj["unsigned"] = {"hops": self.hops}
        return obj

    def encode(self) -> bytes:
        """The canonical bytes sent on the wire."""
        return canon(self.to_json())

    def relayed(self) -> Envelope:
        """The same message one hop further; its end-to-end signature is checked first.

        Raises MessageSignatureError rather than pass on a message nobody verified.
        """
        return replace(verify_envelope(self), hops=self.hops + 1)


def seal(  # noqa: PLR0913  # an envelope has this many signed parts
    identity: Identity,
    msg_type: str,
    body: dict[str, JSON],
    *,
    to: str,
    now: int,
    lifetime: int,
    message_id: str,
) -> Envelope:
    """Build and sign an envelope; the body is checked against its type's schema."""
    unsigned = Envelope(
        msg_type,
        message_id,
        identity.keyid,
        identity.public_key,
        to,
        now,
        now + lifetime,
        body,
        b"",
    )
    part = unsigned.signed_part()
    payload = canon(part)
    sealed = Envelope(
        msg_type,
        message_id,
        identity.keyid,
        identity.public_key,
        to,
        now,
        now + lifetime,
        body,
        identity.sign(_DOMAIN + payload),
        0,
        hashlib.sha256(payload).hexdigest(),
    )
    _check_envelope(sealed.to_json())
    return sealed


def _check_envelope(obj: Mapping[str, JSON]) -> tuple[MessageType, dict[str, JSON], int]:
    hops = 0
    fields = dict(obj)
    unsigned = fields.pop("unsigned", None)
    if unsigned is not None:
        if not isinstance(unsigned, dict):
            msg = "unsigned must be an object"
            raise SchemaError(msg)
        _check_fields(unsigned, {"hops": Int(1, _MAX_RELAYS)}, "unsigned")
        hops = int(unsigned["hops"])  # type: ignore[arg-type]  # checked just above
    body = fields.pop("body", None)
    if not isinstance(body, dict):
        msg = "body must be an object"
        raise SchemaError(msg)
    _check_fields(fields, _ENVELOPE, "envelope")
    spec = TYPES[str(fields["type"])]
    _check_fields(body, spec.body, str(fields["type"]))
    if not spec.relayable and fields["to"] == BROADCAST:
        msg = "only relayable messages may be addressed to everyone"
        raise SchemaError(msg)
    if spec.relayable and fields["to"] != BROADCAST:
        msg = "relayable messages are addressed to everyone"
        raise SchemaError(msg)
    lifetime = int(fields["expires"]) - int(fields["created"])  # type: ignore[arg-type]
    if not 0 < lifetime <= spec.max_lifetime:
        msg = f"lifetime must be within {spec.max_lifetime} s"
        raise SchemaError(msg)
    return spec, body, hops


def open_envelope(obj: JSON, *, now: int, hop_signer: tuple[str, bytes] | None = None) -> Envelope:
    """Check a parsed object's schema, signature and lifetime; return the envelope.

    hop_signer is (keyid, raw key) of a hop signature the caller has verified over exactly
    the canonical bytes obj was parsed from. When it is the originator itself, that hop
    signature already authenticates every byte of the envelope, so the envelope signature is
    not checked here (docs/protocol.md §5.1); the result has `verified = False` and must pass
    `verify_envelope` before the envelope is handed to anyone else (a relay).
    """
    if not isinstance(obj, dict):
        msg = "a message is an object"
        raise SchemaError(msg)
    _spec, body, hops = _check_envelope(obj)
    # The schema checked both are canonical base64url of the right size (Bin).
    sender_key = b64u_decode(str(obj["from_key"]), 32)
    sig = b64u_decode(str(obj["sig"]), 64)
    signed = {k: v for k, v in obj.items() if k not in {"sig", "unsigned"}}
    payload = canon(signed)
    direct = hop_signer is not None and obj["from"] == hop_signer[0] and sender_key == hop_signer[1]
    if not direct:
        if keyid(sender_key) != obj["from"]:
            msg = "from is not the fingerprint of from_key"
            raise ForgedOriginError(msg)
        _verify(sender_key, sig, payload)
    created, expires = int(obj["created"]), int(obj["expires"])  # type: ignore[arg-type]
    if created > now + CLOCK_SKEW or expires < now:
        msg = "message is not within its lifetime"
        raise MessageExpiredError(msg, server_time=now)
    return Envelope(
        str(obj["type"]),
        str(obj["id"]),
        str(obj["from"]),
        sender_key,
        str(obj["to"]),
        created,
        expires,
        body,
        sig,
        hops,
        hashlib.sha256(payload).hexdigest(),
        verified=not direct,
    )


def verify_envelope(envelope: Envelope) -> Envelope:
    """The envelope with its end-to-end signature checked; MessageSignatureError if bad."""
    if envelope.verified:
        return envelope
    _verify(envelope.sender_key, envelope.sig, canon(envelope.signed_part()))
    return replace(envelope, verified=True)


def _verify(sender_key: bytes, sig: bytes, payload: bytes) -> None:
    try:
        Ed25519PublicKey.from_public_bytes(sender_key).verify(sig, _DOMAIN + payload)
    except InvalidSignature as err:
        msg = "message signature does not verify"
        raise MessageSignatureError(msg) from err


def transition_statement(old_key: bytes, new_key: bytes, seq: int) -> bytes:
    """What the new key signs in a key transition (the old key signs the whole envelope)."""
    return KEY_TRANSITION_DOMAIN + canon(
        {"old_key": b64u(old_key), "new_key": b64u(new_key), "seq": seq}
    )
