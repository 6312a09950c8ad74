"""The owner's operations, once: the service actions and the websocket commands both call them.

Each is a plain async function of (hass, arguments, who decided) that returns what the caller
gets back (JSON-able) or raises a translated error (action_errors). The arguments are already
validated by the door they came through (a service schema, a websocket command schema); the
schemas live in services.py and consent_services.py and the websocket commands reuse them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .action_errors import (
    AGENCY_IMPORT,
    CONSENT_DESK,
    INVITE_REDEMPTION,
    failed,
    refused,
    translating,
)
from .consent.audit import AuditError
from .consent_glue import shown_candidate
from .const import MAX_CLIPS_PER_OFFER
from .data import loaded_entry
from .federation.errors import PairingCodeError
from .federation.invites import qr_image, qr_svg, token_hash
from .local_time import local_iso
from .notification_actions import DECLINE, parse

if TYPE_CHECKING:
    from collections.abc import Mapping

    from homeassistant.core import HomeAssistant

    from .consent.audit.verify import AuditReport
    from .consent.audit.witness import WitnessResult
    from .consent.desk import ConsentDesk
    from .data import PorchlightData
    from .federation.peers import Peer
    from .federation_glue import Federation

type Args = Mapping[str, Any]


def _data(hass: HomeAssistant) -> PorchlightData:
    return loaded_entry(hass).runtime_data


def _desk(hass: HomeAssistant) -> ConsentDesk:
    return _data(hass).desk


def _federation(hass: HomeAssistant) -> Federation:
    return _data(hass).federation


async def audit(hass: HomeAssistant, kind: str, *, subject: str, actor: str = "") -> None:
    """Record a change of who this home trusts in its audit log (R6.3)."""
    log = _desk(hass).audit
    await hass.async_add_executor_job(lambda: log.append(kind, actor=actor, subject=subject))


def peer_info(peer: Peer) -> dict[str, Any]:
    """A peer as the owner's actions show it."""
    return {
        "fingerprint": peer.fingerprint,
        "name": peer.name,
        "role": peer.role,
        "trusted": peer.trusted,
        "lan": peer.lan,
        "pending": peer.pending,
        # Shown until the owner confirmed it (R3.3); not a secret, but no longer useful.
        "pairing_code": peer.pairing_code if peer.pending else None,
    }


def find_peer(federation: Federation, fingerprint: str) -> Peer:
    """The peer with this fingerprint (any grouping, any case), or a translated refusal."""
    key_id = fingerprint.upper().replace("-", "").replace(" ", "")
    peer = federation.node.peers.get(key_id)
    if peer is None:
        raise refused("unknown_peer", fingerprint=fingerprint)
    return peer


def _qr_codes(text: str) -> tuple[str, bytes]:
    """The invite's QR code inline (for the response) and as an SVG document (for qr_url)."""
    return qr_svg(text), qr_image(text)


# --- peers and agencies -------------------------------------------------------------------


async def create_invite(hass: HomeAssistant, args: Args, who: str) -> dict[str, Any]:  # noqa: ARG001
    """An invite a neighbor redeems to pair with this home."""
    federation = _federation(hass)
    federation.ensure_endpoint(args.get("endpoint"))
    invite = federation.node.create_invite(lifetime=args["lifetime_hours"] * 3600, lan=args["lan"])
    text = invite.to_text()
    # The token's hash, never the token: the log must not hold anything that pairs.
    await audit(hass, "invite_created", subject=token_hash(invite.token))
    warnings = await federation.async_check_endpoint(invite.endpoint, lan=args["lan"])
    # Drawing the QR codes takes a tenth of a second of CPU: asyncio's debug mode (and
    # the homeowner's event loop) would notice it in the loop.
    svg, image = await hass.async_add_executor_job(_qr_codes, text)
    return {
        "invite": text,
        "qr_svg": svg,
        # An image the frontend shows (Markdown card, <img>): the QR code as SVG, signed.
        "qr_url": federation.qr_url(image, invite.expires),
        "fingerprint": federation.node.identity.fingerprint,
        "expires": local_iso(invite.expires),
        "warnings": warnings,
    }


async def accept_invite(hass: HomeAssistant, args: Args, who: str) -> dict[str, Any]:  # noqa: ARG001
    """Redeem a neighbor's invite: pair with the home that made it."""
    federation = _federation(hass)
    federation.ensure_endpoint(args.get("endpoint"))
    with translating(INVITE_REDEMPTION):
        peer = await federation.node.accept_invite(
            args["invite"], federation.sender, lan=args["lan"]
        )
    await audit(hass, "peer_paired", subject=peer.keyid)
    return {"peer": peer_info(peer)}


async def set_agency_trust(hass: HomeAssistant, args: Args, who: str, *, trusted: bool) -> None:  # noqa: ARG001
    """Trust (or stop trusting) an agency's requests."""
    federation = _federation(hass)
    peer = find_peer(federation, args["fingerprint"])
    if peer.role != "agency":
        raise refused("not_an_agency", fingerprint=peer.fingerprint)
    federation.node.peers.set_trusted(peer.keyid, trusted=trusted)
    federation.changed("state")
    await audit(hass, "agency_trusted" if trusted else "agency_untrusted", subject=peer.keyid)


