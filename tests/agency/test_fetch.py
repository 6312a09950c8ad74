"""fetch and verify: real offers signed by real homes, clips from a loopback share server."""

from __future__ import annotations

import json
import os
import shutil
import time
from typing import TYPE_CHECKING

import aiohttp
import pytest

from custom_components.porchlight.federation.evidence import (
    ClipEvidence,
    ConsentRef,
    sign_manifest,
)
from custom_components.porchlight.federation.node import OFFER
from porchlight_agency import fetch
from porchlight_agency.profile import Profile

from .cli_helpers import Served, issue_request, one_line_error, paired_home

if TYPE_CHECKING:
    from pathlib import Path

    from custom_components.porchlight.federation.canonical import JSON
    from custom_components.porchlight.federation.messages import Envelope
    from tests.federation.loopback import Network, Running

    from .cli_helpers import Cli
    from .share_server import ShareServer

DAY = 86400


pytestmark = pytest.mark.usefixtures("no_retry_delay")


class Clips:
    """Recorded clips of one home: files on disk and their manifest entries."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.entries: list[ClipEvidence] = []
        self.data: dict[str, bytes] = {}

    def add(self, clip: str, size: int, camera: str = "Front door") -> ClipEvidence:
        data = os.urandom(size)
        path = self.folder / f"{clip}.mp4"
        path.write_bytes(data)
        now = int(time.time())
        entry = ClipEvidence(
            clip=clip,
            file=f"{clip}.mp4",
            camera=camera,
            start=now - 3600,
            end=now - 3570,
            sha256=fetch.hashlib.sha256(data).hexdigest(),
            size=size,
            type="video/mp4",
            consent=ConsentRef(approved_at=now, by="Dana", record="cd" * 32),
        )
        self.entries.append(entry)
        self.data[clip] = data
        return entry


def make_offer(
    home: Running,
    agency: str,
    request_id: str,
    clips: list[ClipEvidence],
    links: list[dict[str, JSON]],
    *,
    signer: Running | None = None,
    manifest_request: str | None = None,
) -> Envelope:
    """A footage_offer as a home signs it (with a manifest by signer, default the home)."""
    manifest = sign_manifest(
        (signer or home).node.identity,
        agency=agency,
        request=manifest_request or request_id,
        case="2026-000123",
        created=int(time.time()),
        audit=(7, "ab" * 32),
        clips=clips,
    )
    body: dict[str, JSON] = {"request": request_id, "manifest": manifest.to_json(), "links": links}
    return home.node.send(agency, "footage_offer", body, lifetime=DAY, route=OFFER)


def link(clip: str, url: str, expires: int | None = None) -> dict[str, JSON]:
    return {"clip": clip, "url": url, "expires": expires or int(time.time()) + 3600}


async def setup(cli: Cli, network: Network) -> tuple[Running, str, str]:
    """An agency with a paired home and an open request: (home, agency keyid, request id)."""
    cli.init()
    home = await paired_home(cli, network)
    request_id = await issue_request(cli)
    return home, cli.node().identity.keyid, request_id


def store(cli: Cli, envelope: Envelope) -> None:
    """File an offer as the inbox does (the inbox itself is tested elsewhere)."""
    Profile(cli.profile_dir).store_offer(envelope)


async def one_clip_offered(
    cli: Cli, network: Network, shares: ShareServer, tmp_path: Path, size: int = 1000
) -> tuple[Running, str, Clips]:
    """A paired home's offer of one clip, c1, stored as the inbox does: (home, request, clips)."""
    home, agency, request_id = await setup(cli, network)
    clips = Clips(tmp_path)
    entry = clips.add("c1", size)
    store(
        cli,
        make_offer(home, agency, request_id, [entry], [link("c1", shares.share(clips.data["c1"]))]),
    )
    return home, request_id, clips


