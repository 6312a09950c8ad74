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
import contextlib
import hashlib
import os
import re
import stat
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from http import HTTPStatus
from typing import IO, TYPE_CHECKING, Any, Final, NamedTuple, TextIO, cast

import aiohttp
from yarl import URL

from custom_components.porchlight.federation import (
    MANIFEST_FILE,
    README_FILE,
    DestinationRefusedError,
    EvidenceError,
    PeerUnreachableError,
    authority_of,
    grouped,
    sha256_file,
    verify_folder,
    verify_manifest,
    write_evidence_folder,
)

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from custom_components.porchlight.federation import (
        ClipEvidence,
        Envelope,
        FolderReport,
        HttpSender,
        Manifest,
    )

CHUNK: Final = 1 << 16
MAX_RETRIES: Final = 5
RETRY_DELAY: Final = 0.5
CONNECT_TIMEOUT: Final = 10.0
READ_TIMEOUT: Final = 30.0
INCOMING: Final = ".incoming"  # below --out: downloads not filed yet
_CONTENT_RANGE: Final = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")


class FetchError(Exception):
    """One clip could not be fetched or is not what the home signed; the message says why."""


class LinkGoneError(FetchError):
    """The link answers 404/410: used already, revoked or expired (indistinguishable)."""


class RetryableError(FetchError):
    """The network failed (not the home's answer): a later run may succeed."""


class LanNeededError(FetchError):
    """The link points to a private address and --lan was not given: the officer's call."""


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

    def retrying(self, done: int, reason: str, attempt: int, *, received: bool) -> None:
        """The connection failed (after receiving something, or before); say so and what next."""
        what = f"connection lost, resuming at {_size(done)}" if received else "could not connect"
        self._line(f"{what} ({reason}); retry {attempt} of {MAX_RETRIES}")

    def finish(self, message: str) -> None:
        """End the line with a verdict."""
        self._line(message)

    def abort(self) -> None:
        """End a progress line left open, so whatever is written next starts a line of its own."""
        if self._shown >= 0:
            self.stream.write("\n")
            self.stream.flush()
            self._shown = -1

    def _line(self, message: str) -> None:
        prefix = "\r" if self._shown >= 0 else ""
        self.stream.write(f"{prefix}  {self.label}: {message}\n")
        self.stream.flush()
        self._shown = -1


def network_reason(err: BaseException) -> str:
    """Why a connection failed, in words rather than an exception's class name."""
    if isinstance(err, OSError) and err.errno:
        return os.strerror(err.errno)  # "Connection refused", "No route to host"...
    for kind, words in _REASONS:
        if isinstance(err, kind):
            return words
    return str(err) or type(err).__name__


_REASONS: Final = (
    (TimeoutError, "timed out"),
    (aiohttp.ClientPayloadError, "the transfer broke off"),
    (aiohttp.ServerDisconnectedError, "the server closed the connection"),
)


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
        self.received = 0  # bytes written by this run
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
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
        self.received += len(chunk)

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
            raise LanNeededError(msg) from None
        except PeerUnreachableError as err:
            msg = f"the link's host cannot be resolved ({err})"
            raise RetryableError(msg) from None
        progress = Progress(self.progress, label, expected.size)
        file = _PartFile(part, expected.size)
        try:
            if file.size == expected.size and file.hasher.hexdigest() != expected.sha256:
                file.restart()  # complete but wrong: only a fresh download can help
            if file.size < expected.size:
                await self._stream(url, target, file, progress)
        except BaseException:
            progress.abort()  # the error (or "interrupted") gets a line of its own
            raise
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
            before = file.received
            try:
                await self._get(url, target, file, progress)
            except (aiohttp.ClientPayloadError, aiohttp.ClientConnectionError, TimeoutError) as err:
                retries += 1
                reason = network_reason(err)
                if retries > MAX_RETRIES:
                    msg = f"the connection failed {retries} times ({reason})"
                    raise RetryableError(msg) from None
                progress.retrying(file.size, reason, retries, received=file.received > before)
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
            elif response.status >= HTTPStatus.INTERNAL_SERVER_ERROR or response.status in {
                HTTPStatus.REQUEST_TIMEOUT,
                HTTPStatus.TOO_MANY_REQUESTS,
            }:
                msg = f"the server answered HTTP {response.status}; try again later"
                raise RetryableError(msg)
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


