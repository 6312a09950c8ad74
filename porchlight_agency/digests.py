"""The transparency digests homes send this agency (`agency_digest`), kept in the profile.

Each view is one home's neighborhood aggregate of one complete ISO week, cut down to this
agency's own row (federation/digest_exchange.py, docs/protocol.md §15): how many homes it
covers and this agency's counts, or that the row was withheld. The home signed the message;
the agency cannot check the counts themselves (it never holds the neighbors' digests), so a
view is that home's word for its neighborhood. Kept as the signed envelope bytes, the latest
per home and week, under digests/<home keyid>/<week>.json; re-verified whenever read.
"""

from __future__ import annotations

import stat
from dataclasses import dataclass
from typing import TYPE_CHECKING

from custom_components.porchlight.federation import AgencyView, DigestError, check_agency_view

from .profile import ProfileError, load_envelope, write_private

if TYPE_CHECKING:
    from pathlib import Path

    from custom_components.porchlight.federation import Envelope

    from .profile import Profile


@dataclass(frozen=True, slots=True)
class StoredView:
    """A kept view, re-verified: the home's envelope and the checked view in it."""

    envelope: Envelope
    view: AgencyView


def folder(profile: Profile) -> Path:
    """Where the views are kept."""
    return profile.root / "digests"


def keep(profile: Profile, envelope: Envelope, agency: str) -> Path | None:
    """Keep a view unless a newer one of that home and week is kept; the file, if written.

    Newer by the home's signed `created`: arrival order could be a replay of an old one.
    """
    view = check_agency_view(envelope.body["view"], agency)
    path = folder(profile) / envelope.sender / f"{view.period}.json"
    if path.exists():
        try:
            if load_envelope(path).created > envelope.created:
                return None
        except ProfileError:
            pass  # a damaged file is replaced by the view just verified
    write_private(path, envelope.encode())
    return path


def load(profile: Profile, agency: str) -> tuple[list[StoredView], list[ProfileError]]:
    """Every kept view, by week then home, and an error per file that does not verify."""
    found: list[StoredView] = []
    damaged: list[ProfileError] = []
    for home in _listdir(folder(profile)):
        for path in _listdir(home):
            if path.suffix != ".json" or not stat.S_ISREG(path.lstat().st_mode):
                continue
            try:
                found.append(_read(path, home.name, agency))
            except ProfileError as err:
                damaged.append(err)
    found.sort(key=lambda v: (v.view.period, v.envelope.sender))
    return found, damaged


def _read(path: Path, home: str, agency: str) -> StoredView:
    """The view in path, verified: the home's signature, its folder, the view's fields."""
    envelope = load_envelope(path)
    if envelope.type != "agency_digest" or envelope.sender != home:
        msg = f"{path} is not a digest view of the home it is filed under"
        raise ProfileError(msg)
    try:
        view = check_agency_view(envelope.body["view"], agency)
    except DigestError as err:
        msg = f"{path} is not a digest view for this agency ({err})"
        raise ProfileError(msg) from err
    return StoredView(envelope, view)


def _listdir(path: Path) -> list[Path]:
    try:
        return sorted(path.iterdir())
    except FileNotFoundError, NotADirectoryError:
        return []
