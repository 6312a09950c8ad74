"""The consent desk: footage requests as this home receives, judges and answers them.

Order of work for an incoming request (the invariants live here):
1. judge it (rules.py): rejected, not in area and auto-declined requests end here, recorded at
   home and in the audit log, with no announcement of any kind and nothing sent;
2. only then, for a pending request, hold the matching clips and tell the owner
   (Owner.announce: on Home Assistant a persistent notification, the request event entity,
   the `porchlight_request` bus event);
3. the owner approves clips one by one (a consent record each, in the audit log before any
   link exists) or declines; only approved clips get a capability link, sent in a signed
   offer with the evidence manifest;
4. a link serves its clip once (by default), until it expires or the owner revokes it.
Every outbound byte (messages, downloads) is written to the audit log before it leaves.

No Home Assistant imports: the desk talks to the outside through ports.py, and its refusals
are errors.py's (Home Assistant's side translates them).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from dataclasses import dataclass, field, replace
from functools import partial
from typing import TYPE_CHECKING, Any, Final

from custom_components.porchlight.federation.evidence import alert_share_group, sign_manifest
from custom_components.porchlight.federation.geo import area_from_json, area_sq_mi
from custom_components.porchlight.federation.node import OFFER
from custom_components.porchlight.recordings.index import ClipIndexError

from .audit import AuditError
from .delivery import ShareServer
from .errors import NotRecordedError, RefusedError
from .offers import clip_evidence, offer_body
from .records import (
    AlertGrant,
    Candidate,
    ConsentRecord,
    FootageRequest,
    RequestState,
    Share,
    ShareState,
    token_id,
)
from .rules import Ask, Rules, Verdict, Why, judge, still_acceptable
from .screening import NoRules, Screening
from .store import ConsentStoreError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from datetime import datetime
    from pathlib import Path

    from custom_components.porchlight.federation.canonical import JSON
    from custom_components.porchlight.federation.messages import Envelope
    from custom_components.porchlight.federation.node import Node
    from custom_components.porchlight.federation.peers import Peer
    from custom_components.porchlight.recordings.index import ClipIndex
    from custom_components.porchlight.recordings.models import Clip

    from .audit import AuditLog
    from .ports import Outgoing, Owner, RunBlocking, StartTask
    from .store import ConsentStore

_LOGGER = logging.getLogger(__name__)

SHARE_PATH: Final = "/share"
DEFAULT_SHARE_HOURS: Final = 72
DEFAULT_MAX_DOWNLOADS: Final = 1


def _hold(request_id: str) -> str:
    return f"request:{request_id[:16]}"


def _share_hold(share_id: str) -> str:
    return f"share:{share_id[:16]}"


@dataclass(frozen=True, slots=True)
class DeskSettings:
    """The owner's choices for requests and shares."""

    rules: Rules = field(default_factory=Rules)
    share_hours: int = DEFAULT_SHARE_HOURS
    max_downloads: int = DEFAULT_MAX_DOWNLOADS


@dataclass(frozen=True, slots=True)
class Delivery:
    """Where a request's offers stand (none, queued, delivered or failed), and why."""

    state: str
    error: str = ""

    def to_json(self) -> dict[str, str]:
        """As the actions answer it."""
        return {"delivery": self.state, "delivery_error": self.error}


@dataclass(frozen=True, slots=True)
class Approval:
    """The consent records an approval wrote, their links' expiry, and where the offer stands."""

    consents: tuple[ConsentRecord, ...]
    expires: int
    delivery: Delivery