# --- one offer -------------------------------------------------------------------------------
class Outcome(StrEnum):
    """What became of one offered clip."""

    FETCHED = "fetched"
    GONE = "gone"  # 404, or expired before we asked: this link will not work again
    FAILED = "failed"  # wrong bytes, a bad answer: the offer is at fault
    RETRY = "retry"  # the network or the home's server failed: a later run may still get it
    LAN = "lan"  # a private address without --lan: a run with --lan may get it


@dataclass(frozen=True, slots=True)
class OfferResult:
    """What fetching one offer did."""

    folder: Path | None
    clips: dict[str, Outcome]
    report: FolderReport | None = None
    error: str = ""

    @property
    def ok(self) -> bool:
        """Whether everything the home offered is filed and intact."""
        return not self.error and self.report is not None and self.report.ok


class Link(NamedTuple):
    """One capability link of an offer."""

    clip: str
    url: str
    expires: int


def offer_links(offer: Envelope) -> list[Link]:
    """The links of an offer (whose schema open_envelope checked)."""
    links = cast("list[dict[str, Any]]", offer.body["links"])
    return [Link(str(x["clip"]), str(x["url"]), int(x["expires"])) for x in links]


def check_offer(offer: Envelope, manifest: Manifest, *, request: str, agency: str) -> None:
    """The manifest must be the offering home's, for this request, to this agency."""
    if manifest.home_key != offer.sender_key:
        msg = "the manifest is signed by another key than the offer"
        raise EvidenceError(msg)
    if manifest.request != request or offer.body["request"] != request:
        msg = "the manifest answers another request"
        raise EvidenceError(msg)
    if manifest.agency != agency or offer.to != agency:
        msg = "the manifest is addressed to another agency"
        raise EvidenceError(msg)


