"""The peers registry: whose keys this instance has pinned, and what it lets them do.

Identity is the key pinned at pairing (R2.1); nothing a peer sends later can change it except
a key transition signed by both the pinned key and its successor, and a revocation signed by
the pinned key itself. Neighbors are trusted once paired. Agencies are never trusted until the
owner says so; a neighbor's vouch for an agency is recorded and shown, but trusts nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Final, Literal

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .canonical import b64u, b64u_decode
from .errors import RevokedKeyError, UnknownKeyError
from .identity import grouped, keyid

if TYPE_CHECKING:
    from collections.abc import Iterator

type Role = Literal["neighbor", "agency"]

UNKNOWN_KEY: Final = "key is not pinned to any peer"


@dataclass(frozen=True, slots=True)
class Peer:
    """A paired instance: its pinned key, what it is, where it listens."""

    keyid: str
    public_key: bytes
    role: Role
    name: str
    endpoint: str
    paired_at: int
    trusted: bool
    key_seq: int = 0
    retired_keys: tuple[bytes, ...] = ()
    lan: bool = False
    pending: bool = False
    pairing_code: str = ""
    # The endpoint of ours this peer was given (in our invite or our pairing request): the
    # address it knows works, and so the base of the download links it gets. Empty for an
    # agency imported one-sided (told nothing) and for peers paired before it was kept.
    told: str = ""

    @property
    def knows_us(self) -> bool:
        """Whether this peer was told of this home: paired with it, not imported one-sided.

        A one-sided agency must never hear from the home unprompted: a map or a digest would
        tell it the home exists, which importing was meant to keep from it. Peers paired
        before `told` was kept count as not told, the safe side.
        """
        return bool(self.told)

    @property
    def fingerprint(self) -> str:
        """The grouped fingerprint owners compare."""
        return grouped(self.keyid)

    def to_json(self) -> dict[str, Any]:
        """Serialize for storage."""
        return {
            "keyid": self.keyid,
            "public_key": b64u(self.public_key),
            "role": self.role,
            "name": self.name,
            "endpoint": self.endpoint,
            "paired_at": self.paired_at,
            "trusted": self.trusted,
            "key_seq": self.key_seq,
            "retired_keys": [b64u(k) for k in self.retired_keys],
            "lan": self.lan,
            "pending": self.pending,
            "pairing_code": self.pairing_code,
            "told": self.told,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Peer:
        """Deserialize from storage."""
        return cls(
            keyid=data["keyid"],
            public_key=b64u_decode(data["public_key"], 32),
            role=data["role"],
            name=data["name"],
            endpoint=data["endpoint"],
            paired_at=data["paired_at"],
            trusted=data["trusted"],
            key_seq=data["key_seq"],
            retired_keys=tuple(b64u_decode(k, 32) for k in data["retired_keys"]),
            # Peers stored before R2.7/R3.3 were paired without either: active, not LAN.
            lan=data.get("lan", False),
            pending=data.get("pending", False),
            pairing_code=data.get("pairing_code", ""),
            told=data.get("told", ""),
        )


@dataclass(frozen=True, slots=True)
class Vouch:
    """A neighbor's statement that an agency key is genuine. Shown, never trusting."""

    agency: str
    agency_key: bytes
    name: str
    by: str
    at: int

    def to_json(self) -> dict[str, Any]:
        """Serialize for storage."""
        return {
            "agency": self.agency,
            "agency_key": b64u(self.agency_key),
            "name": self.name,
            "by": self.by,
            "at": self.at,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Vouch:
        """Deserialize from storage."""
        return cls(
            data["agency"],
            b64u_decode(data["agency_key"], 32),
            data["name"],
            data["by"],
            data["at"],
        )


class PeerRegistry:
    """Pinned peers by keyid, revoked keys, and vouches; lookups cost one dict access."""

    def __init__(self) -> None:
        """Start empty."""
        self._peers: dict[str, Peer] = {}
        self._keys: dict[str, Ed25519PublicKey] = {}
        self.revoked: dict[str, int] = {}
        self.vouches: list[Vouch] = []

    def __iter__(self) -> Iterator[Peer]:
        """Iterate over peers."""
        return iter(list(self._peers.values()))

    def __len__(self) -> int:
        """Number of peers."""
        return len(self._peers)

    def get(self, key_id: str) -> Peer | None:
        """The peer pinned to key_id, if any."""
        return self._peers.get(key_id)

    def knows(self, key_id: str) -> bool:
        """Whether key_id is pinned or was revoked (either deserves more than 'unknown')."""
        return key_id in self._peers or key_id in self.revoked

    def resolve(self, key_id: str) -> tuple[Peer, Ed25519PublicKey]:
        """The peer and its verification key; UnknownKeyError or RevokedKeyError otherwise."""
        peer = self._peers.get(key_id)
        if peer is None:
            if key_id in self.revoked:
                msg = "this key was revoked by its owner"
                raise RevokedKeyError(msg)
            raise UnknownKeyError(UNKNOWN_KEY)
        return peer, self._keys[key_id]

    def add(self, peer: Peer) -> None:
        """Pin a peer (re-pairing replaces the record of the same key).

        A revoked key is never pinned again (RevokedKeyError): its owner declared it lost,
        so whoever presents it now may be the thief. Re-pairing takes a new key.
        """
        if peer.keyid in self.revoked:
            msg = "this key was revoked by its owner"
            raise RevokedKeyError(msg)
        self._peers[peer.keyid] = peer
        self._keys[peer.keyid] = Ed25519PublicKey.from_public_bytes(peer.public_key)

    def remove(self, key_id: str) -> Peer | None:
        """Forget a peer; return it if it was known."""
        self._keys.pop(key_id, None)
        return self._peers.pop(key_id, None)

    def set_trusted(self, key_id: str, *, trusted: bool) -> Peer:
        """Trust or untrust an agency; UnknownKeyError if it is not paired."""
        peer, _ = self.resolve(key_id)
        updated = replace(peer, trusted=trusted)
        self._peers[key_id] = updated
        return updated

    def confirm(self, key_id: str) -> Peer:
        """The owner compared the pairing code: the peer becomes active (R3.3)."""
        peer, _ = self.resolve(key_id)
        updated = replace(peer, pending=False)
        self._peers[key_id] = updated
        return updated

    def rotate(self, key_id: str, new_key: bytes, seq: int) -> Peer:
        """Move a peer to its new key; the old key is kept (retired) for old signatures."""
        peer = self._peers.pop(key_id)
        self._keys.pop(key_id)
        rotated = replace(
            peer,
            keyid=keyid(new_key),
            public_key=new_key,
            key_seq=seq,
            retired_keys=(*peer.retired_keys, peer.public_key),
        )
        self.add(rotated)
        return rotated

    def successor(self, key_id: str) -> Peer | None:
        """The peer that retired key_id for the key pinned now, if any (a key_transition).

        What the owner's side keeps by keyid (a mute, a repair issue) follows the peer to its
        new key through this: a neighbor must not shed either by rotating.
        """
        for peer in self._peers.values():
            if any(keyid(old) == key_id for old in peer.retired_keys):
                return peer
        return None

    def revoke(self, key_id: str, now: int) -> Peer | None:
        """Mark a key revoked; its peer is dropped and must pair again in person."""
        self.revoked[key_id] = now
        return self.remove(key_id)

    def neighbors(self) -> list[Peer]:
        """Paired neighbors."""
        return [p for p in self._peers.values() if p.role == "neighbor"]

    def active_neighbors(self) -> list[Peer]:
        """Paired neighbors whose pairing the owner confirmed: the only ones alerts go to."""
        return [p for p in self._peers.values() if p.role == "neighbor" and not p.pending]

    def agencies(self) -> list[Peer]:
        """Imported agencies, trusted or not."""
        return [p for p in self._peers.values() if p.role == "agency"]

    def to_json(self) -> dict[str, Any]:
        """Serialize for storage."""
        return {
            "peers": [p.to_json() for p in self._peers.values()],
            "revoked": dict(self.revoked),
            "vouches": [v.to_json() for v in self.vouches],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PeerRegistry:
        """Deserialize from storage."""
        registry = cls()
        for peer in data["peers"]:
            registry.add(Peer.from_json(peer))
        registry.revoked = dict(data["revoked"])
        registry.vouches = [Vouch.from_json(v) for v in data["vouches"]]
        return registry
