"""The whole story, with real pieces: cameras on a loopback RTSP server recorded by Home
Assistant's real ffmpeg, the porchlight-agency CLI (in-process, its own event loop) asking
for footage over real HTTP, the owner approving one clip of three, the agency fetching and
verifying the evidence offline.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from typing import TYPE_CHECKING, Any

import pytest

from custom_components.porchlight.const import (
    CONF_POST_ROLL,
    CONF_PRE_ROLL,
    DOMAIN,
    RECORDING_DEFAULTS,
    SERVICE_CAPTURE_CLIP,
)
from custom_components.porchlight.federation.evidence import read_manifest
from porchlight_dev.rtsp import free_port

from .agency.cli_helpers import Cli, iso, wait_listening
from .home import FRONT_DOOR, HOME

if TYPE_CHECKING:
    from pathlib import Path

    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.common import MockConfigEntry

    from custom_components.porchlight.recordings.models import Clip
    from porchlight_dev.rtsp import RtspServer


@pytest.fixture(autouse=True)
def _sockets(socket_enabled: None) -> None:
    """Real loopback RTSP and HTTP."""


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    """A fresh agency profile and a free port for its inbox."""
    return Cli(tmp_path / "agency", free_port())


@pytest.fixture
def camera_sources(rtsp: RtspServer) -> dict[str, str]:
    """Both cameras stream from the loopback RTSP server."""
    return {"Front door": rtsp.url(1), "Garden": rtsp.url(2)}


@pytest.fixture
def recording_options() -> dict[str, Any]:
    """Short clips: 2 s before, 2 s after."""
    return {**RECORDING_DEFAULTS, CONF_PRE_ROLL: 2, CONF_POST_ROLL: 2}


async def wait_for(hass: HomeAssistant, condition: Any, timeout: float = 45.0) -> None:
    """Let hass run until condition() holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            msg = "condition not met in time"
            raise AssertionError(msg)
        await asyncio.sleep(0.1)
    await hass.async_block_till_done()


async def record_clips(hass: HomeAssistant, entry: MockConfigEntry, count: int) -> list[Clip]:
    """Press capture `count` times, one clip after the other, from the live RTSP stream."""
    index = entry.runtime_data.recorder.index
    recorder = entry.runtime_data.recorder
    await wait_for(hass, lambda: recorder.recorders[FRONT_DOOR].status.connected)
    for n in range(1, count + 1):
        await hass.services.async_call(
            DOMAIN, SERVICE_CAPTURE_CLIP, {"entity_id": FRONT_DOOR}, blocking=True
        )
        await wait_for(hass, lambda n=n: len(index.clips()) == n)
    return index.clips()


async def test_agency_cli_gets_exactly_the_one_clip_the_owner_approved(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    endpoint: str,
    cli: Cli,
    tmp_path: Path,
) -> None:
    clips = await record_clips(hass, init_integration, 3)

    # The agency sets up and pairs with this home, which trusts it after comparing codes.
    assert cli.init().status == 0
    invite = await hass.services.async_call(
        DOMAIN,
        "create_invite",
        {"endpoint": endpoint, "lan": True},
        blocking=True,
        return_response=True,
    )
    paired = await cli.run("pair", str(invite["invite"]), "--lan")
    assert paired.status == 0, paired.err
    code = paired.out.strip()
    home_fp = init_integration.runtime_data.identity.fingerprint
    assert (await cli.run("confirm", home_fp, code)).status == 0
    agency_fp = cli.node().identity.fingerprint
    await hass.services.async_call(
        DOMAIN, "confirm_pairing", {"fingerprint": agency_fp, "code": code}, blocking=True
    )
    await hass.services.async_call(
        DOMAIN, "trust_agency", {"fingerprint": agency_fp}, blocking=True
    )

    # The request: 200 m around the home, the last ten minutes.
    now = time.time()
    requested = await cli.run(
        "request",
        "--center",
        f"{HOME['latitude']:.5f},{HOME['longitude']:.5f}",
        "--radius",
        "200",
        "--from",
        iso(now - 600),
        "--to",
        iso(now - 1),
        "--case",
        "2026-000417",
        "--reason",
        "Package theft on Maple Street",
    )
    assert requested.status == 0, requested.err
    request_id = requested.out.strip()
    await hass.async_block_till_done()
    listed = await hass.services.async_call(
        DOMAIN, "list_requests", {}, blocking=True, return_response=True
    )
    (request,) = listed["requests"]  # type: ignore[index]
    assert request["request_id"] == request_id
    assert request["state"] == "pending"
    assert sorted(c["clip"] for c in request["clips"]) == sorted(c.id for c in clips)

    # The agency's inbox runs; the owner approves the middle clip only.
    inbox = asyncio.create_task(cli.run("inbox", "--port", str(cli.port), "--once-seconds", "8"))
    await wait_listening(cli.port)
    chosen = clips[1]
    await hass.services.async_call(
        DOMAIN,
        "approve_clips",
        {"request_id": request_id, "clip_ids": [chosen.id]},
        blocking=True,
    )
    received = await inbox
    assert received.status == 0, received.err
    assert (await cli.run("offers", request_id)).status == 0

    # Fetch: one clip, verified against the manifest the home signed.
    out = tmp_path / "evidence"
    fetched = await cli.run("fetch", request_id, "--out", str(out), "--lan")
    assert fetched.status == 0, fetched.err
    (manifest_path,) = out.rglob("manifest.json")
    folder = manifest_path.parent
    manifest = read_manifest(folder)
    assert [c.clip for c in manifest.clips] == [chosen.id]
    assert manifest.home == init_integration.runtime_data.identity.keyid
    assert manifest.case == "2026-000417"
    data = (folder / f"{chosen.id}.mp4").read_bytes()
    assert hashlib.sha256(data).hexdigest() == chosen.sha256
    assert not any((folder / f"{c.id}.mp4").exists() for c in clips if c is not chosen)
    assert (await cli.run("verify", str(out))).status == 0

    # A tampered clip fails the offline check.
    clip_file = folder / f"{chosen.id}.mp4"
    tampered = bytearray(data)
    tampered[len(tampered) // 2] ^= 0xFF
    clip_file.write_bytes(bytes(tampered))
    failed = await cli.run("verify", str(out))
    assert failed.status == 1
    assert chosen.id in failed.out
