"""Relay fan-out: how fast one agency's footage request reaches 1,000 homes through neighbors.

Every home is a real federation node (federation/node.py) on its own dedicated listener
(federation/listener.py) on 127.0.0.1, with an in-memory outbox; the homes are spread over
WORKERS spawned processes, each with one aiohttp client session (transport.HttpSender). The
parent pre-generates every key and a seeded random neighbor graph (a ring through a random
permutation, which keeps it connected, plus random chords: mean degree ~6), and each worker
builds its homes' PeerRegistry directly: active, confirmed neighbors, and the agency pinned
as a trusted agency, so every home relays the agency's requests (inbox.py `_accept_request`).
No pairing round trips, no clients other than the nodes themselves.

A home delivers as soon as its outbox changes: NodeHooks.on_change("outbox") schedules one
`node.deliver(sender)` (coalesced; a call during a round makes that round go again), so a
relay leaves the moment the inbox accepted the request. NodeHooks.on_request stamps the
first arrival on each home against the shared wall clock (time.time()).

The agency (a node in this process) signs one footage_request (sending.py `request_footage`)
for SEEDS homes and delivers it; the homes do the rest, once per max_hops from 1 to
messages.REQUEST_MAX_HOPS (each a new request). `reached` and the seconds until 99 % of the
homes had it are taken from the run with max_hops = REQUEST_MAX_HOPS. `messages_sent` counts
every POST (agency and homes), `duplicates_suppressed` the ones a home answered "duplicate".
`bfs_reach_pct` is what each hop budget could reach at best (homes within that many hops of
a seed): the relay dedupes on first arrival, so a home reached first by a longer path relays
with less budget left, and the measured reach can fall short of it (`missed_within_budget`).

The baseline, in the same run: the agency sends the same kind of request straight to all
homes (max_hops 0), delivered by the same library (one outbox round, one POST after
another). ratio = seconds_to_99pct / baseline_seconds_to_99pct.

Only 127.0.0.1 is contacted; every phase has a timeout; the workers exit on "stop", when the
parent's pipe closes, or are killed by the parent, so no port stays open.

Usage: scripts/bench fanout [--homes 1000] [--workers 4] [--seeds 10] [--degree 6]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import multiprocessing
import os
import random
import signal
import sys
import time
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import aiohttp

from custom_components.porchlight.federation.api import API_PREFIX
from custom_components.porchlight.federation.clock import SystemClock
from custom_components.porchlight.federation.identity import Identity
from custom_components.porchlight.federation.listener import Listener
from custom_components.porchlight.federation.messages import REQUEST_MAX_HOPS
from custom_components.porchlight.federation.node import Node, NodeHooks, Settings
from custom_components.porchlight.federation.outbox import Outbox
from custom_components.porchlight.federation.peers import Peer
from custom_components.porchlight.federation.transport import HttpSender

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

    from custom_components.porchlight.federation.canonical import JSON
    from custom_components.porchlight.federation.messages import Envelope

HOST = "127.0.0.1"
SEED = 20261204
STARTUP_TIMEOUT = 120.0
RUN_TIMEOUT = 30.0
ASK_TIMEOUT = 20.0
POLL = 0.05
SEND_TIMEOUT = 5.0
LIFETIME = 3600

# A home as the workers get it: index, private key (PEM), keyid, public key.
type HomeKey = tuple[int, bytes, str, bytes]
# What every node must know of another: keyid, public key, endpoint.
type Card = tuple[str, bytes, str]


def _endpoint(port: int) -> str:
    return f"http://{HOST}:{port}{API_PREFIX}"


def _peer(card: Card, role: str, name: str) -> Peer:
    """A confirmed, active pairing (trusted: a neighbor always is; the agency by its owner)."""
    key_id, public_key, endpoint = card
    return Peer(
        key_id,
        public_key,
        "agency" if role == "agency" else "neighbor",
        name,
        endpoint,
        0,
        trusted=True,
        lan=True,
    )


class CountingSender:
    """HttpSender that counts POSTs and the replies that said "duplicate"."""

    def __init__(self, inner: HttpSender) -> None:
        """Wrap inner."""
        self.inner = inner
        self.sent = 0
        self.duplicates = 0
        self.failed = 0
        self.reasons: dict[str, int] = {}

    def reset(self) -> None:
        """Start counting again."""
        self.sent = self.duplicates = self.failed = 0
        self.reasons = {}

    def _fail(self, reason: str) -> None:
        self.failed += 1
        self.reasons[reason] = self.reasons.get(reason, 0) + 1

    async def post(
        self, identity: Identity, url: str, body: bytes, *, lan: bool = False
    ) -> tuple[int, JSON]:
        """Send through inner; count."""
        self.sent += 1
        try:
            status, reply = await self.inner.post(identity, url, body, lan=lan)
        except Exception as err:
            cause = err.__cause__
            self._fail(type(err).__name__ + (f" ({type(cause).__name__})" if cause else ""))
            raise
        if isinstance(reply, dict) and reply.get("status") == "duplicate":
            self.duplicates += 1
        elif not 200 <= status < 300:  # noqa: PLR2004
            self._fail(f"status {status}: {reply.get('error') if isinstance(reply, dict) else ''}")
        return status, reply


# --- worker process ---------------------------------------------------------------------------
@dataclass
class _Home:
    index: int
    node: Node
    listener: Listener
    # Per request: when it first arrived (wall clock) and after how many relays.
    arrivals: dict[str, tuple[float, int]] = field(default_factory=dict)
    scheduled: bool = False


class _Worker:
    """The homes of one process, delivering on change."""

    def __init__(self, sender: CountingSender) -> None:
        self.sender = sender
        self.homes: list[_Home] = []
        self.tasks: set[asyncio.Task[int]] = set()
        self.clock = SystemClock()

    async def start(self, keys: list[HomeKey]) -> list[tuple[int, int]]:
        ports = []
        for index, pem, _, _ in keys:
            home = self._home(index, Identity.from_pem(pem))
            await home.listener.start(HOST, 0)
            home.node.advertise(_endpoint(home.listener.port))
            self.homes.append(home)
            ports.append((index, home.listener.port))
        return ports

    def _home(self, index: int, identity: Identity) -> _Home:
        holder: list[_Home] = []

        def on_change(what: str) -> None:
            if what == "outbox" and holder:
                self._schedule(holder[0])

        def on_request(envelope: Envelope, _origin: Peer | None, _via: Peer) -> None:
            holder[0].arrivals.setdefault(envelope.event_id, (time.time(), envelope.hops))

        node = Node(
            identity,
            Settings(name=f"home {index}"),
            self.clock,
            outbox=Outbox(None),
            hooks=NodeHooks(on_change=on_change, on_request=on_request),
        )
        home = _Home(index, node, Listener(node))
        holder.append(home)
        return home

    def _schedule(self, home: _Home) -> None:
        """One delivery per change burst: the flag is cleared when the delivery starts."""
        if home.scheduled or not home.node.outbox.due(self.clock.now()):
            return
        home.scheduled = True
        task = asyncio.get_running_loop().create_task(self._deliver(home))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _deliver(self, home: _Home) -> int:
        home.scheduled = False
        return await home.node.deliver(self.sender)

    def pair(self, cards: dict[int, Card], graph: dict[int, list[int]], agency: Card) -> None:
        for home in self.homes:
            peers = home.node.peers
            peers.add(_peer(agency, "agency", "agency"))
            for other in graph[home.index]:
                peers.add(_peer(cards[other], "neighbor", f"home {other}"))

    def status(self, event_id: str) -> tuple[int, bool]:
        reached = sum(1 for h in self.homes if event_id in h.arrivals)
        # Entries waiting for a retry (backoff) do not count: they are reported as left queued.
        now = self.clock.now()
        busy = bool(self.tasks) or any(h.node.outbox.due(now) for h in self.homes)
        return reached, busy

    def report(self, event_id: str) -> dict[str, Any]:
        return {
            "arrivals": [h.arrivals[event_id] for h in self.homes if event_id in h.arrivals],
            "missed": [h.index for h in self.homes if event_id not in h.arrivals],
            "sent": self.sender.sent,
            "duplicates": self.sender.duplicates,
            "failed": self.sender.failed,
            "reasons": self.sender.reasons,
            "cpu": time.process_time(),
            "queued": sum(len(h.node.outbox) for h in self.homes),
        }

    async def close(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        for home in self.homes:
            await home.listener.close()


def _worker(conn: Connection, keys: list[HomeKey]) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops us
    asyncio.run(_work(conn, keys))


async def _work(conn: Connection, keys: list[HomeKey]) -> None:
    loop = asyncio.get_running_loop()
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        worker = _Worker(CountingSender(HttpSender(session, SystemClock(), timeout=SEND_TIMEOUT)))
        try:
            conn.send(await worker.start(keys))
            while True:
                try:
                    command, arg = await loop.run_in_executor(None, conn.recv)
                except EOFError:
                    return
                if command == "stop":
                    return
                if command == "pair":
                    worker.pair(*arg)
                    conn.send("paired")
                elif command == "status":
                    conn.send(worker.status(arg))
                elif command == "report":
                    conn.send(worker.report(arg))
                    worker.sender.reset()
        finally:
            await worker.close()


# --- parent -----------------------------------------------------------------------------------
def _graph(homes: int, degree: int, rng: random.Random) -> dict[int, set[int]]:
    """A ring through a random permutation (connected) plus random chords to mean ~degree."""
    graph: dict[int, set[int]] = {i: set() for i in range(homes)}
    order = list(range(homes))
    rng.shuffle(order)
    for a, b in zip(order, order[1:] + order[:1], strict=True):
        graph[a].add(b)
        graph[b].add(a)
    chords = homes * (degree - 2) // 2
    while chords > 0:
        a, b = rng.randrange(homes), rng.randrange(homes)
        if a != b and b not in graph[a]:
            graph[a].add(b)
            graph[b].add(a)
            chords -= 1
    return graph


def _bfs_reach(graph: dict[int, set[int]], seeds: list[int], hops: int) -> dict[int, int]:
    """Homes within `hops` relays of a seed, and how many (a seed's neighbors get hops 1)."""
    distance = dict.fromkeys(seeds, 0)
    queue = deque(seeds)
    while queue:
        here = queue.popleft()
        if distance[here] >= hops:
            continue
        for there in graph[here]:
            if there not in distance:
                distance[there] = distance[here] + 1
                queue.append(there)
    return distance


def _ask_sync(conn: Connection, message: tuple[str, Any], timeout: float) -> Any:  # noqa: ANN401
    conn.send(message)
    if not conn.poll(timeout):
        msg = f"worker did not answer {message[0]} in {timeout} s"
        raise TimeoutError(msg)
    return conn.recv()


async def _ask(
    conns: list[Connection], message: tuple[str, Any], wait: float = ASK_TIMEOUT
) -> list[Any]:
    loop = asyncio.get_running_loop()
    return list(
        await asyncio.gather(
            *(loop.run_in_executor(None, _ask_sync, c, message, wait) for c in conns)
        )
    )


def _request_body(reply_to: str, max_hops: int) -> dict[str, JSON]:
    now = int(time.time())
    return {
        "case": "2026-000123",
        "reason": "Burglary reported at 14:05",
        "area": {"kind": "circle", "lat": 40_712_800, "lon": -74_006_000, "radius_m": 200},
        "start": now - 7200,
        "end": now - 60,
        "reply_to": reply_to,
        "max_hops": max_hops,
    }


@dataclass
class _Run:
    reached: int
    seconds_to_99pct: float | None
    messages_sent: int
    duplicates: int
    failed: int
    queued: int
    seconds: float
    seconds_to_last: float | None
    hops: dict[str, int]
    missed: list[int]
    reasons: dict[str, int]
    cpu_seconds: float


@dataclass
class _Net:
    agency: Node
    sender: CountingSender
    conns: list[Connection]
    homes: int
    # The workers' CPU time at their last report.
    worker_cpu: float = 0.0


async def _run(net: _Net, targets: list[str], max_hops: int) -> _Run:
    """One request from the agency to targets; wait until every home has it and all is quiet."""
    agency, sender, conns, homes = net.agency, net.sender, net.conns, net.homes
    sender.reset()
    start = time.time()
    cpu_start = time.process_time()
    envelope = agency.request_footage(
        _request_body(agency.endpoints[0], max_hops), lifetime=LIFETIME, peers=targets
    )
    delivering = asyncio.get_running_loop().create_task(agency.deliver(sender))
    deadline = time.monotonic() + RUN_TIMEOUT
    while time.monotonic() < deadline:
        await asyncio.sleep(POLL)
        if not delivering.done():
            continue
        statuses = await _ask(conns, ("status", envelope.event_id))
        if not any(busy for _, busy in statuses):
            break
    if not delivering.done():
        delivering.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await delivering
    elapsed = time.time() - start
    agency_cpu = time.process_time() - cpu_start
    reports = await _ask(conns, ("report", envelope.event_id))
    worker_cpu = sum(r["cpu"] for r in reports)
    cpu, net.worker_cpu = agency_cpu + worker_cpu - net.worker_cpu, worker_cpu
    arrivals = sorted(t - start for r in reports for t, _ in r["arrivals"])
    hops: dict[str, int] = {}
    reasons = dict(sender.reasons)
    for report in reports:
        for reason, count in report["reasons"].items():
            reasons[reason] = reasons.get(reason, 0) + count
    for report in reports:
        for _, hop in report["arrivals"]:
            hops[str(hop)] = hops.get(str(hop), 0) + 1
    needed = math.ceil(homes * 0.99)
    return _Run(
        reached=len(arrivals),
        seconds_to_99pct=round(arrivals[needed - 1], 3) if len(arrivals) >= needed else None,
        messages_sent=sender.sent + sum(r["sent"] for r in reports),
        duplicates=sum(r["duplicates"] for r in reports),
        failed=sender.failed + sum(r["failed"] for r in reports),
        queued=sum(r["queued"] for r in reports),
        seconds=round(elapsed, 3),
        seconds_to_last=round(arrivals[-1], 3) if arrivals else None,
        hops=dict(sorted(hops.items())),
        missed=sorted(i for r in reports for i in r["missed"]),
        reasons=reasons,
        cpu_seconds=round(cpu, 3),
    )


async def _main(args: argparse.Namespace) -> dict[str, Any]:
    rng = random.Random(SEED)  # noqa: S311  # a reproducible graph, not a secret
    homes: int = args.homes
    graph = _graph(homes, args.degree, rng)
    seeds = rng.sample(range(homes), args.seeds)
    identities = [Identity.generate() for _ in range(homes)]
    agency_identity = Identity.generate()
    keys: list[HomeKey] = [
        (i, ident.to_pem(), ident.keyid, ident.public_key) for i, ident in enumerate(identities)
    ]
    context = multiprocessing.get_context("spawn")
    processes = []
    conns: list[Connection] = []
    share = math.ceil(homes / args.workers)
    for w in range(args.workers):
        parent, child = context.Pipe()
        process = context.Process(
            target=_worker, args=(child, keys[w * share : (w + 1) * share]), daemon=True
        )
        process.start()
        child.close()
        processes.append(process)
        conns.append(parent)
    loop = asyncio.get_running_loop()
    clock = SystemClock()
    agency = Node(agency_identity, Settings(name="agency", role="agency"), clock)
    listener = Listener(agency)
    try:
        await listener.start(HOST, 0)
        agency.advertise(_endpoint(listener.port))
        ports: dict[int, int] = {}
        for conn in conns:
            if not await loop.run_in_executor(None, conn.poll, STARTUP_TIMEOUT):
                msg = "a worker did not start in time"
                raise TimeoutError(msg)
            ports.update(conn.recv())
        cards = {i: (k[2], k[3], _endpoint(ports[i])) for i, k in enumerate(keys)}
        agency_card = (agency.identity.keyid, agency.identity.public_key, agency.endpoints[0])
        neighbors = {i: sorted(graph[i]) for i in range(homes)}
        await _ask(conns, ("pair", (cards, neighbors, agency_card)), STARTUP_TIMEOUT)
        for i in range(homes):
            agency.peers.add(_peer(cards[i], "neighbor", f"home {i}"))
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
            sender = CountingSender(HttpSender(session, clock, timeout=SEND_TIMEOUT))
            net = _Net(agency, sender, conns, homes)
            seed_keys = [cards[i][0] for i in seeds]
            await _run(net, seed_keys[:1], 0)  # warm-up
            baseline = await _run(net, [cards[i][0] for i in range(homes)], 0)
            runs = {h: await _run(net, seed_keys, h) for h in range(1, REQUEST_MAX_HOPS + 1)}
    finally:
        # Also on Ctrl-C or a timeout: the workers close their listeners and exit.
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.send(("stop", None))
        await listener.close()
        for process in processes:
            process.join(10)
            if process.is_alive():
                process.kill()
                process.join(5)
    return _result(args, graph, seeds, baseline, runs)


def _result(
    args: argparse.Namespace,
    graph: dict[int, set[int]],
    seeds: list[int],
    baseline: _Run,
    runs: dict[int, _Run],
) -> dict[str, Any]:
    homes: int = args.homes
    best = runs[REQUEST_MAX_HOPS]
    ratio = (
        round(best.seconds_to_99pct / baseline.seconds_to_99pct, 3)
        if best.seconds_to_99pct is not None and baseline.seconds_to_99pct
        else None
    )
    return {
        "benchmark": "fanout",
        "homes": homes,
        "workers": args.workers,
        "seeds": args.seeds,
        "mean_degree": round(sum(len(v) for v in graph.values()) / homes, 2),
        "max_hops": REQUEST_MAX_HOPS,
        "reached": best.reached,
        "reached_pct": round(100 * best.reached / homes, 2),
        "seconds_to_99pct": best.seconds_to_99pct,
        "seconds_quiet": best.seconds,
        "seconds_to_last": best.seconds_to_last,
        "first_arrival_hops": best.hops,
        "messages_sent": best.messages_sent,
        "duplicates_suppressed": best.duplicates,
        "failed": best.failed,
        "failures": {
            str(h): r.reasons for h, r in [("baseline", baseline), *runs.items()] if r.reasons
        },
        "left_queued": best.queued,
        "reach_pct_by_max_hops": {
            str(h): round(100 * r.reached / homes, 2) for h, r in runs.items()
        },
        "seconds_to_99pct_by_max_hops": {str(h): r.seconds_to_99pct for h, r in runs.items()},
        "bfs_reach_pct": {
            str(h): round(100 * len(_bfs_reach(graph, seeds, h)) / homes, 2) for h in range(7)
        },
        # Missed though within max_hops of a seed: reached first by longer paths only.
        "missed_within_budget": len(
            set(best.missed) & set(_bfs_reach(graph, seeds, REQUEST_MAX_HOPS))
        ),
        # All processes (agency and workers), start to quiet: CPU-bound when close to
        # seconds_quiet x cpus.
        "cpu_seconds": best.cpu_seconds,
        "baseline_cpu_seconds": baseline.cpu_seconds,
        "baseline_seconds_quiet": baseline.seconds,
        "baseline_reached": baseline.reached,
        "baseline_seconds_to_99pct": baseline.seconds_to_99pct,
        "baseline_messages_sent": baseline.messages_sent,
        "ratio": ratio,
        "cpus": os.cpu_count(),
        "load_1min": round(os.getloadavg()[0], 2),
    }


def main() -> None:
    """Run the benchmark and print one JSON line."""
    parser = argparse.ArgumentParser(prog="scripts/bench fanout")
    parser.add_argument("--homes", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--degree", type=int, default=6)
    args = parser.parse_args()
    try:
        result = asyncio.run(_main(args))
    except KeyboardInterrupt:
        sys.exit(130)  # the workers were stopped on the way out
    print(json.dumps(result, sort_keys=True))


if __name__ == "__main__":
    main()
