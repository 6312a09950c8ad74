"""Clips in neighbors' alerts: one consent record and one single-use link per clip and neighbor.

The poster is phcc's Home Assistant (three real clips, its federation on the test server); Birch
is a second Home Assistant paired with it, on a port of its own; Oak is a protocol node paired
with the poster too; Cedar is a protocol node paired with Birch only (two hops from the poster):

    Oak (node) - Poster (HA) - Birch (HA) - Cedar (node)

Real HTTP on loopback everywhere; the links are downloaded like any holder would.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

import pytest
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from pytest_homeassistant_custom_component.common import async_capture_events
from yarl import URL

from custom_components.porchlight.alerts import EVENT_ALERT, EVENT_ALERT_CLIPS, RECENT
from custom_components.porchlight.consent.audit import AuditError
from custom_components.porchlight.consent.offers import clip_evidence
from custom_components.porchlight.consent.records import ConsentRecord, ShareState
from custom_components.porchlight.consent.store import ConsentStoreError
from custom_components.porchlight.const import DOMAIN
from custom_components.porchlight.federation.canonical import canon
from custom_components.porchlight.federation.evidence import alert_share_group, sign_manifest

from .footage_helpers import (
    HOME_LAT,
    HOME_LON,
    call,
    desk,
    fetch,
    neighbor_of_home,
    pair_agency,
    redeem_invite,
)
from .test_neighborhood_homes import Home, _another_home_assistant, _pair_homes, _pair_node, _set_up

if TYPE_CHECKING:
    from pathlib import Path

    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.common import MockConfigEntry

    from custom_components.porchlight.federation.canonical import JSON
    from custom_components.porchlight.federation.messages import Envelope
    from custom_components.porchlight.recordings.models import Clip

    from .federation.loopback import Network, Running


async def _post(hass: HomeAssistant, **data: Any) -> dict[str, Any]:
    response = await hass.services.async_call(
        DOMAIN, "post_alert", data, blocking=True, return_response=True
    )
    assert response is not None
    return dict(response)


async def _entries(hass: HomeAssistant, entry: MockConfigEntry) -> list[Any]:
    audit = desk(entry).audit
    return await hass.async_add_executor_job(lambda: list(audit.entries()))


def _of(node: Running, kind: str) -> list[Envelope]:
    return [m for m in node.node.received if m.type == kind]


@pytest.mark.usefixtures("socket_enabled")
async def test_alert_clips_reach_direct_neighbors_only_through_single_use_consented_links(  # noqa: PLR0915  # one story across four homes
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    recorded: list[Clip],
    endpoint: str,
    network: Network,
    tmp_path: Path,
    freezer: Any,
) -> None:
    poster = Home(hass, init_integration, URL(endpoint).port or 0)
    oak = await neighbor_of_home(hass, endpoint, network)
    async with _another_home_assistant(tmp_path / "birch") as birch_hass:
        birch = await _set_up(birch_hass, "Birch", 40.0, -105.0)
        await _pair_homes(poster, birch)
        cedar = await network.start("Cedar")
        await _pair_node(birch, cedar, network)
        shown = async_capture_events(birch_hass, EVENT_ALERT)
        attached = async_capture_events(birch_hass, EVENT_ALERT_CLIPS)
        before = len(await _entries(hass, init_integration))

        clips = [recorded[0].id, recorded[1].id]
        answer = await _post(
            hass, text="Someone tried car doors", category="suspicious", clips=clips, max_hops=1
        )
        for _ in range(3):
            await birch.settle()
        alert_id = answer["event_id"]
        groups = {s["neighbor"]: s["request_id"] for s in answer["clip_shares"]}
        birch_key, oak_key = birch.node.identity.keyid, oak.node.identity.keyid
        assert groups == {
            birch.node.identity.fingerprint: alert_share_group(alert_id, birch_key),
            oak.node.identity.fingerprint: alert_share_group(alert_id, oak_key),
        }

        # A consent record per clip and neighbor, each share backed by its own record.
        store = desk(init_integration).store
        for key in (birch_key, oak_key):
            grant = await hass.async_add_executor_job(store.grant, alert_share_group(alert_id, key))
            assert grant is not None
            assert grant.neighbor == key
            assert [c.clip for c in grant.consents] == clips
            shares = await hass.async_add_executor_job(store.shares, grant.id)
            assert sorted((s.clip, s.consent) for s in shares) == sorted(
                (c.clip, c.record_hash) for c in grant.consents
            )
            assert all(s.max_downloads == 1 for s in shares)

        # The relayed alert carries no link; two hops away, Cedar sees the text only.
        (relayed,) = _of(cedar, "alert")
        assert relayed.event_id == alert_id
        assert relayed.hops == 1
        assert relayed.body["text"] == "Someone tried car doors"
        assert b"/share/" not in relayed.encode()
        assert _of(cedar, "alert_clips") == []

        # Oak's links, for Oak alone.
        (oak_alert,) = _of(oak, "alert")
        assert b"/share/" not in oak_alert.encode()
        (oak_clips,) = _of(oak, "alert_clips")
        assert oak_clips.body["alert"] == alert_id
        oak_links = {str(x["clip"]): str(x["url"]) for x in oak_clips.body["links"]}  # type: ignore[index,union-attr]
        assert set(oak_links) == set(clips)

        # Birch's owner sees how many clips came (never the links) and, as admin, the links.
        # The alert comes first (shown with 0 clips), its clips right after it.
        assert [(e.data["event_id"], e.data["clips"]) for e in shown] == [(alert_id, 0)]
        assert [e.data for e in attached] == [{"event_id": alert_id, "clips": 2}]
        state = birch_hass.states.get("sensor.birch_recent_neighbor_alerts")
        assert state is not None
        assert state.attributes["alerts"][0]["clips"] == 2
        assert "/share/" not in str(state.attributes)
        event_state = birch_hass.states.get("event.birch_neighbor_alert")
        assert event_state is not None
        assert "/share/" not in str(event_state.attributes)
        listed: Any = await birch_hass.services.async_call(
            DOMAIN, "alert_clips", {"event_id": alert_id}, blocking=True, return_response=True
        )
        assert listed is not None
        birch_links = {c["clip"]: c for c in listed["clips"]}
        assert set(birch_links) == set(clips)
        assert set(oak_links.values()).isdisjoint(c["url"] for c in birch_links.values())

        # Single use: the first download is the clip, the second fails.
        first = birch_links[clips[0]]
        status, data = await fetch(network, first["url"])
        assert status == 200
        assert hashlib.sha256(data).hexdigest() == first["sha256"] == recorded[0].sha256
        assert await fetch(network, first["url"]) == (404, b'{"error":"not_found"}')

        # Revoked before download: fails. Revoking the downloaded one is refused.
        revoked = await call(
            hass, "revoke_share", request_id=groups[birch.node.identity.fingerprint]
        )
        assert revoked["revoked"] == 1
        assert await fetch(network, birch_links[clips[1]]["url"]) == (
            404,
            b'{"error":"not_found"}',
        )

        # The poster's audit log holds every byte it sent: each message as its neighbors
        # received it, and each download.
        entries = (await _entries(hass, init_integration))[before:]
        logged = {e.payload_sha256 for e in entries if e.kind == "message_sent"}
        received = [
            *oak.node.received,
            *(m for m in birch.node.received if m.sender == hass_key(init_integration)),
        ]
        assert {m.type for m in received} == {"alert", "alert_clips"}
        for message in received:
            assert hashlib.sha256(message.encode()).hexdigest() in logged
        downloads = [e for e in entries if e.kind == "download"]
        assert [(e.data["clip"], e.size) for e in downloads] == [(clips[0], recorded[0].size)]
        assert sum(1 for e in entries if e.kind == "alert_clip_shared") == 4
        # Exact location in no outbound message.
        for message in (*received, relayed):
            wire = canon(message.to_json())
            assert str(HOME_LAT).encode() not in wire
            assert str(HOME_LON).encode() not in wire

        # Expired: Oak waited too long (links live 72 hours).
        freezer.tick(73 * 3600)
        assert await fetch(network, oak_links[clips[0]]) == (404, b'{"error":"not_found"}')
        assert await birch_hass.config_entries.async_unload(birch.entry.entry_id)


def hass_key(entry: MockConfigEntry) -> str:
    """The poster's key id."""
    return str(entry.runtime_data.federation.node.identity.keyid)


