"""Downloading one capability URL: checked, resumed, hashed, never more than announced."""

from __future__ import annotations

import hashlib
import io
import os
import socket
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import aiohttp
import pytest
from aiohttp import web

from custom_components.porchlight.federation.transport import HttpSender
from porchlight_agency.fetch import (
    Downloader,
    Expected,
    FetchError,
    LinkGoneError,
    Progress,
    RetryableError,
    network_reason,
)
from porchlight_dev.rtsp import free_port

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator
    from pathlib import Path

    from tests.federation.loopback import Network

    from .share_server import ShareServer

CLIP = os.urandom(300_000)
EXPECTED = Expected(len(CLIP), hashlib.sha256(CLIP).hexdigest())


pytestmark = pytest.mark.usefixtures("no_retry_delay")


def downloader(network: Network, *, lan: bool = True) -> tuple[Downloader, io.StringIO]:
    stream = io.StringIO()
    return Downloader(network.sender, lan=lan, progress=stream), stream


async def test_download_streams_the_clip_and_burns_the_link(
    network: Network, shares: ShareServer, tmp_path: Path
) -> None:
    url = shares.share(CLIP)
    get, progress = downloader(network)
    part = tmp_path / "c1.part"
    await get.download(url, EXPECTED, part, "clip c1")
    assert part.read_bytes() == CLIP
    assert "clip c1: 293.0 KiB, SHA-256 matches the manifest" in progress.getvalue()
    assert url.rsplit("/", 1)[1] not in progress.getvalue()
    with pytest.raises(LinkGoneError, match="404"):
        await get.download(url, EXPECTED, tmp_path / "again.part", "clip c1")


async def test_download_resumes_with_range_after_a_dropped_connection(
    network: Network, shares: ShareServer, tmp_path: Path
) -> None:
    url = shares.share(CLIP, drop_after=100_000)
    get, progress = downloader(network)
    part = tmp_path / "c1.part"
    await get.download(url, EXPECTED, part, "clip c1")
    assert part.read_bytes() == CLIP
    assert [r for _, r in shares.requests] == [None, "bytes=100000-"]
    assert (
        "clip c1: connection lost, resuming at 97.7 KiB (the transfer broke off); retry 1 of 5\n"
        in progress.getvalue()
    )


async def test_download_continues_what_an_earlier_run_left(
    network: Network, shares: ShareServer, tmp_path: Path
) -> None:
    url = shares.share(CLIP)
    part = tmp_path / "c1.part"
    part.write_bytes(CLIP[:1234])
    get, _ = downloader(network)
    await get.download(url, EXPECTED, part, "clip c1")
    assert part.read_bytes() == CLIP
    assert [r for _, r in shares.requests] == ["bytes=1234-"]


async def test_a_leftover_longer_than_the_clip_is_started_over(
    network: Network, shares: ShareServer, tmp_path: Path
) -> None:
    url = shares.share(CLIP)
    part = tmp_path / "c1.part"
    part.write_bytes(CLIP + b"junk")
    get, _ = downloader(network)
    await get.download(url, EXPECTED, part, "clip c1")
    assert part.read_bytes() == CLIP
    assert [r for _, r in shares.requests] == [None]


async def test_tampered_download_fails_and_is_discarded(
    network: Network, shares: ShareServer, tmp_path: Path
) -> None:
    tampered = bytearray(CLIP)
    tampered[5000] ^= 1
    url = shares.share(bytes(tampered))
    get, progress = downloader(network)
    part = tmp_path / "c1.part"
    with pytest.raises(FetchError, match="SHA-256 mismatch"):
        await get.download(url, EXPECTED, part, "clip c1")
    assert not part.exists()
    assert "SHA-256 MISMATCH" in progress.getvalue()


async def test_more_bytes_than_announced_are_refused(
    network: Network, shares: ShareServer, tmp_path: Path
) -> None:
    url = shares.share(CLIP + b"x" * 10)
    get, _ = downloader(network)
    with pytest.raises(FetchError, match="more bytes than the signed manifest"):
        await get.download(url, EXPECTED, tmp_path / "c1.part", "clip c1")


async def test_fewer_bytes_than_announced_fail(
    network: Network, shares: ShareServer, tmp_path: Path
) -> None:
    url = shares.share(CLIP[:-10])
    get, _ = downloader(network)
    with pytest.raises(FetchError, match="the server sent 299990 bytes; the manifest announced"):
        await get.download(url, EXPECTED, tmp_path / "c1.part", "clip c1")


async def test_private_destination_needs_lan(
    network: Network, shares: ShareServer, tmp_path: Path
) -> None:
    url = shares.share(CLIP)
    get, _ = downloader(network, lan=False)
    with pytest.raises(FetchError, match=r"non-public address .*--lan allows it"):
        await get.download(url, EXPECTED, tmp_path / "c1.part", "clip c1")
    assert shares.requests == []


async def test_unresolvable_host_fails(network: Network, tmp_path: Path) -> None:
    async def no_such_host(host: str, port: int) -> list[str]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    sender = HttpSender(network.session, network.clock, resolve=no_such_host)
    get = Downloader(sender, lan=True, progress=io.StringIO())
    with pytest.raises(FetchError, match=r"cannot be resolved \(gaierror\)"):
        await get.download(
            "http://clips.invalid/api/porchlight/v1/share/x", EXPECTED, tmp_path / "p", "clip c1"
        )


async def test_a_host_that_never_answers_fails_after_retries(
    network: Network, tmp_path: Path
) -> None:
    get, progress = downloader(network)
    url = f"http://127.0.0.1:{free_port()}/api/porchlight/v1/share/x"
    with pytest.raises(FetchError, match=r"the connection failed 6 times \(Connection refused\)"):
        await get.download(url, EXPECTED, tmp_path / "p", "clip c1")
    assert progress.getvalue().splitlines() == [
        f"  clip c1: could not connect (Connection refused); retry {n} of 5" for n in range(1, 6)
    ]


type Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
type Serve = Callable[[Handler], Awaitable[str]]


@pytest.fixture
async def serve(socket_enabled: None) -> AsyncGenerator[Callable[[Handler], Awaitable[str]]]:
    """One-route servers on loopback (misbehaving ones); returns their URL."""
    runners: list[web.AppRunner] = []

    async def start(handler: Handler) -> str:
        app = web.Application()
        app.router.add_get("/clip", handler)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        runners.append(runner)
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return f"http://127.0.0.1:{port}/clip"

    yield start
    for runner in runners:
        await runner.cleanup()


async def test_redirects_are_not_followed(network: Network, tmp_path: Path, serve: Serve) -> None:
    async def redirect(_request: web.Request) -> web.Response:
        return web.Response(status=302, headers={"Location": "http://10.0.0.1/"})

    get, _ = downloader(network)
    with pytest.raises(FetchError, match="HTTP 302"):
        await get.download(await serve(redirect), EXPECTED, tmp_path / "p", "clip c1")


@pytest.mark.parametrize("status", [503, 500, 429])
async def test_a_server_error_is_worth_another_run(
    network: Network, tmp_path: Path, serve: Serve, status: int
) -> None:
    async def failing(_request: web.Request) -> web.Response:
        return web.Response(status=status)

    get, _ = downloader(network)
    with pytest.raises(RetryableError, match=f"HTTP {status}; try again later"):
        await get.download(await serve(failing), EXPECTED, tmp_path / "p", "clip c1")


async def test_a_server_ignoring_range_sends_the_whole_clip_again(
    network: Network, tmp_path: Path, serve: Serve
) -> None:
    async def whole(_request: web.Request) -> web.Response:
        return web.Response(body=CLIP)

    part = tmp_path / "p"
    part.write_bytes(b"stale beginning")
    get, _ = downloader(network)
    await get.download(await serve(whole), EXPECTED, part, "clip c1")
    assert part.read_bytes() == CLIP


async def test_a_resume_at_the_wrong_offset_is_refused(
    network: Network, tmp_path: Path, serve: Serve
) -> None:
    async def shifted(_request: web.Request) -> web.Response:
        return web.Response(
            status=206, body=CLIP[10:], headers={"Content-Range": f"bytes 10-{len(CLIP) - 1}/*"}
        )

    part = tmp_path / "p"
    part.write_bytes(CLIP[:100])
    get, _ = downloader(network)
    with pytest.raises(FetchError, match="another offset"):
        await get.download(await serve(shifted), EXPECTED, part, "clip c1")


class Tty(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


async def test_an_error_mid_download_starts_a_line_of_its_own_on_a_terminal(
    network: Network, shares: ShareServer, tmp_path: Path
) -> None:
    url = shares.share(CLIP + b"x" * 10)
    stream = Tty()
    get = Downloader(network.sender, lan=True, progress=stream)
    with pytest.raises(FetchError, match="more bytes than the signed manifest"):
        await get.download(url, EXPECTED, tmp_path / "c1.part", "clip c1")
    assert stream.getvalue().startswith("\r  clip c1:")
    assert stream.getvalue().endswith("% of 293.0 KiB\n")  # the progress line is ended


@pytest.mark.parametrize(
    ("error", "words"),
    [
        (ConnectionRefusedError(111, "Connect call failed"), "Connection refused"),
        (TimeoutError(), "timed out"),
        (aiohttp.ClientPayloadError("Response payload is not completed"), "the transfer broke off"),
        (aiohttp.ServerDisconnectedError(), "the server closed the connection"),
        (aiohttp.ClientConnectionError("reset by a proxy"), "reset by a proxy"),
        (aiohttp.ClientConnectionError(), "ClientConnectionError"),
    ],
)
def test_network_failures_are_told_in_words(error: BaseException, words: str) -> None:
    assert network_reason(error) == words


def test_progress_redraws_on_a_terminal() -> None:
    stream = Tty()
    progress = Progress(stream, "clip c1", 4 << 20)
    for done in (0, 1 << 20, (1 << 20) + 1, 4 << 20):
        progress.update(done)
    progress.finish("done")
    assert stream.getvalue() == (
        "\r  clip c1:   0% of 4.0 MiB\r  clip c1:  25% of 4.0 MiB"
        "\r  clip c1: 100% of 4.0 MiB\r  clip c1: done\n"
    )
    empty = Progress(Tty(), "clip c2", 0)
    empty.update(0)
    assert "100%" in empty.stream.getvalue()  # type: ignore[attr-defined]


async def test_a_complete_leftover_is_not_downloaded_again(
    network: Network, shares: ShareServer, tmp_path: Path
) -> None:
    # An earlier run got every byte but stopped before filing: the link is used up by now.
    url = shares.share(CLIP)
    part = tmp_path / "c1.part"
    part.write_bytes(CLIP)
    get, _ = downloader(network)
    await get.download(url, EXPECTED, part, "clip c1")
    assert shares.requests == []


async def test_a_complete_but_wrong_leftover_is_downloaded_afresh(
    network: Network, shares: ShareServer, tmp_path: Path
) -> None:
    url = shares.share(CLIP)
    part = tmp_path / "c1.part"
    part.write_bytes(bytes(len(CLIP)))
    get, _ = downloader(network)
    await get.download(url, EXPECTED, part, "clip c1")
    assert part.read_bytes() == CLIP
    assert [r for _, r in shares.requests] == [None]
