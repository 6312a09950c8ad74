"""`porchlight-agency`: an agency's side of Porchlight, on the command line.

Every command reads and writes one profile directory (`--profile`, else
`$PORCHLIGHT_AGENCY_HOME`, else `~/.config/porchlight-agency`). What a script wants (the
fingerprint, the invite, a request id) goes to stdout; explanations and progress go to
stderr; a failure is one `porchlight-agency: error: ...` line and exit status 2 (bad input)
or 1 (the command could not do its work).
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Final, TextIO

from .commands import Context
from .commands.digests import cmd_digest
from .commands.evidence import cmd_fetch, cmd_verify
from .commands.maps import cmd_map
from .commands.requests import cmd_inbox, cmd_offers, cmd_request
from .commands.setup import cmd_confirm, cmd_init, cmd_invite, cmd_pair, cmd_peers
from .errors import AgencyError, UsageError
from .parser import PROG, build_parser
from .profile import Profile, default_root

if TYPE_CHECKING:
    from collections.abc import Sequence

_LOGGER = logging.getLogger(__name__)


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
    "map": cmd_map,
    "digest": cmd_digest,
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
