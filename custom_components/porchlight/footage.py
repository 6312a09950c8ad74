"""The consent desk: footage requests as this home receives, judges and answers them.

Order of work for an incoming request (the invariants live here):
1. judge it (consent/rules.py): rejected, not in area and auto-declined requests end here,
   recorded at home and in the audit log, with no notification of any kind and nothing sent;
2. only then, for a pending request, hold the matching clips and tell the owner (persistent
   notification, the request event entity, the `porchlight_request` bus event);
3. the owner approves clips one by one (a consent record each) or declines; only approved
   clips get a capability link, sent in a signed offer with the evidence manifest;
4. a link serves its clip once (by default), until it expires or the owner revokes it.
Every outbound byte (messages, downloads) is written to the audit log before it leaves.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from homeassistant.components import persistent_notification
from homeassistant.core import callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.event import async_track_time_interval

from .consent.delivery import ShareServer
from .consent.offers import offer_body
from .consent.records import (
    Candidate,
    ConsentRecord,
    FootageRequest,
    RequestState,
    Share,
    ShareState,
    token_id,
)
from .consent.rules import Ask, Rules, judge
from .const import DOMAIN
from .federation.node import OFFER

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

    from homeassistant.core import CALLBACK_TYPE, HomeAssistant
    from homeassistant.util.json import JsonValueType

    from .consent.audit import AuditLog
    from .consent.store import ConsentStore
    from .federation.messages import Envelope
    from .federation.peers import Peer
    from .federation_glue import Federation
    from .recorder.models import Clip
    from .recording import HomeRecorder

_LOGGER = logging.getLogger(__name__)

EVENT_REQUEST: Final = f"{DOMAIN}_request"
SHARE_PATH: Final = "/share"
HOUSEKEEPING_INTERVAL: Final = timedelta(seconds=60)
DEFAULT_SHARE_HOURS: Final = 72
DEFAULT_MAX_DOWNLOADS: Final = 1


def signal_requests(entry_id: str) -> str:
    """Dispatcher signal: a request or share changed."""
    return f"{DOMAIN}_{entry_id}_requests"


def signal_pending(entry_id: str) -> str:
    """Dispatcher signal: a request is waiting for the owner (arg: its event data)."""
    return f"{DOMAIN}_{entry_id}_pending"


def _hold(request_id: str) -> str:
    return f"request:{request_id[:16]}"


def _share_hold(share_id: str) -> str:
    return f"share:{share_id[:16]}"


def _iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")


@dataclass(frozen=True, slots=True)
class DeskSettings:
    """The owner's choices for requests and shares."""

    rules: Rules = field(default_factory=Rules)
    share_hours: int = DEFAULT_SHARE_HOURS
    max_downloads: int = DEFAULT_MAX_DOWNLOADS