async def test_offer_received_fetched_filed_and_verified(
    cli: Cli, network: Network, shares: ShareServer, tmp_path: Path
) -> None:
    home, agency, request_id = await setup(cli, network)
    clips = Clips(tmp_path)
    door, garden = clips.add("door-1405", 250_000), clips.add("garden-1405", 80_000, "Garden")
    door_url = shares.share(clips.data["door-1405"], drop_after=70_000)
    garden_url = shares.share(clips.data["garden-1405"])
    async with Served(cli, "--once-seconds", "2"):
        make_offer(
            home,
            agency,
            request_id,
            [door, garden],
            [link(door.clip, door_url), link(garden.clip, garden_url)],
        )
        assert await home.node.deliver(network.sender) == 1

    out = tmp_path / "evidence"
    result = await cli.run("fetch", request_id[:12], "--out", str(out), "--lan")
    assert result.status == 0, result.err
    (folder_text,) = result.out.splitlines()
    folder = out / home.node.identity.fingerprint / folder_text.rsplit("/", 1)[1]
    assert str(folder) == folder_text
    assert (folder / "door-1405.mp4").read_bytes() == clips.data["door-1405"]
    assert (folder / "garden-1405.mp4").read_bytes() == clips.data["garden-1405"]
    assert json.loads((folder / "manifest.json").read_text())["request"] == request_id
    assert "Case:              2026-000123" in (folder / "README.txt").read_text()
    assert not (out / ".incoming").exists()
    assert "clip door-1405: connection lost, resuming at" in result.err
    assert "evidence intact: 2 clip(s)" in result.err
    assert "/share/" not in result.err + result.out  # capability URLs are never shown
    assert [r for _, r in shares.requests] == [None, "bytes=70000-", None]

    verified = await cli.run("verify", str(out))
    assert verified.status == 0, verified.err
    assert verified.out.splitlines() == [
        f"OK        {folder / 'door-1405.mp4'}  clip door-1405",
        f"OK        {folder / 'garden-1405.mp4'}  clip garden-1405",
    ]
    same = await cli.run("verify", str(folder), "--home", home.node.identity.fingerprint)
    assert same.status == 0
    spaced = home.node.identity.fingerprint.replace("-", " ").lower()  # as confirm takes it
    assert (await cli.run("verify", str(folder), "--home", spaced)).status == 0

    again = await cli.run("fetch", request_id, "--out", str(out), "--lan")
    assert again.status == 0
    assert "already filed" in again.err
    assert len(shares.requests) == 3  # nothing downloaded twice


async def test_used_link_is_reported_and_the_other_clips_still_fetched(
    cli: Cli, network: Network, shares: ShareServer, tmp_path: Path
) -> None:
    home, agency, request_id = await setup(cli, network)
    clips = Clips(tmp_path)
    used, fresh = clips.add("c1", 5000), clips.add("c2", 6000)
    used_url, fresh_url = shares.share(clips.data["c1"]), shares.share(clips.data["c2"])
    async with aiohttp.ClientSession() as session, session.get(used_url) as response:
        assert await response.read() == clips.data["c1"]  # someone else used it first
    store(
        cli,
        make_offer(
            home, agency, request_id, [used, fresh], [link("c1", used_url), link("c2", fresh_url)]
        ),
    )
    out = tmp_path / "evidence"
    result = await cli.run("fetch", request_id, "--out", str(out), "--lan")
    assert result.status == 1
    assert "clip c1: the link answers 404: already used, revoked or expired" in result.err
    assert result.err.endswith(
        "error: 1 of 1 offer(s) not completely fetched and verified (see above)\n"
    )
    (folder,) = (out / home.node.identity.fingerprint).iterdir()
    assert (folder / "c2.mp4").read_bytes() == clips.data["c2"]
    assert not (folder / "c1.mp4").exists()
    verified = await cli.run("verify", str(out))
    assert verified.status == 1
    assert f"MISSING   {folder / 'c1.mp4'}  clip c1" in verified.out
    assert f"OK        {folder / 'c2.mp4'}  clip c2" in verified.out
    assert "1 of 1 evidence folder(s) failed verification" in verified.err


