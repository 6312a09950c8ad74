"""Raw HTTP/1.1 over loopback for the listener's tests: exactly the bytes a test writes reach
the server. Also the slow-body ("trickle") clients that both the library's listener tests and
Home Assistant's federation-port tests send.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from custom_components.porchlight.federation.httpsig import sign_request

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator

    from custom_components.porchlight.federation.identity import Identity

    from .loopback import Network, Running

# How long a home waits for a request's body in the slow-body tests.
BODY_TIMEOUT = 2.0


@dataclass
class Response:
    """One parsed answer."""

    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        """The body, parsed."""
        return json.loads(self.body)


class Client:
    """A raw HTTP/1.1 connection: what we send is exactly what the listener gets."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def connect(cls, port: int) -> Client:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def response(self) -> Response:
        async with asyncio.timeout(5):
            head = await self.reader.readuntil(b"\r\n\r\n")
            status_line, *fields = head[:-4].decode("latin-1").split("\r\n")
            headers: dict[str, str] = {}
            for field in fields:
                name, _, value = field.partition(":")
                headers[name.lower()] = value.strip()
            body = await self.reader.readexactly(int(headers.get("content-length", "0")))
        return Response(int(status_line.split(" ")[1]), headers, body)

    async def closed(self) -> bool:
        """Whether the listener closed the connection (nothing more to read)."""
        async with asyncio.timeout(5):
            return await self.reader.read() == b""

    def close(self) -> None:
        self.writer.close()


def request(
    method: bytes,
    path: bytes,
    *fields: bytes,
    body: bytes = b"",
    version: bytes = b"1.1",
    host: bytes | None = b"127.0.0.1",
) -> bytes:
    lines = [method + b" " + path + b" HTTP/" + version]
    if host is not None:
        lines.append(b"Host: " + host)
    lines += fields
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def slow_head(network: Network, signer: Identity, to: Running, path: bytes) -> bytes:
    """A signed POST head announcing 600 bytes of body (the body itself is trickled)."""
    body = b"x" * 600
    url = f"http://127.0.0.1:{to.port}{path.decode()}"
    headers = sign_request(signer, "POST", url, body, now=network.clock.now())
    fields = [f"{k}: {v}".encode() for k, v in headers.items()]
    fields.append(b"Content-Length: %d" % len(body))
    raw = request(b"POST", path, *fields, host=f"127.0.0.1:{to.port}".encode())
    return raw.removesuffix(b"\r\n\r\n") + b"\r\n\r\n"


async def trickle(client: Client, head: bytes) -> None:
    """Send head, then one body byte every 50 ms (600 bytes would take 30 s).

    The bytes stop shortly before the deadline: bytes arriving after the server closed make
    its kernel answer with a reset, which may discard the 408 before the client reads it.
    """
    await client.send(head)
    with contextlib.suppress(ConnectionError):
        for _ in range(int(BODY_TIMEOUT * 0.5 / 0.05)):
            await asyncio.sleep(0.05)
            await client.send(b"x")


async def hung_up(client: Client) -> bool:
    """Whether the server closed the connection (a trickled byte may have met the close)."""
    try:
        return await client.closed()
    except ConnectionError:
        return True


@contextlib.asynccontextmanager
async def trickling(
    slow: list[Client], heads: list[bytes]
) -> AsyncGenerator[list[asyncio.Task[Response]]]:
    """Each client trickles its head's body; yields the tasks awaiting their answers.

    On the way out every task is cancelled and every connection closed, whatever happened.
    """
    trickles = [asyncio.create_task(trickle(c, head)) for c, head in zip(slow, heads, strict=True)]
    answers = [asyncio.create_task(c.response()) for c in slow]
    try:
        yield answers
    finally:
        for task in (*trickles, *answers):
            task.cancel()
        for c in slow:
            c.close()
