"""The federation's HTTP endpoints on Home Assistant's own server.

They use the protocol's signature authentication instead of HA's login (requires_auth =
False); the node does all checking, in the same code the standalone server runs. Views are
registered once and find the loaded entry per request.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import TYPE_CHECKING

from aiohttp import web
from homeassistant.helpers.http import HomeAssistantView

from .const import DOMAIN
from .federation.node import API_PREFIX, IDENTITY, INBOX, PAIR, Node
from .federation.transport import serve_identity, serve_inbox, serve_pair

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

    from .data import PorchlightConfigEntry


def _node(hass: HomeAssistant) -> Node | None:
    entries: list[PorchlightConfigEntry] = hass.config_entries.async_loaded_entries(DOMAIN)
    return entries[0].runtime_data.federation.node if entries else None


def _not_ready() -> web.Response:
    return web.json_response({"error": "not_ready"}, status=HTTPStatus.SERVICE_UNAVAILABLE)


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
        """Handle one redemption."""
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


def async_register_views(hass: HomeAssistant) -> None:
    """Register the federation endpoints (once, from async_setup)."""
    for view in (InboxView, PairView, IdentityView):
        hass.http.register_view(view(hass))
