"""HTTP views, registered once: a clip and its thumbnail for the owner's own browser.

Both need Home Assistant auth; the media browser reaches them through signed paths. The URL
carries only a clip id, which is looked up in the index: no path from a URL ever touches the
filesystem, so `..` and foreign paths have nothing to traverse.
"""

from __future__ import annotations

import re
from http import HTTPStatus
from typing import TYPE_CHECKING

from aiohttp import web
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers.http import HomeAssistantView

from .services import loaded_entry

if TYPE_CHECKING:
    from .recorder.models import Clip

CLIP_ID = re.compile(r"^[0-9a-f]{16}$")
CLIP_URL = "/api/porchlight/clips/{clip_id}.mp4"
THUMBNAIL_URL = "/api/porchlight/clips/{clip_id}.jpg"
# Footage is private: never cached by a proxy or the browser's shared caches.
NO_STORE = {"Cache-Control": "private, no-store", "Referrer-Policy": "no-referrer"}


@callback
def async_setup_views(hass: HomeAssistant) -> None:
    """Register the views."""
    hass.http.register_view(ClipView)
    hass.http.register_view(ThumbnailView)


async def _clip(request: web.Request, clip_id: str) -> Clip:
    if not CLIP_ID.match(clip_id):
        raise web.HTTPNotFound
    hass: HomeAssistant = request.app["hass"]
    try:
        entry = loaded_entry(hass)
    except ServiceValidationError as err:
        raise web.HTTPNotFound from err
    clip = await hass.async_add_executor_job(entry.runtime_data.recorder.clip, clip_id)
    if clip is None:
        raise web.HTTPNotFound
    return clip


class ClipView(HomeAssistantView):
    """A clip as MP4 (HTTP Range supported by FileResponse)."""

    url = CLIP_URL
    name = "api:porchlight:clip"

    async def get(self, request: web.Request, clip_id: str) -> web.StreamResponse:
        """Serve the clip."""
        clip = await _clip(request, clip_id)
        return web.FileResponse(clip.path, headers={**NO_STORE, "Content-Type": "video/mp4"})


class ThumbnailView(HomeAssistantView):
    """A clip's thumbnail as JPEG."""

    url = THUMBNAIL_URL
    name = "api:porchlight:thumbnail"

    async def get(self, request: web.Request, clip_id: str) -> web.StreamResponse:
        """Serve the thumbnail."""
        clip = await _clip(request, clip_id)
        if clip.thumbnail is None:
            return web.Response(status=HTTPStatus.NOT_FOUND)
        return web.FileResponse(clip.thumbnail, headers={**NO_STORE, "Content-Type": "image/jpeg"})
