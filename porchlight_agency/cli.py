"""`porchlight-agency`: an agency's side of Porchlight, on the command line.

Every command reads and writes one profile directory (`--profile`, else
`$PORCHLIGHT_AGENCY_HOME`, else `~/.config/porchlight-agency`). What a script wants (the
fingerprint, the invite, a request id) goes to stdout; explanations and progress go to
stderr; a failure is one `porchlight-agency: error: ...` line and exit status 2 (bad input)
or 1 (the command could not do its work).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import math
import os
import stat
import sys
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import TYPE_CHECKING, Final, NoReturn, TextIO

import aiohttp

from custom_components.porchlight.federation import (
    INBOX,
    KEYID_RE,
    MANIFEST_FILE,
    README_FILE,
    DestinationRefusedError,
    EvidenceError,
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
    SystemClock,
    qr_svg,
    verify_folder,
)

from . import request as req
from .errors import AgencyError, CommandError, UsageError
from .fetch import INCOMING, Downloader, OfferFetcher, Outcome, network_reason
from .profile import (
    Profile,
    ProfileError,
    check_name,
    default_root,
    normalize_endpoint,
    write_private,
)
from .server import DELIVER_EVERY, Inbox

if TYPE_CHECKING:
    from collections.abc import Sequence

    from custom_components.porchlight.federation import (
        JSON,
        Circle,
        Clock,
        Envelope,
        Identity,
        Node,
        Polygon,
    )

PROG: Final = "porchlight-agency"
MAX_INVITE_HOURS: Final = 24
MAX_PORT: Final = 65535
DELIVERED: Final = "delivered"
_LOGGER = logging.getLogger(__name__)


class Parser(argparse.ArgumentParser):
    """argparse, with its errors as one line like every other error of the command."""

    def error(self, message: str) -> NoReturn:
        """Raise the usage error; main reports it like any other."""
        raise UsageError(f"{message} (see '{PROG} --help')")


def port(text: str) -> int:
    """A TCP port number (0: any free one)."""
    value = int(text)
    if not 0 <= value <= MAX_PORT:
        msg = f"a port is 0 to {MAX_PORT}, not {value}"
        raise argparse.ArgumentTypeError(msg)
    return value


def seconds(text: str) -> float:
    """A positive, finite duration in seconds."""
    value = float(text)
    if not (math.isfinite(value) and value > 0):
        msg = f"seconds must be a positive number, not {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return value


def build_parser() -> Parser:
    """The command line."""
    common = Parser(add_help=False)
    common.add_argument(
        "--profile",
        type=Path,
        default=argparse.SUPPRESS,
        metavar="DIR",
        help="agency profile directory (default: $PORCHLIGHT_AGENCY_HOME or "
        "~/.config/porchlight-agency)",
    )
    common.add_argument(
        "-v", "--verbose", action="count", default=argparse.SUPPRESS, help="log more"
    )
    parser = Parser(
        prog=PROG,
        parents=[common],
        description="Ask Porchlight homes for doorbell footage, receive their offers, fetch and "
        "verify the evidence. See docs/agency.md.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, text: str) -> Parser:
        parser: Parser = sub.add_parser(name, parents=[common], help=text, description=text)
        return parser

    p = command("init", "create the agency profile: key, name and endpoint")
    p.add_argument("--name", required=True, help="the agency's name as homeowners see it")
    p.add_argument(
        "--endpoint",
        required=True,
        metavar="URL",
        help="public URL of this agency's endpoint (the inbox command serves it)",
    )

    p = command("invite", "print an invite homes import (or accept, to pair)")
    p.add_argument("--lan", action="store_true", help="the home may be on a private network")
    p.add_argument("--hours", type=int, default=MAX_INVITE_HOURS, help="lifetime, 1 to 24 h")
    p.add_argument("--qr", type=Path, metavar="FILE.svg", help="also write the QR code here")

    p = command("pair", "accept a home's invite: the home becomes an entry point")
    p.add_argument("invite", metavar="INVITE", help="the plinv1. text the homeowner gave you")
    p.add_argument("--lan", action="store_true", help="the home is on a private network")

    p = command("confirm", "confirm a pairing once the homeowner read you the same code")
    p.add_argument("fingerprint", metavar="FINGERPRINT", help="the home's fingerprint")
    p.add_argument("code", metavar="CODE", help="the 8-digit pairing code")

    command("peers", "list the homes this agency is paired with")

    p = command("request", "ask the homes of an area for footage of a time window")
    p.add_argument("--center", metavar="LAT,LON", help="center of a circle, decimal degrees")
    p.add_argument("--radius", type=float, metavar="METRES", help="radius of the circle")
    p.add_argument("--polygon", type=Path, metavar="FILE.geojson", help="a GeoJSON polygon")
    p.add_argument("--from", dest="start", required=True, metavar="ISO", help="window start")
    p.add_argument("--to", dest="end", required=True, metavar="ISO", help="window end")
    p.add_argument("--case", required=True, help="case number (may be empty)")
    p.add_argument("--reason", required=True, help="why: homeowners read this")
    p.add_argument("--hops", type=int, default=req.DEFAULT_HOPS, help="relays allowed, 0 to 3")
    p.add_argument(
        "--hours-valid",
        type=int,
        default=req.DEFAULT_VALID_HOURS,
        help=f"hours offers are accepted, 1 to {req.MAX_VALID_HOURS}",
    )

    p = command("inbox", "serve the agency endpoint: receive offers, deliver requests")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on")
    p.add_argument("--port", type=port, default=8750, help="port to listen on (0: any)")
    p.add_argument("--once-seconds", type=seconds, metavar="S", help="stop after S seconds")
    p.add_argument(
        "--deliver-every", type=seconds, default=DELIVER_EVERY, metavar="S", help=argparse.SUPPRESS
    )

    p = command("offers", "list the offers received (for one request, or all)")
    p.add_argument("request", nargs="?", metavar="REQUEST", help="request id (or its start)")

    p = command("fetch", "download, check and file the footage offered for a request")
    p.add_argument("request", metavar="REQUEST", help="request id (or its start)")
    p.add_argument(
        "--out", type=Path, metavar="DIR", help="evidence folder (default ./evidence-ID)"
    )
    p.add_argument("--lan", action="store_true", help="allow links to private addresses")

    p = command("verify", "check evidence folders offline (no profile needed)")
    p.add_argument("folder", type=Path, metavar="DIR", help="an evidence folder, or a tree of them")
    p.add_argument("--home", metavar="FINGERPRINT", help="require manifests signed by this home")
    return parser


@dataclass
class Context:
    """What every command gets: its arguments, the profile, the clock and the streams."""

    args: argparse.Namespace
    profile: Profile
    out: TextIO
    err: TextIO
    clock: Clock = field(default_factory=SystemClock)

    def print(self, text: str = "") -> None:
        """A result line (stdout)."""
        print(text, file=self.out, flush=True)

    def say(self, text: str) -> None:
        """An explanation (stderr)."""
        print(text, file=self.err, flush=True)

    def load(self) -> Node:
        """The profile's node."""
        return self.profile.load(self.clock)


