"""HTTP on both sides: the outbound client and the aiohttp handlers for the node's routes.

The handlers (`serve_inbox`, `serve_pair`, `serve_identity`) are what Home Assistant's views
call as well as the standalone server (`make_app`) used by agencies, tests and benchmarks.
`routes` is the one list of the node's federation routes; `make_app` and the dedicated
listener (listener.py) both serve exactly that list.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
from http import HTTPStatus
from typing import TYPE_CHECKING, Final

import aiohttp
from aiohttp import web
from yarl import URL

from . import canonical
from .api import API_PREFIX, IDENTITY, INBOX, OFFER, PAIR, Incoming, Reply
from .canonical import JSON, canon
from .errors import (
    BodyTooLargeError,
    DestinationRefusedError,
    MalformedJSONError,
    PeerUnreachableError,
    ProtocolError,
    RequestTimeoutError,
    UnknownKeyError,
)
from .httpsig import CONTENT_TYPE, authority_of, sign_request
from .messages import valid_url
from .peers import UNKNOWN_KEY

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from .api import ReadBody
    from .clock import Clock
    from .identity import Identity
    from .node import Node

DEFAULT_TIMEOUT: Final = 10.0
MAX_RESPONSE: Final = 65536

type IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
type Resolve = Callable[[str, int], Awaitable[list[str]]]
type Handler = Callable[[Incoming, ReadBody], Awaitable[Reply]]
# Called with the URL and the exact body before any byte leaves (the home's audit log);
# if it raises, nothing is sent.
type BeforeSend = Callable[[str, bytes], Awaitable[None]]


# --- server side -----------------------------------------------------------------------------
_HEADERS: Final = {"Content-Type": CONTENT_TYPE, "Cache-Control": "no-store"}
# The flood path's reply is the same every time, so it is serialized once.
UNKNOWN_KEY_BODY: Final = canon(UnknownKeyError(UNKNOWN_KEY).payload())


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


def _reader(request: web.Request, deadline: float) -> ReadBody:
    async def read(limit: int) -> bytes:
        try:
            async with asyncio.timeout_at(deadline):
                data = await read_capped(request.content, limit)
        except TimeoutError as err:
            msg = "request body not complete in time"
            raise RequestTimeoutError(msg) from err
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


async def _serve(node: Node, request: web.Request, handler: Handler) -> web.Response:
    # Trickling a body (slowloris) holds a connection only until the deadline, as on the
    # federation port; aiohttp itself waits for a body as long as bytes keep coming.
    deadline = asyncio.get_running_loop().time() + node.settings.body_timeout
    try:
        reply = await handler(incoming(request), _reader(request, deadline))
    except RequestTimeoutError as err:
        return await _timed_out(request, err)
    except ProtocolError as err:
        return _respond(err.status, err.payload())
    return _respond(reply.status, reply.payload)


async def _timed_out(request: web.Request, err: RequestTimeoutError) -> web.Response:
    """Send the 408 and close: the rest of the body is not waited for.

    Returned as usual, aiohttp would keep reading ("lingering") the unread body for up to
    10 s more before closing, so the answer is written here and the connection closed
    (the transport sends what was written before it closes).
    """
    response = _respond(err.status, err.payload())
    response.force_close()
    # A client that hung up meanwhile gets nothing: there is no one to tell.
    with contextlib.suppress(ConnectionError):
        await response.prepare(request)
        await response.write_eof()
    request.protocol.force_close()
    return response


async def serve_inbox(node: Node, request: web.Request) -> web.Response:
    """Handle a POST to the inbox; strangers' keys are refused before anything else."""
    if node.unknown_key(request.headers.get("Signature-Input")):
        return web.Response(status=HTTPStatus.UNAUTHORIZED, body=UNKNOWN_KEY_BODY, headers=_HEADERS)
    return await _serve(node, request, node.handle_inbox)


async def serve_pair(node: Node, request: web.Request) -> web.Response:
    """Handle a POST to the pairing endpoint."""
    return await _serve(node, request, node.handle_pair)