@dataclass(slots=True)
class FootageDesk:
    """Requests, consents and shares of one home."""

    hass: HomeAssistant
    entry_id: str
    store: ConsentStore
    audit: AuditLog
    federation: Federation
    recorder: HomeRecorder
    camera_names: dict[str, str]
    home: tuple[int, int]
    settings: DeskSettings
    shares: ShareServer = field(init=False)
    # One housekeeping pass at a time (the timer and a direct call must not interleave).
    _tidying: asyncio.Lock = field(default_factory=asyncio.Lock)

    def __post_init__(self) -> None:
        """Build the download side once: it tracks the downloads in flight."""
        self.shares = self.share_server()

    # --- helpers -----------------------------------------------------------------------------
    def _now(self) -> int:
        return self.federation.node.clock.now()

    async def _log(self, kind: str, **fields: Any) -> None:  # noqa: ANN401  # AuditLog.append's keywords
        await self.hass.async_add_executor_job(lambda: self.audit.append(kind, **fields))

    async def _put(self, request: FootageRequest) -> None:
        await self.hass.async_add_executor_job(self.store.put_request, request)
        async_dispatcher_send(self.hass, signal_requests(self.entry_id))

    async def _put_share(self, share: Share) -> None:
        await self.hass.async_add_executor_job(self.store.put_share, share)
        async_dispatcher_send(self.hass, signal_requests(self.entry_id))

    def _checkpoint(self) -> tuple[int, str]:
        """Sign a checkpoint of the audit log; the manifest names its head (blocking)."""
        return self.audit.checkpoint_head()

    def close(self) -> None:
        """Checkpoint and close the audit log, close the store (blocking)."""
        self.audit.checkpoint()
        self.audit.close()
        self.store.close()

    def pending(self) -> list[FootageRequest]:
        """Open requests waiting for the owner (blocking: reads the store)."""
        return [r for r in self.store.requests() if r.open]

    # --- receiving ---------------------------------------------------------------------------
    @callback
    def on_request(self, envelope: Envelope, origin: Peer | None, via: Peer) -> None:
        """The node accepted a footage request; judge it in the background."""
        self.hass.async_create_task(
            self.async_receive(envelope, origin, via), f"porchlight request {envelope.event_id}"
        )

    async def async_receive(self, envelope: Envelope, origin: Peer | None, via: Peer) -> None:
        """Judge a request, record it, and only if it is pending, tell the owner."""
        if await self.hass.async_add_executor_job(self.store.request, envelope.event_id):
            return  # the same request through another neighbor
        body = envelope.body
        now = self._now()
        ask = Ask(
            agency=envelope.sender,
            agency_known=origin is not None and origin.role == "agency",
            agency_trusted=origin is not None and origin.trusted and not origin.pending,
            case=str(body["case"]),
            area=body["area"],
            start=int(body["start"]),  # type: ignore[arg-type]  # schema: integers
            end=int(body["end"]),  # type: ignore[arg-type]
        )
        verdict = judge(ask, self.settings.rules, self.home, now)
        request = FootageRequest(
            id=envelope.event_id,
            agency=envelope.sender,
            agency_name=origin.name if origin is not None else "",
            via=via.keyid,
            case=ask.case,
            reason=str(body["reason"]),
            area=body["area"] if isinstance(body["area"], dict) else {},
            start=ask.start,
            end=ask.end,
            reply_to=str(body["reply_to"]),
            received_at=now,
            expires=envelope.expires,
            state=verdict.state,
            why=verdict.why.value if verdict.why is not None else "",
        )
        if verdict.state is RequestState.PENDING:
            request = replace(request, candidates=tuple(await self._candidates(request)))
        await self._log(
            "request_received", actor=envelope.sender, subject=request.id, data={"via": via.keyid}
        )
        await self._log(
            _VERDICT_KIND[request.state],
            actor=envelope.sender,
            subject=request.id,
            data={"why": request.why, "clips": len(request.candidates)},
        )
        await self._put(request)
        if verdict.state is RequestState.PENDING:
            self._announce(request)
        else:
            _LOGGER.info("Footage request %s: %s (%s)", request.id[:12], request.state, request.why)

    async def _candidates(self, request: FootageRequest) -> list[Candidate]:
        clips: list[Clip] = await self.hass.async_add_executor_job(
            self.recorder.index.clips, None, float(request.start), float(request.end)
        )
        for clip in clips:
            await self.hass.async_add_executor_job(
                self.recorder.index.hold, clip.id, _hold(request.id)
            )
        return [
            Candidate(
                clip.id,
                # Labels travel in the manifest, which takes at most 64 characters.
                self.camera_names.get(clip.camera, clip.camera)[:64],
                int(clip.start),
                int(clip.end + 0.999),
            )
            for clip in clips
        ]

    @callback
    def _announce(self, request: FootageRequest) -> None:
        """Tell the owner: notification, event entity (through the bus event), bus event."""
        lines = [
            (
                f"**{request.agency_name}** asks for footage from {_iso(request.start)} to "
                f"{_iso(request.end)} (UTC)."
            ),
            f"Case: {request.case or '—'}. Reason: {request.reason}",
            "",
        ]
        if request.candidates:
            lines.append("Matching clips (approve each one you want to share):")
            lines.extend(
                f"- `{c.clip}` {c.camera}, {_iso(c.start)} to {_iso(c.end)}"
                for c in request.candidates
            )
        else:
            lines.append("No recorded clip matches this window.")
        lines.append("")
        lines.append(
            f"Request id `{request.id}`: use the Porchlight actions *Approve clips* or "
            "*Decline request*. Until you approve a clip, nothing leaves your home."
        )
        persistent_notification.async_create(
            self.hass,
            "\n".join(lines),
            title="Footage request",
            notification_id=_notification_id(request.id),
        )
        data = request_event(request)
        async_dispatcher_send(self.hass, signal_pending(self.entry_id), data)
        self.hass.bus.async_fire(EVENT_REQUEST, data)

    async def async_restore(self) -> None:
        """After a restart: announce pending requests again (notifications are not kept)."""
        for request in await self.hass.async_add_executor_job(self.pending):
            self._announce(request)

    # --- the owner's decisions ---------------------------------------------------------------
    async def _open_request(self, request_id: str) -> FootageRequest:
        request = await self.hass.async_add_executor_job(self.store.request, request_id)
        if request is None:
            raise _error("unknown_request", request=request_id)
        if not request.open or request.expires < self._now():
            raise _error("request_not_open", request=request_id)
        return request

    async def async_approve(
        self, request_id: str, clip_ids: Iterable[str], by: str
    ) -> list[JsonValueType]:
        """Approve clips: a consent record, a share and a capability link each; send the offer."""
        request = await self._open_request(request_id)
        wanted = list(dict.fromkeys(clip_ids))
        for clip_id in wanted:
            if request.candidate(clip_id) is None:
                raise _error("unknown_clip", request=request_id, clip=clip_id)
            if request.approved(clip_id) is not None:
                raise _error("already_approved", request=request_id, clip=clip_id)
        agency = self.federation.node.peers.get(request.agency)
        if agency is None or not agency.trusted:
            raise _error("agency_gone", request=request_id)
        endpoint = self.federation.share_endpoint()
        now = self._now()
        expires = min(now + self.settings.share_hours * 3600, now + 7 * 86400)
        # Every clip is checked before anything is written: an approval is all or nothing.
        found: list[tuple[Clip, Candidate]] = []
        for clip_id in wanted:
            clip = await self.hass.async_add_executor_job(self.recorder.index.clip, clip_id)
            candidate = request.candidate(clip_id)
            exists = clip is not None and await self.hass.async_add_executor_job(clip.path.exists)
            if clip is None or candidate is None or not exists:
                raise _error("clip_gone", request=request_id, clip=clip_id)
            found.append((clip, candidate))
        consents: list[ConsentRecord] = []
        links: list[tuple[str, str, int]] = []
        for clip, candidate in found:
            consent = ConsentRecord(
                request=request.id,
                clip=clip.id,
                camera=candidate.camera,
                start=int(clip.start),
                end=int(clip.end + 0.999),
                sha256=clip.sha256,
                size=clip.size,
                approved_at=now,
                by=by[:64],  # the manifest's limit
            )
            # The consent record is written before anything that could let the clip out.
            await self._log(
                "clip_approved",
                actor=by,
                subject=request.id,
                data={"clip": clip.id, "record": consent.record_hash},
            )
            token = secrets.token_urlsafe(32)
            share = Share(
                id=token_id(token),
                request=request.id,
                clip=clip.id,
                consent=consent.record_hash,
                created=now,
                expires=expires,
                max_downloads=self.settings.max_downloads,
            )
            await self._put_share(share)
            await self.hass.async_add_executor_job(
                self.recorder.index.hold, clip.id, _share_hold(share.id)
            )
            consents.append(consent)
            links.append((clip.id, f"{endpoint}{SHARE_PATH}/{token}", expires))
        request = request.with_state(
            RequestState.APPROVED, consents=request.consents + tuple(consents)
        )
        await self._put(request)
        head = await self.hass.async_add_executor_job(self._checkpoint)
        body = offer_body(
            self.federation.node.identity,
            request=request,
            consents=consents,
            links=links,
            audit_head=head,
            now=now,
        )
        self.federation.node.send(
            request.agency, "footage_offer", body, lifetime=expires - now, route=OFFER
        )
        await self.federation.async_deliver()
        self._refresh_notification(request)
        return [{"clip": c.clip, "record": c.record_hash, "expires": expires} for c in consents]

    async def async_decline(self, request_id: str, by: str) -> None:
        """Decline what is left of a request; the agency is told nothing."""
        request = await self._open_request(request_id)
        now = self._now()
        left = tuple(c.clip for c in request.candidates if request.approved(c.clip) is None)
        if request.state is RequestState.PENDING:
            request = request.with_state(RequestState.DECLINED, closed_at=now, declined_clips=left)
        else:
            request = replace(request, closed_at=now, declined_clips=left)
        await self._log("request_declined", actor=by, subject=request.id, data={"clips": len(left)})
        await self._put(request)
        await self._release(request)
        persistent_notification.async_dismiss(self.hass, _notification_id(request.id))

    async def async_revoke(self, request_id: str, clip_ids: Iterable[str] | None, by: str) -> int:
        """Withdraw consent for shares not downloaded yet; return how many were revoked."""
        shares = await self.hass.async_add_executor_job(self.store.shares, request_id)
        if not shares:
            raise _error("unknown_request", request=request_id)
        wanted = set(clip_ids) if clip_ids is not None else {s.clip for s in shares}
        chosen = [s for s in shares if s.clip in wanted]
        if unknown := wanted - {s.clip for s in chosen}:
            raise _error("unknown_clip", request=request_id, clip=min(unknown))
        if done := [s for s in chosen if s.state is ShareState.DOWNLOADED]:
            raise _error("already_downloaded", request=request_id, clip=done[0].clip)
        revoked = 0
        downloaded_meanwhile: list[str] = []
        for share in chosen:
            if share.state is not ShareState.OFFERED:
                continue
            ended = await self._end_share(share.id, ShareState.REVOKED)
            if ended.state is ShareState.DOWNLOADED:  # its last byte went out meanwhile
                downloaded_meanwhile.append(share.clip)
            if ended.state is not ShareState.REVOKED:
                continue
            # A download in flight stops at its next chunk: consent holds until the last byte.
            self.shares.stop(share.id)
            await self._log(
                "share_revoked", actor=by, subject=request_id, data={"clip": share.clip}
            )
            revoked += 1
        if downloaded_meanwhile:
            raise _error("already_downloaded", request=request_id, clip=downloaded_meanwhile[0])
        return revoked

    async def _end_share(self, share_id: str, state: ShareState) -> Share:
        """End a share if it is still offered; returns it as stored now.

        Applied to the stored share in one step: a download may have used it up, or the
        owner revoked it, since it was read.
        """

        def end(share: Share) -> Share:
            return replace(share, state=state) if share.state is ShareState.OFFERED else share

        share = await self.hass.async_add_executor_job(self.store.change_share, share_id, end)
        async_dispatcher_send(self.hass, signal_requests(self.entry_id))
        if share.state is state:
            await self.hass.async_add_executor_job(
                self.recorder.index.release, share.clip, _share_hold(share.id)
            )
        return share

    async def _release(self, request: FootageRequest) -> None:
        for candidate in request.candidates:
            await self.hass.async_add_executor_job(
                self.recorder.index.release, candidate.clip, _hold(request.id)
            )

    @callback
    def _refresh_notification(self, request: FootageRequest) -> None:
        left = [c for c in request.candidates if request.approved(c.clip) is None]
        if not left:
            persistent_notification.async_dismiss(self.hass, _notification_id(request.id))

    # --- time --------------------------------------------------------------------------------
    async def async_housekeeping(self, _now: datetime | None = None) -> None:
        """Expire open requests and unused shares past their time; release their holds."""
        async with self._tidying:
            await self._expire(self._now())

    async def _expire(self, now: int) -> None:
        for stored in await self.hass.async_add_executor_job(self.store.requests):
            if stored.open and stored.expires < now:
                pending = stored.state is RequestState.PENDING
                closed = stored.with_state(
                    RequestState.EXPIRED if pending else stored.state, closed_at=now
                )
                await self._log("request_expired", subject=closed.id)
                await self._put(closed)
                await self._release(closed)
                persistent_notification.async_dismiss(self.hass, _notification_id(closed.id))
        for share in await self.hass.async_add_executor_job(self.store.shares, None):
            if (
                share.state is ShareState.OFFERED
                and share.expires < now
                and (await self._end_share(share.id, ShareState.EXPIRED)).state
                is ShareState.EXPIRED
            ):
                await self._log("share_expired", subject=share.request, data={"clip": share.clip})

    def start_timer(self) -> CALLBACK_TYPE:
        """Run housekeeping every minute; returns the cancel callback."""
        return async_track_time_interval(
            self.hass,
            self.async_housekeeping,
            HOUSEKEEPING_INTERVAL,
            name="porchlight requests",
            cancel_on_shutdown=True,
        )

    # --- downloads ---------------------------------------------------------------------------
    def share_server(self) -> ShareServer:
        """The download side, wired to this desk's store, log and clip index."""
        return ShareServer(
            self.store,
            self.audit,
            self.federation.node.clock,
            self._clip_path,
            self._release_share,
            lambda: async_dispatcher_send(self.hass, signal_requests(self.entry_id)),
        )

    def _clip_path(self, clip_id: str) -> Path | None:
        clip = self.recorder.index.clip(clip_id)
        return clip.path if clip is not None else None

    async def _release_share(self, share: Share) -> None:
        await self.hass.async_add_executor_job(
            self.recorder.index.release, share.clip, _share_hold(share.id)
        )


_VERDICT_KIND: Final = {
    RequestState.REJECTED: "request_rejected",
    RequestState.NOT_IN_AREA: "request_not_in_area",
    RequestState.AUTO_DECLINED: "request_auto_declined",
    RequestState.PENDING: "request_pending",
}


def _notification_id(request_id: str) -> str:
    return f"{DOMAIN}_request_{request_id[:16]}"


def request_event(request: FootageRequest) -> dict[str, Any]:
    """What automations and blueprints get about a pending request (never the area)."""
    return {
        "request_id": request.id,
        "agency": request.agency_name,
        "agency_fingerprint": "-".join(
            request.agency[i : i + 4] for i in range(0, len(request.agency), 4)
        ),
        "case": request.case,
        "reason": request.reason,
        "start": _iso(request.start),
        "end": _iso(request.end),
        "expires": _iso(request.expires),
        "clips": [c.to_json() for c in request.candidates],
    }


def _error(key: str, **placeholders: str) -> ServiceValidationError:
    """A translated refusal of an owner's action, also written to the log."""
    _LOGGER.warning("Footage action refused: %s %s", key, placeholders)
    return ServiceValidationError(
        translation_domain=DOMAIN, translation_key=key, translation_placeholders=placeholders
    )
