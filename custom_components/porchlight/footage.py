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
import re
import secrets
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from homeassistant.components import persistent_notification
from homeassistant.core import callback
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.event import async_track_time_interval

from .consent.audit import AuditError
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
from .consent.rules import Ask, Rules, Why, judge, still_acceptable
from .consent.store import ConsentStoreError
from .const import DOMAIN
from .federation.node import OFFER
from .local_time import clip_link, clip_time, local_iso, when
from .recorder.index import ClipIndexError

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
OFFER_ISSUE: Final = "offer_undeliverable"


def signal_requests(entry_id: str) -> str:
    """Dispatcher signal: a request or share changed."""
    return f"{DOMAIN}_{entry_id}_requests"


def signal_pending(entry_id: str) -> str:
    """Dispatcher signal: a request is waiting for the owner (arg: its event data)."""
    return f"{DOMAIN}_{entry_id}_pending"


def _hold(request_id: str) -> str:
    return f"request:{request_id[:16]}"


def offer_issue_id(request_id: str) -> str:
    """The repair issue of a request whose offer could not be delivered."""
    return f"{OFFER_ISSUE}_{request_id[:16]}"


def _share_hold(share_id: str) -> str:
    return f"share:{share_id[:16]}"


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
    # One change to requests and shares at a time: an approval, a decline, a revocation,
    # housekeeping and judging all read a request, await, and write it back; interleaved,
    # one would overwrite another's outcome (a consent record lost, a decline undone).
    _changing: asyncio.Lock = field(default_factory=asyncio.Lock)
    _stopped: bool = False
    _timer: CALLBACK_TYPE | None = None

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
        """Checkpoint and close the audit log, close the store (blocking).

        Each is closed whatever happens to the others: a checkpoint the log refuses must not
        leave the consent store open behind an entry that failed to unload.
        """
        try:
            self.audit.checkpoint()
        finally:
            try:
                self.audit.close()
            finally:
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
        async with self._changing:
            if self._stopped:
                return  # unloading; the agency's outbox retries would be refused anyway
            try:
                request = await self._judge(envelope, origin, via)
            except AuditError, ConsentStoreError:
                # Nothing is held and nobody told: the request is as if it never came.
                _LOGGER.exception(
                    "Footage request %s could not be recorded", envelope.event_id[:12]
                )
                return
        if request is not None and request.state is RequestState.PENDING:
            self._announce(request)
        elif request is not None:
            _LOGGER.info("Footage request %s: %s (%s)", request.id[:12], request.state, request.why)

    async def _judge(
        self, envelope: Envelope, origin: Peer | None, via: Peer
    ) -> FootageRequest | None:
        if await self.hass.async_add_executor_job(self.store.request, envelope.event_id):
            return None  # the same request through another neighbor
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
        # Held only once the request is stored: a request that could not be recorded holds
        # nothing that housekeeping or a decline could never release.
        await self._hold_candidates(request)
        return request

    async def _candidates(self, request: FootageRequest) -> list[Candidate]:
        clips: list[Clip] = await self.hass.async_add_executor_job(
            self.recorder.index.clips, None, float(request.start), float(request.end)
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

    async def _hold_candidates(self, request: FootageRequest) -> None:
        for candidate in request.candidates:
            await self.hass.async_add_executor_job(
                self.recorder.index.hold, candidate.clip, _hold(request.id)
            )

    @callback
    def _announce(self, request: FootageRequest) -> None:
        """Tell the owner: notification, event entity (through the bus event), bus event."""
        # The agency wrote the name, case and reason: shown as text, never rendered. An
        # image in Markdown would load from the agency's server only in the homes that were
        # asked and are in the area, telling it exactly that.
        # Times in Home Assistant's time zone, worded as the media browser words them; each
        # clip links to a signed path that plays it (valid for a day, or until a restart,
        # after which the notification is made again).
        lines = [
            (
                f"**{plain(request.agency_name)}** asks for footage from {when(request.start)} "
                f"to {when(request.end)} ({self.hass.config.time_zone})."
            ),
            f"Case: {plain(request.case) or '—'}. Reason: {plain(request.reason)}",
            "",
        ]
        if request.candidates:
            lines.append("Matching clips (approve each one you want to share):")
            lines.extend(
                f"- {plain(c.camera)}, {when(c.start)} to {clip_time(c.end)}: "
                f"[play]({clip_link(self.hass, c.clip)}), clip id `{c.clip}`"
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

    async def async_settle(self) -> None:
        """Downloads a crash or stop cut off count as done (fail closed; at start-up)."""
        for share in await self.hass.async_add_executor_job(self.store.settle_interrupted):
            _LOGGER.warning(
                "A download of clip %s was cut off by a restart; it counts as downloaded",
                share.clip,
            )
            if share.state is ShareState.DOWNLOADED:
                await self._release_share(share)

    async def async_restore(self) -> None:
        """After a restart or reload: announce what is still waiting for the owner.

        Notifications are not kept across restarts. What expired meanwhile is closed first,
        and the owner's current rules apply to what waits: the reload after blocking an
        agency must not announce its requests again.
        """
        async with self._changing:
            await self._expire(self._now())
            waiting: list[FootageRequest] = []
            for request in await self.hass.async_add_executor_job(self.pending):
                # Only requests still waiting for a first decision: approvals stand.
                why = (
                    still_acceptable(_ask(request), self.settings.rules, request.received_at)
                    if request.state is RequestState.PENDING
                    else None
                )
                if why is not None:
                    await self._auto_decline(request, why)
                else:
                    waiting.append(request)
        for request in waiting:
            self._announce(request)

    async def _auto_decline(self, request: FootageRequest, why: Why) -> None:
        """A pending request the owner's rules now decline (changed options)."""
        closed = request.with_state(
            RequestState.AUTO_DECLINED, why=why.value, closed_at=self._now()
        )
        await self._log(
            "request_auto_declined",
            actor=request.agency,
            subject=request.id,
            data={"why": why.value, "clips": len(request.candidates)},
        )
        await self._put(closed)
        await self._release(closed)

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
    ) -> dict[str, JsonValueType]:
        """Approve clips: a consent record, a share and a capability link each; send the offer.

        The answer says where the offer stands after one delivery attempt: delivered,
        queued (tried again later) or failed (given up; see async_offer_settled).
        """
        async with self._changing:
            request, consents, expires, envelope = await self._approve(
                request_id, list(dict.fromkeys(clip_ids)), by
            )
        await self.federation.async_deliver()
        self._refresh_notification(request)
        entry = self.federation.node.offer_entry(envelope)
        delivery = "delivered" if entry is None else "failed" if entry.parked else "queued"
        return {
            "approved": [
                {"clip": c.clip, "record": c.record_hash, "expires": local_iso(expires)}
                for c in consents
            ],
            "delivery": delivery,
            "delivery_error": entry.last_error if entry is not None else "",
        }

    def delivery(self, request: FootageRequest) -> dict[str, str]:
        """Where the request's offers stand (none, queued, delivered or failed), and why."""
        entries = self.federation.node.offers(request.id)
        if parked := [e for e in entries if e.parked]:
            state, error = "failed", parked[0].last_error
        elif entries:
            state, error = "queued", entries[0].last_error
        else:
            state, error = ("delivered" if request.consents else "none"), ""
        return {"delivery": state, "delivery_error": error}

    async def async_offer_settled(self, request_id: str, error: str | None) -> None:
        """An offer was delivered, or given up: then the log and a repair issue say so.

        Every failure is logged: the audit log shows each attempt the owner made and how it
        ended. The issue stays until no offer of the request waits for a retry.
        """
        if error is None:
            self._tidy_offer_issues()
            async_dispatcher_send(self.hass, signal_requests(self.entry_id))
            return
        request = await self.hass.async_add_executor_job(self.store.request, request_id)
        agency = request.agency if request is not None else ""
        name = request.agency_name if request is not None and request.agency_name else agency
        # The issue first: a log that refuses the entry must not keep the owner uninformed.
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            offer_issue_id(request_id),
            is_fixable=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key=OFFER_ISSUE,
            translation_placeholders={
                "agency": plain(name),
                "request": request_id,
                "error": error,
            },
        )
        async_dispatcher_send(self.hass, signal_requests(self.entry_id))
        await self._log(
            "offer_undeliverable", actor=agency, subject=request_id, data={"error": error}
        )

    @callback
    def _tidy_offer_issues(self) -> None:
        """Remove the issues of requests with no offer left to retry (delivered, expired)."""
        now = self._now()
        node = self.federation.node
        done = [
            issue_id
            for (domain, issue_id), issue in ir.async_get(self.hass).issues.items()
            if domain == DOMAIN
            and issue_id.startswith(f"{OFFER_ISSUE}_")
            and not any(
                e.parked and e.expires >= now
                for e in node.offers((issue.translation_placeholders or {}).get("request", ""))
            )
        ]
        for issue_id in done:
            ir.async_delete_issue(self.hass, DOMAIN, issue_id)

    async def async_retry(self, request_id: str, by: str) -> dict[str, JsonValueType]:
        """Send the request's undelivered offers again (after the owner fixed the cause)."""
        node = self.federation.node
        async with self._changing:
            request = await self.hass.async_add_executor_job(self.store.request, request_id)
            if request is None:
                raise _error("unknown_request", request=request_id)
            parked = [e for e in node.offers(request_id) if e.parked]
            if not parked:
                raise _error("nothing_to_retry", request=request_id)
            agency = node.peers.get(request.agency)
            if agency is None or not agency.trusted:
                raise _error("agency_gone", request=request_id)
            try:
                await self._log(
                    "offer_retried", actor=by, subject=request_id, data={"offers": len(parked)}
                )
            except AuditError as err:
                raise _failed(err) from err
            node.retry_offers(request_id)
        await self.federation.async_deliver()
        return {**self.delivery(request), "offers": len(parked)}

    async def _approve(
        self, request_id: str, wanted: list[str], by: str
    ) -> tuple[FootageRequest, list[ConsentRecord], int, Envelope]:
        request, found = await self._approvable(request_id, wanted)
        endpoint = self.federation.share_endpoint(request.agency)
        now = self._now()
        expires = min(now + self.settings.share_hours * 3600, now + 7 * 86400)
        consents: list[ConsentRecord] = []
        shares: list[Share] = []
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
            token = secrets.token_urlsafe(32)
            consents.append(consent)
            shares.append(
                Share(
                    id=token_id(token),
                    request=request.id,
                    clip=clip.id,
                    consent=consent.record_hash,
                    created=now,
                    expires=expires,
                    max_downloads=self.settings.max_downloads,
                )
            )
            links.append((clip.id, f"{endpoint}{SHARE_PATH}/{token}", expires))
        # First the audit log: each consent, then the signed checkpoint the manifest names.
        # Should the log refuse, nothing else was written and no link exists: try again.
        try:
            for consent in consents:
                await self._log(
                    "clip_approved",
                    actor=by,
                    subject=request.id,
                    data={"clip": consent.clip, "record": consent.record_hash},
                )
            head = await self.hass.async_add_executor_job(self._checkpoint)
        except AuditError as err:
            raise _failed(err) from err
        body = offer_body(
            self.federation.node.identity,
            request=request,
            consents=consents,
            links=links,
            audit_head=head,
            now=now,
        )
        approved = request.with_state(
            RequestState.APPROVED, consents=request.consents + tuple(consents)
        )
        # Then the consent records, before the shares that depend on them (a download checks
        # both). A store that fails half way is undone: no share without its offer.
        try:
            await self._put(approved)
            for share in shares:
                await self._put_share(share)
                await self.hass.async_add_executor_job(
                    self.recorder.index.hold, share.clip, _share_hold(share.id)
                )
        except (ConsentStoreError, ClipIndexError) as err:
            await self._undo_approval(request, shares)
            raise _failed(err) from err
        envelope = self.federation.node.send(
            request.agency, "footage_offer", body, lifetime=expires - now, route=OFFER
        )
        return approved, consents, expires, envelope

    async def _approvable(
        self, request_id: str, wanted: list[str]
    ) -> tuple[FootageRequest, list[tuple[Clip, Candidate]]]:
        """The open request and each wanted clip, all checked before anything is written.

        An approval is all or nothing: one clip that cannot be shared refuses the lot.
        """
        request = await self._open_request(request_id)
        for clip_id in wanted:
            if request.candidate(clip_id) is None:
                raise _error("unknown_clip", request=request_id, clip=clip_id)
            if request.approved(clip_id) is not None:
                raise _error("already_approved", request=request_id, clip=clip_id)
        agency = self.federation.node.peers.get(request.agency)
        if agency is None or not agency.trusted:
            raise _error("agency_gone", request=request_id)
        found: list[tuple[Clip, Candidate]] = []
        for clip_id in wanted:
            clip = await self.hass.async_add_executor_job(self.recorder.index.clip, clip_id)
            candidate = request.candidate(clip_id)
            exists = clip is not None and await self.hass.async_add_executor_job(clip.path.exists)
            if clip is None or candidate is None or not exists:
                raise _error("clip_gone", request=request_id, clip=clip_id)
            found.append((clip, candidate))
        return request, found

    async def _undo_approval(self, before: FootageRequest, shares: list[Share]) -> None:
        """Best effort after a failed write: the request as it was, the new shares revoked."""
        try:
            await self._put(before)
            for share in shares:
                if await self.hass.async_add_executor_job(self.store.share, share.id):
                    await self._end_share(share.id, ShareState.REVOKED)
        except ConsentStoreError, ClipIndexError:
            # The tokens were never sent: even a share left behind opens for nobody.
            _LOGGER.exception("Could not undo a failed approval of request %s", before.id[:12])

    async def async_decline(self, request_id: str, by: str) -> None:
        """Decline what is left of a request; the agency is told nothing."""
        async with self._changing:
            request = await self._open_request(request_id)
            now = self._now()
            left = tuple(c.clip for c in request.candidates if request.approved(c.clip) is None)
            if request.state is RequestState.PENDING:
                request = request.with_state(
                    RequestState.DECLINED, closed_at=now, declined_clips=left
                )
            else:
                request = replace(request, closed_at=now, declined_clips=left)
            await self._log(
                "request_declined", actor=by, subject=request.id, data={"clips": len(left)}
            )
            await self._put(request)
            await self._release(request)
        persistent_notification.async_dismiss(self.hass, _notification_id(request.id))

    async def async_revoke(
        self, request_id: str, clip_ids: Iterable[str] | None, by: str
    ) -> tuple[int, list[str]]:
        """Withdraw consent for shares not downloaded yet.

        Without clip ids, every share of the request that still can be; with them, those
        clips, refused (nothing changed) if one of them was downloaded already. Returns how
        many were revoked and the clips found downloaded, before or meanwhile.
        """
        async with self._changing:
            shares = await self.hass.async_add_executor_job(self.store.shares, request_id)
            if not shares:
                raise _error("unknown_request", request=request_id)
            wanted = set(clip_ids) if clip_ids is not None else {s.clip for s in shares}
            chosen = [s for s in shares if s.clip in wanted]
            if unknown := wanted - {s.clip for s in chosen}:
                raise _error("unknown_clip", request=request_id, clip=min(unknown))
            downloaded = [s.clip for s in chosen if s.state is ShareState.DOWNLOADED]
            if downloaded and clip_ids is not None:
                raise _error("already_downloaded", request=request_id, clip=downloaded[0])
            revoked = 0
            for share in chosen:
                if share.state is not ShareState.OFFERED:
                    continue
                ended = await self._end_share(share.id, ShareState.REVOKED)
                if ended.state is ShareState.DOWNLOADED:  # its last byte went out meanwhile
                    downloaded.append(share.clip)
                if ended.state is not ShareState.REVOKED:
                    continue
                # A download in flight stops at its next chunk: consent holds until the
                # last byte.
                self.shares.stop(share.id)
                await self._log(
                    "share_revoked", actor=by, subject=request_id, data={"clip": share.clip}
                )
                revoked += 1
        return revoked, downloaded

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
        async with self._changing:
            if not self._stopped:
                await self._expire(self._now())

    async def async_stop(self) -> None:
        """No further housekeeping or judging; wait for the change under way (unload).

        Unload closes the store and the clip index next: a pass still running would find
        them closed half way.
        """
        self.stop_timer()
        async with self._changing:
            self._stopped = True

    @callback
    def stop_timer(self) -> None:
        """Cancel the housekeeping timer (idempotent; also when setup fails half way)."""
        if self._timer is not None:
            self._timer()
            self._timer = None

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
        self._tidy_offer_issues()

    def start_timer(self) -> None:
        """Run housekeeping every minute, until async_stop."""
        self._timer = async_track_time_interval(
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


def _ask(request: FootageRequest) -> Ask:
    """A stored request as the rules see it (its agency was trusted when it arrived)."""
    return Ask(
        agency=request.agency,
        agency_known=True,
        agency_trusted=True,
        case=request.case,
        area=request.area,
        start=request.start,
        end=request.end,
    )


_MARKDOWN: Final = re.compile(r"([\\`*_{}\[\]()#+\-.!|~>])")


def plain(text: str) -> str:
    """Text from elsewhere for a Markdown notification: shown as written, never rendered.

    Control characters and line breaks become spaces (one line stays one line), Markdown's
    punctuation is escaped with backslashes and HTML's with entities.
    """
    flat = "".join(" " if ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0 else ch for ch in text)  # noqa: PLR2004
    escaped = flat.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MARKDOWN.sub(r"\\\1", escaped)


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
        "start": local_iso(request.start),
        "end": local_iso(request.end),
        "expires": local_iso(request.expires),
        "clips": [shown_candidate(c) for c in request.candidates],
    }


def shown_candidate(candidate: Candidate) -> dict[str, Any]:
    """A matching clip for events and action responses: local ISO 8601 times."""
    return {
        "clip": candidate.clip,
        "camera": candidate.camera,
        "start": local_iso(candidate.start),
        "end": local_iso(candidate.end),
    }


def _failed(err: Exception) -> HomeAssistantError:
    """An approval the home could not record: nothing was shared."""
    _LOGGER.error("Approval not recorded: %s", err)
    return HomeAssistantError(
        translation_domain=DOMAIN,
        translation_key="approval_failed",
        translation_placeholders={"error": str(err)},
    )


def _error(key: str, **placeholders: str) -> ServiceValidationError:
    """A translated refusal of an owner's action, also written to the log."""
    _LOGGER.warning("Footage action refused: %s %s", key, placeholders)
    return ServiceValidationError(
        translation_domain=DOMAIN, translation_key=key, translation_placeholders=placeholders
    )