def serve_identity(node: Node) -> web.Response:
    """Answer a GET for the public identity document."""
    return _respond(200, node.identity_document())


def routes(node: Node) -> dict[str, tuple[str, Handler]]:
    """The node's federation routes: path after the API prefix → (method, handler).

    Nothing else is ever served to peers (no live stream, no owner API); a route added here
    appears on the standalone server and on the dedicated listener alike.
    """

    async def identity(_request: Incoming, _read_body: ReadBody) -> Reply:
        return Reply(HTTPStatus.OK, node.identity_document())

    served: dict[str, tuple[str, Handler]] = {
        INBOX: ("POST", node.handle_inbox),
        PAIR: ("POST", node.handle_pair),
        IDENTITY: ("GET", identity),
    }
    if node.settings.role == "agency":
        # Homes answer footage requests at the agency's offer endpoint.
        served[OFFER] = ("POST", node.handle_offer)
    return served


def make_app(node: Node, prefix: str = API_PREFIX) -> web.Application:
    """A standalone aiohttp application serving one node's federation routes only."""

    def view(path: str, handler: Handler) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def serve(request: web.Request) -> web.Response:
            if path == INBOX:
                return await serve_inbox(node, request)
            return await _serve(node, request, handler)

        return serve

    app = web.Application(client_max_size=node.settings.max_body)
    for path, (method, handler) in routes(node).items():
        app.router.add_route(method, prefix + path, view(path, handler))
    return app


# --- client side -----------------------------------------------------------------------------
_CGNAT: Final = ipaddress.ip_network("100.64.0.0/10")
_ULA: Final = ipaddress.ip_network("fc00::/7")


def address_class(address: IPAddress) -> str | None:
    """Why an outbound destination is not a public address (R2.7); None when it is public.

    The classes a LAN allowance can lift are loopback, private (RFC 1918), link_local, cgnat,
    ula and ipv4_mapped; "special" (multicast, unspecified, reserved, documentation, 6to4,
    Teredo and every other non-global range) is refused even then.
    """
    v6 = address if isinstance(address, ipaddress.IPv6Address) else None
    checks = (
        ("ipv4_mapped", v6 is not None and v6.ipv4_mapped is not None),
        ("special", v6 is not None and (v6.sixtofour or v6.teredo) is not None),
        ("loopback", address.is_loopback),
        ("special", address.is_multicast or address.is_unspecified or address.is_reserved),
        ("link_local", address.is_link_local),
        ("cgnat", address in _CGNAT),
        ("ula", address in _ULA),
        ("private", address.is_private),
        ("special", not address.is_global),
    )
    return next((kind for kind, matches in checks if matches), None)


LAN_CLASSES: Final = frozenset({"loopback", "private", "link_local", "cgnat", "ula", "ipv4_mapped"})


