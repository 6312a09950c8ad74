"""The command line of `porchlight-agency`: its commands, their options and their checks."""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import TYPE_CHECKING, Final, NoReturn

from . import request as req
from .errors import UsageError
from .server import DELIVER_EVERY

if TYPE_CHECKING:
    from collections.abc import Callable

PROG: Final = "porchlight-agency"
MAX_INVITE_HOURS: Final = 24
MAX_PORT: Final = 65535


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
    p.add_argument("--hops", type=int, default=req.DEFAULT_HOPS, help="relays allowed, 0 to 6")
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

    _neighborhood_commands(command)

    p = command("verify", "check evidence folders offline (no profile needed)")
    p.add_argument("folder", type=Path, metavar="DIR", help="an evidence folder, or a tree of them")
    p.add_argument("--home", metavar="FINGERPRINT", help="require manifests signed by this home")
    return parser


def _neighborhood_commands(command: Callable[[str, str], Parser]) -> None:
    """What the homes send the agency about their neighborhood: the map and the digests."""
    p = command("map", "the camera map the homes sent: GeoJSON cells of at least k homes")
    p.add_argument("--out", type=Path, metavar="FILE", help="write it here (default: stdout)")

    p = command("digest", "show the weekly transparency digests homes sent this agency")
    p.add_argument("--period", metavar="YYYY-Www", help="one ISO week only, e.g. 2026-W49")
    p.add_argument("--json", action="store_true", help="print them as JSON")
