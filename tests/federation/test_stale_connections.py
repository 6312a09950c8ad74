"""A kept-alive connection the peer closes just as it is reused costs one retry, not a round.

The dedicated listener closes an idle connection after REQUEST_TIMEOUT (10 s); aiohttp's
client (Home Assistant's shared session too) keeps one for 15 s and may reuse it as it
closes. The POST then fails with ServerDisconnectedError although nothing is wrong with the
peer, and before this retry the message waited for the outbox's backoff (the fan-out
benchmark saw dozens of these per run). These tests use a raw server that closes a reused
connection without answering, deterministically, instead of waiting for the race.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
import struct
from typing import TYPE_CHECKING

import aiohttp
import pytest

from custom_components.porchlight.federation.errors import PeerUnreachableError
from custom_components.porchlight.federation.identity import Identity
from custom_components.porchlight.federation.transport import HttpSender

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from custom_components.porchlight.federation.clock import ManualClock

pytestmark = pytest.mark.usefixtures("socket_enabled")  # loopback servers of our own
OK = b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{"ok":true}'


class Server:
    """Answers the first request of each connection; what it does to the next is `reuse`."""

    def __init__(self, reuse: str) -> None:
        self.reuse = reuse  # "close", "reset", or "always-close" (never answers at all)
        self.requests: list[bytes] = []
        self.connections = 0
        self.server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        port = self.server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}/api/porchlight/v1/inbox"

    async def _read(self, reader: asyncio.StreamReader) -> bytes | None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            return None
        length = next(
            int(line.split(b":")[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        return head + await reader.readexactly(length)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        first = True
        while (request := await self._read(reader)) is not None:
            self.requests.append(request)
            if first and self.reuse != "always-close":
                writer.write(OK)
                await writer.drain()
                first = False
                continue
            if self.reuse == "reset":
                # SO_LINGER 0: the close sends RST, the client sees ECONNRESET (ClientOSError).
                sock = writer.get_extra_info("socket")
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.close()
            return
        writer.close()


@contextlib.asynccontextmanager
async def serving(reuse: str) -> AsyncIterator[Server]:
    server = Server(reuse)
    server.server = await asyncio.start_server(server.handle, "127.0.0.1", 0)
    try:
        yield server
    finally:
        server.server.close()


def _nonce(request: bytes) -> bytes:
    found = re.search(rb'nonce="([A-Za-z0-9_-]{22})"', request)
    assert found is not None
    return found[1]


@pytest.mark.parametrize("reuse", ["close", "reset"])
async def test_a_reused_connection_closed_under_us_is_retried_once_freshly_signed(
    clock: ManualClock, reuse: str
) -> None:
    recorded: list[bytes] = []

    async def record(_url: str, body: bytes) -> None:
        recorded.append(body)

    identity = Identity.generate()
    async with serving(reuse) as server, aiohttp.ClientSession() as session:
        sender = HttpSender(session, clock, before_send=record)
        assert await sender.post(identity, server.url, b'{"n":1}', lan=True) == (200, {"ok": True})
        # The second POST goes out on the kept-alive connection, which the server closes.
        assert await sender.post(identity, server.url, b'{"n":2}', lan=True) == (200, {"ok": True})
    assert server.connections == 2  # the retry opened a fresh one
    assert len(server.requests) == 3  # 1, 2 (dropped), 2 again
    assert server.requests[1].endswith(b'{"n":2}')
    assert server.requests[2].endswith(b'{"n":2}')
    # A fresh signature, so the peer's replay cache does not refuse the retry.
    assert _nonce(server.requests[1]) != _nonce(server.requests[2])
    # Both attempts were recorded before their bytes left (every outbound byte is audited).
    assert recorded == [b'{"n":1}', b'{"n":2}', b'{"n":2}']


async def test_a_peer_that_keeps_dropping_the_connection_is_unreachable_after_two_tries(
    clock: ManualClock,
) -> None:
    async with serving("always-close") as server, aiohttp.ClientSession() as session:
        sender = HttpSender(session, clock)
        with pytest.raises(PeerUnreachableError, match="ServerDisconnectedError"):
            await sender.post(Identity.generate(), server.url, b"{}", lan=True)
    assert len(server.requests) == 2  # one retry, not a loop


async def test_a_peer_nobody_listens_for_is_tried_once(clock: ManualClock) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again below: nothing listens there
    recorded: list[bytes] = []

    async def record(_url: str, body: bytes) -> None:
        recorded.append(body)

    async with aiohttp.ClientSession() as session:
        sender = HttpSender(session, clock, before_send=record)
        with pytest.raises(PeerUnreachableError, match="ClientConnectorError"):
            await sender.post(
                Identity.generate(),
                f"http://127.0.0.1:{port}/api/porchlight/v1/inbox",
                b"{}",
                lan=True,
            )
    assert recorded == [b"{}"]  # a refused connection is not stale: no second attempt
