"""Running the agency CLI in-process against loopback homes: the helpers the agency tests share."""

from __future__ import annotations

import asyncio
import io
import socket
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Self

from custom_components.porchlight.federation.clock import ManualClock
from custom_components.porchlight.federation.node import API_PREFIX
from porchlight_agency.cli import main
from porchlight_agency.profile import Profile

if TYPE_CHECKING:
    from pathlib import Path

    from custom_components.porchlight.federation.node import Node, NodeHooks
    from tests.federation.loopback import Network, Running


@dataclass
class Result:
    """What one command did."""

    status: int
    out: str
    err: str


@dataclass
class Cli:
    """porchlight-agency with one profile, run in a worker thread."""

    profile_dir: Path
    port: int

    @property
    def endpoint(self) -> str:
        """The agency endpoint a test profile advertises."""
        return f"http://127.0.0.1:{self.port}{API_PREFIX}"

    def run_sync(self, *argv: str) -> Result:
        """Run a command in this thread (for commands that need no loopback home)."""
        out, err = io.StringIO(), io.StringIO()
        status = main(["--profile", str(self.profile_dir), *argv], out=out, err=err)
        return Result(status, out.getvalue(), err.getvalue())

    async def run(self, *argv: str) -> Result:
        """Run a command while the test's event loop keeps serving the homes."""
        return await asyncio.to_thread(self.run_sync, *argv)

    def node(self) -> Node:
        """The agency's node as the profile holds it now."""
        return Profile(self.profile_dir).load(ManualClock(int(time.time())))

    def init(self, name: str = "Metro PD") -> Result:
        """Create the profile."""
        return self.run_sync("init", "--name", name, "--endpoint", self.endpoint)


async def wait_listening(port: int, timeout: float = 10) -> None:
    """Until something accepts connections on 127.0.0.1:port."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.05)


def iso(seconds: float) -> str:
    """A UTC time in the ISO 8601 form officers type."""
    return datetime.fromtimestamp(seconds, UTC).isoformat()


async def paired_home(
    cli: Cli, network: Network, name: str = "Maple St 12", hooks: NodeHooks | None = None
) -> Running:
    """A home on loopback paired with the agency (codes confirmed, agency trusted by it)."""
    home = await network.start(name, hooks=hooks)
    result = await cli.run("pair", home.node.create_invite(lan=True).to_text(), "--lan")
    assert result.status == 0, result.err
    code = result.out.strip()
    agency = cli.node().identity
    assert cli.run_sync("confirm", home.node.identity.fingerprint, code).status == 0
    home.node.confirm_pairing(agency.keyid, code)
    home.node.peers.set_trusted(agency.keyid, trusted=True)
    return home


async def issue_request(cli: Cli, *extra: str) -> str:
    """A valid request for the last two hours around a park; returns its id."""
    now = time.time()
    result = await cli.run(
        "request",
        "--center",
        "40.7128,-74.0060",
        "--radius",
        "200",
        "--from",
        iso(now - 7200),
        "--to",
        iso(now - 60),
        "--case",
        "2026-000123",
        "--reason",
        "Burglary reported at 14:05",
        *extra,
    )
    assert result.status == 0, result.err
    return result.out.strip()


def one_line_error(err: str) -> str:
    assert err.startswith("porchlight-agency: error: "), err
    assert err.count("\n") == 1, err
    return err.removeprefix("porchlight-agency: error: ").rstrip("\n")


class Served:
    """The inbox command running in a worker thread."""

    def __init__(self, cli: Cli, *argv: str) -> None:
        self.cli = cli
        self.task = asyncio.create_task(cli.run("inbox", "--port", str(cli.port), *argv))

    async def __aenter__(self) -> Self:
        await wait_listening(self.cli.port)
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.task

    async def result(self) -> Result:
        return await self.task
