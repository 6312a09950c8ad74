"""The agency CLI runs in-process (main(argv) in a worker thread, with its own event loop)
against real federation homes served on 127.0.0.1 by the test's loop."""

from __future__ import annotations

import asyncio
import io
import socket
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import aiohttp
import pytest

from custom_components.porchlight.federation.clock import ManualClock
from custom_components.porchlight.federation.node import API_PREFIX
from porchlight_agency.cli import main
from porchlight_agency.profile import Profile
from porchlight_dev.rtsp import free_port
from tests.federation.loopback import FollowingClock, Network

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator
    from pathlib import Path

    from custom_components.porchlight.federation.node import Node, NodeHooks
    from tests.federation.loopback import Running


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """Override the package-wide fixture: no hass here."""
    return


@pytest.fixture
def clock() -> ManualClock:
    """The homes' clock, following real time: the CLI signs with the system clock."""
    return FollowingClock()


@pytest.fixture
async def network(socket_enabled: None, clock: ManualClock) -> AsyncGenerator[Network]:
    """Real loopback servers for the homes of one test."""
    async with aiohttp.ClientSession() as session:
        net = Network(clock, session)
        yield net
        for running in list(net.running):
            await net.stop(running)


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


@pytest.fixture
def cli(socket_enabled: None, tmp_path: Path) -> Cli:
    """A fresh agency profile directory (not created yet) and a free port for its inbox."""
    return Cli(tmp_path / "agency", free_port())


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