async def test_tampered_download_fails_the_fetch(
    cli: Cli, network: Network, shares: ShareServer, tmp_path: Path
) -> None:
    home, agency, request_id = await setup(cli, network)
    clips = Clips(tmp_path)
    entry = clips.add("c1", 40_000)
    tampered = bytearray(clips.data["c1"])
    tampered[1000] ^= 0xFF
    store(
        cli,
        make_offer(home, agency, request_id, [entry], [link("c1", shares.share(bytes(tampered)))]),
    )
    out = tmp_path / "evidence"
    result = await cli.run("fetch", request_id, "--out", str(out), "--lan")
    assert result.status == 1
    assert (
        "clip c1: the downloaded file is not the one the home signed (SHA-256 mismatch)"
        in result.err
    )
    assert list(out.rglob("*.mp4")) == []
    assert list(out.rglob("*.part")) == []


async def test_tampered_folder_fails_verification(
    cli: Cli, network: Network, shares: ShareServer, tmp_path: Path
) -> None:
    home, request_id, _clips = await one_clip_offered(cli, network, shares, tmp_path, size=40_000)
    out = tmp_path / "evidence"
    assert (await cli.run("fetch", request_id, "--out", str(out), "--lan")).status == 0
    (folder,) = (out / home.node.identity.fingerprint).iterdir()
    clip = folder / "c1.mp4"
    data = bytearray(clip.read_bytes())
    data[20_000] ^= 1
    clip.write_bytes(bytes(data))
    (folder / "notes.txt").write_text("added later")
    result = await cli.run("verify", str(folder))
    assert result.status == 1
    assert result.out.splitlines() == [
        f"MISMATCH  {clip}  clip c1 (sha256 differs)",
        f"EXTRA     {folder / 'notes.txt'}  (not listed in the manifest)",
    ]
    assert "evidence NOT intact" in result.err
    manifest = folder / "manifest.json"
    manifest.write_text(manifest.read_text().replace("2026-000123", "2026-000999"))
    result = await cli.run("verify", str(out))
    assert result.status == 1
    assert (
        result.out == f"FAILED    {folder}: manifest.json: the home's signature does not verify\n"
    )


async def test_verify_fails_a_folder_hiding_files_in_a_readme_folder(
    cli: Cli, network: Network, shares: ShareServer, tmp_path: Path
) -> None:
    home, request_id, clips = await one_clip_offered(cli, network, shares, tmp_path)
    out = tmp_path / "evidence"
    assert (await cli.run("fetch", request_id, "--out", str(out), "--lan")).status == 0
    (folder,) = (out / home.node.identity.fingerprint).iterdir()
    (folder / "README.txt").unlink()
    (folder / "README.txt").mkdir()
    (folder / "README.txt" / "hidden.mp4").write_bytes(clips.data["c1"])
    result = await cli.run("verify", str(folder))
    assert result.status == 1
    assert f"EXTRA     {folder / 'README.txt'}  (not a regular file)" in result.out
    assert "evidence NOT intact: extra file README.txt" in result.err


@pytest.mark.parametrize("home", ["QIF4-4AAI-5D7Q", "not a fingerprint", "A" * 31 + "1"])
def test_verify_refuses_a_home_that_is_not_a_fingerprint(
    cli: Cli, tmp_path: Path, home: str
) -> None:
    result = cli.run_sync("verify", str(tmp_path), "--home", home)
    assert result.status == 2
    assert one_line_error(result.err) == (
        f"--home: {home!r} is not a fingerprint (8 groups of 4 letters and digits 2-7)"
    )


async def test_verify_can_require_a_home(
    cli: Cli, network: Network, shares: ShareServer, tmp_path: Path
) -> None:
    _home, request_id, _clips = await one_clip_offered(cli, network, shares, tmp_path)
    out = tmp_path / "evidence"
    assert (await cli.run("fetch", request_id, "--out", str(out), "--lan")).status == 0
    result = await cli.run("verify", str(out), "--home", cli.node().identity.fingerprint)
    assert result.status == 1
    assert "not the expected one" in result.out


