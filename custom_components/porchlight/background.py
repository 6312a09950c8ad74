"""Background work of one loaded home: timer passes and the blocking jobs they start.

Unload closes the clip index, the consent store and the audit log. Nobody awaits a pass a
timer started, and a blocking job cannot be taken back from the executor once its thread
runs: a pass still under way at unload would find its files closed half way
(`sqlite3.ProgrammingError` on every reload that races one). So every timer of a home runs
its passes through here, and unload stops them all before it closes anything.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.event import async_track_time_interval

if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine
    from datetime import datetime, timedelta

    from homeassistant.core import CALLBACK_TYPE

type Pass = Callable[[datetime], Coroutine[Any, Any, None]]


class BackgroundWork:
    """The timers of one home, the passes they started, and those passes' blocking jobs."""

    def __init__(self, hass: HomeAssistant) -> None:
        """Track work for hass; nothing runs until every() is called."""
        self.hass = hass
        self._timers: list[CALLBACK_TYPE] = []
        # The passes under way: unload lets each finish (a pass that changes several files
        # together must not stop between two of them; a delivery attempt cancelled in flight
        # would lose the peer's answer).
        self._passes: set[asyncio.Task[None]] = set()
        self._jobs: set[asyncio.Future[Any]] = set()
        self._stopped = False

    @callback
    def every(self, interval: timedelta, action: Pass, name: str) -> None:
        """Run action every interval until async_stop, which waits for a pass under way."""

        @callback
        def tick(now: datetime) -> None:
            self.start(action, now, name)

        self._timers.append(
            async_track_time_interval(self.hass, tick, interval, name=name, cancel_on_shutdown=True)
        )

    @callback
    def start(self, action: Pass, now: datetime, name: str) -> None:
        """Run one pass of action now, outside its timer; unload waits for it the same way."""
        if self._stopped:
            return
        task = self.hass.async_create_background_task(action(now), name)
        self._passes.add(task)
        task.add_done_callback(self._passes.discard)

    async def async_add_executor_job[**P, T](
        self, target: Callable[P, T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run a blocking job; async_stop waits for its thread even if the caller is cancelled."""
        job = self.hass.async_add_executor_job(lambda: target(*args, **kwargs))
        self._jobs.add(job)
        job.add_done_callback(self._jobs.discard)
        # Shielded: a cancelled pass stops waiting, the thread runs on and is awaited below.
        return await asyncio.shield(job)

    async def async_stop(self) -> None:
        """Start no pass again; await those under way, then their threads (unload).

        When this returns, nothing a timer started touches the home's files any more. The
        timers are cancelled before the first await, so no pass starts once unload began.
        """
        self._stopped = True
        for unsubscribe in self._timers:
            unsubscribe()
        self._timers.clear()
        if self._passes:
            # asyncio.wait leaves a failed pass's exception to be reported as it always is.
            await asyncio.wait(list(self._passes))
        # A pass cancelled by someone else (Home Assistant cancels background tasks when it
        # stops) leaves its thread running: that is waited for too.
        if self._jobs:
            await asyncio.wait(list(self._jobs))
