"""Runtime data a loaded Porchlight entry carries, typed for every platform."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from homeassistant.config_entries import ConfigEntry

if TYPE_CHECKING:
    from pathlib import Path

    from .federation.identity import Identity
    from .federation_glue import Federation


@dataclass(slots=True)
class PorchlightData:
    """What setup built for one home: its identity and the cameras it records."""

    identity: Identity
    key_path: Path
    cameras: tuple[str, ...]
    federation: Federation


type PorchlightConfigEntry = ConfigEntry[PorchlightData]
