"""The records of the consent desk: requests, per-clip consents and shares.

One frozen dataclass per record, serialization beside it. Times are integer UTC seconds.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from custom_components.porchlight.federation.canonical import JSON, canon


class RequestState(StrEnum):
    """Where a footage request stands at this home."""

    REJECTED = "rejected"  # unknown or untrusted agency, invalid, beyond the hard limits
    NOT_IN_AREA = "not_in_area"
    AUTO_DECLINED = "auto_declined"  # an owner's rule declined it before any notification
    PENDING = "pending"  # waiting for the owner
    APPROVED = "approved"  # at least one clip approved (more may follow while open)
    DECLINED = "declined"
    EXPIRED = "expired"


# States in which the owner can still act on a request.
OPEN_STATES = frozenset({RequestState.PENDING, RequestState.APPROVED})


class ShareState(StrEnum):
    """Where one capability link stands."""

    OFFERED = "offered"
    DOWNLOADED = "downloaded"
    REVOKED = "revoked"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class Candidate:
    """A recorded clip that overlaps the requested window (only ever shown at home)."""

    clip: str
    camera: str
    start: int
    end: int

    def to_json(self) -> dict[str, Any]:
        """Serialize."""
        return {"clip": self.clip, "camera": self.camera, "start": self.start, "end": self.end}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Candidate:
        """Deserialize."""
        return cls(data["clip"], data["camera"], data["start"], data["end"])


@dataclass(frozen=True, slots=True)
class ConsentRecord:
    """The owner's approval of one clip for one request: the only thing that lets it leave.

    Its hash (over the canonical form of every field) goes into the evidence manifest and
    the audit log, so the agency's evidence and the owner's log point at the same decision.
    """

    request: str
    clip: str
    camera: str
    start: int
    end: int
    sha256: str
    size: int
    approved_at: int
    by: str

    def to_json(self) -> dict[str, JSON]:
        """Serialize (also the hashed form)."""
        return {
            "request": self.request,
            "clip": self.clip,
            "camera": self.camera,
            "start": self.start,
            "end": self.end,
            "sha256": self.sha256,
            "size": self.size,
            "approved_at": self.approved_at,
            "by": self.by,
        }

    @property
    def record_hash(self) -> str:
        """SHA-256 of the canonical record."""
        return hashlib.sha256(b"porchlight-consent-v1\n" + canon(self.to_json())).hexdigest()

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ConsentRecord:
        """Deserialize."""
        return cls(**data)


@dataclass(frozen=True, slots=True)
class FootageRequest:
    """A request as this home received and judged it."""

    id: str
    agency: str
    agency_name: str
    via: str
    case: str
    reason: str
    area: dict[str, JSON]
    start: int
    end: int
    reply_to: str
    received_at: int
    expires: int
    state: RequestState
    why: str = ""
    # The decline rule (an automation's, screening.py) that declined it: id and name.
    rule: str = ""
    rule_name: str = ""
    candidates: tuple[Candidate, ...] = ()
    consents: tuple[ConsentRecord, ...] = ()
    closed_at: int | None = None
    # Candidates the owner looked at and left out when closing the request.
    declined_clips: tuple[str, ...] = field(default=())

    @property
    def open(self) -> bool:
        """Whether the owner can still approve clips."""
        return self.state in OPEN_STATES and self.closed_at is None

    def approved(self, clip: str) -> ConsentRecord | None:
        """The consent record for clip, if the owner approved it."""
        return next((c for c in self.consents if c.clip == clip), None)

    def candidate(self, clip: str) -> Candidate | None:
        """The candidate with this clip id, if any."""
        return next((c for c in self.candidates if c.clip == clip), None)

    def with_state(self, state: RequestState, **changes: Any) -> FootageRequest:  # noqa: ANN401  # dataclass fields of several types
        """A copy in another state."""
        return replace(self, state=state, **changes)

    def to_json(self) -> dict[str, Any]:
        """Serialize for the store."""
        return {
            "id": self.id,
            "agency": self.agency,
            "agency_name": self.agency_name,
            "via": self.via,
            "case": self.case,
            "reason": self.reason,
            "area": self.area,
            "start": self.start,
            "end": self.end,
            "reply_to": self.reply_to,
            "received_at": self.received_at,
            "expires": self.expires,
            "state": self.state.value,
            "why": self.why,
            "rule": self.rule,
            "rule_name": self.rule_name,
            "candidates": [c.to_json() for c in self.candidates],
            "consents": [c.to_json() for c in self.consents],
            "closed_at": self.closed_at,
            "declined_clips": list(self.declined_clips),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FootageRequest:
        """Deserialize."""
        return cls(
            **{
                **data,
                "state": RequestState(data["state"]),
                "candidates": tuple(Candidate.from_json(c) for c in data["candidates"]),
                "consents": tuple(ConsentRecord.from_json(c) for c in data["consents"]),
                "declined_clips": tuple(data["declined_clips"]),
            }
        )


@dataclass(frozen=True, slots=True)
class AlertGrant:
    """The owner's consent to share clips of an alert with one directly paired neighbor.

    `id` is federation.evidence.alert_share_group(alert, neighbor): the shares of these clips
    are filed under it (Share.request) and the neighbor's manifest names it. One consent
    record per clip, made from the owner's explicit choice when posting the alert.
    """

    id: str
    alert: str
    neighbor: str
    consents: tuple[ConsentRecord, ...]

    def approved(self, clip: str) -> ConsentRecord | None:
        """The consent record for clip, if the owner shared it with this neighbor."""
        return next((c for c in self.consents if c.clip == clip), None)

    def to_json(self) -> dict[str, Any]:
        """Serialize for the store."""
        return {
            "id": self.id,
            "alert": self.alert,
            "neighbor": self.neighbor,
            "consents": [c.to_json() for c in self.consents],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AlertGrant:
        """Deserialize."""
        return cls(
            data["id"],
            data["alert"],
            data["neighbor"],
            tuple(ConsentRecord.from_json(c) for c in data["consents"]),
        )


@dataclass(frozen=True, slots=True)
class Share:
    """One capability link for one approved clip. The token itself is never stored.

    `id` is the SHA-256 of the token; a download looks the share up by hashing what it was
    given, so a stolen database yields no working link.
    """

    id: str
    request: str
    clip: str
    consent: str
    created: int
    expires: int
    state: ShareState = ShareState.OFFERED
    max_downloads: int = 1
    downloads: int = 0
    bytes_served: int = 0
    # Bytes towards the download under way: a download counts once a response delivered
    # the last byte or these reach the clip's size; they start again from 0 after it.
    partial: int = 0
    # Bytes a transfer reserved before its first byte left (written ahead, like the audit
    # log): a crash mid-transfer leaves them here, and the download then counts as done.
    in_flight: int = 0
    # When the last allowed download completed (the state became DOWNLOADED); None before,
    # for shares stored before this field, and for a download a crash cut off (when its
    # last byte left is not known).
    downloaded_at: int | None = None

    @property
    def usable(self) -> bool:
        """Whether a download may start (expiry is checked against the clock separately)."""
        return (
            self.state is ShareState.OFFERED
            and self.downloads < self.max_downloads
            and self.in_flight == 0
        )

    def serves_at(self, now: int) -> bool:
        """Whether a download may start now: usable and not past its expiry."""
        return self.usable and self.expires >= now

    def counted(self, sent: int, *, reached_end: bool, size: int, at: int | None = None) -> Share:
        """This share after a transfer of `sent` bytes ended (its reservation released).

        The state stands if the owner revoked the share or it expired meanwhile: a count
        never brings a share back.
        """
        partial = self.partial + sent
        complete = sent > 0 and (reached_end or partial >= size)
        downloads = self.downloads + (1 if complete else 0)
        state, downloaded_at = self.state, self.downloaded_at
        if state is ShareState.OFFERED and downloads >= self.max_downloads:
            state, downloaded_at = ShareState.DOWNLOADED, at
        return replace(
            self,
            state=state,
            downloaded_at=downloaded_at,
            downloads=downloads,
            bytes_served=self.bytes_served + sent,
            partial=0 if complete else partial,
            in_flight=0,
        )

    def to_json(self) -> dict[str, Any]:
        """Serialize for the store."""
        return {
            "id": self.id,
            "request": self.request,
            "clip": self.clip,
            "consent": self.consent,
            "created": self.created,
            "expires": self.expires,
            "state": self.state.value,
            "max_downloads": self.max_downloads,
            "downloads": self.downloads,
            "bytes_served": self.bytes_served,
            "partial": self.partial,
            "in_flight": self.in_flight,
            "downloaded_at": self.downloaded_at,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Share:
        """Deserialize."""
        return cls(**{**data, "state": ShareState(data["state"])})


def token_id(token: str) -> str:
    """The share id for a capability token."""
    return hashlib.sha256(token.encode("ascii")).hexdigest()
