"""Capability downloads: the one way a clip leaves home. No Home Assistant imports.

A link is a random 256-bit token; only its SHA-256 is stored. Every case in which a link
does not serve (unknown, malformed, used up, revoked, expired, consent record missing, busy)
gets the same 404, byte for byte, so a holder learns nothing from a refused link. The
download is written to the audit log before the first byte is sent. Streamed from disk in
1 MiB chunks, with HTTP Range so a dropped transfer can resume; a link counts as used once a
response has delivered the file's last byte, or as many bytes as the file holds in total.
Chunks rather than sendfile: the owner can revoke a share while it downloads, and the
transfer stops at the next chunk; and the bytes that actually left are counted, even when the
client breaks off.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field, replace
from http import HTTPStatus
from typing import TYPE_CHECKING, Final

from aiohttp import hdrs, web

from .records import ShareState, token_id

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable
    from pathlib import Path
    from typing import BinaryIO

    from custom_components.porchlight.federation.clock import Clock

    from .audit import AuditLog
    from .records import Share
    from .store import ConsentStore

TOKEN_RE: Final = re.compile(r"^[A-Za-z0-9_-]{43}$")
PRIVATE: Final = {"Cache-Control": "private, no-store", "Referrer-Policy": "no-referrer"}
_NOT_FOUND: Final = b'{"error":"not_found"}'
CHUNK: Final = 1 << 20
# How long a request for a link waits for another transfer of it to end (seconds).
SETTLE_WAIT: Final = 2.0


def not_found() -> web.Response:
    """The one answer for every link that does not (or no longer) serve a clip."""
    return web.Response(
        status=HTTPStatus.NOT_FOUND,
        body=_NOT_FOUND,
        headers={**PRIVATE, "Content-Type": "application/json"},
    )


def byte_range(wanted: slice, size: int) -> tuple[int, int]:
    """First and last byte of what a parsed Range asks for (first > last: unsatisfiable)."""
    start, stop = wanted.start, wanted.stop
    if start is None and stop is None:
        return 0, size - 1
    if start is not None and start < 0:  # "bytes=-N": the last N bytes
        return max(size + start, 0), size - 1
    first = start or 0
    last = size - 1 if stop is None else min(stop - 1, size - 1)
    return first, last


@dataclass(slots=True)
class _Download:
    """One download in flight: what it has sent, and the owner's revocation."""

    request: web.Request
    sent: int = 0
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    # Set once the transfer has ended and been counted.
    done: asyncio.Event = field(default_factory=asyncio.Event)


class _TakenError(Exception):
    """The share cannot be reserved: used up, ended, expired or being downloaded."""


