"""The dedicated federation listener, over real loopback sockets.

Peers' requests go through the node's own handlers; unknown keys get the aiohttp inbox's
401; every way of sending malformed or abusive HTTP has its own test.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import aiohttp
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from custom_components.porchlight.federation.httpsig import new_nonce, sign_request
from custom_components.porchlight.federation.identity import Identity
from custom_components.porchlight.federation.listener import Limits, Listener
from custom_components.porchlight.federation.messages import BROADCAST, seal
from custom_components.porchlight.federation.node import API_PREFIX, OFFER, Node, Settings
from custom_components.porchlight.federation.transport import UNKNOWN_KEY_BODY, HttpSender

from .loopback import offer_body, request_body
from .raw_http import BODY_TIMEOUT, Client, hung_up, request, slow_head, trickle, trickling

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator
    from pathlib import Path

    from .loopback import Network, Running

INBOX = f"{API_PREFIX}/inbox".encode()
IDENTITY = f"{API_PREFIX}/identity".encode()
PAIR = f"{API_PREFIX}/pair".encode()
OFFER_PATH = f"{API_PREFIX}{OFFER}".encode()
STRANGER = 'pl=("@method");keyid="AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"'
LIMITS = Limits(max_head=2048, max_headers=20, timeout=0.4, max_connections=4)


def stranger_post(*fields: bytes, body: bytes = b"{}") -> bytes:
    return request(
        b"POST",
        INBOX,
        b"Signature-Input: " + STRANGER.encode(),
        b"Content-Length: %d" % len(body),
        *fields,
        body=body,
    )


def signed_post(
    network: Network, sender: Node, to: Running, text: str, *, host: str | None = None
) -> bytes:
    """A valid alert from sender to the node behind `to`, as raw HTTP bytes."""
    now = network.clock.now()
    body = seal(
        sender.identity,
        "alert",
        {"text": text, "category": "other", "name": "", "max_hops": 0},
        to=BROADCAST,
        now=now,
        lifetime=600,
        message_id=new_nonce(),
    ).encode()
    host = host or f"127.0.0.1:{to.port}"
    url = f"http://{host.lower()}{API_PREFIX}/inbox"
    headers = sign_request(sender.identity, "POST", url, body, now=now)
    fields = [f"{k}: {v}".encode() for k, v in headers.items()]
    fields.append(b"Content-Length: %d" % len(body))
    return request(b"POST", INBOX, *fields, body=body, host=host.encode())


@pytest.fixture
async def home(network: Network) -> Running:
    """A home served by the dedicated listener, with short limits."""
    return await network.listen(network.node("Home"), limits=LIMITS)


@pytest.fixture
async def neighbor(network: Network, home: Running) -> Running:
    """A neighbor on the standalone aiohttp server, paired and confirmed with home."""
    running = await network.start("Neighbor")
    await network.pair(home, running)
    return running


@pytest.fixture
async def client(home: Running) -> AsyncGenerator[Client]:
    """A raw connection to home's listener."""
    connection = await Client.connect(home.port)
    yield connection
    connection.close()


# --- peers get the node's own verification --------------------------------------------------
async def test_pairing_and_alerts_both_ways_through_the_listener(
    network: Network, home: Running, neighbor: Running
) -> None:
    # The neighbor redeemed home's invite at the listener's /pair (fixture); now alerts.
    assert home.node.peers.get(neighbor.node.identity.keyid) is not None
    neighbor.node.broadcast_alert("Ladder left in the alley")
    assert await neighbor.node.deliver(network.sender) == 1
    assert [e.body["text"] for e in home.node.received] == ["Ladder left in the alley"]
    home.node.broadcast_alert("Thanks, taken in")
    assert await home.node.deliver(network.sender) == 1
    assert [e.body["text"] for e in neighbor.node.received] == ["Thanks, taken in"]


async def test_untrusted_agency_rotates_its_key_at_a_listener_home(network: Network) -> None:
    home = await network.listen(network.node("Home"))
    agency = await network.start("Agency", role="agency")
    await network.pair(agency, home)  # the home redeems the agency's invite
    new_key = Identity.generate()
    agency.node.rotate(new_key)
    assert await agency.node.deliver(network.sender) == 1  # through the listener's inbox
    peer = home.node.peers.get(new_key.keyid)
    assert peer is not None
    assert (peer.role, peer.trusted) == ("agency", False)


