"""The camera maps homes send this agency: the latest one per home, and their merged map.

A home's `camera_map` message (docs/protocol.md §16) holds only the cells its own map shows,
each of at least k homes; the inbox checked that on arrival. It is kept as the canonical
envelope the home signed, one file per home (maps/<home keyid>.json), replaced by a newer one.
"""

from __future__ import annotations

import stat
from typing import TYPE_CHECKING, Final

from custom_components.porchlight.federation import (
    KEYID_RE,
    AreaError,
    Cell,
    MapCell,
    cells_map,
    map_from_json,
)

from .profile import ProfileError, load_envelope, write_private

if TYPE_CHECKING:
    from pathlib import Path

    from custom_components.porchlight.federation import Envelope, GeoJSON

    from .profile import Profile

MAPS_DIR: Final = "maps"


def maps_dir(profile: Profile) -> Path:
    """Where the profile keeps the homes' maps."""
    return profile.root / MAPS_DIR


def store_map(profile: Profile, envelope: Envelope) -> bool:
    """Keep a home's map unless a newer one of that home is kept already; whether it was.

    Signed times, not arrival, decide: a map held up in the home's outbox by retries must
    not replace the one it sent after it.
    """
    path = maps_dir(profile) / f"{envelope.sender}.json"
    try:
        kept = load_envelope(path)
    except ProfileError:  # none yet, or damaged: the new one replaces it
        kept = None
    # Of two sent in the same second, the later to arrive wins: a home's outbox sends in order.
    if kept is not None and kept.created > envelope.created:
        return False
    write_private(path, envelope.encode())
    return True


def load_maps(profile: Profile) -> tuple[list[Envelope], list[ProfileError]]:
    """The kept maps (by home), and an error per file that is not a map its home signed."""
    found: list[Envelope] = []
    damaged: list[ProfileError] = []
    folder = maps_dir(profile)
    paths = sorted(folder.iterdir()) if folder.is_dir() else []
    for path in paths:
        if path.suffix != ".json" or not KEYID_RE.fullmatch(path.stem):
            continue
        if not stat.S_ISREG(path.lstat().st_mode):
            continue
        try:
            envelope = load_envelope(path)
        except ProfileError as err:
            damaged.append(err)
            continue
        try:
            if envelope.type != "camera_map" or envelope.sender != path.stem:
                msg = "another message, or another home's"
                raise AreaError(msg)  # noqa: TRY301  # reported like a map that does not check
            map_from_json(envelope.body)
        except AreaError as err:
            damaged.append(ProfileError(f"{path} is not a camera map of its home ({err})"))
            continue
        found.append(envelope)
    return found, damaged


def merged(envelopes: list[Envelope]) -> dict[str, GeoJSON]:
    """One GeoJSON map of every home's map: per cell, the largest count any home reported.

    Neighboring homes' maps overlap: homes paired with each other count one another, so the
    same homes are in several maps, and adding the counts would count them again. The
    largest is what one home saw for sure, and is still a count some home's map showed, so
    nothing under its k appears.
    """
    best: dict[Cell, int] = {}
    for envelope in envelopes:
        _, cells = map_from_json(envelope.body)
        for item in cells:
            best[item.cell] = max(best.get(item.cell, 0), item.homes)
    return cells_map(MapCell(cell, homes) for cell, homes in best.items())
