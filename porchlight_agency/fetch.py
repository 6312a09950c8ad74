"""Downloading offered clips: checked destinations, resumable, hashed while streaming.

A capability URL is a bearer token: whoever holds it may download the clip once. So the URL
is never printed or logged (only the clip id), redirects are never followed (the home names
the one place its clip is served), and the destination is checked like any outbound request
of the federation (transport.HttpSender.pinned: public addresses only unless --lan, one DNS
lookup, the connection made to the checked address). The body is streamed into a temporary
file while its SHA-256 is computed, never more bytes than the signed manifest announced; a
dropped connection resumes with an HTTP Range request from where it stopped.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from dataclasses import dataclass
from http import HTTPStatus
from typing import IO, TYPE_CHECKING, Final, TextIO

import aiohttp
from yarl import URL

from custom_components.porchlight.federation.errors import (
    DestinationRefusedError,
    PeerUnreachableError,
)
from custom_components.porchlight.federation.httpsig import authority_of

if TYPE_CHECKING:
    from pathlib import Path

    from custom_components.porchlight.federation.transport import HttpSender

CHUNK: Final = 1 << 16
MAX_RETRIES: Final = 5
RETRY_DELAY: Final = 0.5
CONNECT_TIMEOUT: Final = 10.0
READ_TIMEOUT: Final = 30.0
_CONTENT_RANGE: Final = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")


class FetchError(Exception):
    """One clip could not be fetched or is not what the home signed; the message says why."""


class LinkGoneError(FetchError):
    """The link answers 404/410: used already, revoked or expired (indistinguishable)."""


@dataclass(frozen=True, slots=True)
class Expected:
    """What the signed manifest says the clip is."""

    size: int
    sha256: str


class Progress:
    """A one-line progress display on stderr: redrawn on a terminal, else start and end only."""

    def __init__(self, stream: TextIO, label: str, total: int) -> None:
        """Show progress of label towards total bytes."""
        self.stream = stream
        self.label = label
        self.total = total
        self.tty = stream.isatty()
        self._shown = -1

    def update(self, done: int) -> None:
        """Redraw with the number of bytes received so far."""
        percent = 100 * done // self.total if self.total else 100
        if self.tty and percent != self._shown:
            self._shown = percent
            self.stream.write(f"\r  {self.label}: {percent:3d}% of {_size(self.total)}")
            self.stream.flush()

    def resumed(self, done: int) -> None:
        """The connection dropped; say so and where the download continues."""
        self.stream.write(f"\r  {self.label}: connection lost, resuming at {_size(done)}\n")
        self.stream.flush()
        self._shown = -1

    def finish(self, message: str) -> None:
        """End the line with a verdict."""
        prefix = "\r" if self.tty else ""
        self.stream.write(f"{prefix}  {self.label}: {message}\n")
        self.stream.flush()


def _size(count: int) -> str:
    if count < 1 << 20:
        return f"{count / 1024:.1f} KiB"
    return f"{count / (1 << 20):.1f} MiB"


class _PartFile:
    """The temporary file a download streams into, hashed as it grows."""

    def __init__(self, path: Path, limit: int) -> None:
        self.path = path
        self.limit = limit
        self.hasher = hashlib.sha256()
        self.size = 0
        self.file: IO[bytes] = path.open("a+b")
        # What an earlier, interrupted run left: counted and hashed, then continued.
        self.file.seek(0)
        while chunk := self.file.read(CHUNK):
            self.hasher.update(chunk)
            self.size += len(chunk)
        if self.size > limit:
            self.restart()

    def restart(self) -> None:
        self.file.seek(0)
        self.file.truncate()
        self.hasher = hashlib.sha256()
        self.size = 0

    def write(self, chunk: bytes) -> None:
        if self.size + len(chunk) > self.limit:
            msg = "the server sent more bytes than the signed manifest announced"
            raise FetchError(msg)
        self.file.write(chunk)
        self.hasher.update(chunk)
        self.size += len(chunk)

    def close(self) -> None:
        self.file.flush()
        self.file.close()

    def discard(self) -> None:
        self.path.unlink()


class Downloader:
    """GETs capability URLs on one session, with the federation's destination checks."""

    def __init__(self, sender: HttpSender, *, lan: bool, progress: TextIO) -> None:
        """Download through sender's session and address checks (lan: private allowed)."""
        self.sender = sender
        self.lan = lan
        self.progress = progress
        self.timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=CONNECT_TIMEOUT, sock_read=READ_TIMEOUT
        )

    async def download(self, url: str, expected: Expected, part: Path, label: str) -> None:
        """Fetch url into part until it holds exactly the expected bytes; FetchError if not.

        part may hold the beginning already (an earlier run): the download continues after
        it. A part whose content turns out wrong is deleted, so the next run starts afresh.
        """
        try:
            target = await self.sender.pinned(url, lan=self.lan)
        except DestinationRefusedError as err:
            msg = f"the link points to a non-public address ({err}); --lan allows it"
            raise FetchError(msg) from None
        except PeerUnreachableError as err:
            msg = f"the link's host cannot be resolved ({err})"
            raise FetchError(msg) from None
        progress = Progress(self.progress, label, expected.size)
        file = _PartFile(part, expected.size)
        try:
            await self._stream(url, target, file, progress)
        finally:
            file.close()
        if file.hasher.hexdigest() != expected.sha256:
            file.discard()
            progress.finish("SHA-256 MISMATCH")
            msg = "the downloaded file is not the one the home signed (SHA-256 mismatch)"
            raise FetchError(msg)
        progress.finish(f"{_size(file.size)}, SHA-256 matches the manifest")

    async def _stream(self, url: str, target: URL, file: _PartFile, progress: Progress) -> None:
        retries = 0
        while True:
            try:
                await self._get(url, target, file, progress)
            except (aiohttp.ClientPayloadError, aiohttp.ClientConnectionError, TimeoutError) as err:
                retries += 1
                if retries > MAX_RETRIES:
                    msg = f"the connection failed {retries} times ({type(err).__name__})"
                    raise FetchError(msg) from None
                progress.resumed(file.size)
                await asyncio.sleep(RETRY_DELAY * retries)
                continue
            if file.size == file.limit:
                return
            msg = f"the server sent {file.size} bytes; the manifest announced {file.limit}"
            raise FetchError(msg)

    async def _get(self, url: str, target: URL, file: _PartFile, progress: Progress) -> None:
        headers = {"Host": authority_of(url), "Accept-Encoding": "identity"}
        if file.size:
            headers["Range"] = f"bytes={file.size}-"
        async with self.sender.session.get(
            target,
            headers=headers,
            allow_redirects=False,
            timeout=self.timeout,
            server_hostname=URL(url).host if target.scheme == "https" else None,
            auto_decompress=False,
        ) as response:
            if response.status in {HTTPStatus.NOT_FOUND, HTTPStatus.GONE}:
                msg = "the link answers 404: already used, revoked or expired"
                raise LinkGoneError(msg)
            if response.status == HTTPStatus.PARTIAL_CONTENT and file.size:
                _check_range(response.headers.get("Content-Range", ""), file.size)
            elif response.status == HTTPStatus.OK:
                file.restart()  # the whole file again (a server that ignores Range)
            else:
                msg = f"the server answered HTTP {response.status}"
                raise FetchError(msg)
            async for chunk in response.content.iter_chunked(CHUNK):
                file.write(chunk)
                progress.update(file.size)


def _check_range(header: str, start: int) -> None:
    match = _CONTENT_RANGE.fullmatch(header.strip())
    if match is None or int(match[1]) != start:
        msg = "the server resumed at another offset than asked"
        raise FetchError(msg)
