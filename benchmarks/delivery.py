"""Delivery of an approved clip: download + verify through the real share code on loopback.

A server process runs the consent desk's download side (`consent/delivery.ShareServer`, the
code Home Assistant's share view calls) on an aiohttp server on 127.0.0.1, with a real
consent store, audit log and a share for one ~200 MB file. This process downloads it the way
the agency CLI does (streamed, SHA-256 computed while receiving) and checks the digest. The
baseline is a bare streamed SHA-256 of the same file in the same run: the ratio says how
close delivery comes to merely reading and hashing the file once.

Usage: scripts/bench delivery [--mb 200] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import multiprocessing
import os
import secrets
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

import aiohttp
from aiohttp import web

from custom_components.porchlight.consent.audit import AuditLog
from custom_components.porchlight.consent.delivery import CHUNK, ShareServer
from custom_components.porchlight.consent.records import (
    ConsentRecord,
    FootageRequest,
    RequestState,
    Share,
    token_id,
)
from custom_components.porchlight.consent.store import ConsentStore
from custom_components.porchlight.federation.clock import SystemClock
from custom_components.porchlight.federation.identity import Identity

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

HOST = "127.0.0.1"
CLIP = "benchclip0000000"


def _make_file(path: Path, megabytes: int) -> str:
    """Random bytes (incompressible, like video); returns their SHA-256."""
    digest = hashlib.sha256()
    with path.open("wb") as out:
        for _ in range(megabytes):
            block = os.urandom(1 << 20)
            digest.update(block)
            out.write(block)
    return digest.hexdigest()


def _baseline(path: Path) -> float:
    """Seconds for a bare streamed SHA-256 of the file."""
    started = time.perf_counter()
    digest = hashlib.sha256()
    with path.open("rb") as src:
        while block := src.read(CHUNK):
            digest.update(block)
    return time.perf_counter() - started


def _server(conn: Connection, root: str, sha256: str, size: int, rounds: int) -> None:
    asyncio.run(_serve(conn, Path(root), sha256, size, rounds))


async def _serve(conn: Connection, root: Path, sha256: str, size: int, rounds: int) -> None:
    clock = SystemClock()
    now = clock.now()
    store = ConsentStore(root / "consent.sqlite3")
    audit = AuditLog(root / "audit.sqlite3", Identity.generate(), clock)
    audit.open()
    consent = ConsentRecord("r" * 64, CLIP, "Front door", now - 60, now, sha256, size, now, "bench")
    store.put_request(
        FootageRequest(
            id="r" * 64,
            agency="A" * 32,
            agency_name="Bench PD",
            via="A" * 32,
            case="1",
            reason="bench",
            area={},
            start=now - 60,
            end=now,
            reply_to="http://127.0.0.1:9",
            received_at=now,
            expires=now + 3600,
            state=RequestState.APPROVED,
            consents=(consent,),
        )
    )
    tokens = []
    for _ in range(rounds):
        token = secrets.token_urlsafe(32)
        store.put_share(
            Share(token_id(token), "r" * 64, CLIP, consent.record_hash, now, now + 3600)
        )
        tokens.append(token)

    async def ended(_share: Share) -> None:
        return None

    server = ShareServer(store, audit, clock, lambda _clip: root / "clip.mp4", ended)

    async def share(request: web.Request) -> web.StreamResponse:
        return await server.serve(request, request.match_info["token"])

    app = web.Application()
    app.router.add_get("/share/{token}", share)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, HOST, 0)
    await site.start()
    conn.send((runner.addresses[0][1], tokens))
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, conn.recv)
    await runner.cleanup()
    audit.close()
    store.close()


async def _download(url: str) -> tuple[float, str, int]:
    """Seconds, SHA-256 and size of one streamed download."""
    digest = hashlib.sha256()
    size = 0
    started = time.perf_counter()
    async with (
        aiohttp.ClientSession() as session,
        session.get(url, allow_redirects=False) as response,
    ):
        response.raise_for_status()
        async for block in response.content.iter_chunked(CHUNK):
            digest.update(block)
            size += len(block)
    return time.perf_counter() - started, digest.hexdigest(), size


async def _main(megabytes: int, rounds: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="porchlight-bench-") as tmp:
        root = Path(tmp)
        clip = root / "clip.mp4"
        sha256 = _make_file(clip, megabytes)
        size = clip.stat().st_size
        parent, child = multiprocessing.Pipe()
        process = multiprocessing.Process(
            target=_server, args=(child, str(root), sha256, size, rounds + 1)
        )
        process.start()
        try:
            port, tokens = parent.recv()
            await _download(f"http://{HOST}:{port}/share/{tokens[0]}")  # warm-up
            timings = []
            baselines = []
            for token in tokens[1:]:
                baselines.append(_baseline(clip))
                seconds, digest, got = await _download(f"http://{HOST}:{port}/share/{token}")
                if (digest, got) != (sha256, size):
                    msg = "downloaded clip does not match its digest"
                    raise RuntimeError(msg)
                timings.append(seconds)
            parent.send("stop")
        finally:
            process.join(10)
            if process.is_alive():
                process.kill()
    mb = size / 1e6
    best, base = min(timings), min(baselines)
    return {
        "benchmark": "delivery",
        "mb": round(mb, 1),
        "mb_per_s": round(mb / best, 1),
        "baseline_mb_per_s": round(mb / base, 1),
        "ratio": round(base / best, 3),
        "rounds": rounds,
        "cpus": os.cpu_count(),
    }


def main() -> None:
    """Run the benchmark and print one JSON line."""
    parser = argparse.ArgumentParser(prog="scripts/bench delivery")
    parser.add_argument("--mb", type=int, default=200, help="clip size in MB (default 200)")
    parser.add_argument("--rounds", type=int, default=3, help="measured downloads (default 3)")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(_main(args.mb, args.rounds)), sort_keys=True))


if __name__ == "__main__":
    main()