async def trust_agency(hass: HomeAssistant, args: Args, who: str) -> None:
    """Trust an agency's requests."""
    await set_agency_trust(hass, args, who, trusted=True)


async def untrust_agency(hass: HomeAssistant, args: Args, who: str) -> None:
    """Stop trusting an agency's requests."""
    await set_agency_trust(hass, args, who, trusted=False)


async def confirm_pairing(hass: HomeAssistant, args: Args, who: str) -> dict[str, Any]:  # noqa: ARG001
    """Confirm a pending pairing (with the code both homes show)."""
    federation = _federation(hass)
    peer = find_peer(federation, args["fingerprint"])
    try:
        confirmed = federation.node.confirm_pairing(peer.keyid, args.get("code"))
    except PairingCodeError as err:
        raise refused("pairing_code_mismatch", fingerprint=peer.fingerprint) from err
    await audit(hass, "peer_confirmed", subject=peer.keyid)
    return {"peer": peer_info(confirmed)}


async def list_peers(hass: HomeAssistant, args: Args, who: str) -> dict[str, Any]:  # noqa: ARG001
    """The home's peers."""
    return {"peers": [peer_info(peer) for peer in _federation(hass).node.peers]}


async def remove_peer(hass: HomeAssistant, args: Args, who: str) -> None:  # noqa: ARG001
    """Forget a peer, and whatever was waiting to be sent to it."""
    federation = _federation(hass)
    peer = find_peer(federation, args["fingerprint"])
    federation.node.peers.remove(peer.keyid)
    federation.node.outbox.drop_peer(peer.keyid)
    federation.changed("state")
    federation.changed("outbox")
    await audit(hass, "peer_removed", subject=peer.keyid)


async def post_alert(hass: HomeAssistant, args: Args, who: str) -> dict[str, Any]:
    """Sign an alert and send it to every paired neighbor now (they may relay it on).

    The home's name goes with it only when the owner asked (show_name); the home's location
    never does. Clips the owner named (`clips`) are checked first (one unknown: nothing is
    sent), then shared with each directly paired neighbor alone, through a consent record
    and a single-use link per clip and neighbor; the relayed alert carries no links. Every
    byte sent is in the audit log (write-ahead, like all messages).
    """
    federation = _federation(hass)
    node = federation.node
    neighbors = node.peers.active_neighbors()
    if not neighbors:
        raise refused("no_neighbors")
    desk = _desk(hass)
    with translating(CONSENT_DESK):
        clips = await desk.async_alert_clips(args.get("clips", []))
    name = node.settings.name if args["show_name"] else ""
    envelope = node.broadcast_alert(
        args["text"], category=args["category"], name=name, max_hops=args["max_hops"]
    )
    shared: list[tuple[str, str]] = []
    try:
        if clips:
            with translating(CONSENT_DESK):
                shared = await desk.async_share_alert_clips(
                    envelope.event_id, clips, [n.keyid for n in neighbors], who
                )
    finally:
        # The alert is signed and queued: it goes now even if its clips could not be shared.
        await federation.async_deliver()
    fingerprints = {n.keyid: n.fingerprint for n in neighbors}
    return {
        "event_id": envelope.event_id,
        "neighbors": len(neighbors),
        # Each neighbor's share group: revoke_share takes it as request_id.
        "clip_shares": [
            {"neighbor": fingerprints[keyid], "request_id": group, "clips": len(clips)}
            for keyid, group in shared
        ],
    }


async def alert_clips(hass: HomeAssistant, args: Args, who: str) -> dict[str, Any]:  # noqa: ARG001
    """The clip links a neighbor sent with one of its alerts (admins only: they are footage).

    Each link serves its clip once, until it expires or the poster revokes it.
    """
    links = _federation(hass).alerts.links.get(args["event_id"])
    if links is None:
        raise refused("no_alert_clips", event_id=args["event_id"][:16])
    return {"event_id": args["event_id"], "clips": links}


async def mute_neighbor(hass: HomeAssistant, args: Args, who: str) -> None:  # noqa: ARG001
    """Show (or stop showing) one neighbor's alerts at this home."""
    federation = _federation(hass)
    peer = find_peer(federation, args["fingerprint"])
    await federation.alerts.async_mute(peer.keyid, muted=args["muted"])


