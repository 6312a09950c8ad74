"""A dedicated federation listener: the node's routes on a port of their own, nothing else.

An owner can open this port to the internet without exposing Home Assistant's login page, and
strangers' floods are refused without aiohttp's per-request machinery: aiohttp alone (a
handler returning a fixed 401) tops out at ~11-15k requests per CPU-second on the benchmark
machine, below the 20k target for refusing unknown keys.

Two paths, both on one asyncio.Protocol per connection:

- **Flood path.** A POST to the inbox whose raw `Signature-Input` names a keyid the node does
  not know (`Node.unknown_key`, protocol §5 step 0) is answered from `data_received` itself
  with prebuilt bytes: the head is validated by one regular expression, the framing headers
  are picked by another, and nothing else is built (no task, no request or response object,
  no header dictionary). The reply has the status and body of `transport.serve_inbox`'s, and
  its Content-Type and Cache-Control.
- **Everything else** is read by a strict HTTP/1.1 reader and handed to the node's own handlers
  (`transport.routes`: `handle_inbox`, `handle_pair`, the identity document), so verification
  is exactly the code Home Assistant's views and the standalone aiohttp server run.

Why a reader of our own instead of handing non-flood connections over to aiohttp's server:
the hand-over needs aiohttp's internal RequestHandler and server objects and replaying what was
already buffered, and a connection once handed over would carry the rest of a flood at
aiohttp's price again. The subset of HTTP/1.1 that peers need is small enough to read in full
and to test case by case:

- origin-form targets only, routes matched on the raw path (exact bytes; 404 otherwise), one
  method per route (405 with Allow otherwise);
- request line and header section ≤ `max_head` bytes, else 431; at most `max_headers`
  fields, else 431; any other deviation from the grammar (obs-fold, whitespace before the
  colon, control characters, bare LF, a '#' in the target) is 400 and the connection closes;
  HTTP/1.1 needs exactly one Host (400), other versions than 1.0 and 1.1 get 505;
- bodies by Content-Length only: Transfer-Encoding is 411 (400 with a Content-Length too, the
  request-smuggling shape), a POST without Content-Length is 411, more than the node's
  `max_body` is 413, all answered before any of the body is read;
- `Expect: 100-continue` is honoured when the node asks for the body; other expectations 417;
- keep-alive with pipelining: requests are answered one at a time, in order; reading pauses
  while the node works or while the client does not read its answers;
- HTTP/1.0 and `Connection: close` close after the answer, and so does every error that leaves
  the framing in doubt;
- each request must arrive in full within `timeout` of the previous answer (or of the
  connection), trickling or not (slowloris): 408 and close, or a silent close when idle;
- at most `max_connections` at once: 503 and close beyond.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
from dataclasses import dataclass
from email.utils import formatdate
from http import HTTPStatus
from typing import TYPE_CHECKING, Final, cast

from multidict import CIMultiDict, CIMultiDictProxy

from .api import API_PREFIX, INBOX, REQUEST_TIMEOUT, Incoming
from .canonical import canon
from .errors import BodyTooLargeError, ProtocolError
from .httpsig import CONTENT_TYPE
from .transport import UNKNOWN_KEY_BODY, routes

if TYPE_CHECKING:
    import ssl
    from collections.abc import Sequence

    from .canonical import JSON
    from .node import Node
    from .transport import Handler

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Limits:
    """How much a client may send, how long it may take, how many may be connected."""

    max_head: int = 16384
    max_headers: int = 64
    timeout: float = REQUEST_TIMEOUT
    max_connections: int = 256


# --- the grammar -----------------------------------------------------------------------------
_TOKEN: Final = rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
# Request line and header fields, nothing else: origin-form target without a fragment, field
# values of visible characters, spaces and tabs (no CR, no LF, no DEL, no other controls).
_HEAD: Final = re.compile(
    rb"(" + _TOKEN + rb") (/[\x21\x22\x24-\x7e]*) HTTP/([0-9]\.[0-9])"
    rb"(?:\r\n" + _TOKEN + rb":[\t\x20-\x7e\x80-\xff]*)*"
)
_FIELD: Final = re.compile(rb"\r\n(" + _TOKEN + rb"):[ \t]*([^\r]*)")
# The only fields the listener reads itself; everything else is the node's business.
_FRAMING: Final = re.compile(
    rb"\r\n(?i:(content-length|content-type|transfer-encoding|connection|expect|host|"
    rb"signature-input))"
    rb":[ \t]*([^\r]*)"
)
_OWS: Final = b" \t"
_MAX_LENGTH_DIGITS: Final = 18
_CONTINUE: Final = b"HTTP/1.1 100 Continue\r\n\r\n"


# --- answers ---------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Refusal:
    status: HTTPStatus
    code: str
    detail: str


_BAD_REQUEST: Final = _Refusal(HTTPStatus.BAD_REQUEST, "bad_request", "malformed HTTP request")
_NOT_FOUND: Final = _Refusal(HTTPStatus.NOT_FOUND, "not_found", "no such federation route")
_NOT_ALLOWED: Final = _Refusal(
    HTTPStatus.METHOD_NOT_ALLOWED, "method_not_allowed", "method not allowed on this route"
)
_TIMEOUT: Final = _Refusal(HTTPStatus.REQUEST_TIMEOUT, "timeout", "request not complete in time")
_LENGTH_REQUIRED: Final = _Refusal(
    HTTPStatus.LENGTH_REQUIRED, "length_required", "a body needs Content-Length, not chunks"
)
_EXPECTATION: Final = _Refusal(
    HTTPStatus.EXPECTATION_FAILED, "expectation_failed", "only 100-continue is supported"
)
_HEAD_TOO_LARGE: Final = _Refusal(
    HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "headers_too_large", "header section too large"
)
_INTERNAL: Final = _Refusal(HTTPStatus.INTERNAL_SERVER_ERROR, "internal_error", "internal error")
_BUSY: Final = _Refusal(HTTPStatus.SERVICE_UNAVAILABLE, "busy", "too many connections")
_VERSION: Final = _Refusal(
    HTTPStatus.HTTP_VERSION_NOT_SUPPORTED, "http_version", "HTTP/1.1 or HTTP/1.0 only"
)


def _encode(
    status: int, body: bytes, *, date: bytes, close: bool, extra: tuple[bytes, ...] = ()
) -> bytes:
    head = [
        b"HTTP/1.1 %d %s" % (status, HTTPStatus(status).phrase.encode("ascii")),
        b"Content-Type: " + CONTENT_TYPE.encode("ascii"),
        b"Cache-Control: no-store",
        b"Content-Length: %d" % len(body),
        b"Date: " + date,
        *extra,
    ]
    if close:
        head.append(b"Connection: close")
    return b"\r\n".join(head) + b"\r\n\r\n" + body


def _payload(refusal: _Refusal) -> dict[str, JSON]:
    return {"error": refusal.code, "detail": refusal.detail}


@dataclass(frozen=True, slots=True)
class _Route:
    method: bytes
    handler: Handler
    inbox: bool


# --- one connection --------------------------------------------------------------------------
class _Connection(asyncio.Protocol):
    """One client connection: reads requests in order, answers each before the next."""

    def __init__(self, listener: Listener) -> None:
        self.listener = listener
        self.loop = listener.loop
        self.max_body = listener.node.settings.max_body
        self.transport = cast("asyncio.Transport", None)
        self.remote = ""
        self.buffer = b""
        self.pos = 0
        self.deadline = math.inf
        self.skip = 0
        self.closing = False
        self.busy = False
        self.in_process = False
        self.write_paused = False
        self.reading_paused = False
        self.task: asyncio.Task[None] | None = None
        self.body_length = 0
        self.body_waiter: asyncio.Future[None] | None = None
        self.expect_continue = False
        self.close_after = False
        self.length: int | None = None
        self.chunked = False
        self.host: bytes | None = None
        self.signature_input: bytes | None = None

    # asyncio callbacks ---------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast("asyncio.Transport", transport)
        listener = self.listener
        if len(listener.connections) >= listener.limits.max_connections:
            self.closing = True
            self.transport.write(listener.refusal(_BUSY, close=True))
            self.transport.close()
            return
        peer = transport.get_extra_info("peername")
        self.remote = str(peer[0]) if isinstance(peer, tuple) else ""
        listener.connections.add(self)
        self.deadline = self.loop.time() + listener.limits.timeout

    def connection_lost(self, exc: Exception | None) -> None:  # noqa: ARG002
        self.closing = True
        self.listener.connections.discard(self)
        if self.task is not None:
            self.task.cancel()

    def pause_writing(self) -> None:
        # The client does not read its answers: stop reading its requests until it does.
        self.write_paused = True
        self._update_reading()

    def resume_writing(self) -> None:
        self.write_paused = False
        self._update_reading()
        self._process()

    def data_received(self, data: bytes) -> None:
        if self.closing:
            return
        # Appending copies what is pending, at most a head or a body and a head (limits and
        # pausing bound it), so a client sending tiny pieces costs a few µs more per piece.
        if self.pos >= len(self.buffer):
            self.buffer = data
        else:
            self.buffer = self.buffer[self.pos :] + data
        self.pos = 0
        if self.busy:
            self._update_reading()
            waiter = self.body_waiter
            if waiter is not None and len(self.buffer) >= self.body_length:
                self.body_waiter = None
                waiter.set_result(None)
            return
        self._process()

    # reading requests ----------------------------------------------------------------------
    def _update_reading(self) -> None:
        # Buffer at most one body and one head beyond it while the node works on a request.
        pause = self.write_paused or (
            self.busy
            and len(self.buffer) - self.pos > self.body_length + self.listener.limits.max_head
        )
        if pause != self.reading_paused and not self.closing:
            self.reading_paused = pause
            if pause:
                self.transport.pause_reading()
            else:
                self.transport.resume_reading()

    def _process(self) -> None:
        """Answer every complete request in the buffer, until one needs the node's time."""
        if self.in_process:
            return
        self.in_process = True
        try:
            while not (self.busy or self.closing or self.write_paused):
                size = len(self.buffer)
                if self.pos >= size:
                    break
                if self.skip:
                    skipped = min(self.skip, size - self.pos)
                    self.pos += skipped
                    self.skip -= skipped
                    continue
                max_head = self.listener.limits.max_head
                end = self.buffer.find(b"\r\n\r\n", self.pos, self.pos + max_head + 4)
                if end < 0:
                    if size - self.pos >= max_head + 4:
                        self._refuse(_HEAD_TOO_LARGE, close=True)
                    break
                self._request(end)
        finally:
            self.in_process = False

    def _request(self, end: int) -> None:
        """Answer the request whose head ends at end, or hand it to the node."""
        start = self.pos
        head = self._head(start, end)
        if head is None or not self._framing(start, end, head[2]):
            return
        method, target, _ = head
        length = self.length
        chunked = self.chunked
        self.pos = end + 4
        # Answered without its body: the body is skipped if its end is known, else we close.
        body = length or 0
        close = self.close_after or chunked or self.expect_continue or body > self.max_body
        listener = self.listener
        path, _, query = target.partition(b"?")
        route = listener.routes.get(path)
        if route is None or route.method != method:
            self._misrouted(route, method, body, close=close)
        elif (
            route.inbox
            and self.signature_input is not None
            and listener.node.unknown_key(self.signature_input.decode("latin-1"))
        ):
            # The flood path (protocol §5 step 0): prebuilt bytes, nothing else looked at.
            self._answer(listener.unknown_key(close=close), body, close)
        elif chunked or (length is None and method == b"POST"):
            self._refuse(_LENGTH_REQUIRED, close=close)
        elif body > self.max_body:
            err = BodyTooLargeError(f"body larger than {self.max_body} bytes")
            self._answer(listener.reply(err.status, err.payload(), close=True), 0, close=True)
        else:
            self._dispatch(route, method, path, query, length, start, end)

    def _misrouted(self, route: _Route | None, method: bytes, unread: int, *, close: bool) -> None:
        """404 off the federation routes, 405 with Allow for another method on one."""
        if route is None:
            response = self.listener.refusal(_NOT_FOUND, close=close)
        else:
            response = self.listener.refusal(_NOT_ALLOWED, close=close, allow=route.method)
        if method == b"HEAD":  # an answer to HEAD has no body, whatever its length says
            response = response[: response.index(b"\r\n\r\n") + 4]
        self._answer(response, unread, close)

    def _head(self, start: int, end: int) -> tuple[bytes, ...] | None:
        """Method, target and version of a well-formed head, or None once refused."""
        limits = self.listener.limits
        buf = self.buffer
        # (Its size is checked before: _process looks for its end within max_head bytes.)
        if buf.count(b"\r\n", start, end) > limits.max_headers:
            self._refuse(_HEAD_TOO_LARGE, close=True)
            return None
        match = _HEAD.fullmatch(buf, start, end)
        if match is None:
            self._refuse(_BAD_REQUEST, close=True)
            return None
        if match[3] not in {b"1.1", b"1.0"}:
            self._refuse(_VERSION, close=True)
            return None
        return match.groups()

    def _framing(self, start: int, end: int, version: bytes) -> bool:
        """Read the fields the listener itself needs; False once refused."""
        length: int | None = None
        chunked = False
        close = version == b"1.0"
        # Singleton fields kept by name (aiohttp, on HA's port, refuses them repeated too).
        single: dict[bytes, list[bytes]] = {b"host": [], b"content-type": []}
        expect: bytes | None = None
        signature_input: bytes | None = None
        for raw_name, raw_value in _FRAMING.findall(self.buffer, start, end):
            name = raw_name.lower()
            value = raw_value.rstrip(_OWS)
            if name == b"content-length":
                # A second Content-Length, even an equal one, is refused like a bad one.
                length = _content_length(value) if length is None else -1
            elif name in single:
                single[name].append(value)
            elif name == b"connection":
                close = close or b"close" in (t.strip(_OWS) for t in value.lower().split(b","))
            elif name == b"transfer-encoding":
                chunked = True
            elif name == b"expect":
                expect = value.lower()
            elif signature_input is None:
                signature_input = value
        hosts = single[b"host"]
        if (
            length == -1
            or len(hosts) > 1
            or len(single[b"content-type"]) > 1
            or (version == b"1.1" and not hosts)
            or (chunked and length is not None)
        ):
            self._refuse(_BAD_REQUEST, close=True)
            return False
        if expect is not None and expect != b"100-continue":
            self._refuse(_EXPECTATION, close=True)
            return False
        self.length = length
        self.chunked = chunked
        self.close_after = close
        self.expect_continue = expect is not None
        self.host = hosts[0] if hosts else None
        self.signature_input = signature_input
        return True

    def _dispatch(  # noqa: PLR0913, PLR0917  # the parts of the request line and head
        self,
        route: _Route,
        method: bytes,
        path: bytes,
        query: bytes,
        length: int | None,
        start: int,
        end: int,
    ) -> None:
        headers = CIMultiDict[str]()
        for name, value in _FIELD.findall(self.buffer, start, end):
            headers.add(name.decode("ascii"), _text(value.rstrip(_OWS)))
        incoming = Incoming(
            method=method.decode("ascii"),
            authority=_text(self.host).lower() if self.host is not None else "",
            path=path.decode("ascii"),
            query=query.decode("ascii"),
            headers=CIMultiDictProxy(headers),
            content_length=length,
            remote=self.remote,
        )
        self.busy = True
        self.body_length = length or 0
        # Eagerly: a request whose body is already here is answered before this returns.
        task = asyncio.Task(self._serve(route.handler, incoming), loop=self.loop, eager_start=True)
        if not task.done():
            self.task = task

    async def _read_body(self, limit: int) -> bytes:
        length = self.body_length
        if length > limit:
            msg = f"body larger than {limit} bytes"
            raise BodyTooLargeError(msg)
        if len(self.buffer) - self.pos < length:
            if self.expect_continue:
                self.expect_continue = False
                self.transport.write(_CONTINUE)
            self.body_waiter = self.loop.create_future()
            await self.body_waiter
        body = self.buffer[self.pos : self.pos + length]
        self.pos += length
        self.body_length = 0
        return body

    async def _serve(self, handler: Handler, incoming: Incoming) -> None:
        try:
            reply = await handler(incoming, self._read_body)
        except ProtocolError as err:
            status, payload = int(err.status), err.payload()
        except Exception:
            _LOGGER.exception("Federation request failed")
            status, payload = HTTPStatus.INTERNAL_SERVER_ERROR, _payload(_INTERNAL)
            self.close_after = True
        else:
            status, payload = reply.status, reply.payload
        # A body the client held back for a 100 Continue we never sent may or may not follow.
        close = self.close_after or (self.body_length > 0 and self.expect_continue)
        response = self.listener.reply(status, payload, close=close)
        self.task = None
        self.busy = False
        self._answer(response, self.body_length, close)
        self._update_reading()
        self._process()

    # answering -----------------------------------------------------------------------------
    def _answer(self, response: bytes, unread: int, close: bool) -> None:  # noqa: FBT001
        """Send one answer; skip the rest of its request's body, or close."""
        self.transport.write(response)
        self.body_length = 0
        if close:
            self._close()
            return
        self.skip = unread
        self.deadline = self.loop.time() + self.listener.limits.timeout

    def _refuse(self, refusal: _Refusal, *, close: bool) -> None:
        self._answer(self.listener.refusal(refusal, close=close), 0, close)

    def _close(self) -> None:
        self.closing = True
        self.transport.close()
        # The last answer gets the usual time to be read; then the sweep aborts.
        self.deadline = self.loop.time() + self.listener.limits.timeout

    def time_out(self, now: float) -> None:
        """Called by the listener's sweep: drop a client that took too long."""
        if now < self.deadline or (self.busy and self.body_waiter is None and not self.closing):
            return
        if self.closing or self.write_paused:
            # A client that does not read what it is sent would keep the socket (and its
            # place among the connections) for ever: drop it without a word.
            self.closing = True
            self.transport.abort()
            return
        if self.task is not None:
            self.task.cancel()
            self.task = None
        if self.busy or self.skip or self.pos < len(self.buffer):
            self._refuse(_TIMEOUT, close=True)
        else:
            self._close()


