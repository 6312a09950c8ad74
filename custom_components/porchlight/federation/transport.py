"""HTTP on both sides: the outbound client and the aiohttp handlers for the node's routes.

The handlers (`serve_inbox`, `serve_pair`, `serve_identity`) are what Home Assistant's views
call as well as the standalone server (`make_app`) used by agencies, tests and benchmarks.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import TYPE_CHECKING, Final

import aiohttp
from aiohttp import web

from . import canonical
from .canonical import JSON, canon
from .errors import (
    BodyTooLargeError,
    MalformedJSONError,
    PeerUnreachableError,
    ProtocolError,
    UnknownKeyError,
)
from .httpsig import CONTENT_TYPE, sign_request
from .node import API_PREFIX, IDENTITY, INBOX, PAIR, Incoming
from .peers import UNKNOWN_KEY

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from .clock import Clock
    from .identity import Identity
    from .node import Node, ReadBody, Reply

DEFAULT_TIMEOUT: Final = 10.0
MAX_RESPONSE: Final = 65536


# --- server side -----------------------------------------------------------------------------
_HEADERS: Final = {"Content-Type": CONTENT_TYPE, "Cache-Control": "no-store"}
# The flood path's reply is the same every time, so it is serialized once.
_UNKNOWN_KEY: Final = canon(UnknownKeyError(UNKNOWN_KEY).payload())


def _respond(status: int, payload: dict[str, JSON]) -> web.Response:
    return web.Response(status=status, body=canon(payload), headers=_HEADERS)


async def read_capped(stream: aiohttp.StreamReader, limit: int) -> bytes | None:
    """Read a stream to its end; None as soon as it proves longer than limit."""
    chunks: list[bytes] = []
    size = 0
    # A running total, so a lying Content-Length never makes us buffer beyond the limit.
    while chunk := await stream.read(limit + 1 - size):
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            return None
    return b"".join(chunks)


def _reader(request: web.Request) -> ReadBody:
    async def read(limit: int) -> bytes:
        data = await read_capped(request.content, limit)
        if data is None:
            msg = f"body larger than {limit} bytes"
            raise BodyTooLargeError(msg)
        return data

    return read


def incoming(request: web.Request) -> Incoming:
    """The request as the node sees it."""
    return Incoming(
        method=request.method,
        authority=(request.host or "").lower(),
        path=request.rel_url.raw_path,
        query=request.rel_url.raw_query_string,
        headers=request.headers,
        content_length=request.content_length,
        remote=request.remote or "",
    )


async def _serve(
    request: web.Request, handler: Callable[[Incoming, ReadBody], Awaitable[Reply]]
) -> web.Response:
    try:
        reply = await handler(incoming(request), _reader(request))
    except ProtocolError as err:
        return _respond(err.status, err.payload())
    return _respond(reply.status, reply.payload)


async def serve_inbox(node: Node, request: web.Request) -> web.Response:
    """Handle a POST to the inbox; strangers' keys are refused before anything else."""
    if node.unknown_key(request.headers.get("Signature-Input")):
        return web.Response(status=HTTPStatus.UNAUTHORIZED, body=_UNKNOWN_KEY, headers=_HEADERS)
    return await _serve(request, node.handle_inbox)


async def serve_pair(node: Node, request: web.Request) -> web.Response:
    """Handle a POST to the pairing endpoint."""
    return await _serve(request, node.handle_pair)


def serve_identity(node: Node) -> web.Response:
    """Answer a GET for the public identity document."""
    return _respond(200, node.identity_document())


def make_app(node: Node, prefix: str = API_PREFIX) -> web.Application:
    """A standalone aiohttp application serving one node's federation routes only."""

    async def inbox(request: web.Request) -> web.Response:
        return await serve_inbox(node, request)

    async def pair(request: web.Request) -> web.Response:
        return await serve_pair(node, request)

    async def identity(_request: web.Request) -> web.Response:
        return serve_identity(node)

    app = web.Application(client_max_size=node.settings.max_body)
    app.router.add_post(prefix + INBOX, inbox)
    app.router.add_post(prefix + PAIR, pair)
    app.router.add_get(prefix + IDENTITY, identity)
    return app


# --- client side -----------------------------------------------------------------------------
class HttpSender:
    """Signs and POSTs requests on a shared aiohttp session.

    No redirects (an endpoint is what was pinned at pairing, nothing else), a total timeout,
    and a cap on how much of a reply is read.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        clock: Clock,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        max_response: int = MAX_RESPONSE,
    ) -> None:
        """Use session for every request."""
        self.session = session
        self.clock = clock
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self.max_response = max_response

    async def post(self, identity: Identity, url: str, body: bytes) -> tuple[int, JSON]:
        """Send body; return the status and the strictly parsed reply (None if not JSON)."""
        headers = sign_request(identity, "POST", url, body, now=self.clock.now())
        try:
            async with self.session.post(
                url, data=body, headers=headers, allow_redirects=False, timeout=self.timeout
            ) as response:
                data = await read_capped(response.content, self.max_response)
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as err:
            raise PeerUnreachableError(type(err).__name__) from err
        if data is None:
            msg = "reply too large"
            raise PeerUnreachableError(msg)
        try:
            return status, canonical.loads(data)
        except MalformedJSONError:
            return status, None
