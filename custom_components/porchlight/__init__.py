"""Porchlight: doorbell footage recorded at home, shared with police only clip by clip."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from homeassistant.const import Platform
from homeassistant.exceptions import ConfigEntryError
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.storage import STORAGE_DIR

from .const import CONF_CAMERAS, CONF_HOME_NAME, DOMAIN, IDENTITY_DIR, IDENTITY_FILE
from .data import PorchlightConfigEntry, PorchlightData
from .federation import identity as identity_file
from .federation_glue import async_remove_federation, async_setup_federation
from .services import async_register_services
from .views import async_register_views

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from homeassistant.helpers.typing import ConfigType

_LOGGER = logging.getLogger(__name__)

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)
PLATFORMS = [Platform.SENSOR]


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:  # noqa: ARG001
    """Register the federation endpoints and services once; they find the entry per call."""
    async_register_views(hass)
    async_register_services(hass)
    return True


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

    # Federation: pinned peers, open invites and the outbox, delivered on a timer.
    federation = await async_setup_federation(hass, entry, identity)

    entry.runtime_data = PorchlightData(
        identity=identity,
        key_path=key_path,
        cameras=tuple(entry.options[CONF_CAMERAS]),
        federation=federation,
    )
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    return True


async def async_unload_entry(hass: HomeAssistant, entry: PorchlightConfigEntry) -> bool:
    """Unload a config entry, flushing the federation's state and outbox."""
    unloaded = await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
    await entry.runtime_data.federation.async_close()
    return unloaded


async def async_remove_entry(
    hass: HomeAssistant,
    entry: PorchlightConfigEntry,  # noqa: ARG001  # Home Assistant's entry point signature
) -> None:
    """Delete the identity key when the owner removes Porchlight: no secret is left behind."""
    await async_remove_federation(hass)
    await hass.async_add_executor_job(identity_file.remove, identity_path(hass))
