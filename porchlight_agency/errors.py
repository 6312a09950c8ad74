"""What the command line reports: one line on stderr and an exit status, never a traceback."""

from __future__ import annotations

from typing import ClassVar


class AgencyError(Exception):
    """A failure the user can act on; its message is shown as is."""

    exit_status: ClassVar[int] = 1


class UsageError(AgencyError):
    """Something the user typed or pointed at is wrong (exit status 2, like argparse)."""

    exit_status = 2


class CommandError(AgencyError):
    """The command could not do its work (missing profile, unreachable home, failed check)."""