def _content_length(value: bytes) -> int:
    """The value of a Content-Length field; -1 unless it is plain digits of sane length."""
    return int(value) if value.isdigit() and len(value) <= _MAX_LENGTH_DIGITS else -1


def _text(value: bytes) -> str:
    # As aiohttp decodes header values: UTF-8, undecodable bytes kept as surrogates.
    return value.decode("utf-8", "surrogateescape")


# --- the server ------------------------------------------------------------------------------
class Listener:
    """The node's federation routes on a port of their own (plain HTTP, or TLS if given)."""

    def __init__(
        self, node: Node, *, prefix: str = API_PREFIX, limits: Limits | None = None
    ) -> None:
        """Serve node's routes under prefix; nothing is bound until start()."""
        self.node = node
        self.limits = limits or Limits()
        self.routes = {
            (prefix + path).encode("ascii"): _Route(method.encode("ascii"), handler, path == INBOX)
            for path, (method, handler) in routes(node).items()
        }
        self.connections: set[_Connection] = set()
        self.loop = cast("asyncio.AbstractEventLoop", None)
        self._server: asyncio.Server | None = None
        self._sweeper: asyncio.TimerHandle | None = None
        self._date = b""
        self._cache: dict[tuple[str, bool], bytes] = {}
        self._unknown_keep = b""
        self._unknown_close = b""

    @property
    def port(self) -> int:
        """The port bound (useful after binding port 0)."""
        if self._server is None:
            msg = "the listener is not running"
            raise RuntimeError(msg)
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def running(self) -> bool:
        """Whether the listener accepts connections."""
        return self._server is not None

    async def start(
        self,
        host: str | Sequence[str] | None,
        port: int,
        *,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        """Bind host:port (None: every interface) and serve; OSError if it cannot be bound."""
        self.loop = asyncio.get_running_loop()
        self._refresh()
        self._server = await self.loop.create_server(
            lambda: _Connection(self), host, port, ssl=ssl_context, backlog=128
        )
        self._sweeper = self.loop.call_later(self._sweep_interval, self._sweep)
        _LOGGER.debug("Federation listener on port %d", self.port)

    async def close(self) -> None:
        """Stop accepting, drop every connection, and wait until the sockets are closed."""
        server, self._server = self._server, None
        if server is None:
            return
        cast("asyncio.TimerHandle", self._sweeper).cancel()
        server.close()
        server.abort_clients()
        await server.wait_closed()

    # timing --------------------------------------------------------------------------------
    @property
    def _sweep_interval(self) -> float:
        return min(1.0, self.limits.timeout / 4)

    def _sweep(self) -> None:
        now = self.loop.time()
        self._refresh()
        for connection in list(self.connections):
            connection.time_out(now)
        self._sweeper = self.loop.call_later(self._sweep_interval, self._sweep)

    def _refresh(self) -> None:
        # Answers carry Date (RFC 9110 §6.6.1); prebuilt ones are rebuilt when it changes.
        date = formatdate(usegmt=True).encode("ascii")
        if date == self._date:
            return
        self._date = date
        self._cache.clear()
        unauthorized = HTTPStatus.UNAUTHORIZED
        self._unknown_keep = _encode(unauthorized, UNKNOWN_KEY_BODY, date=date, close=False)
        self._unknown_close = _encode(unauthorized, UNKNOWN_KEY_BODY, date=date, close=True)

    # answers -------------------------------------------------------------------------------
    def unknown_key(self, *, close: bool) -> bytes:
        """The prebuilt 401 unknown_key, as the aiohttp inbox sends it."""
        return self._unknown_close if close else self._unknown_keep

    def refusal(self, refusal: _Refusal, *, close: bool, allow: bytes | None = None) -> bytes:
        """A listener-level refusal (framing, routing, limits), serialized once per second."""
        key = (refusal.code, close)
        cached = self._cache.get(key)
        if cached is None:
            extra = (b"Allow: " + allow,) if allow is not None else ()
            cached = _encode(
                refusal.status, canon(_payload(refusal)), date=self._date, close=close, extra=extra
            )
            if allow is None:
                self._cache[key] = cached
        return cached

    def reply(self, status: int, payload: dict[str, JSON], *, close: bool) -> bytes:
        """A node's answer."""
        return _encode(status, canon(payload), date=self._date, close=close)
