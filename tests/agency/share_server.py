"""A stand-in for a home's clip download view, only as much as the fetch tests need.

Capability URLs as the protocol describes them: GET without other authentication, HTTP Range,
single use (after one complete download the token answers 404, exactly like a token that never
existed), an expiry. It can also misbehave the ways fetch must survive: drop the connection
mid-body, or serve bytes other than the ones the manifest describes.
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from pathlib import Path

_RANGE = re.compile(r"bytes=(\d+)-")
_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


@dataclass
class Share:
    """One clip behind one token."""

    data: bytes
    expires: int
    used: bool = False
    # Misbehaviour: close the connection after this many bytes of the next response.
    drop_after: int | None = None


@dataclass
class ShareServer:
    """Serves shares under /api/porchlight/v1/share/<token> on 127.0.0.1."""

    shares: dict[str, Share] = field(default_factory=dict)
    # (token prefix, Range header) of every GET, to check what the client asked for.
    requests: list[tuple[str, str | None]] = field(default_factory=list)
    base: str = ""
    port: int = 0
    # Misbehaviour: every connection is cut before an answer (the home went offline).
    offline: bool = False
    _runner: web.AppRunner | None = None

    def share(
        self, data: bytes | Path, *, lifetime: int = 3600, drop_after: int | None = None
    ) -> str:
        """A fresh capability URL for data."""
        content = data if isinstance(data, bytes) else data.read_bytes()
        token = secrets.token_urlsafe(32)
        self.shares[token] = Share(content, int(time.time()) + lifetime, drop_after=drop_after)
        return f"{self.base}/{token}"

    async def _get(self, request: web.Request) -> web.StreamResponse:
        token = request.match_info["token"]
        self.requests.append((token[:8], request.headers.get("Range")))
        if self.offline:
            assert request.transport is not None
            request.transport.close()
            return web.Response()
        share = self.shares.get(token)
        if share is None or share.used or share.expires < time.time():
            return web.Response(status=HTTPStatus.NOT_FOUND, headers=_HEADERS)
        start, status, headers = 0, HTTPStatus.OK, dict(_HEADERS)
        match = _RANGE.fullmatch(request.headers.get("Range", ""))
        if match is not None and int(match[1]) < len(share.data):
            start, status = int(match[1]), HTTPStatus.PARTIAL_CONTENT
            headers["Content-Range"] = f"bytes {start}-{len(share.data) - 1}/{len(share.data)}"
        body = share.data[start:]
        headers |= {"Content-Type": "video/mp4", "Accept-Ranges": "bytes"}
        response = web.StreamResponse(status=status, headers=headers)
        response.content_length = len(body)
        await response.prepare(request)
        if share.drop_after is not None:
            await response.write(body[: share.drop_after])
            share.drop_after = None
            assert request.transport is not None
            request.transport.close()
            return response
        await response.write(body)
        await response.write_eof()
        share.used = True
        return response

    async def start(self, port: int = 0) -> None:
        """Serve on a loopback port (a free one by default)."""
        app = web.Application()
        app.router.add_get("/api/porchlight/v1/share/{token}", self._get)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port, reuse_address=True)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.port = port
        self.base = f"http://127.0.0.1:{port}/api/porchlight/v1/share"

    async def stop(self) -> None:
        """Stop serving."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