async def test_agency_offer_endpoint_is_served_by_the_listener(network: Network) -> None:
    agency = await network.listen(network.node("Metro PD", role="agency"))
    home = await network.start("Maple 12")
    await network.pair(agency, home)
    request = agency.node.request_footage(request_body(network.clock.now()), lifetime=3600)
    offer = offer_body(home, agency.node.identity.keyid, request.event_id)
    home.node.send(agency.node.identity.keyid, "footage_offer", offer, lifetime=3600, route=OFFER)
    assert await home.node.deliver(network.sender) == 1
    (got,) = agency.node.received
    assert (got.type, got.sender) == ("footage_offer", home.node.identity.keyid)


async def test_a_homes_listener_has_no_offer_endpoint(client: Client) -> None:
    await client.send(request(b"POST", API_PREFIX.encode() + OFFER.encode(), b"Content-Length: 0"))
    assert (await client.response()).status == 404


async def test_identity_document_is_served(network: Network, home: Running) -> None:
    async with network.session.get(home.endpoint + "/identity") as response:
        assert response.status == 200
        assert response.headers["Cache-Control"] == "no-store"
        document = await response.json()
    assert document == home.node.identity_document()


async def test_known_key_message_is_checked_by_the_node(
    network: Network, home: Running, neighbor: Running, client: Client
) -> None:
    raw = signed_post(network, neighbor.node, home, "first")
    await client.send(raw)
    first = await client.response()
    assert (first.status, first.json["status"]) == (202, "accepted")
    await client.send(raw)  # the same bytes again: the node's replay check answers
    assert (await client.response()).json["error"] == "replay"
    tampered = raw.replace(b"first", b"fir5t")
    await client.send(tampered)
    assert (await client.response()).json["error"] == "digest_mismatch"


async def test_wrong_host_is_refused_by_the_node(
    network: Network, home: Running, neighbor: Running, client: Client
) -> None:
    raw = signed_post(network, neighbor.node, home, "misdirected")
    await client.send(raw.replace(f"Host: 127.0.0.1:{home.port}".encode(), b"Host: Example.org"))
    answer = await client.response()
    assert (answer.status, answer.json["error"]) == (421, "wrong_authority")


async def test_host_is_lowercased_for_the_signature(
    network: Network, home: Running, neighbor: Running, client: Client
) -> None:
    # Like transport.incoming: @authority is the Host header, lowercased.
    home.node.advertise(f"http://home.example:{home.port}{API_PREFIX}")
    await client.send(
        signed_post(network, neighbor.node, home, "by name", host=f"HOME.Example:{home.port}")
    )
    assert (await client.response()).status == 202


async def test_revoked_key_is_refused_without_reading_the_body(
    network: Network, home: Running, neighbor: Running, client: Client
) -> None:
    home.node.peers.revoke(neighbor.node.identity.keyid, network.clock.now())
    raw = signed_post(network, neighbor.node, home, "after revocation")
    head, _, _ = raw.partition(b"\r\n\r\n")
    await client.send(head + b"\r\n\r\n")  # the body never comes
    answer = await client.response()
    assert (answer.status, answer.json["error"]) == (401, "key_revoked")


# --- strangers: the flood path -----------------------------------------------------------
async def test_unknown_key_gets_the_same_401_as_the_aiohttp_inbox(network: Network) -> None:
    node = network.node("Home")
    listened = await network.listen(node)
    served = await network.serve(node)
    answers = []
    for port in (listened.port, served.port):
        connection = await Client.connect(port)
        await connection.send(stranger_post())
        answers.append(await connection.response())
        connection.close()
    ours, theirs = answers
    assert ours.status == theirs.status == 401
    assert ours.body == theirs.body == UNKNOWN_KEY_BODY
    for name in ("content-type", "cache-control"):
        assert ours.headers[name] == theirs.headers[name]
    assert "date" in ours.headers