@pytest.mark.parametrize("fault", ["other_home", "other_request", "forged"])
async def test_offer_whose_manifest_does_not_fit_is_not_fetched(
    cli: Cli, network: Network, shares: ShareServer, tmp_path: Path, fault: str
) -> None:
    home, agency, request_id = await setup(cli, network)
    other = await network.start("Oak Ave 3")
    clips = Clips(tmp_path)
    entry = clips.add("c1", 1000)
    links = [link("c1", shares.share(clips.data["c1"]))]
    if fault == "other_home":
        offer = make_offer(home, agency, request_id, [entry], links, signer=other)
        message = "signed by another key than the offer"
    elif fault == "other_request":
        offer = make_offer(home, agency, request_id, [entry], links, manifest_request="e" * 64)
        message = "answers another request"
    else:
        offer = make_offer(home, agency, request_id, [entry], links)
        manifest = offer.body["manifest"]
        assert isinstance(manifest, dict)
        body = offer.body | {"manifest": manifest | {"case": "2026-000999"}}
        offer = home.node.send(agency, "footage_offer", body, lifetime=DAY, route=OFFER)
        message = "the home's signature does not verify"
    store(cli, offer)
    result = await cli.run("fetch", request_id, "--out", str(tmp_path / "ev"), "--lan")
    assert result.status == 1
    assert message in result.err
    assert shares.requests == []


async def test_manifest_for_another_agency_is_not_fetched(
    cli: Cli, network: Network, shares: ShareServer, tmp_path: Path
) -> None:
    home, agency, request_id = await setup(cli, network)
    clips = Clips(tmp_path)
    entry = clips.add("c1", 1000)
    manifest = sign_manifest(
        home.node.identity,
        agency="A" * 32,
        request=request_id,
        case="",
        created=int(time.time()),
        audit=(1, "ab" * 32),
        clips=[entry],
    )
    body: dict[str, JSON] = {
        "request": request_id,
        "manifest": manifest.to_json(),
        "links": [link("c1", shares.share(clips.data["c1"]))],
    }
    store(cli, home.node.send(agency, "footage_offer", body, lifetime=DAY, route=OFFER))
    result = await cli.run("fetch", request_id, "--out", str(tmp_path / "ev"), "--lan")
    assert result.status == 1
    assert "addressed to another agency" in result.err


async def test_links_that_do_not_match_the_manifest(
    cli: Cli, network: Network, shares: ShareServer, tmp_path: Path
) -> None:
    home, agency, request_id = await setup(cli, network)
    clips = Clips(tmp_path)
    listed, unlinked = clips.add("c1", 1000), clips.add("c2", 1000)
    links = [
        link("c1", shares.share(clips.data["c1"])),
        link("c9", shares.share(b"not listed")),
    ]
    store(cli, make_offer(home, agency, request_id, [listed, unlinked], links))
    result = await cli.run("fetch", request_id, "--out", str(tmp_path / "ev"), "--lan")
    assert result.status == 1
    assert "clip c9: not in the manifest, or a second link; not fetched" in result.err
    assert "clip c2: listed in the manifest, but no link was offered" in result.err
    assert len(shares.requests) == 1


async def test_expired_link_is_not_requested(
    cli: Cli, network: Network, shares: ShareServer, tmp_path: Path
) -> None:
    home, agency, request_id = await setup(cli, network)
    clips = Clips(tmp_path)
    entry = clips.add("c1", 1000)
    expired = link("c1", shares.share(clips.data["c1"]), expires=int(time.time()) - 10)
    store(cli, make_offer(home, agency, request_id, [entry], [expired]))
    result = await cli.run("fetch", request_id, "--out", str(tmp_path / "ev"), "--lan")
    assert result.status == 1
    assert "clip c1: the link expired at" in result.err
    assert shares.requests == []


async def test_links_to_private_addresses_need_lan(
    cli: Cli, network: Network, shares: ShareServer, tmp_path: Path
) -> None:
    _home, request_id, clips = await one_clip_offered(cli, network, shares, tmp_path)
    out = tmp_path / "ev"
    result = await cli.run("fetch", request_id, "--out", str(out))
    assert result.status == 1
    assert "clip c1: the link points to a non-public address" in result.err
    assert "not filed yet: run fetch again with --lan to continue" in result.err
    assert one_line_error(result.err.splitlines(keepends=True)[-1]).endswith(
        "; links to private addresses need --lan"
    )
    assert shares.requests == []
    assert list(out.rglob("manifest.json")) == []  # the link is still good: nothing given up

    result = await cli.run("fetch", request_id, "--out", str(out), "--lan")
    assert result.status == 0, result.err
    (clip,) = out.rglob("c1.mp4")
    assert clip.read_bytes() == clips.data["c1"]


