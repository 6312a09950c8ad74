"""Runtime data a loaded Porchlight entry carries, typed for every platform."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from homeassistant.config_entries import ConfigEntry

from .action_errors import refused
from .const import DOMAIN

if TYPE_CHECKING:
    from pathlib import Path

    from homeassistant.core import HomeAssistant

    from .background import BackgroundWork
    from .consent.desk import ConsentDesk
    from .federation.identity import Identity
    from .federation_glue import Federation
    from .recordings_glue import HomeRecorder


@dataclass(slots=True)
class PorchlightData:
    """What setup built for one home: identity, cameras, their recorder, the federation."""

    identity: Identity
    key_path: Path
    cameras: tuple[str, ...]
    camera_names: dict[str, str]
    home_device_id: str
    recorder: HomeRecorder
    federation: Federation
    desk: ConsentDesk
    # Every timer's passes and their blocking jobs; unload stops them before closing files.
    work: BackgroundWork
    # One key rotation at a time: two would interleave the audit log's hand-over, the key
    # file and the node's identity, and leave them disagreeing.
    rotating: asyncio.Lock = field(default_factory=asyncio.Lock)


type PorchlightConfigEntry = ConfigEntry[PorchlightData]


def loaded_entry(hass: HomeAssistant) -> PorchlightConfigEntry:
    """The loaded Porchlight entry, or a translated error for the caller (actions, views)."""
    entries: list[PorchlightConfigEntry] = hass.config_entries.async_loaded_entries(DOMAIN)
    if not entries:
        raise refused("not_loaded")
    return entries[0]