async def test_only_the_first_signature_input_counts(
    network: Network, home: Running, neighbor: Running, client: Client
) -> None:
    # Like aiohttp's headers.get(): the first field decides the flood path.
    raw = signed_post(network, neighbor.node, home, "second")
    stranger = b"\r\nSignature-Input: " + STRANGER.encode()
    await client.send(raw.replace(b"\r\nSignature-Input:", stranger + b"\r\nSignature-Input:", 1))
    assert (await client.response()).json["error"] == "unknown_key"
    await client.send(raw.replace(b"\r\nSignature:", stranger + b"\r\nSignature:", 1))
    # Known key first: the node sees two Signature-Input fields and refuses the profile.
    assert (await client.response()).json["error"] == "signature_profile"


async def test_unknown_key_wins_over_content_type_and_length(client: Client) -> None:
    # Protocol §5 step 0: no other header of a stranger's request is looked at.
    await client.send(stranger_post(b"Content-Type: text/plain", body=b"x" * 100))
    assert (await client.response()).json["error"] == "unknown_key"


async def test_unknown_key_with_a_body_too_large_to_skip_closes(client: Client) -> None:
    await client.send(
        request(b"POST", INBOX, b"Signature-Input: " + STRANGER.encode(), b"Content-Length: 70000")
    )
    answer = await client.response()
    assert (answer.status, answer.headers["connection"]) == (401, "close")
    assert await client.closed()


async def test_unknown_key_keeps_the_connection_and_skips_the_body(client: Client) -> None:
    body = b'{"padding":"' + b"x" * 3000 + b'"}'
    for _ in range(3):
        await client.send(stranger_post(body=body))
        assert (await client.response()).status == 401


# --- framing -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "head",
    [
        b"POST  /x HTTP/1.1",  # two spaces
        b"POST http://127.0.0.1/x HTTP/1.1",  # absolute form
        b"OPTIONS * HTTP/1.1",  # asterisk form
        b"GET /x#frag HTTP/1.1",  # fragment
        b"GET /x HTTP/1.1 extra",
        b"GET /\x7f HTTP/1.1",
        b"GET /x HTTP/11",
        b"\x16\x03\x01\x02\x00",  # TLS hello on the plain port
    ],
)
async def test_bad_request_line_is_400_and_closes(client: Client, head: bytes) -> None:
    await client.send(head + b"\r\nHost: 127.0.0.1\r\n\r\n")
    answer = await client.response()
    assert (answer.status, answer.json["error"]) == (400, "bad_request")
    assert answer.headers["connection"] == "close"
    assert await client.closed()


@pytest.mark.parametrize(
    "field",
    [
        b"Host : 127.0.0.1",  # whitespace before the colon
        b" folded",  # obs-fold
        b"No-Colon",
        b"Bad\x01: control",
        b"X-Value: bare\nLF",
        b"X-Value: del\x7f",
    ],
)
async def test_malformed_header_field_is_400_and_closes(client: Client, field: bytes) -> None:
    await client.send(request(b"GET", IDENTITY, b"X-First: 1", field))
    assert (await client.response()).status == 400
    assert await client.closed()


async def test_oversize_head_is_431_and_closes(client: Client) -> None:
    raw = request(b"GET", IDENTITY)
    pad = LIMITS.max_head - (len(raw) - 4) - len(b"\r\nX-Pad: ") + 1  # one byte too many
    await client.send(request(b"GET", IDENTITY, b"X-Pad: " + b"p" * pad))
    answer = await client.response()
    assert (answer.status, answer.json["error"]) == (431, "headers_too_large")
    assert await client.closed()


async def test_endless_head_is_431_before_its_end_arrives(client: Client) -> None:
    await client.send(b"GET " + IDENTITY + b" HTTP/1.1\r\nX-Big: " + b"a" * 3000)
    assert (await client.response()).status == 431
    assert await client.closed()


async def test_too_many_header_fields_is_431(client: Client) -> None:
    fields = [b"X-F%d: 1" % i for i in range(LIMITS.max_headers + 1)]
    await client.send(request(b"GET", IDENTITY, *fields, host=None))
    assert (await client.response()).status == 431


