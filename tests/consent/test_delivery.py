"""Capability downloads without Home Assistant: the share server on a real loopback socket."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import threading
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from custom_components.porchlight.consent.audit import AuditLog
from custom_components.porchlight.consent.delivery import (
    CHUNK,
    ShareServer,
    _Download,
    byte_range,
)
from custom_components.porchlight.consent.records import (
    ConsentRecord,
    FootageRequest,
    RequestState,
    Share,
    ShareState,
    token_id,
)
from custom_components.porchlight.consent.store import ConsentStore
from custom_components.porchlight.federation.clock import ManualClock
from custom_components.porchlight.federation.identity import Identity

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, Callable
    from pathlib import Path

CLIP = "0123456789abcdef"
NOT_FOUND = (404, b'{"error":"not_found"}')


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """No hass here."""
    return


@dataclass
class Desk:
    """A store, a log, one approved clip and a running share server."""

    store: ConsentStore
    audit: AuditLog
    clock: ManualClock
    clip: Path
    url: str
    session: aiohttp.ClientSession
    consent: ConsentRecord
    server: ShareServer
    ended: list[Share] = field(default_factory=list)
    clip_present: bool = True
    # The threads the clip's path was looked up in (the index is SQLite: never the loop's).
    looked_up_in: list[threading.Thread] = field(default_factory=list)

    def share(self, **changes: object) -> str:
        """A new share for the clip; returns its token."""
        token = secrets.token_urlsafe(32)
        fields: dict[str, object] = {
            "id": token_id(token),
            "request": "r" * 64,
            "clip": CLIP,
            "consent": self.consent.record_hash,
            "created": self.clock.now(),
            "expires": self.clock.now() + 3600,
        }
        fields.update(changes)
        self.store.put_share(Share(**fields))  # type: ignore[arg-type]
        return token

    def grow(self, megabytes: int) -> int:
        """Make the clip big enough to be in flight for a while; returns its size.

        Loopback socket buffers hold a few MB, so a 16 MB file keeps the server waiting for
        the client to read.
        """
        data = secrets.token_bytes(megabytes << 20)
        self.clip.write_bytes(data)
        self.consent = replace(
            self.consent, sha256=hashlib.sha256(data).hexdigest(), size=len(data)
        )
        [request] = self.store.requests()
        self.store.put_request(replace(request, consents=(self.consent,)))
        for share in self.store.shares():
            self.store.put_share(replace(share, consent=self.consent.record_hash))
        return len(data)

    async def get(self, token: str, **headers: str) -> tuple[int, bytes]:
        """GET a link."""
        async with self.session.get(f"{self.url}/{token}", headers=headers) as response:
            return response.status, await response.read()


@pytest.fixture
async def desk(socket_enabled: None, tmp_path: Path) -> AsyncGenerator[Desk]:
    """A share server on 127.0.0.1 for one 300 KB clip."""
    clock = ManualClock(1_800_000_000)
    clip = tmp_path / f"{CLIP}.mp4"
    clip.write_bytes(secrets.token_bytes(300_000))
    data = clip.read_bytes()
    store = ConsentStore(tmp_path / "consent.sqlite3")
    audit = AuditLog(tmp_path / "audit.sqlite3", Identity.generate(), clock)
    audit.open()
    now = clock.now()
    consent = ConsentRecord(
        "r" * 64,
        CLIP,
        "Front door",
        now - 60,
        now,
        hashlib.sha256(data).hexdigest(),
        len(data),
        now,
        "Ann",
    )
    store.put_request(
        FootageRequest(
            id="r" * 64,
            agency="A" * 32,
            agency_name="PD",
            via="A" * 32,
            case="1",
            reason="r",
            area={},
            start=now - 60,
            end=now,
            reply_to="https://pd.example",
            received_at=now,
            expires=now + 3600,
            state=RequestState.APPROVED,
            consents=(consent,),
        )
    )
    holder: dict[str, Desk] = {}

    async def ended(share: Share) -> None:
        holder["desk"].ended.append(share)

    def clip_path(_clip: str) -> Path | None:
        holder["desk"].looked_up_in.append(threading.current_thread())
        return clip if holder["desk"].clip_present else None

    server = ShareServer(store, audit, clock, clip_path, ended)

    async def handler(request: web.Request) -> web.StreamResponse:
        return await server.serve(request, request.match_info["token"])

    app = web.Application()
    app.router.add_get("/share/{token}", handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    async with aiohttp.ClientSession() as session:
        holder["desk"] = Desk(
            store,
            audit,
            clock,
            clip,
            f"http://127.0.0.1:{runner.addresses[0][1]}/share",
            session,
            consent,
            server,
        )
        yield holder["desk"]
    await runner.cleanup()
    audit.close()
    store.close()


async def test_single_use_link_serves_once_then_answers_like_an_unknown_one(
    desk: Desk, caplog: pytest.LogCaptureFixture
) -> None:
    token = desk.share()
    status, data = await desk.get(token)
    assert status == 200
    assert hashlib.sha256(data).hexdigest() == desk.consent.sha256
    assert await desk.get(token) == NOT_FOUND
    assert await desk.get(secrets.token_urlsafe(32)) == NOT_FOUND
    assert await desk.get("short") == NOT_FOUND
    [share] = desk.store.shares()
    assert (share.state, share.downloads, share.bytes_served) == (ShareState.DOWNLOADED, 1, 300_000)
    assert desk.ended == [share]
    downloads = [e for e in desk.audit.entries() if e.kind == "download"]
    assert [(e.size, e.data["first"], e.data["last"]) for e in downloads] == [(300_000, 0, 299_999)]
    # The file went out once: aiohttp did not try to send the prepared response again.
    assert "Unhandled exception" not in caplog.text


async def test_the_clip_is_looked_up_outside_the_event_loop(desk: Desk) -> None:
    # Every download asks the clip index (SQLite, behind a lock the executor's writers
    # hold) where the file is: in the event loop that would stall Home Assistant.
    assert (await desk.get(desk.share()))[0] == 200
    assert desk.looked_up_in
    assert threading.main_thread() not in desk.looked_up_in


async def test_ranges_resume_and_the_last_byte_uses_the_link(desk: Desk) -> None:
    token = desk.share()
    assert (await desk.get(token, Range="bytes=0-999"))[0] == 206
    assert (await desk.get(token, Range="bytes=-1000"))[0] == 206  # last 1000 bytes: done
    assert await desk.get(token) == NOT_FOUND


async def test_unsatisfiable_range_is_416(desk: Desk) -> None:
    token = desk.share()
    status, _ = await desk.get(token, Range="bytes=400000-")
    assert status == 416
    assert (await desk.get(token))[0] == 200  # a bad range used nothing up


async def test_malformed_or_multiple_ranges_are_416_and_use_nothing(desk: Desk) -> None:
    token = desk.share()
    assert (await desk.get(token, Range="bytes=oops"))[0] == 416
    assert (await desk.get(token, Range="bytes=0-1,5-6"))[0] == 416
    assert (await desk.get(token))[0] == 200


@pytest.mark.parametrize(
    "changes",
    [
        {"state": ShareState.REVOKED},
        {"state": ShareState.EXPIRED},
        {"expires": 1_799_999_999},
        {"consent": "f" * 64},
        {"clip": "fedcba9876543210"},
    ],
)
async def test_refused_links_all_look_the_same(desk: Desk, changes: dict[str, object]) -> None:
    assert await desk.get(desk.share(**changes)) == NOT_FOUND
    assert [e for e in desk.audit.entries() if e.kind == "download"] == []


async def test_clip_gone_from_disk_is_not_found(desk: Desk) -> None:
    desk.clip_present = False
    assert await desk.get(desk.share()) == NOT_FOUND


async def test_request_gone_from_the_store_is_not_found(desk: Desk) -> None:
    assert await desk.get(desk.share(request="x" * 64)) == NOT_FOUND


async def test_concurrent_requests_for_a_single_use_link_serve_it_once(desk: Desk) -> None:
    token = desk.share()
    answers = await asyncio.gather(*(desk.get(token) for _ in range(8)))
    assert sorted(status for status, _ in answers) == [200] + [404] * 7
    [share] = desk.store.shares()
    assert (share.state, share.downloads) == (ShareState.DOWNLOADED, 1)
    assert len([e for e in desk.audit.entries() if e.kind == "download"]) == 1


async def test_one_download_at_a_time_even_when_more_are_allowed(desk: Desk) -> None:
    token = desk.share(max_downloads=3)
    big = desk.grow(16)
    async with desk.session.get(f"{desk.url}/{token}") as first:
        await first.content.readexactly(CHUNK)  # the first download is in flight
        assert await desk.get(token) == NOT_FOUND
        rest = await first.read()
    assert CHUNK + len(rest) == big
    assert (await desk.get(token))[0] == 200  # once it is done, the next may start


async def test_revoking_during_a_download_cuts_it_off_and_the_revocation_stands(
    desk: Desk,
) -> None:
    token = desk.share()
    size = desk.grow(32)
    async with desk.session.get(f"{desk.url}/{token}") as response:
        await response.content.readexactly(CHUNK)
        # What the desk does on revoke_share: the stored state first, then the transfer.
        desk.store.change_share(token_id(token), lambda s: replace(s, state=ShareState.REVOKED))
        desk.server.stop(token_id(token))
        with pytest.raises(aiohttp.ClientPayloadError):
            await response.read()
    [share] = desk.store.shares()
    # The bytes that left are counted, and the link stays revoked: the count did not write
    # back the copy it read before the revocation.
    assert share.state is ShareState.REVOKED
    assert CHUNK <= share.bytes_served < size
    assert share.downloads == 0
    assert await desk.get(token) == NOT_FOUND


async def test_bytes_sent_before_a_client_breaks_off_count_and_it_can_resume(desk: Desk) -> None:
    token = desk.share()
    size = desk.grow(32)
    async with desk.session.get(f"{desk.url}/{token}") as response:
        await response.content.readexactly(CHUNK)
        response.close()  # the agency's connection drops
    [share] = await wait_for_share(desk, lambda s: s.bytes_served > 0)
    assert share.state is ShareState.OFFERED
    assert CHUNK <= share.bytes_served < size
    status, rest = await desk.get(token, Range=f"bytes={CHUNK}-")
    assert (status, len(rest)) == (206, size - CHUNK)
    [share] = desk.store.shares()
    assert share.state is ShareState.DOWNLOADED


async def test_file_shorter_than_its_consent_record_breaks_the_transfer(desk: Desk) -> None:
    token = desk.share()
    desk.clip.write_bytes(desk.clip.read_bytes()[:1000])
    with pytest.raises(aiohttp.ClientPayloadError):
        await desk.get(token)
    [share] = desk.store.shares()
    assert (share.state, share.bytes_served) == (ShareState.OFFERED, 1000)


async def test_unreadable_clip_file_is_not_found(desk: Desk) -> None:
    token = desk.share()
    desk.clip.unlink()
    desk.clip.mkdir()  # a path that exists but cannot be opened as a file
    assert await desk.get(token) == NOT_FOUND
    assert [e for e in desk.audit.entries() if e.kind == "download"] == []


async def test_stopping_a_share_that_is_not_downloading_does_nothing(desk: Desk) -> None:
    token = desk.share()
    desk.server.stop(token_id(token))
    assert (await desk.get(token))[0] == 200


async def wait_for_share(desk: Desk, done: Callable[[Share], bool]) -> list[Share]:
    """The shares once the server has counted a transfer that broke off."""
    for _ in range(200):
        shares = desk.store.shares()
        if all(done(s) for s in shares):
            return shares
        await asyncio.sleep(0.01)
    msg = "the server never counted the transfer"
    raise AssertionError(msg)


def test_byte_range_forms() -> None:
    assert byte_range(slice(None, None), 10) == (0, 9)
    assert byte_range(slice(2, 5), 10) == (2, 4)
    assert byte_range(slice(2, None), 10) == (2, 9)
    assert byte_range(slice(-3, None), 10) == (7, 9)
    assert byte_range(slice(-30, None), 10) == (0, 9)
    assert byte_range(slice(None, 4), 10) == (0, 3)
    assert byte_range(slice(12, None), 10) == (12, 9)


async def test_a_share_taken_between_the_check_and_the_reservation_is_not_found(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = desk.share()
    stale = desk.store.share(token_id(token))
    # Another server (a reloaded entry's) reserved it just after this one read it.
    desk.store.change_share(token_id(token), lambda s: replace(s, in_flight=10))
    monkeypatch.setattr(desk.store, "share", lambda _id: stale)
    assert await desk.get(token) == NOT_FOUND
    assert [e for e in desk.audit.entries() if e.kind == "download"] == []


async def test_stopping_a_download_whose_connection_is_gone_only_flags_it(desk: Desk) -> None:
    request = make_mocked_request("GET", "/")
    request.protocol.transport = None  # what aiohttp's protocol holds after connection_lost
    gone = _Download(request)
    desk.server._streaming["s"] = gone  # the connection dropped; the handler is unwinding
    desk.server.stop("s")
    assert gone.stop.is_set()
    del desk.server._streaming["s"]


async def test_asking_again_while_the_last_transfer_is_counted_waits_for_it(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = desk.share(max_downloads=2)
    real = ShareServer._count

    async def slow_count(server: ShareServer, *args: int) -> None:
        await asyncio.sleep(0.3)  # the store is slow; the client already has every byte
        await real(server, *args)

    monkeypatch.setattr(ShareServer, "_count", slow_count)
    assert (await desk.get(token))[0] == 200
    # Before: 404, the link looked busy though the first download was over.
    assert (await desk.get(token))[0] == 200
    assert await desk.get(token) == NOT_FOUND


async def test_closing_waits_for_a_count_that_outlives_its_cancelled_handler(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A client that disconnects cancels the handler; the count it started goes on (it is
    # shielded) and unload must wait for it before the store closes.
    token = desk.share()
    real = ShareServer._count
    counting = asyncio.Event()

    async def slow_count(server: ShareServer, *args: int) -> None:
        counting.set()
        await asyncio.sleep(0.3)  # the store is slow
        await real(server, *args)

    monkeypatch.setattr(ShareServer, "_count", slow_count)
    fetching = asyncio.ensure_future(desk.get(token))
    await counting.wait()
    [handler] = [t for t in asyncio.all_tasks() if _awaits(t, "ShareServer.serve")]
    handler.cancel()
    await asyncio.wait([handler])
    assert desk.server._counting  # the count outlived its handler
    closing = asyncio.ensure_future(desk.server.async_close())
    await asyncio.sleep(0.05)
    assert not closing.done()
    await closing
    [share] = desk.store.shares()
    assert share.downloads == 1
    fetching.cancel()


def _awaits(task: asyncio.Task[object], qualname: str) -> bool:
    """Whether the task is (somewhere down its await chain) in the coroutine qualname."""
    coro: object = task.get_coro()
    while coro is not None:
        if getattr(coro, "__qualname__", "") == qualname:
            return True
        coro = getattr(coro, "cr_await", None)
    return False
