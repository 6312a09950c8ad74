"""Unload while a timer's pass is under way: the pass ends before any file it uses closes.

Each test holds the lock of a real store (clip index, audit log, consent store) from the test's
thread, so the pass's blocking job waits in a real executor thread; unload begins; the lock
is let go. Unload must have waited for that thread before it closed the store.
"""

from __future__ import annotations

import asyncio
import hashlib
import shutil
import sqlite3
import sys
import threading
import time
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Self

from homeassistant.config_entries import ConfigEntryState
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.porchlight.background import BackgroundWork
from custom_components.porchlight.consent_glue import HOUSEKEEPING_INTERVAL as DESK_INTERVAL
from custom_components.porchlight.const import DOMAIN
from custom_components.porchlight.federation_glue import DELIVERY_INTERVAL
from custom_components.porchlight.recordings.models import Clip, Trigger
from custom_components.porchlight.recordings_glue import HOUSEKEEPING_INTERVAL

from .footage_helpers import call, fetch, index_root, offers, pair_agency, send_request
from .home import FRONT_DOOR

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path
    from types import TracebackType

    import pytest
    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.common import MockConfigEntry

    from custom_components.porchlight.recordings.index import ClipIndex

    from .federation.loopback import Network

# Long enough for old code's unload to reach the store's close (it then waits on the lock
# too); the new code's unload waits for the pass however long this is.
UNLOAD_HEAD_START = 2.0


class HeldLock:
    """A lock the test holds from its own thread; counts the threads waiting for it."""

    def __init__(self, inner: threading.Lock) -> None:
        """Stand in for a store's lock, held by the caller from the start."""
        self._inner = inner
        self._count = threading.Lock()
        self.waiting = 0
        self._inner.acquire()

    def __enter__(self) -> Self:
        """What the store's methods do: `with self._lock:`."""
        with self._count:
            self.waiting += 1
        self._inner.acquire()
        with self._count:
            self.waiting -= 1
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Let the next waiter in."""
        self._inner.release()

    def let_go(self) -> None:
        """Release the test's hold."""
        self._inner.release()