async def test_head_at_the_limits_is_served(client: Client) -> None:
    fields = [b"X-F%d: 1" % i for i in range(LIMITS.max_headers - 2)]  # with Host and X-Pad
    raw = request(b"GET", IDENTITY, *fields)
    pad = LIMITS.max_head - (len(raw) - 4) - len(b"\r\nX-Pad: ")
    await client.send(request(b"GET", IDENTITY, *fields, b"X-Pad: " + b"p" * pad))
    assert (await client.response()).status == 200


async def test_http_2_is_505(client: Client) -> None:
    await client.send(request(b"GET", IDENTITY, version=b"2.0"))
    answer = await client.response()
    assert (answer.status, answer.json["error"]) == (505, "http_version")
    assert await client.closed()


@pytest.mark.parametrize(
    "fields",
    [
        (),  # no Host at all in HTTP/1.1
        (b"Host: 127.0.0.1",),  # two Hosts
    ],
)
async def test_http_11_needs_exactly_one_host(client: Client, fields: tuple[bytes, ...]) -> None:
    await client.send(request(b"GET", IDENTITY, *fields, host=None if not fields else b"a"))
    assert (await client.response()).status == 400


async def test_http_10_is_answered_and_closed(client: Client) -> None:
    await client.send(request(b"GET", IDENTITY, version=b"1.0", host=None))
    answer = await client.response()
    assert (answer.status, answer.headers["connection"]) == (200, "close")
    assert await client.closed()


async def test_connection_close_is_honoured(client: Client) -> None:
    await client.send(request(b"GET", IDENTITY, b"Connection: Keep-Alive, CLOSE"))
    assert (await client.response()).headers["connection"] == "close"
    assert await client.closed()


async def test_post_without_content_length_is_411_and_keeps_the_connection(
    client: Client,
) -> None:
    await client.send(request(b"POST", INBOX, b"Content-Type: application/json"))
    answer = await client.response()
    assert (answer.status, answer.json["error"]) == (411, "length_required")
    await client.send(request(b"GET", IDENTITY))
    assert (await client.response()).status == 200


async def test_chunked_body_is_411_and_closes(client: Client) -> None:
    await client.send(
        request(b"POST", INBOX, b"Transfer-Encoding: chunked", body=b"2\r\n{}\r\n0\r\n\r\n")
    )
    assert (await client.response()).status == 411
    assert await client.closed()


async def test_chunked_with_content_length_is_400(client: Client) -> None:
    # The request-smuggling shape: two framings that may disagree.
    await client.send(
        request(b"POST", INBOX, b"Content-Length: 2", b"Transfer-Encoding: chunked", body=b"{}")
    )
    assert (await client.response()).status == 400
    assert await client.closed()


@pytest.mark.parametrize(
    "fields",
    [
        (b"Content-Length: 2", b"Content-Length: 2"),
        (b"Content-Length: +2",),
        (b"Content-Length: 2, 2",),
        (b"Content-Length: 1" + b"0" * 18,),
    ],
)
async def test_bad_content_length_is_400(client: Client, fields: tuple[bytes, ...]) -> None:
    await client.send(request(b"POST", INBOX, *fields, body=b"{}"))
    assert (await client.response()).status == 400
    assert await client.closed()


async def test_body_over_the_limit_is_413_before_it_is_sent(client: Client) -> None:
    await client.send(
        request(b"POST", INBOX, b"Content-Type: application/json", b"Content-Length: 65537")
    )
    answer = await client.response()
    assert (answer.status, answer.json["error"]) == (413, "body_too_large")
    assert await client.closed()


async def test_unknown_path_is_404_and_its_body_skipped(client: Client) -> None:
    await client.send(request(b"POST", b"/api/hassio/x", b"Content-Length: 5", body=b"hello"))
    answer = await client.response()
    assert (answer.status, answer.json["error"]) == (404, "not_found")
    await client.send(request(b"GET", API_PREFIX.encode() + b"/inbox/../identity"))
    assert (await client.response()).status == 404  # raw paths only: no normalisation
    await client.send(request(b"GET", IDENTITY))
    assert (await client.response()).status == 200


