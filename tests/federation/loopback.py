"""Federation nodes served on 127.0.0.1 for tests (library-only and Home Assistant ones)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web

from custom_components.porchlight.federation.api import API_PREFIX
from custom_components.porchlight.federation.clock import ManualClock
from custom_components.porchlight.federation.evidence import (
    ClipEvidence,
    ConsentRef,
    sign_manifest,
)
from custom_components.porchlight.federation.identity import Identity
from custom_components.porchlight.federation.listener import Limits, Listener
from custom_components.porchlight.federation.node import Node, NodeHooks, Settings
from custom_components.porchlight.federation.outbox import Outbox
from custom_components.porchlight.federation.transport import HttpSender, make_app

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable
    from pathlib import Path

    import aiohttp

    from custom_components.porchlight.federation.canonical import JSON


@dataclass
class Running:
    """A node served on loopback."""

    node: Node
    port: int
    close: Callable[[], Awaitable[None]]

    @property
    def endpoint(self) -> str:
        """The node's advertised endpoint (API prefix included)."""
        return f"http://127.0.0.1:{self.port}{API_PREFIX}"


@dataclass
class Network:
    """Nodes on loopback sharing one clock and one client session."""

    clock: ManualClock
    session: aiohttp.ClientSession
    running: list[Running] = field(default_factory=list)

    @property
    def sender(self) -> HttpSender:
        """An outbound client like the integration's."""
        return HttpSender(self.session, self.clock, timeout=5)

    def node(
        self,
        name: str,
        *,
        identity: Identity | None = None,
        outbox_path: Path | None = None,
        hooks: NodeHooks | None = None,
        **settings: Any,
    ) -> Node:
        """A node that is not (yet) served."""
        return Node(
            identity or Identity.generate(),
            Settings(name=name, **settings),
            self.clock,
            outbox=Outbox(outbox_path),
            hooks=hooks,
        )

    async def serve(self, node: Node, port: int = 0) -> Running:
        """Serve node on 127.0.0.1 and advertise the URL it got."""
        runner = web.AppRunner(make_app(node), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", port, reuse_address=True)
        await site.start()
        server = site._server
        assert server is not None
        bound = int(server.sockets[0].getsockname()[1])  # type: ignore[union-attr]
        return self._add(Running(node, bound, runner.cleanup))

    async def listen(self, node: Node, port: int = 0, limits: Limits | None = None) -> Running:
        """Serve node on 127.0.0.1 with the dedicated listener and advertise its URL."""
        listener = Listener(node, limits=limits)
        await listener.start("127.0.0.1", port)
        return self._add(Running(node, listener.port, listener.close))

    def _add(self, running: Running) -> Running:
        running.node.advertise(running.endpoint)
        self.running.append(running)
        return running

    async def stop(self, running: Running) -> None:
        """Take a node off the network."""
        await running.close()
        self.running.remove(running)

    async def start(self, name: str, *, hooks: NodeHooks | None = None, **settings: Any) -> Running:
        """A new node, served (telling hooks)."""
        return await self.serve(self.node(name, hooks=hooks, **settings))

    async def pair(self, inviter: Running, invitee: Running, *, confirm: bool = True) -> None:
        """Pair two served nodes over HTTP (as LAN: they are on loopback), codes confirmed."""
        invite = inviter.node.create_invite(lan=True)
        peer = await invitee.node.accept_invite(invite.to_text(), self.sender, lan=True)
        if confirm:
            invitee.node.confirm_pairing(peer.keyid, peer.pairing_code)
            inviter.node.confirm_pairing(invitee.node.identity.keyid, peer.pairing_code)


def request_body(clock_now: int, *, max_hops: int = 1) -> dict[str, JSON]:
    """A small circle around a park, the last two hours."""
    return {
        "case": "2026-000123",
        "reason": "Burglary reported at 14:05",
        "area": {"kind": "circle", "lat": 40_712_800, "lon": -74_006_000, "radius_m": 200},
        "start": clock_now - 7200,
        "end": clock_now - 60,
        "reply_to": "http://127.0.0.1:1/api/porchlight/v1",
        "max_hops": max_hops,
    }


def offer_body(
    home: Running, agency: str, request_id: str, clips: tuple[str, ...] = ("abc123",)
) -> dict[str, JSON]:
    """A footage_offer body as a home builds it: links and a manifest the home signed.

    The clips are described, not real: the agency's node checks the manifest's signature,
    home, request and agency on arrival; files are checked only when fetched.
    """
    now = home.node.clock.now()
    manifest = sign_manifest(
        home.node.identity,
        agency=agency,
        request=request_id,
        case="2026-000417",
        created=now,
        audit=(1, "ab" * 32),
        clips=[
            ClipEvidence(
                clip=clip,
                file=f"{clip}.mp4",
                camera="Front door",
                start=now - 3600,
                end=now - 3570,
                sha256="cd" * 32,
                size=1000,
                type="video/mp4",
                consent=ConsentRef(approved_at=now, by="Dana", record="ef" * 32),
            )
            for clip in clips
        ],
    )
    return {
        "request": request_id,
        "manifest": manifest.to_json(),
        "links": [
            {"clip": clip, "url": f"{home.endpoint}/share/{clip}", "expires": now + 3600}
            for clip in clips
        ],
    }


class FollowingClock(ManualClock):
    """Real time plus whatever a test moved it by.

    For loopback nodes that talk to nodes on the system clock (Home Assistant's, the agency
    CLI's): a clock frozen when the fixture was made would sign everything "before" a node
    started a second later, which a node refuses (its replay cache is new).
    """

    def __init__(self) -> None:
        """Start at real time (the offset is ManualClock's time)."""
        super().__init__(0)

    def now(self) -> int:
        """Real time, moved by the test's advances (frozen with it under freezegun)."""
        return int(time.time()) + self.time
