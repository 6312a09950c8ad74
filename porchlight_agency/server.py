"""`porchlight-agency inbox`: the agency's endpoint, served until interrupted.

It serves the federation routes of the agency's node (transport.make_app: /pair, /inbox,
/offer, /identity) under the path of the endpoint the homes were given, keeps every offer
that arrives in the profile, and delivers the outbox every few seconds.

Other commands may change the profile while the inbox runs (an officer issues a request, or
creates an invite a home then redeems here), so each incoming request and each delivery round
works on state freshly read under the profile lock, and saves it before letting go.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from http import HTTPStatus
from typing import TYPE_CHECKING, Final, TextIO

import aiohttp
from aiohttp import web

from custom_components.porchlight.federation import (
    HttpSender,
    NodeHooks,
    canon,
    grouped,
    make_app,
)

from . import digests
from .errors import CommandError
from .maps import store_map
from .profile import ProfileError, endpoint_path

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from custom_components.porchlight.federation import Envelope, Node

    from .profile import Profile

_LOGGER = logging.getLogger(__name__)
DELIVER_EVERY: Final = 5.0
_BUSY: Final = canon({"error": "busy", "detail": "try again shortly"})


class Inbox:
    """The served node of one profile."""

    def __init__(
        self, profile: Profile, load: Callable[[NodeHooks], Node], out: TextIO, err: TextIO
    ) -> None:
        """Serve the node load builds with this inbox's hooks, keeping what arrives in profile.

        A line per offer on out, news on err.
        """
        self.profile = profile
        self.out = out
        self.err = err
        self.offers = 0
        self._dirty = False
        self.node = load(NodeHooks(on_change=self._changed, on_message=self._heard))

    def _changed(self, _what: str) -> None:
        self._dirty = True

    def _heard(self, envelope: Envelope) -> None:
        if envelope.type == "camera_map":
            # Checked on arrival (inbox.py): only cells of at least k homes, on the grid.
            if store_map(self.profile, envelope):
                print(f"camera map from {grouped(envelope.sender)}", file=self.out, flush=True)
            return
        if envelope.type == "agency_digest":
            # The inbox checked the view is for us; kept for `porchlight-agency digest`.
            digests.keep(self.profile, envelope, self.node.identity.keyid)
            print(f"digest from {grouped(envelope.sender)}", file=self.out, flush=True)
            return
        if envelope.type != "footage_offer":
            _LOGGER.info("%s from %s (not kept)", envelope.type, grouped(envelope.sender))
            return
        self.profile.store_offer(envelope)
        self.offers += 1
        links = envelope.body["links"]
        count = len(links) if isinstance(links, list) else 0
        print(
            f"offer {envelope.event_id} from {grouped(envelope.sender)} "
            f"for request {envelope.body['request']}: {count} clip{'s' * (count != 1)}",
            file=self.out,
            flush=True,
        )

    async def _fresh(self, work: Callable[[], Awaitable[None]]) -> None:
        """Run work on the profile's current state, under its lock, and save what changed."""
        async with self.profile.locked_async():
            self.profile.refresh(self.node)
            self._dirty = False
            try:
                await work()
            finally:
                if self._dirty:
                    self.profile.save(self.node)

    @web.middleware
    async def _middleware(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        result: list[web.StreamResponse] = []

        async def work() -> None:
            result.append(await handler(request))

        try:
            await self._fresh(work)
        except ProfileError as err:
            # The sender retries a 503 later; the offer is not lost.
            _LOGGER.warning("Request answered 503: %s", err)
            return web.Response(
                status=HTTPStatus.SERVICE_UNAVAILABLE,
                body=_BUSY,
                headers={"Content-Type": "application/json", "Cache-Control": "no-store"},
            )
        return result[0]

    def app(self) -> web.Application:
        """The aiohttp application: the node's routes under the endpoint's path."""
        endpoint = self.node.endpoint
        assert endpoint is not None  # noqa: S101  # a profile always advertises one
        app = make_app(self.node, prefix=endpoint_path(endpoint))
        app.middlewares.append(self._middleware)
        return app

    async def deliver(self, sender: HttpSender) -> None:
        """One delivery round of the outbox."""

        async def work() -> None:
            if len(self.node.outbox):
                delivered = await self.node.deliver(sender)
                _LOGGER.debug("Delivery round: %d message(s) delivered", delivered)

        try:
            await self._fresh(work)
        except ProfileError as err:
            _LOGGER.warning("Delivery round skipped: %s", err)

    async def run(
        self,
        host: str,
        port: int,
        *,
        once_seconds: float | None = None,
        deliver_every: float = DELIVER_EVERY,
    ) -> None:
        """Serve until SIGINT/SIGTERM (or once_seconds have passed)."""
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        handled: list[signal.Signals] = []
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, stop.set)
                handled.append(sig)
            except ValueError, RuntimeError:  # not the main thread: the caller stops us
                break
        runner = web.AppRunner(self.app(), access_log=None, handle_signals=False)
        await runner.setup()
        try:
            site = web.TCPSite(runner, host, port)
            try:
                await site.start()
            except OSError as error:
                msg = f"cannot listen on {host}:{port}: {error.strerror or error}"
                raise CommandError(msg) from None
            bound = _bound_port(site)
            print(
                f"listening on {host}:{bound} for {self.node.endpoint} "
                f"(fingerprint {self.node.identity.fingerprint})",
                file=self.err,
                flush=True,
            )
            async with aiohttp.ClientSession() as session:
                sender = HttpSender(session, self.node.clock)
                await self._serve(stop, sender, once_seconds, deliver_every)
        finally:
            for sig in handled:
                loop.remove_signal_handler(sig)
            await runner.cleanup()
        print(f"stopped; {self.offers} offer(s) received", file=self.err, flush=True)

    async def _serve(
        self,
        stop: asyncio.Event,
        sender: HttpSender,
        once_seconds: float | None,
        deliver_every: float,
    ) -> None:
        loop = asyncio.get_running_loop()
        deadline = None if once_seconds is None else loop.time() + once_seconds
        while not stop.is_set():
            await self.deliver(sender)
            wait = deliver_every if deadline is None else min(deliver_every, deadline - loop.time())
            if wait <= 0:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), wait)


def _bound_port(site: web.TCPSite) -> int:
    """The port the site listens on (the one the kernel chose when asked for 0)."""
    server = site._server  # noqa: SLF001  # aiohttp exposes the sockets nowhere else
    return int(server.sockets[0].getsockname()[1])  # type: ignore[union-attr]