def check_destination(address: str, *, lan: bool) -> IPAddress:
    """The parsed address if the node may connect to it; DestinationRefusedError otherwise."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError as err:
        msg = "not an IP address"
        raise DestinationRefusedError(msg) from err
    kind = address_class(parsed)
    if kind is None or (lan and kind in LAN_CLASSES):
        return parsed
    msg = f"destination is a {kind} address; pair as LAN to allow it"
    raise DestinationRefusedError(msg)


async def system_resolve(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for host (one lookup)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


class _StaleConnectionError(Exception):
    """The connection broke before an answer came (its cause says how): worth one retry."""


class HttpSender:
    """Signs and POSTs requests on a shared aiohttp session.

    No redirects (an endpoint is what was pinned at pairing, nothing else), a total timeout,
    and a cap on how much of a reply is read. The host is resolved once, every address it
    resolves to is checked (R2.7), and the connection goes to the checked address itself,
    so a second lookup (DNS rebinding) has nothing to change; the original host name is kept
    for the Host header, the signature's @authority and TLS (SNI and certificate check).
    """

    def __init__(  # noqa: PLR0913  # keyword-only knobs with defaults
        self,
        session: aiohttp.ClientSession,
        clock: Clock,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        max_response: int = MAX_RESPONSE,
        resolve: Resolve = system_resolve,
        before_send: BeforeSend | None = None,
    ) -> None:
        """Use session for every request."""
        self.before_send = before_send
        self.session = session
        self.clock = clock
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self.max_response = max_response
        self.resolve = resolve

    async def pinned(self, url: str, *, lan: bool) -> URL:
        """The URL with its host replaced by a checked address; raise if none may be used.

        A URL that cannot be used as given (refused by valid_url, or a host the resolver
        refuses to encode) raises DestinationRefusedError, like a private address: retrying
        cannot help, and a ValueError must not escape into the delivery round.
        """
        if not valid_url(url):
            msg = "not a usable endpoint URL"
            raise DestinationRefusedError(msg)
        target = URL(url)
        host = target.host or ""
        try:
            addresses = [str(ipaddress.ip_address(host))]
        except ValueError:
            try:
                addresses = await self.resolve(host, target.port or 0)
            except ValueError as err:  # UnicodeError too: the host's IDNA encoding failed
                msg = f"host cannot be resolved as given ({type(err).__name__})"
                raise DestinationRefusedError(msg) from err
            except OSError as err:
                raise PeerUnreachableError(type(err).__name__) from err
        if not addresses:
            msg = "host has no address"
            raise PeerUnreachableError(msg)
        checked = [check_destination(a, lan=lan) for a in addresses]
        return target.with_host(str(checked[0]))

    async def _attempt(
        self, identity: Identity, url: str, target: URL, body: bytes
    ) -> tuple[int, bytes | None]:
        """One signed POST: the status and the capped reply (None: too large)."""
        if self.before_send is not None:
            try:
                # Before every attempt: a retried POST sends the bytes again.
                await self.before_send(url, body)
            except Exception as err:
                # Unrecorded bytes never leave; the outbox keeps the message for later.
                msg = f"not sent: {type(err).__name__}"
                raise PeerUnreachableError(msg) from err
        headers = sign_request(identity, "POST", url, body, now=self.clock.now())
        headers["Host"] = authority_of(url)
        host = URL(url).host
        try:
            async with self.session.post(
                target,
                data=body,
                headers=headers,
                allow_redirects=False,
                timeout=self.timeout,
                server_hostname=host if target.scheme == "https" else None,
            ) as response:
                return response.status, await read_capped(response.content, self.max_response)
        except aiohttp.ClientConnectorError as err:
            # Could not connect at all: nothing stale about it, retrying now would not help.
            raise PeerUnreachableError(type(err).__name__) from err
        except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError) as err:
            # Most often a kept-alive connection the peer closed as idle just as we reused
            # it: our listener closes idle connections after REQUEST_TIMEOUT (10 s), while
            # aiohttp's client (Home Assistant's shared session too) keeps them for 15 s.
            raise _StaleConnectionError from err
        except (aiohttp.ClientError, TimeoutError) as err:
            raise PeerUnreachableError(type(err).__name__) from err

    async def post(
        self, identity: Identity, url: str, body: bytes, *, lan: bool = False
    ) -> tuple[int, JSON]:
        """Send body; return the status and the strictly parsed reply (None if not JSON)."""
        target = await self.pinned(url, lan=lan)
        try:
            status, data = await self._attempt(identity, url, target, body)
        except _StaleConnectionError:
            # Once, on a fresh connection and with a fresh signature (the first one's nonce
            # may have been seen). Receivers dedupe messages by event id, so in the rare case
            # the peer did act on the first attempt, the second changes nothing.
            try:
                status, data = await self._attempt(identity, url, target, body)
            except _StaleConnectionError as err:
                raise PeerUnreachableError(type(err.__cause__).__name__) from err.__cause__
        if data is None:
            msg = "reply too large"
            raise PeerUnreachableError(msg)
        try:
            return status, canonical.loads(data)
        except MalformedJSONError:
            return status, None