@dataclass(slots=True)
class ConsentDesk:
    """Requests, consents and shares of one home."""

    store: ConsentStore
    audit: AuditLog
    node: Node
    outgoing: Outgoing
    index: ClipIndex
    camera_names: dict[str, str]
    # The home's location in micro-degrees: compared with request areas, never sent anywhere.
    home: tuple[int, int]
    settings: DeskSettings
    owner: Owner
    run_blocking: RunBlocking
    start_task: StartTask
    # The decline rules automations wrote (screening.py), judged with each arriving request.
    screening: Screening = field(default_factory=NoRules)
    shares: ShareServer = field(init=False)
    # One change to requests and shares at a time: an approval, a decline, a revocation,
    # housekeeping and judging all read a request, await, and write it back; interleaved,
    # one would overwrite another's outcome (a consent record lost, a decline undone).
    _changing: asyncio.Lock = field(default_factory=asyncio.Lock)
    _stopped: bool = False

    def __post_init__(self) -> None:
        """Build the download side once: it tracks the downloads in flight."""
        self.shares = self.share_server()

    # --- helpers -----------------------------------------------------------------------------
    def _now(self) -> int:
        # The node's clock, read each time: what the protocol stamps and checks is what the
        # desk compares with, also after the clock was replaced.
        return self.node.clock.now()

    async def _log(self, kind: str, **fields: Any) -> None:  # noqa: ANN401  # AuditLog.append's keywords
        await self.run_blocking(lambda: self.audit.append(kind, **fields))

    async def _put(self, request: FootageRequest) -> None:
        await self.run_blocking(self.store.put_request, request)
        self.owner.changed()

    async def _put_share(self, share: Share) -> None:
        await self.run_blocking(self.store.put_share, share)
        self.owner.changed()

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
    def on_request(self, envelope: Envelope, origin: Peer | None, via: Peer) -> None:
        """The node accepted a footage request; judge it in the background (in the loop)."""
        self.start_task(
            self.async_receive(envelope, origin, via), f"porchlight request {envelope.event_id}"
        )

    async def async_receive(self, envelope: Envelope, origin: Peer | None, via: Peer) -> None:
        """Judge a request, record it, and only if it is pending, tell the owner."""
        async with self._changing:
            if self._stopped:
                return  # unloading; the agency's outbox retries would be refused anyway
            try:
                request = await self._judge(envelope, origin, via)
            except AuditError, ConsentStoreError, ClipIndexError:
                # Nothing is held and nobody told: the request is as if it never came.
                _LOGGER.exception(
                    "Footage request %s could not be recorded", envelope.event_id[:12]
                )
                return
        if request is not None and request.state is RequestState.PENDING:
            self.owner.announce(request)
        elif request is not None:
            _LOGGER.info("Footage request %s: %s (%s)", request.id[:12], request.state, request.why)

    async def _judge(
        self, envelope: Envelope, origin: Peer | None, via: Peer
    ) -> FootageRequest | None:
        if await self.run_blocking(self.store.request, envelope.event_id):
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
            agency_name=origin.name if origin is not None else "",
        )
        verdict = judge(ask, self.settings.rules, self.home, now)
        # The automations' rules in the same step, before anything is held or announced:
        # whatever order automations and this desk run in, a request a rule declines is
        # never shown (docs/automations.md).
        match = (
            self.screening.decline(ask, area_sq_mi(area_from_json(ask.area)), now)
            if verdict.state is RequestState.PENDING
            else None
        )
        if match is not None:
            verdict = Verdict(RequestState.AUTO_DECLINED, match.why)
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
            rule=match.rule_id if match is not None else "",
            rule_name=match.rule_name if match is not None else "",
        )
        if verdict.state is RequestState.PENDING:
            request = replace(request, candidates=tuple(await self._candidates(request)))
        await self._log(
            "request_received", actor=envelope.sender, subject=request.id, data={"via": via.keyid}
        )
        verdict_data: dict[str, Any] = {"why": request.why, "clips": len(request.candidates)}
        if request.rule:
            verdict_data |= {"rule": request.rule, "rule_name": request.rule_name}
        await self._log(
            _VERDICT_KIND[request.state],
            actor=envelope.sender,
            subject=request.id,
            data=verdict_data,
        )
        await self._put(request)
        # Held only once the request is stored: a request that could not be recorded holds
        # nothing that housekeeping or a decline could never release.
        try:
            await self._hold_candidates(request)
        except ClipIndexError:
            # Stored, so the agency's resend would be a duplicate: the owner is told anyway.
            # A clip pruned before the owner decides is refused as gone; nothing is shared
            # without consent either way.
            _LOGGER.exception(
                "The clips of footage request %s could not be held; retention may delete them"
                " before you decide",
                request.id[:12],
            )
        return request

    async def _candidates(self, request: FootageRequest) -> list[Candidate]:
        clips: list[Clip] = await self.run_blocking(
            self.index.clips, None, float(request.start), float(request.end)
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
            await self.run_blocking(self.index.hold, candidate.clip, _hold(request.id))

    async def async_settle(self) -> None:
        """Downloads a crash or stop cut off count as done (fail closed; at start-up)."""
        for share in await self.run_blocking(self.store.settle_interrupted):
            _LOGGER.warning(
                "A download of clip %s was cut off by a restart; it counts as downloaded",
                share.clip,
            )
            if share.state is ShareState.DOWNLOADED:
                await self._release_share(share)

    async def async_restore(self) -> None:
        """After a restart or reload: announce what is still waiting for the owner.

        Announcements are not kept across restarts. What expired meanwhile is closed first,
        and the owner's current rules apply to what waits: the reload after blocking an
        agency must not announce its requests again.
        """
        async with self._changing:
            await self._expire(self._now())
            waiting: list[FootageRequest] = []
            for request in await self.run_blocking(self.pending):
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
            self.owner.announce(request)

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
        self.owner.decided(closed)

    # --- the owner's decisions ---------------------------------------------------------------
    async def _open_request(self, request_id: str) -> FootageRequest:
        request = await self.run_blocking(self.store.request, request_id)
        if request is None:
            raise _refused("unknown_request", request=request_id)
        if not request.open or request.expires < self._now():
            raise _refused("request_not_open", request=request_id)
        return request

    async def async_approve(self, request_id: str, clip_ids: Iterable[str], by: str) -> Approval:
        """Approve clips: a consent record, a share and a capability link each; send the offer.

        The answer says where the offer stands after one delivery attempt: delivered,
        queued (tried again later) or failed (given up; see async_offer_settled). Raises
        RefusedError (nothing changed) or NotRecordedError (nothing shared).
        """
        async with self._changing:
            request, consents, expires, envelope = await self._approve(
                request_id, list(dict.fromkeys(clip_ids)), by
            )
        self.owner.decided(request)
        await self.outgoing.async_deliver()
        self._withdraw_if_decided(request)
        entry = self.node.offer_entry(envelope)
        state = "delivered" if entry is None else "failed" if entry.parked else "queued"
        return Approval(
            consents=tuple(consents),
            expires=expires,
            delivery=Delivery(state, entry.last_error if entry is not None else ""),
        )

    def delivery(self, request: FootageRequest) -> Delivery:
        """Where the request's offers stand (none, queued, delivered or failed), and why."""
        entries = self.node.offers(request.id)
        if parked := [e for e in entries if e.parked]:
            return Delivery("failed", parked[0].last_error)
        if entries:
            return Delivery("queued", entries[0].last_error)
        return Delivery("delivered" if request.consents else "none")

    async def async_offer_settled(self, request_id: str, error: str | None) -> None:
        """An offer was delivered, or given up: then the log and the owner are told so.

        Every failure is logged: the audit log shows each attempt the owner made and how it
        ended. The owner's notice stays until no offer of the request waits for a retry.
        """
        if error is None:
            self._offers_settled()
            self.owner.changed()
            return
        request = await self.run_blocking(self.store.request, request_id)
        agency = request.agency if request is not None else ""
        name = request.agency_name if request is not None and request.agency_name else agency
        # The owner first: a log that refuses the entry must not keep the owner uninformed.
        self.owner.offer_failed(request_id, name, error)
        self.owner.changed()
        await self._log(
            "offer_undeliverable", actor=agency, subject=request_id, data={"error": error}
        )

    def _offers_settled(self) -> None:
        """Tell the owner which requests have no offer left to retry (delivered, expired)."""
        now = self._now()

        def still_failed(request_id: str) -> bool:
            return any(e.parked and e.expires >= now for e in self.node.offers(request_id))

        self.owner.offers_settled(still_failed)

    async def async_retry(self, request_id: str, by: str) -> tuple[Delivery, int]:
        """Send the request's undelivered offers again (after the owner fixed the cause).

        Returns where its offers stand then, and how many were sent again.
        """
        async with self._changing:
            request = await self.run_blocking(self.store.request, request_id)
            if request is None:
                raise _refused("unknown_request", request=request_id)
            parked = [e for e in self.node.offers(request_id) if e.parked]
            if not parked:
                raise _refused("nothing_to_retry", request=request_id)
            agency = self.node.peers.get(request.agency)
            if agency is None or not agency.trusted:
                raise _refused("agency_gone", request=request_id)
            try:
                await self._log(
                    "offer_retried", actor=by, subject=request_id, data={"offers": len(parked)}
                )
            except AuditError as err:
                raise _not_recorded(err) from err
            self.node.retry_offers(request_id)
        await self.outgoing.async_deliver()
        return self.delivery(request), len(parked)

    async def _approve(
        self, request_id: str, wanted: list[str], by: str
    ) -> tuple[FootageRequest, list[ConsentRecord], int, Envelope]:
        request, found = await self._approvable(request_id, wanted)
        endpoint = self.outgoing.share_endpoint(request.agency)
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
            head = await self.run_blocking(self._checkpoint)
        except AuditError as err:
            raise _not_recorded(err) from err
        body = offer_body(
            self.node.identity,
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
                await self.run_blocking(self.index.hold, share.clip, _share_hold(share.id))
        except (ConsentStoreError, ClipIndexError) as err:
            await self._undo_approval(request, shares)
            raise _not_recorded(err) from err
        envelope = self.node.send(
            request.agency, "footage_offer", body, lifetime=expires - now, route=OFFER
        )
        return approved, consents, expires, envelope

    # --- clips in alerts ----------------------------------------------------------------------
    async def async_alert_clips(self, clip_ids: Iterable[str]) -> list[Clip]:
        """The clips an owner wants to attach to an alert, each checked before anything is sent.

        Refused (RefusedError "unknown_alert_clip") for a clip not in the index or whose file
        is gone: then the alert is not posted either.
        """
        found: list[Clip] = []
        for clip_id in dict.fromkeys(clip_ids):
            clip = await self.run_blocking(self.index.clip, clip_id)
            if clip is None or not await self.run_blocking(clip.path.exists):
                raise _refused("unknown_alert_clip", clip=clip_id)
            found.append(clip)
        return found

    async def async_share_alert_clips(
        self, alert: str, clips: list[Clip], neighbors: list[str], by: str
    ) -> list[tuple[str, str]]:
        """Share an alert's clips with each directly paired neighbor: one `alert_clips` each.

        Per (clip, neighbor) a consent record (in the audit log before any link exists) and a
        single-use, expiring share of its own, revocable like an agency's until downloaded.
        Returns (neighbor, share group) pairs: the group is what revoke_share takes.
        """
        async with self._changing:
            now = self._now()
            expires = min(now + self.settings.share_hours * 3600, now + 7 * 86400)
            planned = [
                self._alert_grant(alert, clips, neighbor, by, (now, expires))
                for neighbor in neighbors
            ]
            try:
                for grant, _, _ in planned:
                    for consent in grant.consents:
                        await self._log(
                            "alert_clip_shared",
                            actor=by,
                            subject=grant.id,
                            data={
                                "alert": alert,
                                "neighbor": grant.neighbor,
                                "clip": consent.clip,
                                "record": consent.record_hash,
                            },
                        )
                head = await self.run_blocking(self._checkpoint)
            except AuditError as err:
                raise _not_recorded(err, "alert_clips_failed", "Alert clips") from err
            made: list[Share] = []
            try:
                for grant, shares, _ in planned:
                    await self.run_blocking(self.store.put_grant, grant)
                    for share in shares:
                        await self._put_share(share)
                        made.append(share)
                        await self.run_blocking(self.index.hold, share.clip, _share_hold(share.id))
            except (ConsentStoreError, ClipIndexError) as err:
                for share in made:  # the links were never sent: none may open
                    await self._end_share(share.id, ShareState.REVOKED)
                raise _not_recorded(err, "alert_clips_failed", "Alert clips") from err
            for grant, _, links in planned:
                manifest = sign_manifest(
                    self.node.identity,
                    agency=grant.neighbor,
                    request=grant.id,
                    case="",
                    created=now,
                    audit=head,
                    clips=[clip_evidence(c) for c in grant.consents],
                )
                body: dict[str, JSON] = {
                    "alert": alert,
                    "manifest": manifest.to_json(),
                    "links": [{"clip": c, "url": u, "expires": e} for c, u, e in links],
                }
                self.node.send(grant.neighbor, "alert_clips", body, lifetime=expires - now)
        self.owner.changed()
        return [(grant.neighbor, grant.id) for grant, _, _ in planned]

    def _alert_grant(
        self, alert: str, clips: list[Clip], neighbor: str, by: str, times: tuple[int, int]
    ) -> tuple[AlertGrant, list[Share], list[tuple[str, str, int]]]:
        """One neighbor's consent records, shares and links for an alert's clips (not stored)."""
        now, expires = times
        group = alert_share_group(alert, neighbor)
        endpoint = self.outgoing.share_endpoint(neighbor)
        consents: list[ConsentRecord] = []
        shares: list[Share] = []
        links: list[tuple[str, str, int]] = []
        for clip in clips:
            consent = ConsentRecord(
                request=group,
                clip=clip.id,
                camera=self.camera_names.get(clip.camera, clip.camera)[:64],
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
                    request=group,
                    clip=clip.id,
                    consent=consent.record_hash,
                    created=now,
                    expires=expires,
                    max_downloads=self.settings.max_downloads,
                )
            )
            links.append((clip.id, f"{endpoint}{SHARE_PATH}/{token}", expires))
        return AlertGrant(group, alert, neighbor, tuple(consents)), shares, links

    async def _approvable(
        self, request_id: str, wanted: list[str]
    ) -> tuple[FootageRequest, list[tuple[Clip, Candidate]]]:
        """The open request and each wanted clip, all checked before anything is written.

        An approval is all or nothing: one clip that cannot be shared refuses the lot.
        """
        request = await self._open_request(request_id)
        for clip_id in wanted:
            if request.candidate(clip_id) is None:
                raise _refused("unknown_clip", request=request_id, clip=clip_id)
            if request.approved(clip_id) is not None:
                raise _refused("already_approved", request=request_id, clip=clip_id)
        agency = self.node.peers.get(request.agency)
        if agency is None or not agency.trusted:
            raise _refused("agency_gone", request=request_id)
        found: list[tuple[Clip, Candidate]] = []
        for clip_id in wanted:
            clip = await self.run_blocking(self.index.clip, clip_id)
            candidate = request.candidate(clip_id)
            exists = clip is not None and await self.run_blocking(clip.path.exists)
            if clip is None or candidate is None or not exists:
                raise _refused("clip_gone", request=request_id, clip=clip_id)
            found.append((clip, candidate))
        return request, found

    async def _undo_approval(self, before: FootageRequest, shares: list[Share]) -> None:
        """Best effort after a failed write: the request as it was, the new shares revoked."""
        try:
            await self._put(before)
            for share in shares:
                if await self.run_blocking(self.store.share, share.id):
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
            # First the audit log, then the store: a decline either side refuses leaves the
            # request open (a log entry without its decline at worst): try again.
            try:
                await self._log(
                    "request_declined", actor=by, subject=request.id, data={"clips": len(left)}
                )
                await self._put(request)
            except (AuditError, ConsentStoreError) as err:
                raise _not_recorded(err, "decline_failed", "Decline") from err
            await self._release(request)
        self.owner.decided(request)
        self.owner.withdraw(request.id)

    async def async_revoke(
        self, request_id: str, clip_ids: Iterable[str] | None, by: str
    ) -> tuple[int, list[str]]:
        """Withdraw consent for shares not downloaded yet.

        Without clip ids, every share of the request that still can be; with them, those
        clips, refused (nothing changed) if one of them was downloaded already. Returns how
        many were revoked and the clips found downloaded, before or meanwhile.
        """
        async with self._changing:
            shares = await self.run_blocking(self.store.shares, request_id)
            if not shares:
                raise _refused("unknown_request", request=request_id)
            wanted = set(clip_ids) if clip_ids is not None else {s.clip for s in shares}
            chosen = [s for s in shares if s.clip in wanted]
            if unknown := wanted - {s.clip for s in chosen}:
                raise _refused("unknown_clip", request=request_id, clip=min(unknown))
            downloaded = [s.clip for s in chosen if s.state is ShareState.DOWNLOADED]
            if downloaded and clip_ids is not None:
                raise _refused("already_downloaded", request=request_id, clip=downloaded[0])
            revoked = 0
            for share in chosen:
                if share.state is not ShareState.OFFERED:
                    continue
                # Each revocation in the audit log before it is applied, in the store's one
                # step (a share downloaded meanwhile gets no entry): a log that refuses one
                # leaves that share and the ones after it as they were (the answer says how
                # many went), never a share revoked without its entry.
                try:
                    ended = await self._end_share(
                        share.id, ShareState.REVOKED, partial(self._record_revoked, by)
                    )
                except AuditError as err:
                    raise _not_recorded(
                        err, "revoke_failed", "Revocation", revoked=str(revoked)
                    ) from err
                if ended.state is ShareState.DOWNLOADED:  # its last byte went out meanwhile
                    downloaded.append(share.clip)
                if ended.state is not ShareState.REVOKED:
                    continue
                # A download in flight stops at its next chunk: consent holds until the
                # last byte.
                self.shares.stop(share.id)
                revoked += 1
                await self._tell_share(ended, ShareState.REVOKED)
        return revoked, downloaded

    def _record_revoked(self, by: str, share: Share) -> None:
        """The audit entry of a revocation, written just before it is applied (blocking)."""
        self.audit.append(
            "share_revoked", actor=by, subject=share.request, data={"clip": share.clip}
        )

    async def _end_share(
        self, share_id: str, state: ShareState, record: Callable[[Share], None] | None = None
    ) -> Share:
        """End a share if it is still offered; returns it as stored now.

        Applied to the stored share in one step: a download may have used it up, or the
        owner revoked it, since it was read. `record` writes the change's audit entry in
        that step, before it: should it raise, the share stays as it was.
        """

        def end(share: Share) -> Share:
            if share.state is not ShareState.OFFERED:
                return share
            if record is not None:
                record(share)
            return replace(share, state=state)

        share = await self.run_blocking(self.store.change_share, share_id, end)
        self.owner.changed()
        if share.state is state:
            await self.run_blocking(self.index.release, share.clip, _share_hold(share.id))
        return share

    async def _release(self, request: FootageRequest) -> None:
        for candidate in request.candidates:
            await self.run_blocking(self.index.release, candidate.clip, _hold(request.id))

    def _withdraw_if_decided(self, request: FootageRequest) -> None:
        """The announcement goes once every matching clip is approved."""
        left = [c for c in request.candidates if request.approved(c.clip) is None]
        if not left:
            self.owner.withdraw(request.id)

    # --- time --------------------------------------------------------------------------------
    async def async_housekeeping(self, _now: datetime | None = None) -> None:
        """Expire open requests and unused shares past their time; release their holds.

        A timer's pass (every minute on Home Assistant); the time it passes is not used,
        the node's clock is.
        """
        async with self._changing:
            if not self._stopped:
                await self._expire(self._now())

    async def async_stop(self) -> None:
        """No further housekeeping or judging; wait for the change under way (unload).

        Unload closes the store and the clip index next: a pass still running would find
        them closed half way.
        """
        async with self._changing:
            self._stopped = True

    async def _expire(self, now: int) -> None:
        for stored in await self.run_blocking(self.store.requests):
            if stored.open and stored.expires < now:
                pending = stored.state is RequestState.PENDING
                closed = stored.with_state(
                    RequestState.EXPIRED if pending else stored.state, closed_at=now
                )
                await self._log("request_expired", subject=closed.id)
                await self._put(closed)
                await self._release(closed)
                if pending:
                    self.owner.decided(closed)
                self.owner.withdraw(closed.id)
        for share in await self.run_blocking(self.store.shares, None):
            if (
                share.state is ShareState.OFFERED
                and share.expires < now
                and (await self._end_share(share.id, ShareState.EXPIRED)).state
                is ShareState.EXPIRED
            ):
                await self._log("share_expired", subject=share.request, data={"clip": share.clip})
                await self._tell_share(share, ShareState.EXPIRED)
        self._offers_settled()

    # --- downloads ---------------------------------------------------------------------------
    def share_server(self) -> ShareServer:
        """The download side, wired to this desk's store, log and clip index."""
        return ShareServer(
            self.store,
            self.audit,
            self.node.clock,
            self._clip_path,
            self._release_share,
            self.owner.changed,
            partial(self._tell_share, what=ShareState.DOWNLOADED),
        )

    def _clip_path(self, clip_id: str) -> Path | None:
        clip = self.index.clip(clip_id)
        return clip.path if clip is not None else None

    async def _tell_share(self, share: Share, what: ShareState) -> None:
        """Tell the owner a share was downloaded (each time), expired unused or revoked."""
        request = await self.run_blocking(self.store.request, share.request)
        self.owner.share_changed(share, what, request)

    async def _release_share(self, share: Share) -> None:
        await self.run_blocking(self.index.release, share.clip, _share_hold(share.id))


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


def _not_recorded(
    err: Exception, key: str = "approval_failed", what: str = "Approval", **placeholders: str
) -> NotRecordedError:
    """An owner's decision the home could not record (by default an approval: nothing shared)."""
    _LOGGER.error("%s not recorded: %s", what, err)
    return NotRecordedError(key, error=str(err), **placeholders)


def _refused(key: str, **placeholders: str) -> RefusedError:
    """A refusal of an owner's action, also written to the log."""
    _LOGGER.warning("Footage action refused: %s %s", key, placeholders)
    return RefusedError(key, **placeholders)