@dataclass(slots=True)
class ShareServer:
    """Serves shares from the store; blocking store, log and file calls run in the executor."""

    store: ConsentStore
    audit: AuditLog
    clock: Clock
    # Blocking (the clip index is SQLite): called in the executor like the store.
    clip_path: Callable[[str], Path | None]
    # Called (in the loop) when a share ends: the clip's hold can go.
    on_ended: Callable[[Share], Awaitable[None]]
    # Called (in the loop) after any change to a share.
    on_changed: Callable[[], None] = lambda: None
    # Called (in the loop) after each complete download, the last allowed one included.
    on_download: Callable[[Share], Awaitable[None]] | None = None
    _streaming: dict[str, _Download] = field(default_factory=dict)
    _counting: set[asyncio.Future[None]] = field(default_factory=set)

    async def _run[T](self, func: Callable[..., T], *args: object) -> T:
        return await asyncio.get_running_loop().run_in_executor(None, func, *args)

    def stop(self, share_id: str) -> None:
        """Cut a download in flight off at once (the owner revoked the share)."""
        if (download := self._streaming.get(share_id)) is not None:
            _cut(download)

    async def serve(self, request: web.Request, token: str) -> web.StreamResponse:
        """Answer a GET for a capability link."""
        if not TOKEN_RE.match(token):
            return not_found()
        share_id = token_id(token)
        # A transfer that just ended may still be counting when its client asks again (the
        # last byte arrives before the bookkeeping is done; a dropped connection is noticed
        # by the server after the client reconnected): wait a moment for it, no longer.
        loop = asyncio.get_running_loop()
        deadline = loop.time() + SETTLE_WAIT
        while (other := self._streaming.get(share_id)) is not None:
            try:
                async with asyncio.timeout_at(deadline):
                    await other.done.wait()
            except TimeoutError:
                return not_found()
        # Claimed before the first await: two requests for one link can never both get past
        # the checks (a single-use link would otherwise serve twice).
        download = self._streaming[share_id] = _Download(request)
        try:
            return await self._serve(request, share_id, download)
        finally:
            del self._streaming[share_id]
            download.done.set()

    async def _serve(
        self, request: web.Request, share_id: str, download: _Download
    ) -> web.StreamResponse:
        share = await self._run(self.store.share, share_id)
        if share is None or not share.serves_at(self.clock.now()):
            return not_found()
        # A request's consent record, or an alert grant's (a clip shared with a neighbor).
        consent = await self._run(self.store.consent, share.request, share.clip)
        path = await self._run(self.clip_path, share.clip)
        # No consent record, no bytes: checked at every download, not only when the link
        # was made (the owner's record is the authority, not the link).
        if consent is None or consent.record_hash != share.consent or path is None:
            return not_found()
        size = consent.size
        try:
            first, last = byte_range(request.http_range, size)
        except ValueError:  # malformed or several ranges: refused like aiohttp's FileResponse
            first, last = size, 0
        if first > last:
            return web.Response(
                status=HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE,
                headers={**PRIVATE, "Content-Range": f"bytes */{size}"},
            )
        try:
            source: BinaryIO = await self._run(path.open, "rb")
        except OSError:
            return not_found()
        try:
            if not await self._reserve(share_id, last - first + 1):
                return not_found()
            try:
                await self._run(
                    lambda: self.audit.append(
                        "download",
                        actor=request.remote or "",
                        subject=share.request,
                        size=last - first + 1,
                        data={
                            "clip": share.clip,
                            "sha256": consent.sha256,
                            "first": first,
                            "last": last,
                        },
                    )
                )
                return await self._send(request, share.clip, source, (first, last, size), download)
            finally:
                # Counted even when the transfer broke off: resuming stays possible, and
                # the bytes that did leave count against the link. Shielded so a client
                # that disconnects (cancelling this handler) cannot skip the count; kept,
                # so unload waits for a count that outlives its cancelled handler.
                count = asyncio.ensure_future(self._count(share_id, first, download.sent, size))
                self._counting.add(count)
                count.add_done_callback(self._counting.discard)
                await asyncio.shield(count)
        finally:
            await self._run(source.close)

    async def _reserve(self, share_id: str, wanted: int) -> bool:
        """Mark the share as being downloaded, in the store, before the first byte leaves.

        Written ahead: should the process die mid-transfer, the share is found reserved at
        the next start and counted as downloaded (ConsentStore.settle_interrupted). Also
        refuses a share another server holds (a reloaded entry's, say) or that changed.
        """
        now = self.clock.now()

        def reserve(share: Share) -> Share:
            if not share.serves_at(now):
                raise _TakenError
            return replace(share, in_flight=wanted)

        try:
            await self._run(self.store.change_share, share_id, reserve)
        except _TakenError:
            return False
        return True

    async def _send(
        self,
        request: web.Request,
        clip: str,
        source: BinaryIO,
        span: tuple[int, int, int],
        download: _Download,
    ) -> web.StreamResponse:
        """Stream bytes first..last of the file in chunks, stopping when the owner revokes."""
        first, last, size = span
        partial = hdrs.RANGE in request.headers
        response = web.StreamResponse(
            status=HTTPStatus.PARTIAL_CONTENT if partial else HTTPStatus.OK,
            headers={
                **PRIVATE,
                "Content-Type": "video/mp4",
                "Content-Disposition": f'attachment; filename="{clip}.mp4"',
                "Accept-Ranges": "bytes",
            },
        )
        if partial:
            response.headers["Content-Range"] = f"bytes {first}-{last}/{size}"
        response.content_length = wanted = last - first + 1
        await response.prepare(request)
        await self._run(source.seek, first)
        while download.sent < wanted and not download.stop.is_set():
            chunk = await self._run(source.read, min(CHUNK, wanted - download.sent))
            if not chunk:  # the file is shorter than its consent record says
                break
            try:
                await response.write(chunk)
            except ConnectionError:  # reset, or aiohttp's "Connection lost"
                # The agency's connection dropped: an ordinary end of a transfer, not a server
                # error for the owner's log. What was sent is counted; the download can resume.
                break
            download.sent += len(chunk)
        if download.sent < wanted and request.transport is not None:
            # Revoked or short: the client must see a broken transfer, not a complete one.
            request.transport.close()
        return response

    async def _count(self, share_id: str, first: int, sent: int, size: int) -> None:
        """Release the reservation and count what a transfer sent, on the share as stored now.

        As stored now, because the owner may have revoked the share (or housekeeping expired
        it) while the bytes were flowing: that state stands and is never overwritten.
        """
        now = self.clock.now()
        before: list[int] = []

        def count(share: Share) -> Share:
            before.append(share.downloads)
            return share.counted(sent, reached_end=first + sent == size, size=size, at=now)

        share = await self._run(self.store.change_share, share_id, count)
        self.on_changed()
        if self.on_download is not None and share.downloads > before[0]:
            await self.on_download(share)
        if share.state is ShareState.DOWNLOADED:
            await self.on_ended(share)

    async def async_close(self) -> None:
        """Stop every download in flight and wait until each is counted (unload)."""
        downloads = list(self._streaming.values())
        for download in downloads:
            _cut(download)
        await asyncio.gather(*(d.done.wait() for d in downloads))
        if self._counting:
            # asyncio.wait leaves a failed count's exception to be reported as it always is.
            await asyncio.wait(list(self._counting))


def _cut(download: _Download) -> None:
    """Stop a transfer: no further chunk, and the connection aborted under a pending write.

    Aborting matters when the client does not read: the write waits for it, and the stop
    flag alone would only be seen once it drained what was sent (close() would wait too).
    """
    download.stop.set()
    if download.request.transport is not None:
        download.request.transport.abort()
