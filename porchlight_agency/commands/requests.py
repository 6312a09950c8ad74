"""Asking for footage and receiving offers: request, inbox, offers."""

from __future__ import annotations

from http import HTTPStatus
from typing import TYPE_CHECKING, Final

import aiohttp

from custom_components.porchlight.federation import (
    INBOX,
    DestinationRefusedError,
    HttpSender,
    PeerUnreachableError,
)
from porchlight_agency import request as req
from porchlight_agency.errors import CommandError, UsageError
from porchlight_agency.fetch import network_reason
from porchlight_agency.profile import ProfileError
from porchlight_agency.server import Inbox
from porchlight_agency.text import shown

if TYPE_CHECKING:
    from custom_components.porchlight.federation import JSON, Circle, Envelope, Identity, Polygon

    from . import Context

DELIVERED: Final = "delivered"


class _Recording:
    """A Sender that remembers how each POST went, to report per home."""

    def __init__(self, inner: HttpSender) -> None:
        self.inner = inner
        self.outcomes: dict[tuple[str, bytes], str] = {}

    async def post(
        self, identity: Identity, url: str, body: bytes, *, lan: bool = False
    ) -> tuple[int, JSON]:
        try:
            status, reply = await self.inner.post(identity, url, body, lan=lan)
        except DestinationRefusedError as err:
            self.outcomes[url, body] = f"not sent: the home's address is refused ({err})"
            raise
        except PeerUnreachableError as err:
            self.outcomes[url, body] = f"not delivered ({network_reason(err.__cause__ or err)})"
            raise
        code = reply.get("error") if isinstance(reply, dict) else None
        ok = HTTPStatus.OK <= status < HTTPStatus.MULTIPLE_CHOICES
        self.outcomes[url, body] = DELIVERED if ok else f"refused: {status} {shown(str(code))}"
        return status, reply


async def cmd_request(ctx: Context) -> int:
    """Check, sign, queue and deliver a footage request; print its id."""
    args = ctx.args
    if args.polygon is not None and (args.center is not None or args.radius is not None):
        msg = "give either --center and --radius or --polygon, not both"
        raise UsageError(msg)
    area: Circle | Polygon
    if args.polygon is not None:
        area = req.polygon(args.polygon)
    elif args.center is not None and args.radius is not None:
        area = req.circle(args.center, args.radius)
    else:
        msg = "an area is needed: --center LAT,LON --radius METRES, or --polygon FILE.geojson"
        raise UsageError(msg)
    area_json = req.check_area(area)
    start = req.parse_time(args.start, "--from")
    end = req.parse_time(args.end, "--to")
    req.check_window(start, end, ctx.clock.now())
    case, reason = req.check_text(args.case, args.reason)
    hops = req.check_hops(args.hops)
    lifetime = req.check_valid_hours(args.hours_valid)
    with ctx.profile.locked():
        node = ctx.load()
        homes = node.peers.active_neighbors()
        if not homes:
            msg = (
                "no confirmed home is paired with this agency, so nobody would receive the "
                "request ('porchlight-agency pair', then 'confirm')"
            )
            raise CommandError(msg)
        body: dict[str, JSON] = {
            "case": case,
            "reason": reason,
            "area": area_json,
            "start": start,
            "end": end,
            "reply_to": str(node.endpoint),
            "max_hops": hops,
        }
        envelope = node.request_footage(body, lifetime=lifetime)
        ctx.profile.store_request(envelope)
        ctx.profile.save(node)
        async with aiohttp.ClientSession() as session:
            sender = _Recording(HttpSender(session, ctx.clock))
            await node.deliver(sender)
        ctx.profile.save(node)
    ctx.say(
        f"Request for {req.format_time(start)} to {req.format_time(end)} (here: "
        f"{req.format_local(start)} to {req.format_local(end)}), open until "
        f"{req.format_time(envelope.expires)}:"
    )
    payload = envelope.encode()
    # What the outbox still holds after the round is what 'inbox' retries; the rest is final.
    kept = {entry.peer for entry in node.outbox if entry.payload.encode() == payload}
    reached = False
    for home in homes:
        outcome = sender.outcomes.get((home.endpoint + INBOX, payload), "not sent yet")
        if outcome == DELIVERED:
            reached = True
        elif home.keyid in kept:
            outcome += "; kept in the outbox ('inbox' retries it)"
        else:
            outcome += "; not retried"
        ctx.say(f"  {home.fingerprint}  {shown(home.name)}: {outcome}")
    if not reached and not kept:
        msg = (
            f"request {envelope.event_id[:16]} reached no home, and no delivery of it is left "
            "to retry (see above)"
        )
        raise CommandError(msg)
    ctx.print(envelope.event_id)
    return 0


async def cmd_inbox(ctx: Context) -> int:
    """Serve the endpoint until interrupted."""
    args = ctx.args
    with ctx.profile.locked():
        inbox = Inbox(ctx.profile, ctx.load, ctx.out, ctx.err)
    await inbox.run(
        args.host, args.port, once_seconds=args.once_seconds, deliver_every=args.deliver_every
    )
    return 0


def cmd_offers(ctx: Context) -> int:
    """List stored offers, by request; status 1 if a stored file could not be read."""
    ctx.load()
    requests = (
        [ctx.profile.resolve_request(ctx.args.request)]
        if ctx.args.request
        else ctx.profile.request_ids()
    )
    if not requests:
        ctx.say("No request issued yet.")
    damaged = 0
    for request in requests:
        try:
            issued = ctx.profile.load_request(request)
        except ProfileError as err:
            ctx.say(f"skipped: {err}")
            damaged += 1
            header = f"{request}  (its stored request is damaged)"
        else:
            header = _request_header(request, issued)
        offers, bad = ctx.profile.offers(request)
        damaged += report_skipped(ctx, bad)
        ctx.print(header)
        if not offers:
            ctx.print("  no offer yet")
        for offer in offers:
            s = "s" * (offer.clips != 1)
            ctx.print(
                f"  offer {offer.envelope.event_id[:16]}  from {offer.home}  "
                f"{offer.clips} clip{s}  sent {req.format_time(offer.envelope.created)}"
            )
    if damaged:
        msg = f"{damaged} stored file(s) could not be used (see above)"
        raise CommandError(msg)
    return 0


def _request_header(request: str, issued: Envelope | None) -> str:
    if issued is None:
        return f"{request}  (not issued from this profile)"
    return (
        f"{request}  case {issued.body['case'] or '-'}  "
        f"{req.format_time(int(issued.body['start']))} to "  # type: ignore[arg-type]
        f"{req.format_time(int(issued.body['end']))}  "  # type: ignore[arg-type]
        f"open until {req.format_time(issued.expires)}"
    )


def report_skipped(ctx: Context, damaged: list[ProfileError]) -> int:
    """Report stored offers that cannot be used, one line each; return how many."""
    for err in damaged:
        ctx.say(f"skipped: {err}")
    return len(damaged)
