"""Clips in a neighbor alert, across three real Home Assistant homes on loopback.

    Maple (poster, 2 clips) - Birch (paired with Maple) - Cedar (paired with Birch only)

Maple is phcc's `hass`, its federation reached through Home Assistant's test server (which
also serves its capability links); Birch and Cedar are further Home Assistant instances in
the same event loop, each on a federation port of its own. Real HTTP between all three.

What must hold: every clip Maple shares has a consent record for that clip and that
neighbor; Birch, paired directly, gets one single-use expiring link per clip; Cedar, two hops
away, gets the alert's text and nothing else; a link revoked before its download serves
nothing; every byte Maple sent is in its audit log, and Maple's location is in none of it.
"""

from __future__ import annotations

import hashlib
import shutil
import time
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import aiohttp
import pytest
from homeassistant import loader
from homeassistant.exceptions import ServiceValidationError
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_test_home_assistant,
)

from custom_components.porchlight.alerts import EVENT_ALERT
from custom_components.porchlight.const import (
    CONF_CAMERAS,
    CONF_FEDERATION_PORT,
    CONF_HOME_NAME,
    CONF_LOCATION,
    DOMAIN,
    RECORDING_DEFAULTS,
)
from custom_components.porchlight.federation.api import API_PREFIX
from custom_components.porchlight.federation.evidence import alert_share_group
from custom_components.porchlight.recordings.models import Clip, Trigger
from porchlight_dev.rtsp import free_port

from .footage_helpers import index_root
from .home import FRONT_DOOR, HOME

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator
    from pathlib import Path

    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

    from custom_components.porchlight.federation.node import Node

EVENT_ALERT_CLIPS = "porchlight_alert_clips"
# Maple's exact location, in the notations a leak would take.
MAPLE = (HOME["latitude"] + 0.05, HOME["longitude"])
LOCATION_FORMS = (
    str(round(MAPLE[0] * 1e6)),
    str(round(MAPLE[1] * 1e6)),
    f"{MAPLE[0]:.6f}",
    f"{MAPLE[1]:.6f}",
    f"{MAPLE[0]:.4f}",
    f"{MAPLE[1]:.4f}",
)


class Home:
    """One Home Assistant home; `endpoint` is where its neighbors reach it."""

    def __init__(self, hass: HomeAssistant, entry: MockConfigEntry, endpoint: str) -> None:
        self.hass = hass
        self.entry = entry
        self.endpoint = endpoint

    @property
    def node(self) -> Node:
        return self.entry.runtime_data.federation.node  # type: ignore[no-any-return]

    async def call(self, service: str, *, response: bool = False, **data: Any) -> Any:
        return await self.hass.services.async_call(
            DOMAIN, service, data, blocking=True, return_response=response
        )

    async def settle(self) -> None:
        await self.hass.async_block_till_done(wait_background_tasks=True)


async def _set_up(hass: HomeAssistant, name: str, lat: float, lon: float) -> tuple[Any, int]:
    """Porchlight in hass, its federation listener on a free port of 127.0.0.1."""
    if "http" not in hass.config.components:
        assert await async_setup_component(hass, "http", {})
    hass.http.server_host = ["127.0.0.1"]
    port = free_port()
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=name,
        data={CONF_HOME_NAME: name, CONF_LOCATION: {"latitude": lat, "longitude": lon}},
        options={CONF_CAMERAS: [], **RECORDING_DEFAULTS, CONF_FEDERATION_PORT: port},
        version=1,
        minor_version=1,
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry, port


@asynccontextmanager
async def _another_home_assistant(folder: Path) -> AsyncGenerator[HomeAssistant]:
    """A further Home Assistant in this event loop, stopped on exit."""
    folder.mkdir()
    async with async_test_home_assistant(config_dir=str(folder)) as other:
        other.data.pop(loader.DATA_CUSTOM_COMPONENTS, None)
        try:
            yield other
        finally:
            await other.async_stop(force=True)


async def _pair(inviter: Home, guest: Home) -> None:
    """Two owners pair their homes and compare the code on both sides."""
    invite = await inviter.call("create_invite", response=True, endpoint=inviter.endpoint, lan=True)
    await guest.call("accept_invite", invite=invite["invite"], endpoint=guest.endpoint, lan=True)
    peer = guest.node.peers.get(inviter.node.identity.keyid)
    assert peer is not None
    code = peer.pairing_code
    await guest.call("confirm_pairing", fingerprint=inviter.node.identity.fingerprint, code=code)
    await inviter.call("confirm_pairing", fingerprint=guest.node.identity.fingerprint, code=code)