async def test_unknown_path_with_a_body_too_large_to_skip_closes(client: Client) -> None:
    await client.send(request(b"POST", b"/", b"Content-Length: 1000000"))
    assert (await client.response()).status == 404
    assert await client.closed()


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [(b"GET", INBOX, "POST"), (b"POST", IDENTITY, "GET"), (b"PUT", PAIR, "POST")],
)
async def test_wrong_method_is_405_with_allow(
    client: Client, method: bytes, path: bytes, allow: str
) -> None:
    await client.send(request(method, path, b"Content-Length: 0"))
    answer = await client.response()
    assert (answer.status, answer.headers["allow"]) == (405, allow)
    await client.send(request(b"GET", IDENTITY))
    assert (await client.response()).status == 200


async def test_head_gets_an_answer_without_a_body(client: Client) -> None:
    await client.send(
        request(b"HEAD", IDENTITY) + request(b"HEAD", b"/x") + request(b"GET", IDENTITY)
    )
    first = await client.reader.readuntil(b"\r\n\r\n")
    assert first.startswith(b"HTTP/1.1 405 ")
    assert b"Allow: GET\r\n" in first
    second = await client.reader.readuntil(b"\r\n\r\n")
    assert second.startswith(b"HTTP/1.1 404 ")
    assert (await client.response()).status == 200


async def test_query_reaches_the_node(
    network: Network, home: Running, neighbor: Running, client: Client
) -> None:
    raw = signed_post(network, neighbor.node, home, "with query")
    # Signed without a query; the node sees ?x=1 in @query and the signature fails.
    await client.send(raw.replace(INBOX + b" ", INBOX + b"?x=1 ", 1))
    assert (await client.response()).json["error"] == "bad_signature"


# --- expectations ------------------------------------------------------------------------
async def test_expect_100_continue_is_honoured_when_the_node_wants_the_body(
    network: Network, home: Running, neighbor: Running, client: Client
) -> None:
    raw = signed_post(network, neighbor.node, home, "expecting")
    head, _, body = raw.partition(b"\r\n\r\n")
    await client.send(head + b"\r\nExpect: 100-continue\r\n\r\n")
    interim = await client.reader.readuntil(b"\r\n\r\n")
    assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
    await client.send(body)
    assert (await client.response()).status == 202


async def test_expect_100_continue_refused_early_closes(client: Client) -> None:
    # The node refuses from the headers; the held-back body may or may not follow, so the
    # connection cannot be reused.
    await client.send(request(b"POST", INBOX, b"Content-Length: 2", b"Expect: 100-continue"))
    answer = await client.response()
    assert (answer.status, answer.headers["connection"]) == (415, "close")
    assert await client.closed()


async def test_expect_100_continue_from_a_stranger_closes(client: Client) -> None:
    await client.send(
        request(
            b"POST",
            INBOX,
            b"Signature-Input: " + STRANGER.encode(),
            b"Content-Length: 2",
            b"Expect: 100-continue",
        )
    )
    assert (await client.response()).status == 401
    assert await client.closed()


async def test_other_expectations_are_417(client: Client) -> None:
    await client.send(request(b"GET", IDENTITY, b"Expect: something"))
    assert (await client.response()).status == 417
    assert await client.closed()


# --- pipelining ----------------------------------------------------------------------------
async def test_pipelined_requests_are_answered_in_order(
    network: Network, home: Running, neighbor: Running, client: Client
) -> None:
    await client.send(
        request(b"GET", IDENTITY)
        + stranger_post()
        + signed_post(network, neighbor.node, home, "pipelined")
        + request(b"GET", b"/nowhere")
        + request(b"GET", IDENTITY, b"Connection: close")
    )
    statuses = [(await client.response()).status for _ in range(5)]
    assert statuses == [200, 401, 202, 404, 200]
    assert await client.closed()


async def test_pipelined_requests_behind_a_slow_body_wait_their_turn(
    network: Network, home: Running, neighbor: Running, client: Client
) -> None:
    raw = signed_post(network, neighbor.node, home, "slow body")
    head, _, body = raw.partition(b"\r\n\r\n")
    await client.send(head + b"\r\n\r\n" + body[:10])
    await asyncio.sleep(0.05)
    # The rest of the body, and more requests than the listener buffers while the node
    # works: it stops reading until it has answered.
    more = request(b"GET", IDENTITY, b"X-Pad: " + b"p" * 1000) * 4
    await client.send(body[10:] + more)
    statuses = [(await client.response()).status for _ in range(5)]
    assert statuses == [202, 200, 200, 200, 200]