class GatedLock:
    """A lock whose callers from one method wait at a gate until the test lets them go."""

    def __init__(self, inner: threading.Lock, method: str) -> None:
        """Gate the callers of method (by name); every other caller passes."""
        self._inner = inner
        self._method = method
        self._gate = threading.Event()
        self._count = threading.Lock()
        self.waiting = 0

    def __enter__(self) -> Self:
        """What the store's methods do: `with self._lock:`."""
        if sys._getframe(1).f_code.co_name == self._method:
            with self._count:
                self.waiting += 1
            self._gate.wait()
            with self._count:
                self.waiting -= 1
        self._inner.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Let the next caller in."""
        self._inner.release()

    def let_go(self) -> None:
        """Open the gate."""
        self._gate.set()


def _running(name: str) -> list[asyncio.Task[Any]]:
    """Tasks whose coroutine is the method called name (e.g. HomeRecorder._housekeeping)."""
    return [t for t in asyncio.all_tasks() if t.get_coro().__qualname__ == name]  # type: ignore[union-attr]


async def _until(condition: Callable[[], bool], timeout: float) -> None:
    """Give the loop and the executor until condition holds, at most timeout seconds."""
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        await asyncio.sleep(0.01)


async def test_unload_waits_for_a_housekeeping_pass_before_closing_the_index(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    entry = init_integration
    index = entry.runtime_data.recorder.index
    lock = index._lock = HeldLock(threading.Lock())  # type: ignore[assignment]
    async_fire_time_changed(hass, dt_util.utcnow() + HOUSEKEEPING_INTERVAL + timedelta(seconds=1))
    [housekeeping] = _running("HomeRecorder._housekeeping")
    await _until(lambda: lock.waiting == 1, 30)  # pruning waits in its thread
    unload = hass.async_create_task(hass.config_entries.async_unload(entry.entry_id))
    await _until(lambda: lock.waiting == 2 or unload.done(), UNLOAD_HEAD_START)
    early = unload.done()
    lock.let_go()  # before asserting: a thread left waiting would outlive the test
    assert not early  # not while the pass uses the index

    assert await unload
    assert entry.state is ConfigEntryState.NOT_LOADED
    # The pass was over before unload returned, and it never met a closed index
    # (sqlite3.ProgrammingError: Cannot operate on a closed database).
    assert housekeeping.done()
    assert housekeeping.exception() is None


async def test_unload_lets_a_delivery_attempt_finish_and_starts_no_other(
    hass: HomeAssistant, init_integration: MockConfigEntry, network: Network
) -> None:
    entry = init_integration
    neighbor = await network.start("Oak 3")
    invite = neighbor.node.create_invite(lan=True).to_text()
    paired = await hass.services.async_call(
        DOMAIN,
        "accept_invite",
        {"invite": invite, "endpoint": "http://127.0.0.1:9/api/porchlight/v1", "lan": True},
        blocking=True,
        return_response=True,
    )
    fingerprint, code = paired["peer"]["fingerprint"], paired["peer"]["pairing_code"]  # type: ignore[index]
    await hass.services.async_call(
        DOMAIN, "confirm_pairing", {"fingerprint": fingerprint, "code": code}, blocking=True
    )
    neighbor.node.confirm_pairing(entry.runtime_data.identity.keyid, code)
    node = entry.runtime_data.federation.node
    # The upkeep the active pairing queued (the home's map cell) goes first, on its own.
    await entry.runtime_data.federation.async_deliver()
    assert list(node.outbox) == []
    node.broadcast_alert("Gate open")
    assert len(node.outbox.due(int(time.time()))) == 1
    audit = entry.runtime_data.desk.audit
    before = await hass.async_add_executor_job(lambda: len(list(audit.entries())))
    lock = audit._lock = HeldLock(threading.Lock())  # type: ignore[assignment]

    async_fire_time_changed(hass, dt_util.utcnow() + DELIVERY_INTERVAL + timedelta(seconds=1))
    [delivery] = _running("Federation.async_tick")
    await _until(lambda: lock.waiting == 1, 30)  # the write-ahead audit entry waits
    unload = hass.async_create_task(hass.config_entries.async_unload(entry.entry_id))
    await _until(lambda: lock.waiting == 2 or unload.done(), UNLOAD_HEAD_START)
    early = unload.done()
    lock.let_go()
    assert not early  # the log is not closed under the round's write

    assert await unload
    # The attempt under way ran to its end and its answer was recorded before the outbox
    # was saved: never cancelled in flight, where a peer's answer would be lost and the
    # reloaded home would send the message again.
    assert delivery.done()
    assert not delivery.cancelled()
    assert len(neighbor.node.received) == 1
    assert list(node.outbox) == []

    # The entry the round wrote ahead is in the log, and the log verifies after the reload.
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    audit = entry.runtime_data.desk.audit
    assert audit.last_report is not None
    assert audit.last_report.ok
    entries = await hass.async_add_executor_job(lambda: list(audit.entries()))
    assert [e.kind for e in entries[before:]] == ["message_sent", "checkpoint"]
    # And the reloaded home's next round has nothing to send again.
    async_fire_time_changed(hass, dt_util.utcnow() + 2 * DELIVERY_INTERVAL + timedelta(seconds=2))
    await hass.async_block_till_done()
    assert len(neighbor.node.received) == 1


async def test_unload_waits_for_the_request_desks_pass_before_closing_the_consent_store(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    entry = init_integration
    store = entry.runtime_data.desk.store
    lock = store._lock = HeldLock(threading.Lock())  # type: ignore[assignment]
    async_fire_time_changed(hass, dt_util.utcnow() + DESK_INTERVAL + timedelta(seconds=1))
    [expiry] = _running("ConsentDesk.async_housekeeping")
    await _until(lambda: lock.waiting == 1, 30)  # reading the requests waits in its thread
    unload = hass.async_create_task(hass.config_entries.async_unload(entry.entry_id))
    await _until(lambda: lock.waiting == 2 or unload.done(), UNLOAD_HEAD_START)
    early = unload.done()
    lock.let_go()
    assert not early

    assert await unload
    assert expiry.done()
    assert expiry.exception() is None


async def test_unload_lets_a_download_finish_counting_before_closing_the_index(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    endpoint: str,
    network: Network,
    camera_video: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    entry = init_integration
    agency = await pair_agency(hass, entry, endpoint, network)
    index = entry.runtime_data.recorder.index
    path = index_root(entry) / "01cccccccccccccc.mp4"
    await hass.async_add_executor_job(shutil.copyfile, camera_video, path)
    data = await hass.async_add_executor_job(path.read_bytes)
    now = time.time()
    clip = Clip(
        id=path.stem,
        camera=FRONT_DOOR,
        trigger=Trigger.DOORBELL,
        start=now - 1000,
        end=now - 980,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        path=path,
        thumbnail=None,
        created=now - 979,
    )
    await hass.async_add_executor_job(index.add_clip, clip)
    envelope = await send_request(hass, agency, network)
    await call(hass, "approve_clips", request_id=envelope.event_id, clip_ids=[clip.id])
    url = str(offers(agency)[0].body["links"][0]["url"])  # type: ignore[index]

    # The download ends (single use: the link is used up) and its count releases the clip's
    # hold in the index; that release waits in its thread while unload begins.
    lock = index._lock = GatedLock(threading.Lock(), "release")  # type: ignore[assignment]
    assert await fetch(network, url) == (200, data)
    await _until(lambda: lock.waiting == 1, 30)
    unload = hass.async_create_task(hass.config_entries.async_unload(entry.entry_id))
    await _until(lambda: _closed(index) or unload.done(), UNLOAD_HEAD_START)
    lock.let_go()
    assert await unload

    # The hold was released before the index closed: the footage is no longer kept for a
    # link nobody can use.
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    index = entry.runtime_data.recorder.index
    kept = await hass.async_add_executor_job(index.clip, clip.id)
    assert kept is not None
    assert not [h for h in kept.holds if h.startswith("share:")]


def _closed(index: ClipIndex) -> bool:
    try:
        index._db.total_changes  # noqa: B018  # any use of a closed connection raises
    except sqlite3.ProgrammingError:
        return True
    return False


async def test_a_pass_cancelled_elsewhere_still_has_its_thread_awaited(hass: HomeAssistant) -> None:
    # Home Assistant cancels background tasks when it stops; a pass cancelled that way
    # leaves its executor thread running, and stopping the work must wait for that thread
    # before the files it uses are closed.
    work = BackgroundWork(hass)
    started, release = threading.Event(), threading.Event()
    finished: list[bool] = []

    def job() -> None:
        started.set()
        release.wait(10)
        finished.append(True)

    async def a_pass(_now: object) -> None:
        await work.async_add_executor_job(job)

    work.every(timedelta(seconds=5), a_pass, "porchlight test pass")
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=6))
    assert await hass.async_add_executor_job(started.wait, 10)
    [running] = _running(a_pass.__qualname__)
    running.cancel()
    await asyncio.wait([running])
    stopping = hass.async_create_task(work.async_stop())
    await asyncio.sleep(0.2)
    assert not stopping.done()  # the thread still runs
    release.set()
    await stopping
    assert finished == [True]
