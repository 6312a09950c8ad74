"""The commands of `porchlight-agency`, one module per group.

setup: init, invite, pair, confirm, peers; requests: request, inbox, offers; evidence: fetch,
verify. Each command is a function of the Context below returning the exit status (or a
coroutine of it); cli.COMMANDS maps the command names to them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TextIO

from custom_components.porchlight.federation import SystemClock

if TYPE_CHECKING:
    import argparse

    from custom_components.porchlight.federation import Clock, Node, NodeHooks
    from porchlight_agency.profile import Profile


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

    def load(self, hooks: NodeHooks | None = None) -> Node:
        """The profile's node, telling hooks what happens to it."""
        return self.profile.load(self.clock, hooks)