async def test_interrupted_fetch_continues_in_the_next_run(
    cli: Cli, network: Network, shares: ShareServer, tmp_path: Path
) -> None:
    home, agency, request_id = await setup(cli, network)
    clips = Clips(tmp_path)
    entry = clips.add("c1", 200_000)
    url = shares.share(clips.data["c1"], drop_after=50_000)
    store(cli, make_offer(home, agency, request_id, [entry], [link("c1", url)]))
    port = shares.port
    out = tmp_path / "ev"

    # The home goes offline right after the first bytes: every resume attempt fails.
    original = shares._get

    async def then_offline(request: aiohttp.web.Request) -> aiohttp.web.StreamResponse:
        response = await original(request)
        shares.offline = True
        return response

    shares._get = then_offline  # type: ignore[method-assign]
    await shares.stop()
    await shares.start(port)
    result = await cli.run("fetch", request_id, "--out", str(out), "--lan")
    assert result.status == 1
    assert "the connection failed 6 times" in result.err
    assert "not filed yet: run fetch again to continue" in result.err
    (part,) = out.rglob("c1.mp4.part")
    assert part.stat().st_size == 50_000

    shares._get = original  # type: ignore[method-assign]
    shares.offline = False
    await shares.stop()
    await shares.start(port)
    result = await cli.run("fetch", request_id, "--out", str(out), "--lan")
    assert result.status == 0, result.err
    assert shares.requests[-1][1] == "bytes=50000-"
    assert not (out / ".incoming").exists()


async def test_fetch_without_offers_or_with_an_unknown_request(cli: Cli, network: Network) -> None:
    _home, _agency, request_id = await setup(cli, network)
    result = await cli.run("fetch", request_id)
    assert result.status == 1
    assert "no offer has arrived" in result.err
    result = await cli.run("fetch", "f" * 12)
    assert result.status == 2
    assert "names no request" in result.err


async def test_verify_of_a_tree_reports_everything_that_is_not_intact_evidence(
    cli: Cli, network: Network, shares: ShareServer, tmp_path: Path
) -> None:
    home, request_id, clips = await one_clip_offered(cli, network, shares, tmp_path)
    out = tmp_path / ".incoming" / "case1"  # the user's own path may hold any name
    assert (await cli.run("fetch", request_id, "--out", str(out), "--lan")).status == 0
    home_dir = out / home.node.identity.fingerprint
    (folder,) = home_dir.iterdir()
    assert (await cli.run("verify", str(out))).status == 0

    copy = home_dir / "offer-0000000000000000"
    shutil.copytree(folder, copy)
    (copy / "manifest.json").unlink()  # its clips are no longer evidence anyone can check
    (home_dir / "planted.mp4").write_bytes(clips.data["c1"])
    (out / "notes.txt").write_text("x")
    (out / "elsewhere").symlink_to(folder, target_is_directory=True)
    (out / ".incoming" / ("f" * 64)).mkdir(parents=True)
    (out / ".incoming" / ("f" * 64) / "c1.mp4.part").write_bytes(b"partial")
    result = await cli.run("verify", str(out))
    assert result.status == 1
    assert result.out.splitlines() == [
        f"OK        {folder / 'c1.mp4'}  clip c1",
        (
            f"UNFILED   {out / '.incoming'}  "
            "(downloads not filed: fetch unfinished, or what it could not file)"
        ),
        f"EXTRA     {copy / 'README.txt'}  (not in an evidence folder)",
        f"EXTRA     {copy / 'c1.mp4'}  (not in an evidence folder)",
        f"EXTRA     {home_dir / 'planted.mp4'}  (not in an evidence folder)",
        f"EXTRA     {out / 'elsewhere'}  (not in an evidence folder)",
        f"EXTRA     {out / 'notes.txt'}  (not in an evidence folder)",
    ]
    assert one_line_error(result.err.splitlines(keepends=True)[-1]) == (
        "6 item(s) outside any intact evidence folder"
    )


