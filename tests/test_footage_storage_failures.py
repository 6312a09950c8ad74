"""When the request store or the audit log cannot be opened or written: setup stops, and an
approval or request that cannot be recorded shares and holds nothing.

Fixtures `agency` and `recorded`: conftest.py; sending and reading back: footage_helpers.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.exceptions import HomeAssistantError

from custom_components.porchlight.consent.audit import AuditError
from custom_components.porchlight.consent.records import RequestState, Share, ShareState
from custom_components.porchlight.consent.store import ConsentStore, ConsentStoreError
from custom_components.porchlight.recordings.index import ClipIndexError

from .footage_helpers import call, desk, notifications, offers, send_request

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.common import MockConfigEntry

    from custom_components.porchlight.recordings.models import Clip

    from .federation.loopback import Network, Running


@pytest.mark.allow_porchlight_warnings(r"Porchlight cannot open its request and audit files")
async def test_unreadable_consent_store_stops_setup_and_is_kept(
    hass: HomeAssistant, cameras: list[str], mock_config_entry: MockConfigEntry
) -> None:
    root = Path(hass.config.path("porchlight"))
    root.mkdir(parents=True, exist_ok=True)
    (root / "consent.sqlite3").write_bytes(b"not sqlite" * 200)
    mock_config_entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(mock_config_entry.entry_id)
    assert mock_config_entry.state is ConfigEntryState.SETUP_ERROR
    assert "cannot open consent.sqlite3" in str(mock_config_entry.reason)
    assert (root / "consent.sqlite3").read_bytes() == b"not sqlite" * 200


@pytest.mark.allow_porchlight_warnings(r"Porchlight cannot open its request and audit files")
async def test_unreadable_audit_log_stops_setup_and_is_kept(
    hass: HomeAssistant, cameras: list[str], mock_config_entry: MockConfigEntry
) -> None:
    root = Path(hass.config.path("porchlight"))
    root.mkdir(parents=True, exist_ok=True)
    (root / "audit.sqlite3").write_bytes(b"not sqlite" * 200)
    mock_config_entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(mock_config_entry.entry_id)
    assert mock_config_entry.state is ConfigEntryState.SETUP_ERROR
    assert (root / "audit.sqlite3").read_bytes() == b"not sqlite" * 200
    # The consent store opened first was closed again: it can be opened and written.
    store = ConsentStore(root / "consent.sqlite3")
    store.put_share(Share("x", "r", "c", "h", 1, 2))
    store.close()


# --- failures leave nothing half done ----------------------------------------------------------
@pytest.mark.allow_porchlight_warnings(
    r"Approval not recorded: the log's chain key is not this home's"
)
async def test_an_approval_the_audit_log_refuses_shares_nothing_and_can_be_retried(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    agency: Running,
    network: Network,
    recorded: list[Clip],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    envelope = await send_request(hass, agency, network)
    the_desk = desk(init_integration)
    real = the_desk.audit.checkpoint_head

    def refused() -> tuple[int, str]:
        msg = "the log's chain key is not this home's"
        raise AuditError(msg)

    monkeypatch.setattr(the_desk.audit, "checkpoint_head", refused)
    with pytest.raises(HomeAssistantError) as err:
        await call(hass, "approve_clips", request_id=envelope.event_id, clip_ids=[recorded[0].id])
    assert err.value.translation_key == "approval_failed"
    assert await hass.async_add_executor_job(the_desk.store.shares, None) == []
    stored = await hass.async_add_executor_job(the_desk.store.request, envelope.event_id)
    assert (stored.state, stored.consents) == (RequestState.PENDING, ())
    # Before: "already_approved" for ever, with a live share and no offer.
    monkeypatch.setattr(the_desk.audit, "checkpoint_head", real)
    await call(hass, "approve_clips", request_id=envelope.event_id, clip_ids=[recorded[0].id])
    assert len(offers(agency)) == 1


@pytest.mark.allow_porchlight_warnings(r"Approval not recorded: cannot save: disk I/O error")
async def test_an_approval_the_store_cannot_finish_is_undone(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    agency: Running,
    network: Network,
    recorded: list[Clip],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    envelope = await send_request(hass, agency, network)
    the_desk = desk(init_integration)
    real = the_desk.store.put_share
    written: list[str] = []

    def second_fails(share: Share) -> None:
        if written:
            msg = "cannot save: disk I/O error"
            raise ConsentStoreError(msg)
        written.append(share.clip)
        real(share)

    monkeypatch.setattr(the_desk.store, "put_share", second_fails)
    ids = [recorded[0].id, recorded[1].id]
    with pytest.raises(HomeAssistantError) as err:
        await call(hass, "approve_clips", request_id=envelope.event_id, clip_ids=ids)
    assert err.value.translation_key == "approval_failed"
    [share] = await hass.async_add_executor_job(the_desk.store.shares, None)
    assert share.state is ShareState.REVOKED  # the one written is undone
    stored = await hass.async_add_executor_job(the_desk.store.request, envelope.event_id)
    assert (stored.state, stored.consents) == (RequestState.PENDING, ())
    assert offers(agency) == []
    assert len(init_integration.runtime_data.federation.node.outbox) == 0


@pytest.mark.allow_porchlight_warnings(r"could not be recorded")
async def test_a_request_that_cannot_be_recorded_holds_no_clip(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    agency: Running,
    network: Network,
    recorded: list[Clip],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    the_desk = desk(init_integration)

    def full(*_args: object, **_kwargs: object) -> None:
        msg = "database or disk is full"
        raise AuditError(msg)

    monkeypatch.setattr(the_desk.audit, "append", full)
    envelope = await send_request(hass, agency, network)
    assert "could not be recorded" in caplog.text
    assert await hass.async_add_executor_job(the_desk.store.request, envelope.event_id) is None
    # Before: every candidate clip stayed held for ever (retention could never prune them).
    assert not any(c.held for c in init_integration.runtime_data.recorder.index.clips())
    assert notifications(hass) == {}


@pytest.mark.allow_porchlight_warnings(
    r"Approval not recorded: cannot save: disk I/O error",
    r"Could not undo a failed approval of request",
)
async def test_an_undo_that_fails_too_is_logged_and_shares_nothing(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    agency: Running,
    network: Network,
    recorded: list[Clip],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    envelope = await send_request(hass, agency, network)
    the_desk = desk(init_integration)

    def broken(*_args: object) -> None:
        msg = "cannot save: disk I/O error"
        raise ConsentStoreError(msg)

    real_put = the_desk.store.put_request
    monkeypatch.setattr(the_desk.store, "put_share", broken)
    # The request is saved approved, its share is not, and the undo cannot save either.
    monkeypatch.setattr(
        the_desk.store, "put_request", lambda r: real_put(r) if r.consents else broken()
    )
    with pytest.raises(HomeAssistantError):
        await call(hass, "approve_clips", request_id=envelope.event_id, clip_ids=[recorded[0].id])
    assert "Could not undo a failed approval" in caplog.text
    assert await hass.async_add_executor_job(the_desk.store.shares, None) == []
    assert offers(agency) == []


@pytest.mark.allow_porchlight_warnings(r"The clips of footage request \w+ could not be held")
async def test_a_request_whose_clips_cannot_be_held_is_announced(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    agency: Running,
    network: Network,
    recorded: list[Clip],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    index = init_integration.runtime_data.recorder.index

    def full(*_args: object) -> None:
        msg = "clip index: database or disk is full"  # what hold raises when SQLite does
        raise ClipIndexError(msg)

    monkeypatch.setattr(index, "hold", full)
    envelope = await send_request(hass, agency, network)
    # Before: stored pending, and the owner never told until a restart.
    stored = await hass.async_add_executor_job(
        desk(init_integration).store.request, envelope.event_id
    )
    assert stored.state is RequestState.PENDING
    assert len(notifications(hass)) == 1
    assert offers(agency) == []


def _refusing_log(monkeypatch: pytest.MonkeyPatch, entry: MockConfigEntry) -> None:
    """The audit log refuses every entry from now on."""

    def full(*_args: object, **_kwargs: object) -> None:
        msg = "database or disk is full"
        raise AuditError(msg)

    monkeypatch.setattr(desk(entry).audit, "append", full)


@pytest.mark.allow_porchlight_warnings(r"Decline not recorded: database or disk is full")
async def test_a_decline_the_audit_log_refuses_is_translated_and_leaves_the_request_open(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    agency: Running,
    network: Network,
    recorded: list[Clip],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    envelope = await send_request(hass, agency, network)
    _refusing_log(monkeypatch, init_integration)
    # Before: the raw AuditError, untranslated.
    with pytest.raises(HomeAssistantError) as err:
        await call(hass, "decline_request", request_id=envelope.event_id)
    assert err.value.translation_key == "decline_failed"
    stored = await hass.async_add_executor_job(
        desk(init_integration).store.request, envelope.event_id
    )
    assert stored.state is RequestState.PENDING
    assert len(notifications(hass)) == 1


@pytest.mark.allow_porchlight_warnings(r"Revocation not recorded: database or disk is full")
async def test_a_revocation_the_audit_log_refuses_is_translated_and_revokes_nothing(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    agency: Running,
    network: Network,
    recorded: list[Clip],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    envelope = await send_request(hass, agency, network)
    ids = [recorded[0].id, recorded[1].id]
    await call(hass, "approve_clips", request_id=envelope.event_id, clip_ids=ids)
    _refusing_log(monkeypatch, init_integration)
    # Before: the raw AuditError, and the first share revoked without its log entry.
    with pytest.raises(HomeAssistantError) as err:
        await call(hass, "revoke_share", request_id=envelope.event_id)
    assert err.value.translation_key == "revoke_failed"
    assert err.value.translation_placeholders == {
        "error": "database or disk is full",
        "revoked": "0",
    }
    shares = await hass.async_add_executor_job(desk(init_integration).store.shares, None)
    assert [s.state for s in shares] == [ShareState.OFFERED, ShareState.OFFERED]


async def test_an_agency_import_the_audit_log_refuses_pins_nothing(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    network: Network,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    metro = await network.start("Metro PD", role="agency")
    node = init_integration.runtime_data.federation.node
    _refusing_log(monkeypatch, init_integration)
    # Before: the raw AuditError, with the agency pinned and no entry in the log.
    with pytest.raises(HomeAssistantError) as err:
        await call(hass, "import_agency", invite=metro.node.create_invite().to_text())
    assert err.value.translation_key == "agency_import_not_recorded"
    assert node.peers.get(metro.node.identity.keyid) is None
    monkeypatch.undo()
    await call(hass, "import_agency", invite=metro.node.create_invite().to_text())
    assert node.peers.get(metro.node.identity.keyid) is not None


async def test_a_re_import_the_audit_log_refuses_keeps_the_agency_as_it_was(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    agency: Running,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    node = init_integration.runtime_data.federation.node
    before = node.peers.get(agency.node.identity.keyid)
    assert before is not None
    _refusing_log(monkeypatch, init_integration)
    with pytest.raises(HomeAssistantError) as err:
        await call(
            hass, "import_agency", invite=agency.node.create_invite().to_text(), lan=not before.lan
        )
    assert err.value.translation_key == "agency_import_not_recorded"
    assert node.peers.get(agency.node.identity.keyid) == before
