"""Setup, identity key handling, unload, reload and removal."""

from __future__ import annotations

import logging
import stat
import sys
from typing import TYPE_CHECKING

import pytest
from homeassistant import block_async_io
from homeassistant.config_entries import ConfigEntryState
from homeassistant.helpers import device_registry as dr
from homeassistant.util import loop as loop_util

from custom_components.porchlight import recordings_path
from custom_components.porchlight.const import DOMAIN, INDEX_FILE
from custom_components.porchlight.federation.identity import Identity

if TYPE_CHECKING:
    from pathlib import Path

    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.common import MockConfigEntry


PKG = "custom_components.porchlight"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_first_setup_creates_private_identity_key(
    hass: HomeAssistant, init_integration: MockConfigEntry, key_path: Path
) -> None:
    assert init_integration.state is ConfigEntryState.LOADED
    assert key_path.is_file()
    assert _mode(key_path) == 0o600
    assert _mode(key_path.parent) == 0o700
    on_disk = Identity.from_pem(key_path.read_bytes())
    assert on_disk.public_key == init_integration.runtime_data.identity.public_key
    # Nothing else is left beside the key (no temp file from the atomic write).
    assert [p.name for p in key_path.parent.iterdir()] == [key_path.name]


async def test_home_device_shows_key_fingerprint(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    device = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, init_integration.entry_id), init_integration.entry_id
    )
    assert device is not None
    assert device.name == "Maple Street 12"
    assert device.serial_number == init_integration.runtime_data.identity.fingerprint
    assert device.entry_type is dr.DeviceEntryType.SERVICE


async def test_identity_survives_reload(
    hass: HomeAssistant, init_integration: MockConfigEntry, key_path: Path
) -> None:
    before = init_integration.runtime_data.identity.fingerprint
    key_bytes = key_path.read_bytes()
    assert await hass.config_entries.async_reload(init_integration.entry_id)
    await hass.async_block_till_done()
    assert init_integration.state is ConfigEntryState.LOADED
    assert init_integration.runtime_data.identity.fingerprint == before
    assert key_path.read_bytes() == key_bytes


async def test_existing_key_is_used(
    hass: HomeAssistant,
    cameras: list[str],
    mock_config_entry: MockConfigEntry,
    key_path: Path,
) -> None:
    known = Identity.generate()
    key_path.parent.mkdir(parents=True)
    key_path.write_bytes(known.to_pem())
    key_path.chmod(0o600)
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    assert mock_config_entry.runtime_data.identity.fingerprint == known.fingerprint


@pytest.mark.allow_porchlight_warnings(r"was readable by other users; its mode is now")
async def test_loose_key_permissions_are_tightened(
    hass: HomeAssistant,
    cameras: list[str],
    mock_config_entry: MockConfigEntry,
    key_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    key_path.parent.mkdir(parents=True)
    key_path.write_bytes(Identity.generate().to_pem())
    key_path.chmod(0o644)
    mock_config_entry.add_to_hass(hass)
    with caplog.at_level(logging.WARNING):
        assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    assert _mode(key_path) == 0o600
    assert "was readable by other users" in caplog.text


@pytest.mark.allow_porchlight_warnings(r"Porchlight cannot use its identity key")
async def test_unusable_key_stops_setup_and_is_left_untouched(
    hass: HomeAssistant,
    cameras: list[str],
    mock_config_entry: MockConfigEntry,
    key_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    key_path.parent.mkdir(parents=True)
    garbage = b"-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n"
    key_path.write_bytes(garbage)
    mock_config_entry.add_to_hass(hass)

    assert not await hass.config_entries.async_setup(mock_config_entry.entry_id)
    assert mock_config_entry.state is ConfigEntryState.SETUP_ERROR
    assert mock_config_entry.reason is not None
    assert "Porchlight cannot use its identity key" in mock_config_entry.reason
    assert "Porchlight cannot use its identity key" in caplog.text
    # The owner's file is never replaced by a fresh identity.
    assert key_path.read_bytes() == garbage


async def test_unload_and_set_up_again(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    assert await hass.config_entries.async_unload(init_integration.entry_id)
    assert init_integration.state is ConfigEntryState.NOT_LOADED
    assert await hass.config_entries.async_setup(init_integration.entry_id)
    assert init_integration.state is ConfigEntryState.LOADED


async def test_removing_porchlight_deletes_identity_key(
    hass: HomeAssistant, init_integration: MockConfigEntry, key_path: Path
) -> None:
    assert key_path.exists()
    result = await hass.config_entries.async_remove(init_integration.entry_id)
    assert result["require_restart"] is False
    await hass.async_block_till_done()
    assert not key_path.exists()
    assert not key_path.parent.exists()


@pytest.mark.allow_porchlight_warnings(r"Porchlight cannot open its clip index")
async def test_unusable_clip_index_stops_setup_and_is_left_untouched(
    hass: HomeAssistant, cameras: list[str], mock_config_entry: MockConfigEntry
) -> None:
    index = recordings_path(hass) / INDEX_FILE
    index.parent.mkdir(parents=True)
    index.write_bytes(b"not a database" * 100)
    mock_config_entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(mock_config_entry.entry_id)
    assert mock_config_entry.state is ConfigEntryState.SETUP_ERROR
    assert "cannot open its clip index" in (mock_config_entry.reason or "")
    assert index.read_bytes() == b"not a database" * 100


async def test_camera_gone_from_home_assistant_is_named_by_its_id(
    hass: HomeAssistant, cameras: list[str], mock_config_entry: MockConfigEntry
) -> None:
    mock_config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        mock_config_entry, options={**mock_config_entry.options, "cameras": ["camera.removed"]}
    )
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    assert mock_config_entry.runtime_data.camera_names == {"camera.removed": "camera.removed"}


async def test_setup_makes_no_blocking_call_in_the_event_loop(
    hass: HomeAssistant,
    cameras: list[str],
    mock_config_entry: MockConfigEntry,
    disable_block_async_io: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Home Assistant's own loop protection, enabled before anything imports Porchlight, as a
    # real hass does at start: the loader then imports the package afresh (in its import
    # executor) and looks up the entry points in the event loop. A lookup that imports
    # there is reported as "Detected blocking call to import_module ... custom_components/
    # porchlight", which the autouse fail_on_porchlight_warnings fixture turns into a failure.
    # HA skips some checks (import_module, open, ...) under tests and reports each offending
    # line once per process; here all checks run and earlier reports are forgotten.
    monkeypatch.setattr(block_async_io, "_IN_TESTS", False)
    monkeypatch.setattr(loop_util, "_PREVIOUSLY_REPORTED", set())
    block_async_io.enable()
    # Both the module table and the parent package's attribute get the original back.
    monkeypatch.setattr(sys.modules["custom_components"], "porchlight", sys.modules[PKG])
    monkeypatch.delitem(sys.modules, PKG)
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert mock_config_entry.state is ConfigEntryState.LOADED
    assert await hass.config_entries.async_unload(mock_config_entry.entry_id)
