"""The audit log records every decision, trust change, key rotation and byte that leaves,
and a tampered log is caught.

Fixtures `agency` and `recorded`: conftest.py; sending and reading back: footage_helpers.py.
"""

from __future__ import annotations

import asyncio
import hashlib
from typing import TYPE_CHECKING, Any

import aiohttp
import pytest
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir

from custom_components.porchlight.const import DOMAIN
from custom_components.porchlight.federation.identity import Identity

from .footage_helpers import HOME_LAT, HOME_LON, call, desk, fetch, offers, send_request
from .home import HOME

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.common import MockConfigEntry

    from custom_components.porchlight.recordings.models import Clip

    from .federation.loopback import Network, Running


@pytest.mark.allow_porchlight_warnings(
    r"Audit log failed verification at entry \d+: hash does not match"
)
async def test_tampered_audit_log_fails_verification_and_raises_a_repair(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    agency: Running,
    network: Network,
    recorded: list[Clip],
) -> None:
    envelope = await send_request(hass, agency, network)
    await call(hass, "approve_clips", request_id=envelope.event_id, clip_ids=[recorded[0].id])
    report = await call(hass, "verify_audit")
    assert report["ok"] is True
    path = init_integration.runtime_data.recorder.root / "audit.sqlite3"
    assert await hass.config_entries.async_unload(init_integration.entry_id)
    import sqlite3  # noqa: PLC0415
    from contextlib import closing  # noqa: PLC0415

    # closing(): sqlite3's own context manager commits but never closes the connection.
    with closing(sqlite3.connect(path, isolation_level=None)) as db:
        db.execute("UPDATE entries SET actor = 'someone else' WHERE kind = 'clip_approved'")
    assert await hass.config_entries.async_setup(init_integration.entry_id)
    await hass.async_block_till_done()
    assert ir.async_get(hass).async_get_issue(DOMAIN, "audit_tampered") is not None
    with pytest.raises(Exception) as err:  # noqa: PT011  # HomeAssistantError, translated
        await call(hass, "verify_audit")
    assert getattr(err.value, "translation_key", None) == "audit_tampered"


async def test_every_outbound_byte_is_in_the_audit_log_and_no_clip_leaves_without_consent(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    agency: Running,
    network: Network,
    recorded: list[Clip],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sent: list[bytes] = []
    original = aiohttp.ClientSession._request

    async def capture(self: aiohttp.ClientSession, method: str, url: Any, **kwargs: Any) -> Any:
        if self is init_integration.runtime_data.federation.sender.session:
            sent.append(bytes(kwargs.get("data") or b""))
        return await original(self, method, url, **kwargs)

    monkeypatch.setattr(aiohttp.ClientSession, "_request", capture)
    envelope = await send_request(hass, agency, network)
    await call(hass, "approve_clips", request_id=envelope.event_id, clip_ids=[recorded[2].id])
    hass_node = init_integration.runtime_data.federation.node
    hass_node.broadcast_alert("Lost dog")
    await init_integration.runtime_data.federation.async_deliver()
    url = str(offers(agency)[0].body["links"][0]["url"])  # type: ignore[index]
    status, data = await fetch(network, url)
    assert status == 200

    audit = desk(init_integration).audit
    entries = await hass.async_add_executor_job(lambda: list(audit.entries()))
    logged = {e.payload_sha256 for e in entries if e.payload_sha256}
    assert sent, "the home sent its offer"
    for body in sent:
        assert hashlib.sha256(body).hexdigest() in logged
    downloads = [e for e in entries if e.kind == "download"]
    assert [(d.data["clip"], d.size) for d in downloads] == [(recorded[2].id, len(data))]
    # Every link that left names a clip with a consent record for that request.
    stored = await hass.async_add_executor_job(
        desk(init_integration).store.request, envelope.event_id
    )
    for offer in offers(agency):
        for link in offer.body["links"]:  # type: ignore[union-attr]
            consent = stored.approved(str(link["clip"]))  # type: ignore[index]
            assert consent is not None
    # The home's exact location is in none of it, in any usual notation.
    forms = {
        str(HOME_LAT),
        str(HOME_LON),
        f"{HOME['latitude']:.6f}",
        f"{HOME['longitude']:.6f}",
        f"{HOME['latitude']:.4f}",
        f"{HOME['longitude']:.4f}",
    }
    for body in sent:
        text = body.decode()
        assert not any(form in text for form in forms)


async def test_trust_changes_and_key_rotation_are_in_the_audit_log(
    hass: HomeAssistant, init_integration: MockConfigEntry, agency: Running, network: Network
) -> None:
    fingerprint = agency.node.identity.fingerprint
    await call(hass, "untrust_agency", fingerprint=fingerprint)
    await call(hass, "remove_peer", fingerprint=fingerprint)
    await hass.services.async_call(DOMAIN, "rotate_key", {}, blocking=True, return_response=True)
    audit = desk(init_integration).audit
    kinds = [e.kind for e in await hass.async_add_executor_job(lambda: list(audit.entries()))]
    for kind in (
        "invite_created",
        "peer_confirmed",
        "agency_trusted",
        "agency_untrusted",
        "peer_removed",
        "key_rotated",
    ):
        assert kind in kinds
    report = await call(hass, "verify_audit")
    assert report["ok"] is True
    checked = await hass.async_add_executor_job(audit.verify)
    assert checked.keys[-1] == init_integration.runtime_data.identity.keyid
    # And after a restart, checkpoints are signed by the new key.
    assert await hass.config_entries.async_reload(init_integration.entry_id)
    await hass.async_block_till_done()
    assert (await call(hass, "verify_audit"))["ok"] is True


async def test_a_key_that_cannot_be_saved_leaves_the_home_on_its_old_key(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = init_integration.runtime_data
    before = data.identity

    def disk_full(*_args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(
        "custom_components.porchlight.federation.identity.replace_key_file", disk_full
    )
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call(
            DOMAIN, "rotate_key", {}, blocking=True, return_response=True
        )
    assert err.value.translation_key == "rotation_failed"
    assert data.identity is before
    assert data.federation.node.identity is before
    # The log handed back to the old key: it verifies, and checkpoints still sign (before:
    # every approval failed, its chain key no longer the home's).
    assert (await call(hass, "verify_audit"))["ok"] is True
    await hass.async_add_executor_job(data.desk.audit.checkpoint_head)


async def test_two_rotations_at_once_leave_key_file_node_and_log_agreeing(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    rotate = hass.services.async_call(DOMAIN, "rotate_key", {}, blocking=True, return_response=True)
    again = hass.services.async_call(DOMAIN, "rotate_key", {}, blocking=True, return_response=True)
    await asyncio.gather(rotate, again)
    data = init_integration.runtime_data
    on_disk = await hass.async_add_executor_job(Identity.from_pem, data.key_path.read_bytes())
    assert on_disk.keyid == data.identity.keyid == data.federation.node.identity.keyid
    checked = await hass.async_add_executor_job(data.desk.audit.verify)
    assert checked.ok
    assert checked.keys[-1] == data.identity.keyid
