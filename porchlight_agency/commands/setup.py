"""Setting up the agency: init, invite, pair, confirm, peers."""

from __future__ import annotations

from http import HTTPStatus
from typing import TYPE_CHECKING

import aiohttp

from custom_components.porchlight.federation import (
    DestinationRefusedError,
    HttpSender,
    Invite,
    InviteGoneError,
    InviteInvalidError,
    InviteMalformedError,
    PairingCodeError,
    PeerRefusedError,
    PeerUnreachableError,
    ProtocolError,
    QRUnavailableError,
    qr_svg,
)
from porchlight_agency import request as req
from porchlight_agency.errors import CommandError, UsageError
from porchlight_agency.fetch import network_reason
from porchlight_agency.parser import MAX_INVITE_HOURS
from porchlight_agency.profile import check_name, normalize_endpoint, write_private
from porchlight_agency.text import shown

if TYPE_CHECKING:
    from pathlib import Path

    from . import Context


def cmd_init(ctx: Context) -> int:
    """Create the profile and print the fingerprint homeowners must check."""
    try:
        name = check_name(ctx.args.name)
        endpoint = normalize_endpoint(ctx.args.endpoint)
    except ValueError as err:
        raise UsageError(str(err)) from None
    node = ctx.profile.create(name=name, endpoint=endpoint, clock=ctx.clock)
    ctx.say(f"Agency profile created in {ctx.profile.root}")
    ctx.say(f"  name:     {name}")
    ctx.say(f"  endpoint: {endpoint}")
    ctx.say(
        "Read this fingerprint out to homeowners through a channel they already trust (your "
        "official website or phone line); they trust your requests only once it matches:"
    )
    ctx.print(node.identity.fingerprint)
    return 0


def cmd_invite(ctx: Context) -> int:
    """Issue an invite and print it (and write its QR code)."""
    hours = ctx.args.hours
    if not 1 <= hours <= MAX_INVITE_HOURS:
        msg = f"--hours: 1 to {MAX_INVITE_HOURS}"
        raise UsageError(msg)
    qr: Path | None = ctx.args.qr
    if qr is not None and not qr.parent.is_dir():
        msg = f"--qr: the folder {qr.parent} does not exist"
        raise UsageError(msg)
    with ctx.profile.locked():
        node = ctx.load()
        invite = node.create_invite(lifetime=hours * 3600, lan=ctx.args.lan)
        text = invite.to_text()  # before saving: an invite that cannot be shown is not kept
        ctx.profile.save(node)
    if qr is not None:
        try:
            write_private(qr, qr_svg(text).encode(), parents=False)
        except QRUnavailableError:
            # Not a failure: the text invite printed below is the invite, the QR code a copy.
            ctx.say(
                "QR code not written: it needs the segno package (pip install segno); "
                "the invite text below works without it"
            )
        except OSError as err:
            msg = f"--qr: cannot write {qr}: {err.strerror}"
            raise CommandError(msg) from None
        else:
            ctx.say(f"QR code written to {qr}")
    ctx.say(
        f"Invite for {node.settings.name} ({node.identity.fingerprint}), valid until "
        f"{req.format_time(invite.expires)}. A home imports it to receive your requests "
        "through its neighbors, or accepts it to pair with you directly (then confirm the "
        "pairing code it shows with 'porchlight-agency confirm')."
    )
    ctx.print(text)
    return 0


def _invite(text: str, own_key: bytes) -> Invite:
    try:
        invite = Invite.from_text(text)
    except InviteMalformedError:
        msg = (
            "not a usable Porchlight invite: copy the whole text the homeowner gave you "
            "(it starts with 'plinv1.')"
        )
        raise UsageError(msg) from None
    if invite.role != "neighbor":
        if invite.public_key == own_key:
            msg = "this is this agency's own invite (for homes to import); pair with a home's"
        else:
            msg = "this is another agency's invite; agencies pair with homes"
        raise UsageError(msg)
    return invite


def _unreachable(what: str, err: PeerUnreachableError) -> CommandError:
    if isinstance(err, DestinationRefusedError):
        return CommandError(f"{what} is not a public address ({err}); use --lan on your network")
    return CommandError(f"cannot reach {what}: {network_reason(err.__cause__ or err)}")


async def cmd_pair(ctx: Context) -> int:
    """Redeem a home's invite; print the pairing code to compare."""
    with ctx.profile.locked():
        node = ctx.load()
        invite = _invite(ctx.args.invite, node.identity.public_key)
        async with aiohttp.ClientSession() as session:
            try:
                peer = await node.accept_invite(
                    invite.to_text(), HttpSender(session, ctx.clock), lan=ctx.args.lan
                )
            except PeerUnreachableError as err:
                raise _unreachable(f"the home at {invite.endpoint}", err) from None
            except PeerRefusedError as err:
                if err.status == HTTPStatus.GONE:
                    msg = "the invite was used already or has expired; ask for a new one"
                else:
                    msg = f"the home refused the invite ({err.status} {shown(err.code)})"
                raise CommandError(msg) from None
            except InviteGoneError:
                msg = "the invite has expired; ask the homeowner for a new one"
                raise CommandError(msg) from None
            except InviteInvalidError as err:
                raise UsageError(err.detail) from None
            except ProtocolError as err:
                msg = f"the home's answer was not acceptable ({err.code})"
                raise CommandError(msg) from None
        ctx.profile.save(node)
    ctx.say(
        f"Paired with {shown(peer.name)} ({peer.fingerprint}), pending. Compare this code with the "
        "homeowner (in person or by phone), then run "
        f"'porchlight-agency confirm {peer.fingerprint} CODE':"
    )
    ctx.print(peer.pairing_code)
    return 0


def cmd_confirm(ctx: Context) -> int:
    """Activate a pending pairing once both sides saw the same code."""
    key_id = ctx.args.fingerprint.replace("-", "").replace(" ", "").upper()
    with ctx.profile.locked():
        node = ctx.load()
        try:
            peer = node.confirm_pairing(key_id, ctx.args.code)
        except ProtocolError:
            msg = f"no home with fingerprint {ctx.args.fingerprint} is paired with this agency"
            raise UsageError(msg) from None
        except PairingCodeError:
            msg = "the code does not match: compare it with the homeowner again"
            raise UsageError(msg) from None
        ctx.profile.save(node)
    ctx.say(f"Pairing with {shown(peer.name)} ({peer.fingerprint}) confirmed: requests go there.")
    return 0


def cmd_peers(ctx: Context) -> int:
    """List paired homes."""
    node = ctx.load()
    peers = sorted(node.peers, key=lambda p: (p.pending, p.name.lower()))
    if not peers:
        ctx.say("No home is paired yet ('porchlight-agency pair INVITE').")
    for peer in peers:
        state = f"pending, code {peer.pairing_code}" if peer.pending else "confirmed"
        lan = ", lan" if peer.lan else ""
        name = shown(peer.name)
        ctx.print(f"{peer.fingerprint}  {peer.role:<8}  {state}{lan}  {name}  {peer.endpoint}")
    return 0