@pytest.mark.usefixtures("socket_enabled")
@pytest.mark.allow_porchlight_warnings("refused: unknown_alert_clip")
async def test_post_alert_with_an_unknown_clip_is_refused_and_sends_nothing(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    recorded: list[Clip],
    endpoint: str,
    network: Network,
) -> None:
    oak = await neighbor_of_home(hass, endpoint, network)
    before = len(await _entries(hass, init_integration))
    with pytest.raises(ServiceValidationError) as refused:
        await _post(hass, text="Loose dog", clips=[recorded[0].id, "nosuchclip"])
    assert refused.value.translation_key == "unknown_alert_clip"
    assert refused.value.translation_placeholders == {"clip": "nosuchclip"}
    assert "nosuchclip" in str(refused.value)
    await hass.async_block_till_done()
    assert list(oak.node.received) == []
    entries = (await _entries(hass, init_integration))[before:]
    assert [e.kind for e in entries if e.kind != "checkpoint"] == []
    shares = await hass.async_add_executor_job(desk(init_integration).store.shares, None)
    assert shares == []


async def test_alert_clips_of_an_unknown_alert_are_a_translated_error(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    with pytest.raises(ServiceValidationError) as refused:
        await hass.services.async_call(
            DOMAIN, "alert_clips", {"event_id": "0" * 64}, blocking=True, return_response=True
        )
    assert refused.value.translation_key == "no_alert_clips"


async def test_alert_without_clips_shares_nothing(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    endpoint: str,
    network: Network,
) -> None:
    oak = await neighbor_of_home(hass, endpoint, network)
    answer = await _post(hass, text="Loose dog")
    assert answer["clip_shares"] == []
    assert [m.type for m in oak.node.received] == ["alert"]


@pytest.mark.usefixtures("socket_enabled")
@pytest.mark.allow_porchlight_warnings("Alert clips not recorded")
async def test_alert_clips_a_log_or_store_refuses_send_no_link(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    recorded: list[Clip],
    endpoint: str,
    network: Network,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    oak = await neighbor_of_home(hass, endpoint, network)
    the_desk = desk(init_integration)

    def log_refuses() -> tuple[int, str]:
        msg = "the log's chain key is not this home's"
        raise AuditError(msg)

    with monkeypatch.context() as patch:
        patch.setattr(the_desk.audit, "checkpoint_head", log_refuses)
        with pytest.raises(HomeAssistantError) as failed:
            await _post(hass, text="Loose dog", clips=[recorded[0].id])
    assert failed.value.translation_key == "alert_clips_failed"
    assert await hass.async_add_executor_job(the_desk.store.shares, None) == []

    def store_refuses(_grant: object) -> None:
        raise ConsentStoreError("disk full")

    real_put = the_desk.store.put_grant
    calls: list[object] = []

    def second_refuses(grant: object) -> None:
        calls.append(grant)
        if len(calls) > 1:
            store_refuses(grant)
        real_put(grant)  # type: ignore[arg-type]

    # Two neighbors: the first one's shares are stored, the second one's grant is refused.
    birch = await network.start("Birch")
    await redeem_invite(hass, endpoint, network, birch)
    with monkeypatch.context() as patch:
        patch.setattr(the_desk.store, "put_grant", second_refuses)
        with pytest.raises(HomeAssistantError) as failed:
            await _post(hass, text="Loose dog", clips=[recorded[0].id])
    assert failed.value.translation_key == "alert_clips_failed"
    shares = await hass.async_add_executor_job(the_desk.store.shares, None)
    assert [s.state for s in shares] == [ShareState.REVOKED]
    await hass.async_block_till_done()
    # The alerts went out (they were sent first), no link did.
    assert [m.type for m in oak.node.received] == ["alert", "alert"]
    assert [m.type for m in birch.node.received] == ["alert"]


@pytest.mark.usefixtures("socket_enabled")
@pytest.mark.allow_porchlight_warnings("alert clips|evidence manifest|given up")
async def test_alert_clips_are_refused_from_an_agency_or_with_a_manifest_for_another(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    endpoint: str,
    network: Network,
) -> None:
    home_key = hass_key(init_integration)
    oak = await neighbor_of_home(hass, endpoint, network)
    agency = await pair_agency(hass, init_integration, endpoint, network)
    alert = "a" * 64
    for sender, group in (
        (agency, alert_share_group(alert, home_key)),
        (oak, alert_share_group(alert, oak.node.identity.keyid)),  # made for someone else
    ):
        body = _clips_body(sender, home_key, alert, group)
        sender.node.send(home_key, "alert_clips", body, lifetime=3600)
        assert await sender.node.deliver(network.sender) == 0
    await hass.async_block_till_done()
    assert init_integration.runtime_data.federation.alerts.links == {}


def _clips_body(sender: Running, home_key: str, alert: str, group: str) -> dict[str, JSON]:
    consent = ConsentRecord(group, "0" * 16, "Front door", 1, 2, "f" * 64, 10, 1, "owner")
    manifest = sign_manifest(
        sender.node.identity,
        agency=home_key,
        request=group,
        case="",
        created=sender.node.clock.now(),
        audit=(1, "0" * 64),
        clips=[clip_evidence(consent)],
    )
    return {
        "alert": alert,
        "manifest": manifest.to_json(),
        "links": [{"clip": "0" * 16, "url": "http://127.0.0.1:1/s", "expires": 2**40}],
    }


@pytest.mark.usefixtures("socket_enabled")
async def test_clips_before_their_alert_muted_neighbors_and_only_recent_alerts_kept(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    endpoint: str,
    network: Network,
) -> None:
    home_key = hass_key(init_integration)
    oak = await neighbor_of_home(hass, endpoint, network)
    alerts = init_integration.runtime_data.federation.alerts
    shown = async_capture_events(hass, EVENT_ALERT)
    attached = async_capture_events(hass, EVENT_ALERT_CLIPS)
    # Clips for alerts this home never saw: kept (for the last RECENT alerts only), unannounced.
    for n in range(RECENT + 1):
        alert = f"{n:064x}"
        body = _clips_body(oak, home_key, alert, alert_share_group(alert, home_key))
        oak.node.send(home_key, "alert_clips", body, lifetime=3600)
    assert await oak.node.deliver(network.sender) == RECENT + 1
    await hass.async_block_till_done()
    assert len(alerts.early) == RECENT
    assert f"{0:064x}" not in alerts.early
    assert alerts.links == {}
    assert attached == []
    # The alert arriving after its clips shows their count at once.
    envelope = oak.node.broadcast_alert("Loose dog", max_hops=0)
    last = f"{RECENT:064x}"
    alerts.early[envelope.event_id] = alerts.early.pop(last)
    assert await oak.node.deliver(network.sender) == 1
    await hass.async_block_till_done()
    assert [e.data["clips"] for e in shown] == [1]
    # Clips for another alert leave the shown one as it is.
    other = "c" * 64
    body = _clips_body(oak, home_key, other, alert_share_group(other, home_key))
    oak.node.send(home_key, "alert_clips", body, lifetime=3600)
    assert await oak.node.deliver(network.sender) == 1
    await hass.async_block_till_done()
    assert [a.clips for a in alerts.recent] == [1]
    assert attached == []
    # A muted neighbor's clips are not kept.
    await alerts.async_mute(oak.node.identity.keyid, muted=True)
    alert = "b" * 64
    oak.node.send(
        home_key,
        "alert_clips",
        _clips_body(oak, home_key, alert, alert_share_group(alert, home_key)),
        lifetime=3600,
    )
    assert await oak.node.deliver(network.sender) == 1
    await hass.async_block_till_done()
    assert alert not in alerts.links
    assert alert not in alerts.early


async def test_a_share_whose_grant_is_gone_has_no_consent(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    store = desk(init_integration).store
    assert await hass.async_add_executor_job(store.consent, "c" * 64, "0" * 16) is None