async def _stingy_client(listener: Listener) -> tuple[Client, Any]:
    """A client with a tiny receive window, and the listener's side of its connection
    with a tiny send buffer: unread answers pile up in the listener quickly."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)  # noqa: FBT003
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", listener.port))
    reader, writer = await asyncio.open_connection(sock=sock)
    await asyncio.sleep(0.05)
    (connection,) = listener.connections
    server_socket = connection.transport.get_extra_info("socket")
    server_socket.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    return Client(reader, writer), connection


async def test_client_that_does_not_read_answers_is_throttled(network: Network) -> None:
    # A client pipelining requests without reading the answers fills the listener's send
    # buffer; the listener stops reading until the client catches up, then answers all.
    count = 3000
    listener = Listener(network.node("Home"), limits=Limits(timeout=5))
    await listener.start("127.0.0.1", 0)
    client, connection = await _stingy_client(listener)
    try:
        client.writer.write(stranger_post() * count)
        await asyncio.sleep(0.2)
        assert connection.reading_paused
        answers = [await client.response() for _ in range(count)]
        assert {a.status for a in answers} == {401}
        assert not connection.reading_paused
    finally:
        client.close()
        await listener.close()


async def test_client_that_never_reads_answers_is_dropped(network: Network) -> None:
    listener = Listener(network.node("Home"), limits=LIMITS)
    await listener.start("127.0.0.1", 0)
    client, connection = await _stingy_client(listener)
    try:
        client.writer.write(stranger_post() * 3000)
        await asyncio.sleep(0.1)
        assert connection.reading_paused
        await asyncio.sleep(LIMITS.timeout * 2)
        assert not listener.connections  # aborted, not left waiting to flush
    finally:
        client.close()
        await listener.close()


# --- slow and idle clients ---------------------------------------------------------------
async def test_idle_connection_is_closed_silently(client: Client) -> None:
    await asyncio.sleep(LIMITS.timeout * 2)
    assert await client.reader.read() == b""


async def test_trickled_head_times_out_with_408(client: Client) -> None:
    await client.send(b"GET " + IDENTITY + b" HTTP/1.1\r\n")
    await asyncio.sleep(LIMITS.timeout / 2)
    await client.send(b"X-Slow: 1\r\n")  # more bytes do not buy more time
    answer = await client.response()
    assert (answer.status, answer.json["error"]) == (408, "timeout")
    assert await client.closed()


async def test_body_that_never_comes_times_out(
    network: Network, home: Running, neighbor: Running, client: Client
) -> None:
    raw = signed_post(network, neighbor.node, home, "stalled")
    await client.send(raw[:-5])
    answer = await client.response()
    assert answer.status == 408
    assert await client.closed()
    assert len(home.node.received) == 0


async def test_body_trickled_in_time_is_accepted(
    network: Network, home: Running, neighbor: Running, client: Client
) -> None:
    raw = signed_post(network, neighbor.node, home, "trickled")
    head, _, body = raw.partition(b"\r\n\r\n")
    await client.send(head + b"\r\n\r\n")
    for piece in (body[:20], body[20:40], body[40:]):
        await asyncio.sleep(0.02)
        await client.send(piece)
    assert (await client.response()).status == 202


async def test_client_gone_while_the_node_waits_for_the_body(
    network: Network, home: Running, neighbor: Running, client: Client
) -> None:
    raw = signed_post(network, neighbor.node, home, "gone")
    await client.send(raw[:-5])
    await asyncio.sleep(0.05)
    client.writer.transport.abort()
    await asyncio.sleep(0.05)
    assert len(home.node.received) == 0


async def test_connections_beyond_the_limit_get_503(home: Running) -> None:
    clients = [await Client.connect(home.port) for _ in range(LIMITS.max_connections)]
    for c in clients:  # all accepted and served
        await c.send(request(b"GET", IDENTITY))
        assert (await c.response()).status == 200
    extra = await Client.connect(home.port)
    answer = await extra.response()
    assert (answer.status, answer.json["error"]) == (503, "busy")
    assert await extra.closed()
    clients[0].close()
    await asyncio.sleep(0.05)
    again = await Client.connect(home.port)
    await again.send(request(b"GET", IDENTITY))
    assert (await again.response()).status == 200
    for c in [*clients[1:], again, extra]:
        c.close()


# --- errors inside and the server's life ---------------------------------------------------
@pytest.mark.allow_porchlight_warnings(r"Federation request failed")
async def test_unexpected_error_in_a_handler_is_500_and_closes(
    network: Network, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(*_args: object) -> None:
        msg = "bug"
        raise RuntimeError(msg)

    monkeypatch.setattr(Node, "handle_pair", broken)
    home = await network.listen(network.node("Home"))
    client = await Client.connect(home.port)
    await client.send(request(b"POST", PAIR, b"Content-Length: 2", body=b"{}"))
    answer = await client.response()
    assert (answer.status, answer.json["error"]) == (500, "internal_error")
    assert await client.closed()
    assert "Federation request failed" in caplog.text
    client.close()


async def test_handler_asking_for_less_than_was_sent_gets_413(
    network: Network, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def small(_node: Node, _request: object, read_body: Any) -> object:
        return await read_body(1)

    monkeypatch.setattr(Node, "handle_pair", small)
    home = await network.listen(network.node("Home"))
    client = await Client.connect(home.port)
    await client.send(request(b"POST", PAIR, b"Content-Length: 2", body=b"{}"))
    answer = await client.response()
    assert (answer.status, answer.json["error"]) == (413, "body_too_large")
    await client.send(request(b"GET", IDENTITY))  # the unread body was skipped
    assert (await client.response()).status == 200
    client.close()


async def test_close_drops_open_connections(network: Network) -> None:
    node = network.node("Home")
    listener = Listener(node, limits=LIMITS)
    with pytest.raises(RuntimeError):
        _ = listener.port
    assert not listener.running
    await listener.start("127.0.0.1", 0)
    assert listener.running
    client = await Client.connect(listener.port)
    await client.send(b"GET " + IDENTITY)  # half a request
    await asyncio.sleep(0.05)
    await listener.close()
    assert await client.closed()
    await listener.close()  # twice is harmless
    assert not listener.running
    client.close()


async def test_data_after_the_listener_decided_to_close_is_ignored(home: Running) -> None:
    # TLS transports may still deliver data after close(); the connection ignores it.
    listener = Listener(home.node, limits=LIMITS)
    await listener.start("127.0.0.1", 0)
    try:
        client = await Client.connect(listener.port)
        await asyncio.sleep(0.05)
        (connection,) = listener.connections
        connection.closing = True
        connection.data_received(request(b"GET", IDENTITY))
        assert connection.pos == 0
        client.close()
    finally:
        await listener.close()


async def test_listener_serves_tls(network: Network, tmp_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    (tmp_path / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    client_context = ssl.create_default_context(cafile=tmp_path / "cert.pem")
    node = network.node("Home")
    listener = Listener(node)
    await listener.start("127.0.0.1", 0, ssl_context=server_context)
    try:
        url = f"https://127.0.0.1:{listener.port}{API_PREFIX}/identity"
        async with network.session.get(url, ssl=client_context) as response:
            assert (await response.json())["keyid"] == node.identity.keyid
    finally:
        await listener.close()


async def test_port_in_use_raises(network: Network, home: Running) -> None:
    listener = Listener(network.node("Other"))
    with pytest.raises(OSError, match="in use"):
        await listener.start("127.0.0.1", home.port)
    assert not listener.running


# --- slow bodies: the same deadline on the listener and on aiohttp (HA's port, agencies) -------
SLOW_CLIENTS = 40


async def serve_home(network: Network, server: str, *, role: str = "neighbor") -> Running:
    node = network.node("Home", role=role, body_timeout=BODY_TIMEOUT)
    if server == "listener":
        return await network.listen(node, limits=Limits(timeout=BODY_TIMEOUT))
    return await network.serve(node)


@pytest.mark.parametrize("server", ["aiohttp", "listener"])
async def test_many_slow_bodies_get_408_while_a_peer_gets_through(
    network: Network, server: str
) -> None:
    home = await serve_home(network, server)
    neighbor = await network.start("Neighbor")
    await network.pair(home, neighbor)
    slow = [await Client.connect(home.port) for _ in range(SLOW_CLIENTS)]
    head = slow_head(network, neighbor.node.identity, home, INBOX)
    loop = asyncio.get_running_loop()
    async with trickling(slow, [head] * len(slow)) as answers:
        await asyncio.sleep(0.1)  # every slow request is in, trickling
        started = loop.time()
        neighbor.node.broadcast_alert("Gate left open")
        async with aiohttp.ClientSession() as session:  # a fresh connection, like a new peer's
            assert await neighbor.node.deliver(HttpSender(session, network.clock)) == 1
        assert not any(a.done() for a in answers)  # through while all of them still trickle
        refused = {(a.status, a.json["error"]) for a in await asyncio.gather(*answers)}
        assert refused == {(408, "timeout")}
        assert all([await hung_up(c) for c in slow])
        # Answered at the deadline, not when the 600 bytes would have been complete (30 s).
        assert loop.time() - started < BODY_TIMEOUT + 3
    assert [e.body["text"] for e in home.node.received] == ["Gate left open"]


@pytest.mark.parametrize("server", ["aiohttp", "listener"])
@pytest.mark.parametrize(("role", "path"), [("neighbor", PAIR), ("agency", OFFER_PATH)])
async def test_slow_pairing_and_offer_bodies_get_408(
    network: Network, server: str, role: str, path: bytes
) -> None:
    # Strangers may use these routes: the key is any key, as a stranger's would be.
    home = await serve_home(network, server, role=role)
    client = await Client.connect(home.port)
    task = asyncio.create_task(trickle(client, slow_head(network, Identity.generate(), home, path)))
    try:
        answer = await client.response()
        assert (answer.status, answer.json["error"]) == (408, "timeout")
        assert answer.headers["content-type"] == "application/json"
        assert await hung_up(client)
    finally:
        task.cancel()
        client.close()


def test_both_ports_default_to_the_same_deadline() -> None:
    assert Limits().timeout == Settings(name="x").body_timeout == 10


# --- a repeated Content-Type: malformed HTTP, 400 on both ports --------------------------------
@pytest.mark.parametrize("server", ["aiohttp", "listener"])
async def test_repeated_content_type_is_400_and_closes(network: Network, server: str) -> None:
    # aiohttp (HA's port, agencies) refuses repeated singleton fields itself, in plain text,
    # before Porchlight sees the request; the listener gives the same status in its JSON.
    home = await serve_home(network, server)
    neighbor = await network.start("Neighbor")
    await network.pair(home, neighbor)
    raw = signed_post(network, neighbor.node, home, "twice")
    twice = raw.replace(
        b"Content-Type: application/json",
        b"Content-Type: application/json\r\nContent-Type: text/plain",
    )
    assert twice != raw
    client = await Client.connect(home.port)
    try:
        await client.send(twice)
        answer = await client.response()
        assert answer.status == 400
        if server == "listener":
            assert answer.json["error"] == "bad_request"
        else:
            assert answer.headers["content-type"].startswith("text/plain")
        assert await hung_up(client)
    finally:
        client.close()
    assert len(home.node.received) == 0


@pytest.mark.parametrize("server", ["aiohttp", "listener"])
async def test_lower_case_keyid_is_signature_profile(network: Network, server: str) -> None:
    # docs/protocol.md §3: keyids are never case-folded; a pinned peer's keyid in lower case is
    # neither unknown_key (step 0) nor accepted, but out of profile.
    home = await serve_home(network, server)
    neighbor = await network.start("Neighbor")
    await network.pair(home, neighbor)
    keyid = neighbor.node.identity.keyid.encode()
    raw = signed_post(network, neighbor.node, home, "lower")
    client = await Client.connect(home.port)
    try:
        await client.send(raw.replace(keyid, keyid.lower()))
        answer = await client.response()
    finally:
        client.close()
    assert (answer.status, answer.json["error"]) == (401, "signature_profile")