async def _clip(home: Home, video: Path, n: int) -> Clip:
    """A real recorded clip in the home's clip index."""
    root = index_root(home.entry)
    clip_id = f"{n:02d}" + "a" * 14
    path = root / f"{clip_id}.mp4"
    await home.hass.async_add_executor_job(shutil.copyfile, video, path)
    data = await home.hass.async_add_executor_job(path.read_bytes)
    now = time.time()
    clip = Clip(
        id=clip_id,
        camera=FRONT_DOOR,
        trigger=Trigger.MOTION,
        start=now - 600 + n * 30,
        end=now - 580 + n * 30,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        path=path,
        thumbnail=None,
        created=now - 570 + n * 30,
    )
    await home.hass.async_add_executor_job(home.entry.runtime_data.recorder.index.add_clip, clip)
    return clip


async def _get(session: aiohttp.ClientSession, url: str) -> tuple[int, bytes]:
    async with session.get(url, allow_redirects=False) as response:
        return response.status, await response.read()


async def _entries(home: Home) -> list[Any]:
    audit = home.entry.runtime_data.desk.audit
    return await home.hass.async_add_executor_job(lambda: list(audit.entries()))


@pytest.mark.usefixtures("socket_enabled")
@pytest.mark.allow_porchlight_warnings(
    r"Footage action refused: (unknown_alert_clip|no_alert_clips)"
)
async def test_alert_clips_reach_the_paired_neighbor_only_each_link_once_with_consent(  # noqa: PLR0915  # one scenario across three homes
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    camera_video: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    freezer: Any,
) -> None:
    maple_entry, _ = await _set_up(hass, "Maple", *MAPLE)
    # Neighbors reach Maple through HA's test server: it serves the inbox and the links.
    client = await hass_client_no_auth()
    maple = Home(hass, maple_entry, str(client.make_url(API_PREFIX)))
    sent: list[bytes] = []
    original = aiohttp.ClientSession._request

    async def capture(self: aiohttp.ClientSession, method: str, url: Any, **kwargs: Any) -> Any:
        if self is maple_entry.runtime_data.federation.sender.session:
            sent.append(bytes(kwargs.get("data") or b""))
        return await original(self, method, url, **kwargs)

    monkeypatch.setattr(aiohttp.ClientSession, "_request", capture)
    async with (
        _another_home_assistant(tmp_path / "birch") as birch_hass,
        _another_home_assistant(tmp_path / "cedar") as cedar_hass,
        aiohttp.ClientSession() as downloader,
    ):
        homes: list[Home] = []
        for other, name, lat in ((birch_hass, "Birch", -0.05), (cedar_hass, "Cedar", 0.0)):
            entry, port = await _set_up(other, name, HOME["latitude"] + lat, HOME["longitude"])
            homes.append(Home(other, entry, f"http://127.0.0.1:{port}{API_PREFIX}"))
        birch, cedar = homes
        await _pair(maple, birch)
        await _pair(birch, cedar)
        clips = [await _clip(maple, camera_video, n) for n in range(3)]
        heard = {
            name: (
                async_capture_events(h.hass, EVENT_ALERT),
                async_capture_events(h.hass, EVENT_ALERT_CLIPS),
            )
            for name, h in (("birch", birch), ("cedar", cedar))
        }

        # An unknown clip: refused, translated, and nothing leaves Maple.
        before = len(sent)
        with pytest.raises(ServiceValidationError) as refused:
            await maple.call(
                "post_alert",
                response=True,
                text="Van checking car doors",
                category="theft",
                clips=[clips[0].id, "ffffffffffffffff"],
            )
        assert refused.value.translation_key == "unknown_alert_clip"
        assert refused.value.translation_placeholders == {"clip": "ffffffffffffffff"}
        assert "ffffffffffffffff" in str(refused.value)  # the translated text, not the key
        await maple.settle()
        assert sent[before:] == []
        assert [e.kind for e in await _entries(maple) if e.kind == "alert_clip_shared"] == []

        result = await maple.call(
            "post_alert",
            response=True,
            text="Van checking car doors",
            category="theft",
            max_hops=2,
            clips=[clips[0].id, clips[1].id],
        )
        for home in (maple, birch, cedar, birch, cedar):
            await home.settle()
        alert_id = result["event_id"]
        group = alert_share_group(alert_id, birch.node.identity.keyid)
        assert result["clip_shares"] == [
            {"neighbor": birch.node.identity.fingerprint, "request_id": group, "clips": 2}
        ]

        # Birch: the alert with two clips, and an admin-only way to their links.
        alerts, clip_events = heard["birch"]
        assert [(e.data["event_id"], e.data["text"]) for e in alerts] == [
            (alert_id, "Van checking car doors")
        ]
        # Maple's outbox sends the alert first, then Birch's alert_clips: the count follows.
        assert alerts[0].data["clips"] == 0
        assert [e.data for e in clip_events] == [{"event_id": alert_id, "clips": 2}]
        links = (await birch.call("alert_clips", response=True, event_id=alert_id))["clips"]
        assert [link["clip"] for link in links] == [clips[0].id, clips[1].id]
        assert len({link["url"] for link in links}) == 2
        assert all(link["expires"] > time.time() for link in links)
        # Cedar, two hops from Maple: the text only, no links anywhere.
        alerts, clip_events = heard["cedar"]
        assert [(e.data["event_id"], e.data["clips"]) for e in alerts] == [(alert_id, 0)]
        assert clip_events == []
        assert not [e for e in cedar.node.received if e.type == "alert_clips"]
        (relayed,) = [e for e in cedar.node.received if e.event_id == alert_id]
        assert "url" not in relayed.encode().decode()
        with pytest.raises(ServiceValidationError) as none:
            await cedar.call("alert_clips", response=True, event_id=alert_id)
        assert none.value.translation_key == "no_alert_clips"

        # One consent record per clip for Birch, in Maple's store and audit log.
        desk = maple_entry.runtime_data.desk
        grant = await hass.async_add_executor_job(desk.store.grant, group)
        assert grant is not None
        assert (grant.alert, grant.neighbor) == (alert_id, birch.node.identity.keyid)
        assert [(c.clip, c.sha256) for c in grant.consents] == [
            (clips[0].id, clips[0].sha256),
            (clips[1].id, clips[1].sha256),
        ]
        logged = [e for e in await _entries(maple) if e.kind == "alert_clip_shared"]
        assert [(e.subject, e.data["clip"], e.data["record"]) for e in logged] == [
            (group, c.clip, c.record_hash) for c in grant.consents
        ]

        # The first link serves its clip once.
        status, data = await _get(downloader, links[0]["url"])
        assert (status, hashlib.sha256(data).hexdigest()) == (200, clips[0].sha256)
        assert (await _get(downloader, links[0]["url"]))[0] == 404
        # The second, revoked by Maple before anyone fetched it, serves nothing.
        revoked = await maple.call(
            "revoke_share", response=True, request_id=group, clip_ids=[clips[1].id]
        )
        assert revoked == {"revoked": 1, "already_downloaded": []}
        assert (await _get(downloader, links[1]["url"]))[0] == 404

        # A later alert with all three clips: a new consent record each, links of their own.
        later = await maple.call(
            "post_alert",
            response=True,
            text="Still there",
            category="suspicious",
            clips=[c.id for c in clips],
        )
        for home in (maple, birch):
            await home.settle()
        fresh = (await birch.call("alert_clips", response=True, event_id=later["event_id"]))[
            "clips"
        ]
        assert {link["url"] for link in fresh}.isdisjoint(link["url"] for link in links)
        status, data = await _get(downloader, fresh[0]["url"])
        assert (status, hashlib.sha256(data).hexdigest()) == (200, clips[0].sha256)
        # No consent record, no bytes: the link alone opens nothing.
        later_group = alert_share_group(later["event_id"], birch.node.identity.keyid)
        later_grant = await hass.async_add_executor_job(desk.store.grant, later_group)
        without = replace(later_grant, consents=later_grant.consents[::2])
        await hass.async_add_executor_job(desk.store.put_grant, without)
        assert (await _get(downloader, fresh[1]["url"]))[0] == 404
        # Nobody fetched the third in time: expired, it serves nothing.
        freezer.tick(73 * 3600)
        assert (await _get(downloader, fresh[2]["url"]))[0] == 404

        # Every byte Maple sent is in its audit log; its location is in none of them.
        entries = await _entries(maple)
        hashes = {e.payload_sha256 for e in entries if e.payload_sha256}
        assert len(sent) >= 3  # at least the alert and two alert_clips messages
        for body in sent:
            assert hashlib.sha256(body).hexdigest() in hashes
            assert not [form for form in LOCATION_FORMS if form in body.decode()]
        downloads = [e for e in entries if e.kind == "download"]
        assert [(d.subject, d.data["clip"], d.size) for d in downloads] == [
            (group, clips[0].id, clips[0].size),
            (later_group, clips[0].id, clips[0].size),
        ]
        # The sensor shows how many clips came, never a link: no link ever reached a state
        # non-admin users can read (entities, attributes).
        recent = birch.hass.states.get("sensor.birch_recent_neighbor_alerts")
        assert recent is not None
        assert [(a["event_id"], a["clips"]) for a in recent.attributes["alerts"]] == [
            (later["event_id"], 3),
            (alert_id, 2),
        ]
        for home in (birch, cedar):
            for state in home.hass.states.async_all():
                assert "/share/" not in str(state.as_dict())

        assert await birch_hass.config_entries.async_unload(birch.entry.entry_id)
        assert await cedar_hass.config_entries.async_unload(cedar.entry.entry_id)