async def import_agency(hass: HomeAssistant, args: Args, who: str) -> dict[str, Any]:  # noqa: ARG001
    """Pin an agency from its invite (one-sided: agencies do not pair back)."""
    data = _data(hass)
    node = data.federation.node
    known = {p.keyid: p for p in node.peers.agencies()}
    with translating(AGENCY_IMPORT):
        peer = node.import_agency(args["invite"], lan=args.get("lan"))
    try:
        await hass.async_add_executor_job(
            lambda: data.desk.audit.append(
                "peer_paired",
                subject=peer.keyid,
                data={"one_sided": True, "again": peer.keyid in known, "lan": peer.lan},
            )
        )
    except AuditError as err:
        # No agency pinned without its entry in the log: the peers as they were before.
        if (before := known.get(peer.keyid)) is not None:
            node.peers.add(before)
        else:
            node.peers.remove(peer.keyid)
        data.federation.changed("state")
        raise failed("agency_import_not_recorded", error=str(err)) from err
    data.federation.changed("state")
    return {"fingerprint": peer.fingerprint, "name": peer.name, "trusted": peer.trusted}


# --- footage requests ---------------------------------------------------------------------


async def approve(hass: HomeAssistant, args: Args, who: str) -> dict[str, Any]:
    """Approve clips of a request: their links go to the agency."""
    desk = _desk(hass)
    with translating(CONSENT_DESK):
        approval = await desk.async_approve(args["request_id"], args["clip_ids"], who)
    return {
        "approved": [
            {"clip": c.clip, "record": c.record_hash, "expires": local_iso(approval.expires)}
            for c in approval.consents
        ],
        **approval.delivery.to_json(),
    }


async def notification_action(hass: HomeAssistant, args: Args, who: str) -> dict[str, Any]:
    """A button of a request's phone notification: share every clip not yet shared, or decline.

    Only ids this home made for the request are accepted (notification_actions.py); the clips
    shared are those the notification counted, in offers of at most MAX_CLIPS_PER_OFFER.
    """
    sign = _federation(hass).node.identity.sign
    parsed = parse(sign, args["action"])
    if parsed is None:
        raise refused("unknown_notification_action")
    verb, request_id = parsed
    by = f"{who} (phone notification)"
    if verb == DECLINE:
        await decline(hass, {"request_id": request_id}, by)
        return {"request_id": request_id, "declined": True, "approved": []}
    request = await hass.async_add_executor_job(_desk(hass).store.request, request_id)
    left = (
        [c.clip for c in request.candidates if request.approved(c.clip) is None]
        if request is not None
        else []
    )
    if not left:
        raise refused("nothing_to_share", request=request_id)
    approved: list[dict[str, Any]] = []
    answer: dict[str, Any] = {}
    for first in range(0, len(left), MAX_CLIPS_PER_OFFER):
        answer = await approve(
            hass,
            {"request_id": request_id, "clip_ids": left[first : first + MAX_CLIPS_PER_OFFER]},
            by,
        )
        approved.extend(answer["approved"])
    return {
        "request_id": request_id,
        "declined": False,
        "approved": approved,
        "delivery": answer["delivery"],
        "delivery_error": answer["delivery_error"],
    }


async def retry(hass: HomeAssistant, args: Args, who: str) -> dict[str, Any]:
    """Send a request's undelivered offers again."""
    desk = _desk(hass)
    with translating(CONSENT_DESK):
        delivery, offers = await desk.async_retry(args["request_id"], who)
    return {**delivery.to_json(), "offers": offers}


async def decline(hass: HomeAssistant, args: Args, who: str) -> None:
    """Decline a request: none of its clips leaves."""
    desk = _desk(hass)
    with translating(CONSENT_DESK):
        await desk.async_decline(args["request_id"], who)


async def revoke(hass: HomeAssistant, args: Args, who: str) -> dict[str, Any]:
    """Revoke a request's links (all, or those of the clips named)."""
    desk = _desk(hass)
    with translating(CONSENT_DESK):
        revoked, downloaded = await desk.async_revoke(args["request_id"], args.get("clip_ids"), who)
    return {"revoked": revoked, "already_downloaded": list(downloaded)}


async def list_requests(hass: HomeAssistant, args: Args, who: str) -> dict[str, Any]:  # noqa: ARG001
    """The requests as the list_requests action shows them."""
    desk = _desk(hass)
    requests = await hass.async_add_executor_job(desk.store.requests)
    shares = await hass.async_add_executor_job(desk.store.shares, None)
    return {
        "requests": [
            {
                "request_id": r.id,
                "agency": r.agency_name,
                "case": r.case,
                "reason": r.reason,
                "state": r.state.value,
                "why": r.why,
                "open": r.open,
                "clips": [shown_candidate(c) for c in r.candidates],
                "approved": [c.clip for c in r.consents],
                # Where its offers stand (docs/consent.md, "Offers that cannot be delivered").
                **desk.delivery(r).to_json(),
                "shares": [
                    {"clip": s.clip, "state": s.state.value, "expires": local_iso(s.expires)}
                    for s in shares
                    if s.request == r.id
                ],
            }
            for r in requests
        ]
    }


async def verify_audit(
    hass: HomeAssistant,
    args: Args,  # noqa: ARG001
    who: str,  # noqa: ARG001
) -> tuple[AuditReport, list[WitnessResult]]:
    """Check the audit log's chain and every neighbor's witness statement of it.

    A broken chain or a rewritten witnessed head is a report, not an error.
    """
    return await _federation(hass).witnessing.async_verify()
