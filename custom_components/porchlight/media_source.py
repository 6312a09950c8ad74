"""Clips in Home Assistant's media browser: camera → day → clip, played via signed paths."""

from __future__ import annotations

import re
from datetime import date
from typing import TYPE_CHECKING

from homeassistant.components.media_player.const import MediaClass, MediaType
from homeassistant.components.media_player.errors import BrowseError
from homeassistant.components.media_source import (
    BrowseMediaSource,
    MediaSource,
    MediaSourceItem,
    PlayMedia,
    Unresolvable,
)
from homeassistant.exceptions import ServiceValidationError

from .const import DOMAIN
from .data import loaded_entry
from .local_time import clip_day, clip_link, clip_time, thumbnail_link
from .views import CLIP_ID

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

    from .data import PorchlightConfigEntry
    from .recordings.models import Clip

DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


async def async_get_media_source(hass: HomeAssistant) -> PorchlightMediaSource:
    """Set up Porchlight's media source."""
    return PorchlightMediaSource(hass)


class PorchlightMediaSource(MediaSource):
    """Browse and play the home's event clips."""

    name = "Porchlight"

    def __init__(self, hass: HomeAssistant) -> None:
        """Initialize."""
        super().__init__(DOMAIN)
        self.hass = hass

    def _entry(self, error: type[Exception]) -> PorchlightConfigEntry:
        try:
            return loaded_entry(self.hass)
        except ServiceValidationError as err:
            raise error("Porchlight is not loaded") from err

    def _parse(
        self, identifier: str, error: type[Exception]
    ) -> tuple[PorchlightConfigEntry, list[str]]:
        """Split and check an identifier: camera[/YYYY-MM-DD[/clip id]]."""
        entry = self._entry(error)
        parts = identifier.split("/") if identifier else []
        valid = (
            len(parts) <= 3  # noqa: PLR2004  # camera, day, clip
            and (not parts or parts[0] in entry.runtime_data.cameras)
            and (len(parts) < 2 or _is_day(parts[1]))  # noqa: PLR2004
            and (len(parts) < 3 or bool(CLIP_ID.match(parts[2])))  # noqa: PLR2004
        )
        if not valid:
            raise error(f"Unknown media item: {identifier}")
        return entry, parts

    async def async_resolve_media(self, item: MediaSourceItem) -> PlayMedia:
        """Resolve a clip to a signed URL of our own clip view."""
        entry, parts = self._parse(item.identifier, Unresolvable)
        if len(parts) != 3:  # noqa: PLR2004
            raise Unresolvable(f"Not a clip: {item.identifier}")
        clip = await self.hass.async_add_executor_job(entry.runtime_data.recorder.clip, parts[2])
        if clip is None or clip.camera != parts[0]:
            raise Unresolvable(f"No such clip: {item.identifier}")
        return PlayMedia(clip_link(self.hass, clip.id), "video/mp4")

    async def async_browse_media(self, item: MediaSourceItem) -> BrowseMediaSource:
        """Cameras at the root, then days with clips, then the clips of a day."""
        entry, parts = self._parse(item.identifier or "", BrowseError)
        names = entry.runtime_data.camera_names
        if not parts:
            return self._folder(
                "",
                "Porchlight",
                [self._folder(c, names.get(c, c), []) for c in entry.runtime_data.cameras],
            )
        camera = parts[0]
        clips = await self.hass.async_add_executor_job(
            lambda: entry.runtime_data.recorder.index.clips(camera=camera)
        )
        if len(parts) == 1:
            days = sorted({clip_day(c.start) for c in clips}, reverse=True)
            return self._folder(
                camera,
                names.get(camera, camera),
                [self._folder(f"{camera}/{d.isoformat()}", d.isoformat(), []) for d in days],
            )
        if len(parts) == 2:  # noqa: PLR2004
            day = date.fromisoformat(parts[1])
            chosen = [c for c in reversed(clips) if clip_day(c.start) == day]
            return self._folder(
                f"{camera}/{parts[1]}", parts[1], [self._clip(camera, parts[1], c) for c in chosen]
            )
        raise BrowseError(f"A clip cannot be browsed: {item.identifier}")

    def _folder(
        self, identifier: str, title: str, children: list[BrowseMediaSource]
    ) -> BrowseMediaSource:
        return BrowseMediaSource(
            domain=DOMAIN,
            identifier=identifier,
            media_class=MediaClass.DIRECTORY,
            media_content_type=MediaType.VIDEO,
            title=title,
            can_play=False,
            can_expand=True,
            children=children,
            children_media_class=MediaClass.VIDEO if "/" in identifier else MediaClass.DIRECTORY,
        )

    def _clip(self, camera: str, day: str, clip: Clip) -> BrowseMediaSource:
        thumbnail = None if clip.thumbnail is None else thumbnail_link(self.hass, clip.id)
        return BrowseMediaSource(
            domain=DOMAIN,
            identifier=f"{camera}/{day}/{clip.id}",
            media_class=MediaClass.VIDEO,
            media_content_type="video/mp4",
            title=f"{clip_time(clip.start)} {clip.trigger.value} ({clip.duration:.0f} s)",
            can_play=True,
            can_expand=False,
            thumbnail=thumbnail,
        )


def _is_day(text: str) -> bool:
    if not DAY.match(text):
        return False
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True
