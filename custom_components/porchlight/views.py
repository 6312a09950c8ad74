"""HTTP views, registered once from async_setup; each finds the loaded entry per request.

Two kinds live here:
- the owner's clips and thumbnails (HA auth; the media browser reaches them through signed
  paths). The URL carries only a clip id, looked up in the index: no path from a URL ever
  touches the filesystem, so `..` and foreign paths have nothing to traverse.
- the federation's endpoints, which use the protocol's signature authentication instead of
  HA's login (requires_auth = False); the node does all checking, in the same code the
  standalone server runs.
"""

from __future__ import annotations

import re
from http import HTTPStatus
from typing import TYPE_CHECKING

from aiohttp import web
from homeassistant.components.http.auth import async_sign_path
from homeassistant.components.http.const import KEY_HASS_USER
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers.http import HomeAssistantView

from .consent.delivery import not_found
from .consent.desk import SHARE_PATH
from .const import CLIP_URL, THUMBNAIL_URL
from .data import loaded_entry
from .federation.canonical import canon
from .federation.httpsig import CONTENT_TYPE
from .federation.node import API_PREFIX, IDENTITY, INBOX, PAIR, Node
from .federation.transport import serve_identity, serve_inbox, serve_pair

if TYPE_CHECKING:
    from datetime import timedelta

    from .recordings.models import Clip

CLIP_ID = re.compile(r"^[0-9a-f]{16}$")
INVITE_QR_URL = "/api/porchlight/invite_qr/{qr_id}.svg"
# Footage is private: never cached by a proxy or the browser's shared caches.
NO_STORE = {"Cache-Control": "private, no-store", "Referrer-Policy": "no-referrer"}


@callback
def async_setup_views(hass: HomeAssistant) -> None:
    """Register every view."""
    hass.http.register_view(ClipView)
    hass.http.register_view(ThumbnailView)
    hass.http.register_view(InviteQrView)
    for view in (InboxView, PairView, IdentityView, ShareView):
        hass.http.register_view(view(hass))


# --- the owner's clips ----------------------------------------------------------------------


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


class InviteQrView(HomeAssistantView):
    """An invite's QR code as an SVG image, for the owner's screen (a signed path).

    The code holds the invite's token, so only the owner sees it: the path carries an
    unguessable id kept in memory until the invite expires, and is signed for the user who
    created the invite (HA's own content user when no user did, e.g. an automation).
    """

    url = INVITE_QR_URL
    name = "api:porchlight:invite_qr"

    async def get(self, request: web.Request, qr_id: str) -> web.Response:
        """Serve the image."""
        user = request[KEY_HASS_USER]
        if not (user.is_admin or user.system_generated):
            return web.Response(status=HTTPStatus.FORBIDDEN)
        hass: HomeAssistant = request.app["hass"]
        try:
            federation = loaded_entry(hass).runtime_data.federation
        except ServiceValidationError as err:
            raise web.HTTPNotFound from err
        if (code := federation.qr_code(qr_id)) is None:
            raise web.HTTPNotFound
        return web.Response(body=code.svg, headers={**NO_STORE, "Content-Type": "image/svg+xml"})


@callback
def async_sign_qr_path(hass: HomeAssistant, qr_id: str, lifetime: timedelta) -> str:
    """A signed path to a QR image, valid for lifetime (and until HA restarts)."""
    return async_sign_path(hass, INVITE_QR_URL.format(qr_id=qr_id), lifetime)


# --- federation -----------------------------------------------------------------------------


def _node(hass: HomeAssistant) -> Node | None:
    try:
        return loaded_entry(hass).runtime_data.federation.node
    except ServiceValidationError:
        return None


def _not_ready() -> web.Response:
    # Canonical JSON and the headers of every other federation reply (protocol §4, §14.1).
    return web.Response(
        status=HTTPStatus.SERVICE_UNAVAILABLE,
        body=canon({"error": "not_ready", "detail": "Porchlight is not loaded"}),
        headers={"Content-Type": CONTENT_TYPE, "Cache-Control": "no-store"},
    )


class _FederationView(HomeAssistantView):
    requires_auth = False

    def __init__(self, hass: HomeAssistant) -> None:
        self.hass = hass


class InboxView(_FederationView):
    """Signed messages from paired peers."""

    url = API_PREFIX + INBOX
    name = "api:porchlight:federation:inbox"

    async def post(self, request: web.Request) -> web.Response:
        """Handle one message."""
        if (node := _node(self.hass)) is None:
            return _not_ready()
        return await serve_inbox(node, request)


class PairView(_FederationView):
    """Invite redemptions."""

    url = API_PREFIX + PAIR
    name = "api:porchlight:federation:pair"

    async def post(self, request: web.Request) -> web.Response:
        """Handle one redemption (the node has the acceptance logged before it is sent)."""
        if (node := _node(self.hass)) is None:
            return _not_ready()
        return await serve_pair(node, request)


class IdentityView(_FederationView):
    """The public identity document."""

    url = API_PREFIX + IDENTITY
    name = "api:porchlight:federation:identity"

    async def get(self, _request: web.Request) -> web.Response:
        """Return the document."""
        if (node := _node(self.hass)) is None:
            return _not_ready()
        return serve_identity(node)


class ShareView(_FederationView):
    """Capability links for approved clips: the token is the only credential (R5.2)."""

    url = API_PREFIX + SHARE_PATH + "/{token}"
    name = "api:porchlight:federation:share"

    async def get(self, request: web.Request, token: str) -> web.StreamResponse:
        """Serve the clip behind a valid token; every other case is the same 404."""
        try:
            desk = loaded_entry(self.hass).runtime_data.desk
        except ServiceValidationError:
            return not_found()
        return await desk.shares.serve(request, token)
