"""The real inbox over loopback: accepted requests per server CPU-second, and junk rejections.

A server process runs the federation node's aiohttp app (the same verification code as the
Home Assistant view) on 127.0.0.1; this process pre-signs bounded batches of requests and
replays them with a fixed concurrency. Throughput is divided by the CPU time the server
process consumed during each phase, so the figure is per core whatever else the machine does.
Only 127.0.0.1 is contacted; every phase is bounded in count and in time.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import time
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web

from custom_components.porchlight.federation.canonical import b64u, b64u_decode
from custom_components.porchlight.federation.clock import SystemClock
from custom_components.porchlight.federation.httpsig import new_nonce, sign_request
from custom_components.porchlight.federation.identity import Identity, keyid
from custom_components.porchlight.federation.messages import BROADCAST, seal
from custom_components.porchlight.federation.node import API_PREFIX, INBOX, Node, Settings
from custom_components.porchlight.federation.peers import Peer
from custom_components.porchlight.federation.transport import make_app

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

HOST = "127.0.0.1"
PEERS = 100
ACCEPTED = 12_000
UNKNOWN = 30_000
CONCURRENCY = 32
PHASE_TIMEOUT = 120.0
BASELINE_VERIFIES = 20_000


# --- server process -------------------------------------------------------------------------
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
    runner = web.AppRunner(make_app(node), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, HOST, 0)
    await site.start()
    node.advertise(f"http://{HOST}:{runner.addresses[0][1]}{API_PREFIX}")
    conn.send(runner.addresses[0][1])
    loop = asyncio.get_running_loop()
    while (command := await loop.run_in_executor(None, conn.recv)) != "stop":
        conn.send((time.process_time(), command, len(node.received)))
    await runner.cleanup()


# --- load (this process) --------------------------------------------------------------------
def _requests(url: str, senders: list[Identity], count: int, *, pinned: bool) -> list[Any]:
    now = int(time.time())
    batch = []
    for i in range(count):
        who = senders[i % len(senders)] if pinned else Identity.generate()
        body = seal(
            who,
            "alert",
            {"text": f"bench {i}", "max_hops": 0},
            to=BROADCAST,
            now=now,
            lifetime=600,
            message_id=new_nonce(),
        ).encode()
        batch.append((body, sign_request(who, "POST", url, body, now=now, lifetime=300)))
    return batch


async def _drive(
    session: aiohttp.ClientSession, url: str, batch: list[Any]
) -> tuple[dict[int, int], list[float]]:
    statuses: dict[int, int] = {}
    latencies: list[float] = []
    queue = iter(batch)

    async def worker() -> None:
        for body, headers in queue:
            start = time.perf_counter()
            async with session.post(url, data=body, headers=headers) as response:
                await response.read()
                statuses[response.status] = statuses.get(response.status, 0) + 1
            latencies.append(time.perf_counter() - start)

    await asyncio.wait_for(asyncio.gather(*(worker() for _ in range(CONCURRENCY))), PHASE_TIMEOUT)
    return statuses, latencies


def _cpu(conn: Connection, label: str) -> float:
    conn.send(label)
    cpu, _, _ = conn.recv()
    return float(cpu)


async def _phase(
    conn: Connection, session: aiohttp.ClientSession, url: str, batch: list[Any]
) -> tuple[dict[int, int], list[float], float]:
    before = _cpu(conn, "before")
    statuses, latencies = await _drive(session, url, batch)
    return statuses, latencies, _cpu(conn, "after") - before


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
        port = parent.recv()
        url = f"http://{HOST}:{port}{API_PREFIX}{INBOX}"
        accepted_batch = _requests(url, senders, ACCEPTED, pinned=True)
        unknown_batch = _requests(url, senders, min(UNKNOWN, 2000), pinned=False) * (
            UNKNOWN // 2000
        )
        connector = aiohttp.TCPConnector(limit=CONCURRENCY)
        async with aiohttp.ClientSession(connector=connector) as session:
            await _drive(session, url, _requests(url, senders, 500, pinned=True))  # warm-up
            ok, latencies, ok_cpu = await _phase(parent, session, url, accepted_batch)
            junk, _, junk_cpu = await _phase(parent, session, url, unknown_batch)
        parent.send("stop")
    finally:
        process.join(10)
        if process.is_alive():
            process.kill()
    latencies.sort()
    accepted = ok.get(202, 0)
    rejected = junk.get(401, 0)
    requests_per_s = accepted / ok_cpu
    baseline = _baseline()
    return {
        "benchmark": "federation_inbox",
        "requests_per_s_per_core": round(requests_per_s),
        "baseline_verify_per_s": round(baseline),
        "ratio": round(requests_per_s / baseline, 3),
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 2),
        "unknown_key_rejections_per_s": round(rejected / junk_cpu),
        "accepted": accepted,
        "rejected_unknown": rejected,
        "other_statuses": {str(k): v for k, v in {**ok, **junk}.items() if k not in {202, 401}},
        "concurrency": CONCURRENCY,
        "cpus": os.cpu_count(),
    }


def main() -> None:
    """Run the benchmark and print one JSON line."""
    print(json.dumps(asyncio.run(_main()), sort_keys=True))


if __name__ == "__main__":
    main()
