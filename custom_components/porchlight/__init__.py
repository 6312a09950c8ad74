"""Porchlight: doorbell footage recorded at home, shared with police only clip by clip."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from homeassistant.exceptions import ConfigEntryError
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.storage import STORAGE_DIR

from .const import CONF_CAMERAS, CONF_HOME_NAME, DOMAIN, IDENTITY_DIR, IDENTITY_FILE
from .data import PorchlightConfigEntry, PorchlightData
from .federation import identity as identity_file

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

_LOGGER = logging.getLogger(__name__)


def identity_path(hass: HomeAssistant) -> Path:
    """Where this home's private identity key is kept."""
    return Path(hass.config.path(STORAGE_DIR, IDENTITY_DIR, IDENTITY_FILE))


async def async_setup_entry(hass: HomeAssistant, entry: PorchlightConfigEntry) -> bool:
    """Set up a Porchlight home from a config entry."""
    # Identity: the key that signs everything this home sends. It is created once; an
    # unreadable key stops setup instead of being replaced behind the owner's back.
    key_path = identity_path(hass)
    try:
        loaded = await hass.async_add_executor_job(identity_file.load_or_create, key_path)
    except identity_file.IdentityFileError as err:
        raise ConfigEntryError(
            translation_domain=DOMAIN,
            translation_key="identity_unusable",
            translation_placeholders={"path": str(key_path), "error": str(err)},
        ) from err
    identity = loaded.identity
    if loaded.created:
        _LOGGER.info("Created identity key for this home, fingerprint %s", identity.fingerprint)
    if loaded.permissions_tightened:
        _LOGGER.warning(
            "Identity key %s was readable by other users; its mode is now 0600", key_path
        )

    # The home as a device, so its fingerprint is visible where owners look for devices.
    dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id,
        identifiers={(DOMAIN, entry.entry_id)},
        entry_type=dr.DeviceEntryType.SERVICE,
        manufacturer="Porchlight",
        model="Home",
        name=entry.data[CONF_HOME_NAME],
        serial_number=identity.fingerprint,
    )

    entry.runtime_data = PorchlightData(
        identity=identity,
        key_path=key_path,
        cameras=tuple(entry.options[CONF_CAMERAS]),
    )
    return True


async def async_unload_entry(
    hass: HomeAssistant,  # noqa: ARG001  # Home Assistant's entry point signature
    entry: PorchlightConfigEntry,  # noqa: ARG001
) -> bool:
    """Unload a config entry; nothing runs in the background yet."""
    return True


async def async_remove_entry(
    hass: HomeAssistant,
    entry: PorchlightConfigEntry,  # noqa: ARG001  # Home Assistant's entry point signature
) -> None:
    """Delete the identity key when the owner removes Porchlight: no secret is left behind."""
    await hass.async_add_executor_job(identity_file.remove, identity_path(hass))
