"""The real inbox over loopback: accepted requests per server CPU-second, and junk rejections.

A server process serves one federation node twice on 127.0.0.1: on the dedicated listener
(federation/listener.py, the figures) and on the node's aiohttp app (the same verification code
as the Home Assistant view; the `_aiohttp` figures). This process pre-signs bounded batches of
requests,
serializes each to its final HTTP/1.1 bytes, and replays them over CONCURRENCY keep-alive
connections with a bare asyncio protocol (one request in flight per connection, no
pipelining). A generic HTTP client would cost more CPU per request than the server and
become the bottleneck; this one costs a fraction of it. Throughput is divided by the CPU
time the server process consumed during each phase, so the figure is per core whatever else
the machine does. `aiohttp_floor_per_s` is the same measurement against an aiohttp handler that
only returns a fixed 401: no server built on aiohttp's request handling can refuse faster,
which is why the listener exists.
Only 127.0.0.1 is contacted; every phase is bounded in count and in time.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

from aiohttp import web

from custom_components.porchlight.federation.canonical import b64u, b64u_decode
from custom_components.porchlight.federation.clock import SystemClock
from custom_components.porchlight.federation.httpsig import new_nonce, sign_request
from custom_components.porchlight.federation.identity import Identity, keyid
from custom_components.porchlight.federation.listener import Listener
from custom_components.porchlight.federation.messages import BROADCAST, seal
from custom_components.porchlight.federation.node import API_PREFIX, INBOX, Node, Settings
from custom_components.porchlight.federation.peers import Peer
from custom_components.porchlight.federation.transport import make_app

if TYPE_CHECKING:
    from collections.abc import Iterator
    from multiprocessing.connection import Connection

HOST = "127.0.0.1"
PEERS = 100
ACCEPTED = 12_000
UNKNOWN = 30_000
CONCURRENCY = 32
PHASE_TIMEOUT = 120.0
BASELINE_VERIFIES = 20_000
FLOOR_PATH = "/floor"
_FLOOR_HEADERS = {"Content-Type": "application/json", "Cache-Control": "no-store"}


# --- server process -------------------------------------------------------------------------
async def _floor(_request: web.Request) -> web.Response:
    """What aiohttp alone costs per refused request: no header lookup, no node."""
    return web.Response(status=401, body=b'{"error":"unknown_key"}', headers=_FLOOR_HEADERS)


def _server(conn: Connection, server_key: bytes, peer_keys: list[str]) -> None:
    asyncio.run(_serve(conn, server_key, peer_keys))


async def _serve(conn: Connection, server_key: bytes, peer_keys: list[str]) -> None:
    identity = Identity.from_pem(server_key)
    # No per-peer rate limit here: the benchmark measures verification, not the limiter.
    node = Node(identity, Settings(name="bench", per_peer_per_minute=10**9), SystemClock())
    for text in peer_keys:
        key = b64u_decode(text, 32)
        node.peers.add(
            Peer(keyid(key), key, "neighbor", "n", "http://127.0.0.1:9", 0, trusted=True)
        )
    app = make_app(node)
    app.router.add_post(FLOOR_PATH, _floor)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, HOST, 0)
    await site.start()
    listener = Listener(node)
    await listener.start(HOST, 0)
    ports = (listener.port, runner.addresses[0][1])
    for port in ports:
        node.advertise(f"http://{HOST}:{port}{API_PREFIX}")
    conn.send(ports)
    loop = asyncio.get_running_loop()
    while (command := await loop.run_in_executor(None, conn.recv)) != "stop":
        conn.send((time.process_time(), command, len(node.received)))
    await listener.close()
    await runner.cleanup()


# --- load (this process) --------------------------------------------------------------------
def _requests(url: str, senders: list[Identity], count: int, *, pinned: bool) -> list[bytes]:
    now = int(time.time())
    batch = []
    for i in range(count):
        who = senders[i % len(senders)] if pinned else Identity.generate()
        body = seal(
            who,
            "alert",
            {"text": f"bench {i}", "category": "other", "name": "", "max_hops": 0},
            to=BROADCAST,
            now=now,
            lifetime=600,
            message_id=new_nonce(),
        ).encode()
        headers = sign_request(who, "POST", url, body, now=now, lifetime=300)
        batch.append(_wire(url, body, headers))
    return batch


def _wire(url: str, body: bytes, headers: dict[str, str]) -> bytes:
    """The request exactly as it goes on the socket."""
    parts = urlsplit(url)
    head = [f"POST {parts.path} HTTP/1.1", f"Host: {parts.netloc}"]
    head += [f"{name}: {value}" for name, value in headers.items()]
    head.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(head) + "\r\n\r\n").encode("ascii") + body


class _Client(asyncio.Protocol):
    """One keep-alive connection: send a request, wait for its whole response, repeat."""

    def __init__(self, queue: Iterator[bytes], results: _Results) -> None:
        self.queue = queue
        self.results = results
        self.buffer = b""
        self.started = 0.0
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.transport = cast("asyncio.Transport", None)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast("asyncio.Transport", transport)
        self._next()

    def _next(self) -> None:
        request = next(self.queue, None)
        if request is None:
            self.transport.close()
            return
        self.started = time.perf_counter()
        self.transport.write(request)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while (end := self.buffer.find(b"\r\n\r\n")) >= 0:
            head = self.buffer[:end].lower()
            start = head.index(b"content-length:") + 15
            length = int(head[start : head.index(b"\r\n", start)])
            if len(self.buffer) < end + 4 + length:
                return
            self.results.record(int(head[9:12]), time.perf_counter() - self.started)
            self.buffer = self.buffer[end + 4 + length :]
            self._next()

    def connection_lost(self, _exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_result(None)


@dataclass
class _Results:
    statuses: dict[int, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)

    def record(self, status: int, latency: float) -> None:
        self.statuses[status] = self.statuses.get(status, 0) + 1
        self.latencies.append(latency)


async def _drive(port: int, batch: list[bytes]) -> _Results:
    loop = asyncio.get_running_loop()
    results = _Results()
    queue = iter(batch)
    clients = [
        (await loop.create_connection(lambda: _Client(queue, results), HOST, port))[1]
        for _ in range(CONCURRENCY)
    ]
    await asyncio.wait_for(asyncio.gather(*(c.done for c in clients)), PHASE_TIMEOUT)
    return results


def _cpu(conn: Connection, label: str) -> float:
    conn.send(label)
    cpu, _, _ = conn.recv()
    return float(cpu)


async def _phase(conn: Connection, port: int, batch: list[bytes]) -> tuple[_Results, float]:
    before = _cpu(conn, "before")
    results = await _drive(port, batch)
    return results, _cpu(conn, "after") - before


def _baseline() -> float:
    identity = Identity.generate()
    key = identity.private_key.public_key()
    data = b"x" * 200
    signature = identity.sign(data)
    start = time.process_time()
    for _ in range(BASELINE_VERIFIES):
        key.verify(signature, data)
    return BASELINE_VERIFIES / (time.process_time() - start)


async def _main() -> dict[str, Any]:
    senders = [Identity.generate() for _ in range(PEERS)]
    server_identity = Identity.generate()
    parent, child = multiprocessing.Pipe()
    process = multiprocessing.get_context("spawn").Process(
        target=_server,
        args=(child, server_identity.to_pem(), [b64u(s.public_key) for s in senders]),
        daemon=True,
    )
    process.start()
    try:
        port, aiohttp_port = parent.recv()
        url = f"http://{HOST}:{port}{API_PREFIX}{INBOX}"
        aiohttp_url = f"http://{HOST}:{aiohttp_port}{API_PREFIX}{INBOX}"
        accepted_batch = _requests(url, senders, ACCEPTED, pinned=True)
        accepted_aiohttp = _requests(aiohttp_url, senders, ACCEPTED, pinned=True)
        unknown_batch = _requests(url, senders, min(UNKNOWN, 2000), pinned=False) * (
            UNKNOWN // 2000
        )
        floor_batch = [
            request.replace(f"{API_PREFIX}{INBOX} ".encode(), f"{FLOOR_PATH} ".encode(), 1)
            for request in unknown_batch
        ]
        await _drive(port, _requests(url, senders, 500, pinned=True))  # warm-up
        await _drive(aiohttp_port, _requests(aiohttp_url, senders, 500, pinned=True))
        ok, ok_cpu = await _phase(parent, port, accepted_batch)
        junk, junk_cpu = await _phase(parent, port, unknown_batch)
        ok_aiohttp, ok_aiohttp_cpu = await _phase(parent, aiohttp_port, accepted_aiohttp)
        junk_aiohttp, junk_aiohttp_cpu = await _phase(parent, aiohttp_port, unknown_batch)
        floor, floor_cpu = await _phase(parent, aiohttp_port, floor_batch)
        parent.send("stop")
    finally:
        process.join(10)
        if process.is_alive():
            process.kill()
    latencies = sorted(ok.latencies)
    accepted = ok.statuses.get(202, 0)
    rejected = junk.statuses.get(401, 0)
    requests_per_s = accepted / ok_cpu
    baseline = _baseline()
    statuses: dict[int, int] = {}
    for phase in (ok, junk, ok_aiohttp, junk_aiohttp):
        for status, count in phase.statuses.items():
            statuses[status] = statuses.get(status, 0) + count
    return {
        "benchmark": "federation_inbox",
        "server": "listener",
        "requests_per_s_per_core": round(requests_per_s),
        "baseline_verify_per_s": round(baseline),
        "ratio": round(requests_per_s / baseline, 3),
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 2),
        "unknown_key_rejections_per_s": round(rejected / junk_cpu),
        "requests_per_s_per_core_aiohttp": round(ok_aiohttp.statuses.get(202, 0) / ok_aiohttp_cpu),
        "unknown_key_rejections_per_s_aiohttp": round(
            junk_aiohttp.statuses.get(401, 0) / junk_aiohttp_cpu
        ),
        "aiohttp_floor_per_s": round(floor.statuses.get(401, 0) / floor_cpu),
        "accepted": accepted,
        "rejected_unknown": rejected,
        "other_statuses": {str(k): v for k, v in statuses.items() if k not in {202, 401}},
        "concurrency": CONCURRENCY,
        "cpus": os.cpu_count(),
    }


def main() -> None:
    """Run the benchmark and print one JSON line."""
    print(json.dumps(asyncio.run(_main()), sort_keys=True))


if __name__ == "__main__":
    main()