async def test_verify_of_a_tree_without_evidence_folders_reports_what_is_there(
    cli: Cli, tmp_path: Path
) -> None:
    (tmp_path / "home" / "offer-0123456789abcdef").mkdir(parents=True)
    (tmp_path / "home" / "offer-0123456789abcdef" / "c1.mp4").write_bytes(b"clip")
    (tmp_path / ".incoming").mkdir()  # empty: nothing waits to be filed
    result = cli.run_sync("verify", str(tmp_path))
    assert result.status == 1
    assert result.out == (
        f"EXTRA     {tmp_path / 'home' / 'offer-0123456789abcdef' / 'c1.mp4'}  "
        "(not in an evidence folder)\n"
    )
    assert "1 item(s) outside any intact evidence folder" in one_line_error(result.err)


async def test_a_damaged_stored_offer_does_not_keep_the_others_from_being_fetched(
    cli: Cli, network: Network, shares: ShareServer, tmp_path: Path
) -> None:
    home, agency, request_id = await setup(cli, network)
    other = await network.start("Oak Ave 3")
    clips = Clips(tmp_path)
    first, second = clips.add("c1", 1000), clips.add("c2", 1000)
    store(
        cli,
        make_offer(home, agency, request_id, [first], [link("c1", shares.share(clips.data["c1"]))]),
    )
    store(
        cli,
        make_offer(
            other, agency, request_id, [second], [link("c2", shares.share(clips.data["c2"]))]
        ),
    )
    offers_dir = cli.profile_dir / "offers" / request_id
    damaged = offers_dir / f"{'0' * 64}.json"
    damaged.write_bytes(next(offers_dir.iterdir()).read_bytes()[:100])
    (offers_dir / "sub.json").mkdir()  # not a file: not an offer, not an error either
    (offers_dir / "notes.txt").write_text("not an offer either")

    listing = await cli.run("offers", request_id)
    assert listing.status == 1
    assert len([line for line in listing.out.splitlines() if line.startswith("  offer ")]) == 2
    assert f"skipped: {damaged} is not a message signed by its sender" in listing.err

    out = tmp_path / "ev"
    result = await cli.run("fetch", request_id, "--out", str(out), "--lan")
    assert result.status == 1
    assert f"skipped: {damaged} is not a message signed by its sender" in result.err
    assert result.err.endswith("1 of 3 offer(s) not completely fetched and verified (see above)\n")
    assert sorted(p.name for p in out.rglob("*.mp4")) == ["c1.mp4", "c2.mp4"]


async def test_fetch_into_a_file_fails_in_one_line(
    cli: Cli, network: Network, shares: ShareServer, tmp_path: Path
) -> None:
    _home, request_id, _clips = await one_clip_offered(cli, network, shares, tmp_path)
    blocker = tmp_path / "evidence.txt"
    blocker.write_text("a file, not a folder")
    result = await cli.run("fetch", request_id, "--out", str(blocker), "--lan")
    assert result.status == 1
    assert result.err.splitlines()[-1].startswith("porchlight-agency: error: ")
    assert str(blocker) in result.err.splitlines()[-1]
    assert blocker.read_text() == "a file, not a folder"


def test_verify_needs_a_folder_with_evidence(cli: Cli, tmp_path: Path) -> None:
    result = cli.run_sync("verify", str(tmp_path / "nothing"))
    assert result.status == 2
    assert "is not a folder" in result.err
    result = cli.run_sync("verify", str(tmp_path))
    assert result.status == 1
    assert "no evidence folder" in result.err


async def test_a_second_link_for_a_clip_is_ignored(
    cli: Cli, network: Network, shares: ShareServer, tmp_path: Path
) -> None:
    home, agency, request_id = await setup(cli, network)
    clips = Clips(tmp_path)
    entry = clips.add("c1", 1000)
    links = [link("c1", shares.share(clips.data["c1"])), link("c1", shares.share(b"other"))]
    store(cli, make_offer(home, agency, request_id, [entry], links))
    out = tmp_path / "ev"
    result = await cli.run("fetch", request_id, "--out", str(out), "--lan")
    assert result.status == 1
    assert "clip c1: not in the manifest, or a second link" in result.err
    (clip,) = out.rglob("c1.mp4")
    assert clip.read_bytes() == clips.data["c1"]
    assert len(shares.requests) == 1


