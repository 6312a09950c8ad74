"""Capability downloads: the one way a clip leaves home. No Home Assistant imports.

A link is a random 256-bit token; only its SHA-256 is stored. Every case in which a link
does not serve (unknown, malformed, used up, revoked, expired, consent record missing, busy)
gets the same 404, byte for byte, so a holder learns nothing from a refused link. The
download is written to the audit log before the first byte is sent. Served from disk with
sendfile (aiohttp's FileResponse), with HTTP Range so a dropped transfer can resume; a link
counts as used once a response has delivered the file's last byte, or as many bytes as the
file holds in total.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field, replace
from http import HTTPStatus
from typing import TYPE_CHECKING, Final

from aiohttp import web

from .records import ShareState, token_id

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable
    from pathlib import Path

    from aiohttp.abc import AbstractStreamWriter

    from custom_components.porchlight.federation.clock import Clock

    from .audit import AuditLog
    from .records import FootageRequest, Share
    from .store import ConsentStore

TOKEN_RE: Final = re.compile(r"^[A-Za-z0-9_-]{43}$")
PRIVATE: Final = {"Cache-Control": "private, no-store", "Referrer-Policy": "no-referrer"}
_NOT_FOUND: Final = b'{"error":"not_found"}'
CHUNK: Final = 1 << 20


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


class _SentFile(web.FileResponse):
    """A file response the handler sends itself, so it knows the transfer completed.

    aiohttp prepares whatever a handler returns; FileResponse.prepare would send the file a
    second time, so once prepared this answers like any prepared StreamResponse.
    """

    async def prepare(self, request: web.BaseRequest) -> AbstractStreamWriter | None:
        """Send the file once."""
        if self.prepared:
            return await web.StreamResponse.prepare(self, request)
        return await super().prepare(request)


@dataclass(slots=True)
class ShareServer:
    """Serves shares from the store; blocking store and log calls run in the executor."""

    store: ConsentStore
    audit: AuditLog
    clock: Clock
    clip_path: Callable[[str], Path | None]
    # Called (in the loop) when a share ends: the clip's hold can go.
    on_ended: Callable[[Share], Awaitable[None]]
    # Called (in the loop) after any change to a share.
    on_changed: Callable[[], None] = lambda: None
    _streaming: set[str] = field(default_factory=set)

    async def _run[T](self, func: Callable[..., T], *args: object) -> T:
        return await asyncio.get_running_loop().run_in_executor(None, func, *args)

    async def serve(self, request: web.Request, token: str) -> web.StreamResponse:
        """Answer a GET for a capability link."""
        if not TOKEN_RE.match(token):
            return not_found()
        share = await self._run(self.store.share, token_id(token))
        now = self.clock.now()
        if share is None or not share.usable or share.expires < now or share.id in self._streaming:
            return not_found()
        stored: FootageRequest | None = await self._run(self.store.request, share.request)
        consent = stored.approved(share.clip) if stored is not None else None
        path = self.clip_path(share.clip)
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
        self._streaming.add(share.id)
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
            response = _SentFile(
                path,
                chunk_size=CHUNK,
                headers={
                    **PRIVATE,
                    "Content-Type": "video/mp4",
                    "Content-Disposition": f'attachment; filename="{share.clip}.mp4"',
                },
            )
            await response.prepare(request)
            await response.write_eof()
        finally:
            self._streaming.discard(share.id)
        await self._count(share, first, last, size)
        return response

    async def _count(self, share: Share, first: int, last: int, size: int) -> None:
        served = share.bytes_served + last - first + 1
        complete = last == size - 1 or served >= size
        share = replace(
            share, bytes_served=served, downloads=share.downloads + (1 if complete else 0)
        )
        if share.downloads >= share.max_downloads:
            share = replace(share, state=ShareState.DOWNLOADED)
        await self._run(self.store.put_share, share)
        self.on_changed()
        if share.state is ShareState.DOWNLOADED:
            await self.on_ended(share)
