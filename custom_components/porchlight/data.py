"""Runtime data a loaded Porchlight entry carries, typed for every platform."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from homeassistant.config_entries import ConfigEntry

if TYPE_CHECKING:
    from pathlib import Path

    from .background import BackgroundWork
    from .consent.desk import ConsentDesk
    from .federation.identity import Identity
    from .federation_glue import Federation
    from .recording import HomeRecorder


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