async def test_filing_interrupted_by_a_crash_is_completed_without_downloading(
    cli: Cli, network: Network, shares: ShareServer, tmp_path: Path
) -> None:
    home, request_id, clips = await one_clip_offered(cli, network, shares, tmp_path, size=3000)
    out = tmp_path / "ev"
    assert (await cli.run("fetch", request_id, "--out", str(out), "--lan")).status == 0
    (folder,) = (out / home.node.identity.fingerprint).iterdir()
    (folder / "manifest.json").unlink()  # the crash came before manifest.json was written
    result = await cli.run("fetch", request_id, "--out", str(out), "--lan")
    assert result.status == 0, result.err
    assert (folder / "c1.mp4").read_bytes() == clips.data["c1"]
    assert (folder / "manifest.json").exists()
    assert len(shares.requests) == 1  # the used link was not asked again
    assert not (out / ".incoming").exists()


async def test_refetch_reports_a_filed_folder_that_no_longer_verifies(
    cli: Cli, network: Network, shares: ShareServer, tmp_path: Path
) -> None:
    _home, request_id, _clips = await one_clip_offered(cli, network, shares, tmp_path, size=3000)
    out = tmp_path / "ev"
    assert (await cli.run("fetch", request_id, "--out", str(out), "--lan")).status == 0
    (manifest,) = out.rglob("manifest.json")
    manifest.write_text("{}")
    result = await cli.run("fetch", request_id, "--out", str(out), "--lan")
    assert result.status == 1
    assert "already filed in" in result.err
    assert "but it does not verify" in result.err


async def test_a_complete_download_is_filed_even_when_its_link_can_no_longer_be_used(
    cli: Cli, network: Network, shares: ShareServer, tmp_path: Path
) -> None:
    # The first run downloaded every byte but stopped before filing; the link is used up, and
    # the re-run lacks --lan: the clip on disk is the evidence and must be filed, not lost.
    home, request_id, clips = await one_clip_offered(cli, network, shares, tmp_path, size=3000)
    out = tmp_path / "ev"
    assert (await cli.run("fetch", request_id, "--out", str(out), "--lan")).status == 0
    (folder,) = (out / home.node.identity.fingerprint).iterdir()
    (folder / "manifest.json").unlink()  # the crash came before manifest.json was written
    result = await cli.run("fetch", request_id, "--out", str(out))
    assert result.status == 0, result.err
    assert "clip c1: downloaded already, SHA-256 matches the manifest" in result.err
    assert (folder / "c1.mp4").read_bytes() == clips.data["c1"]
    assert len(shares.requests) == 1


async def test_an_unfinished_download_whose_link_stopped_working_is_kept(
    cli: Cli, network: Network, shares: ShareServer, tmp_path: Path
) -> None:
    home, agency, request_id = await setup(cli, network)
    clips = Clips(tmp_path)
    entry = clips.add("c1", 200_000)
    url = shares.share(clips.data["c1"], drop_after=50_000)
    store(cli, make_offer(home, agency, request_id, [entry], [link("c1", url)]))
    out = tmp_path / "ev"
    original = shares._get

    async def then_offline(request: aiohttp.web.Request) -> aiohttp.web.StreamResponse:
        response = await original(request)
        shares.offline = True
        return response

    shares._get = then_offline  # type: ignore[method-assign]
    port = shares.port
    await shares.stop()
    await shares.start(port)
    assert (await cli.run("fetch", request_id, "--out", str(out), "--lan")).status == 1
    shares._get = original  # type: ignore[method-assign]
    shares.offline = False
    shares.shares.clear()  # the homeowner revoked the link meanwhile
    await shares.stop()
    await shares.start(port)
    result = await cli.run("fetch", request_id, "--out", str(out), "--lan")
    assert result.status == 1
    assert "evidence NOT intact: c1.mp4 missing" in result.err
    (part,) = out.rglob("c1.mp4.part")
    assert part.read_bytes() == clips.data["c1"][:50_000]
    assert f"incomplete downloads kept in {part.parent}" in result.err