# --- commands --------------------------------------------------------------------------------
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


def shown(text: str, limit: int = 64) -> str:
    """Text another instance chose (a home's name, an error code), safe for a terminal.

    Control and formatting characters (escape sequences, bidi overrides) are shown escaped,
    so a name cannot rewrite what the officer sees.
    """
    text = text[:limit]
    return "".join(ch if ch.isprintable() else f"\\u{ord(ch):04x}" for ch in text)


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
        node = ctx.load()
    await Inbox(ctx.profile, node, ctx.out, ctx.err).run(
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
        damaged += _skipped(ctx, bad)
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


def _skipped(ctx: Context, damaged: list[ProfileError]) -> int:
    """Report stored offers that cannot be used, one line each; return how many."""
    for err in damaged:
        ctx.say(f"skipped: {err}")
    return len(damaged)


async def cmd_fetch(ctx: Context) -> int:
    """Download, check and file every offer of a request; status 1 unless all is filed."""
    node = ctx.load()
    request = ctx.profile.resolve_request(ctx.args.request)
    offers, damaged = ctx.profile.offers(request)
    skipped = _skipped(ctx, damaged)
    if not offers and not skipped:
        msg = f"no offer has arrived for request {request} yet ('porchlight-agency inbox')"
        raise CommandError(msg)
    out: Path = ctx.args.out or Path(f"evidence-{request[:16]}")
    async with aiohttp.ClientSession() as session:
        downloader = Downloader(HttpSender(session, ctx.clock), lan=ctx.args.lan, progress=ctx.err)
        fetcher = OfferFetcher(
            downloader,
            request=request,
            agency=node.identity.keyid,
            out=out,
            now=ctx.clock.now(),
            say=ctx.say,
        )
        results = [await fetcher.fetch(offer.envelope) for offer in offers]
    for result in results:
        if result.folder is not None:
            ctx.print(str(result.folder))
    failed = sum(not result.ok for result in results) + skipped
    if failed:
        total = len(results) + skipped
        msg = f"{failed} of {total} offer(s) not completely fetched and verified (see above)"
        if any(Outcome.LAN in result.clips.values() for result in results):
            msg += "; links to private addresses need --lan"
        raise CommandError(msg)
    return 0


def cmd_verify(ctx: Context) -> int:
    """Check evidence folders offline: one line per clip, status 1 if anything is wrong."""
    root: Path = ctx.args.folder
    if not root.is_dir():
        msg = f"{root} is not a folder"
        raise UsageError(msg)
    if ctx.args.home is not None:
        ctx.args.home = _fingerprint(ctx.args.home, "--home")
    strays: list[str] = []
    if os.path.lexists(root / MANIFEST_FILE):
        folders = [root]
    else:
        folders, strays = survey(root)
    if not folders and not strays:
        msg = f"no evidence folder (one holding {MANIFEST_FILE}) in {root}"
        raise CommandError(msg)
    failed = sum(not _verify_one(ctx, folder) for folder in folders)
    for line in strays:
        ctx.print(line)
    problems = []
    if failed:
        problems.append(f"{failed} of {len(folders)} evidence folder(s) failed verification")
    if strays:
        problems.append(f"{len(strays)} item(s) outside any intact evidence folder")
    if problems:
        raise CommandError("; ".join(problems))
    return 0


def _fingerprint(text: str, option: str) -> str:
    """The keyid of a fingerprint as people type it (any case, dashes or spaces)."""
    key_id = text.replace("-", "").replace(" ", "").upper()
    if KEYID_RE.fullmatch(key_id) is None:
        msg = f"{option}: {text!r} is not a fingerprint (8 groups of 4 letters and digits 2-7)"
        raise UsageError(msg)
    return key_id


def survey(root: Path) -> tuple[list[Path], list[str]]:
    """The evidence folders below root, and a line for everything else found there.

    A tree of evidence holds evidence folders and the folders above them, nothing else:
    a file outside an evidence folder (planted, or the clips of a folder whose manifest.json
    went missing) is EXTRA, and downloads fetch has not filed yet are UNFILED. Symbolic
    links are never followed (one to a folder is EXTRA like any other non-folder).
    """
    folders: list[Path] = []
    strays: list[str] = []
    pending = [root]
    while pending:
        directory = pending.pop()
        for entry in sorted(directory.iterdir(), reverse=True):
            if not stat.S_ISDIR(entry.lstat().st_mode):
                strays.append(f"EXTRA     {entry}  (not in an evidence folder)")
            elif entry.name == INCOMING:
                if any(entry.iterdir()):
                    why = "downloads not filed: fetch unfinished, or what it could not file"
                    strays.append(f"UNFILED   {entry}  ({why})")
            elif os.path.lexists(entry / MANIFEST_FILE):
                folders.append(entry)
            else:
                pending.append(entry)
    return sorted(folders), sorted(strays, key=lambda line: line[10:])


def _verify_one(ctx: Context, folder: Path) -> bool:
    try:
        report = verify_folder(folder, expected_home=ctx.args.home)
    except EvidenceError as err:
        ctx.print(f"FAILED    {folder}: {err.detail}")
        return False
    for check in report.clips:
        detail = f" ({check.detail})" if check.detail else ""
        status = check.status.value.upper()
        ctx.print(f"{status:<9} {folder / check.file}  clip {check.clip}{detail}")
    for name in report.extra:
        why = "not a regular file" if name == README_FILE else "not listed in the manifest"
        ctx.print(f"EXTRA     {folder / name}  ({why})")
    ctx.say(f"{folder}: {report.summary()}")
    return report.ok


type Command = Callable[[Context], int | Coroutine[None, None, int]]
COMMANDS: Final[dict[str, Command]] = {
    "init": cmd_init,
    "invite": cmd_invite,
    "pair": cmd_pair,
    "confirm": cmd_confirm,
    "peers": cmd_peers,
    "request": cmd_request,
    "inbox": cmd_inbox,
    "offers": cmd_offers,
    "fetch": cmd_fetch,
    "verify": cmd_verify,
}


def configure_logging(verbosity: int, root: logging.Logger | None = None) -> None:
    """Log warnings (-v: info, -vv: debug) to stderr, unless the host already logs somewhere."""
    root = root or logging.getLogger()
    if root.handlers:  # embedded (tests, another program): its logging setup stays
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(f"{PROG}: %(levelname)s: %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(max(logging.WARNING - 10 * verbosity, logging.DEBUG))


def main(
    argv: Sequence[str] | None = None, *, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    """Run one command; return the exit status (out and err default to stdout and stderr)."""
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as done:  # --help
        return int(done.code or 0)
    except UsageError as error:
        print(f"{PROG}: error: {error}", file=err, flush=True)
        return error.exit_status
    configure_logging(getattr(args, "verbose", 0))
    profile = Profile(getattr(args, "profile", None) or default_root())
    ctx = Context(args, profile, out, err)
    handler = COMMANDS[args.command]
    try:
        result = handler(ctx)
        status = asyncio.run(result) if isinstance(result, Coroutine) else result
    except AgencyError as error:
        print(f"{PROG}: error: {error}", file=err, flush=True)
        return error.exit_status
    except OSError as error:
        where = f": {error.filename}" if error.filename else ""
        print(f"{PROG}: error: {error.strerror or error}{where}", file=err, flush=True)
        return 1
    except KeyboardInterrupt:
        # fetch keeps every byte it got: say so, or an officer may start over elsewhere.
        hint = " (run fetch again: it resumes the downloads kept in .incoming)"
        print(f"{PROG}: interrupted{hint * (args.command == 'fetch')}", file=err, flush=True)
        return 130
    return status