class OfferFetcher:
    """Fetches, checks and files the clips of offers for one request."""

    def __init__(  # noqa: PLR0913  # what a run is about, each named
        self,
        downloader: Downloader,
        *,
        request: str,
        agency: str,
        out: Path,
        now: int,
        say: Callable[[str], None],
    ) -> None:
        """File evidence for request (answered to agency) under out; report through say."""
        self.downloader = downloader
        self.request = request
        self.agency = agency
        self.out = out
        self.now = now
        self.say = say

    def folder(self, offer: Envelope) -> Path:
        """Where an offer's evidence is filed: one folder per home, one below it per offer."""
        return self.out / grouped(offer.sender) / f"offer-{offer.event_id[:16]}"

    async def fetch(self, offer: Envelope) -> OfferResult:
        """Verify the offer's manifest, download its clips, file them; never raises."""
        home = grouped(offer.sender)
        self.say(f"offer {offer.event_id[:16]} from {home}:")
        try:
            manifest = verify_manifest(offer.body["manifest"])
            check_offer(offer, manifest, request=self.request, agency=self.agency)
        except EvidenceError as err:
            self.say(f"  the evidence manifest is not acceptable ({err.detail}); nothing fetched")
            return OfferResult(None, {}, error=err.detail)
        folder = self.folder(offer)
        incoming = self.out / INCOMING / offer.event_id
        if (folder / MANIFEST_FILE).exists():
            return await self._filed(folder, manifest)
        if folder.exists():
            # An earlier run stopped while filing: take its clips back (they are checked again).
            await asyncio.to_thread(_unfile, folder, incoming)
        clips = {clip.clip: clip for clip in manifest.clips}
        outcomes: dict[str, Outcome] = dict.fromkeys(clips, Outcome.GONE)
        error = ""
        links = offer_links(offer)
        linked: set[str] = set()
        for clip_id, url, expires in links:
            clip = clips.get(clip_id)
            if clip is None or clip_id in linked:
                error = f"a link for clip {clip_id}, which the manifest does not list (or twice)"
                self.say(f"  clip {clip_id}: not in the manifest, or a second link; not fetched")
                continue
            linked.add(clip_id)
            outcomes[clip_id] = await self._clip(url, expires, clip, _part(incoming, clip))
        for clip_id in sorted(set(clips) - linked):
            self.say(f"  clip {clip_id}: listed in the manifest, but no link was offered")
        # Links that may still work are never given up: the offer waits for another run.
        if Outcome.LAN in outcomes.values():
            self.say(f"  not filed yet: run fetch again with --lan to continue ({incoming})")
            return OfferResult(None, outcomes, error=error or "links to private addresses")
        if Outcome.RETRY in outcomes.values():
            self.say(f"  not filed yet: run fetch again to continue ({incoming})")
            return OfferResult(None, outcomes, error=error or "interrupted downloads")
        files = {
            clip_id: _part(incoming, clips[clip_id])
            for clip_id, outcome in outcomes.items()
            if outcome is Outcome.FETCHED
        }
        report = await asyncio.to_thread(_file, folder, manifest, files, incoming)
        self.say(f"  filed in {folder}: {report.summary()}")
        if incoming.exists():
            self.say(f"  incomplete downloads kept in {incoming}")
        return OfferResult(folder, outcomes, report, error)

    async def _filed(self, folder: Path, manifest: Manifest) -> OfferResult:
        """An offer filed by an earlier run: checked again, never downloaded again."""
        try:
            report = await asyncio.to_thread(verify_folder, folder, expected_home=manifest.home)
        except EvidenceError as err:
            self.say(f"  already filed in {folder}, but it does not verify: {err.detail}")
            return OfferResult(folder, {}, error=err.detail)
        self.say(f"  already filed in {folder}: {report.summary()}")
        return OfferResult(folder, {}, report)

    async def _clip(self, url: str, expires: int, clip: ClipEvidence, part: Path) -> Outcome:
        # What an earlier run got completely is the evidence: it needs neither the link (used
        # up, or expired by now) nor its host, so neither is looked at.
        if await asyncio.to_thread(_complete, part, clip):
            self.say(f"  clip {clip.clip}: downloaded already, SHA-256 matches the manifest")
            return Outcome.FETCHED
        if expires < self.now:
            self.say(f"  clip {clip.clip}: the link expired at {_utc(expires)}")
            return Outcome.GONE
        return await self._one(url, clip, part)

    async def _one(self, url: str, clip: ClipEvidence, part: Path) -> Outcome:
        label = f"clip {clip.clip}"
        try:
            await self.downloader.download(url, Expected(clip.size, clip.sha256), part, label)
        except LinkGoneError as err:
            self.say(f"  {label}: {err}; ask the home to share it again")
            return Outcome.GONE
        except RetryableError as err:
            self.say(f"  {label}: {err}")
            return Outcome.RETRY
        except LanNeededError as err:
            self.say(f"  {label}: {err}")
            return Outcome.LAN
        except FetchError as err:
            self.say(f"  {label}: {err}")
            return Outcome.FAILED
        return Outcome.FETCHED


def _file(folder: Path, manifest: Manifest, files: dict[str, Path], incoming: Path) -> FolderReport:
    """Move the downloads into the evidence folder (verified there).

    Nothing is deleted: what was not filed (the beginning of a clip whose link stopped
    working) stays in incoming, which is removed only once it is empty.
    """
    report = write_evidence_folder(folder, manifest, files)
    for empty in (incoming, incoming.parent):
        with contextlib.suppress(OSError):
            empty.rmdir()
    return report


def _complete(part: Path, clip: ClipEvidence) -> bool:
    """Whether part is a regular file holding exactly the clip the manifest lists."""
    try:
        info = part.lstat()
    except FileNotFoundError:
        return False
    if not stat.S_ISREG(info.st_mode) or info.st_size != clip.size:
        return False
    return sha256_file(part) == (clip.sha256, clip.size)


def _part(incoming: Path, clip: ClipEvidence) -> Path:
    # The manifest's file names are distinct even ignoring case; clip ids need not be.
    return incoming / f"{clip.file}.part"


def _unfile(folder: Path, incoming: Path) -> None:
    """Move the clips of a folder whose filing was interrupted back to the downloads."""
    incoming.mkdir(mode=0o700, parents=True, exist_ok=True)
    for path in folder.iterdir():
        if path.name == README_FILE:
            path.unlink()
        else:
            path.replace(incoming / f"{path.name}.part")
    folder.rmdir()


def _utc(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
