"""Invariants that hold whatever else changes: what Porchlight exposes over HTTP at all."""

from __future__ import annotations

from typing import TYPE_CHECKING

from custom_components.porchlight.panel import FRONTEND_DIR, bundle_version

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.common import MockConfigEntry

# Every route Porchlight registers, and why it is not a live stream: each serves a finished
# file by id or token, or a signed protocol message. Adding a route means adding it here,
# with its reason, in review.
EXPECTED_ROUTES = {
    ("GET", "/api/porchlight/clips/{clip_id}.mp4"),  # a recorded clip (HA login)
    ("GET", "/api/porchlight/clips/{clip_id}.jpg"),  # its thumbnail (HA login)
    ("GET", "/api/porchlight/invite_qr/{qr_id}.svg"),  # an invite's QR image (admin, signed)
    ("POST", "/api/porchlight/v1/inbox"),  # signed messages
    ("POST", "/api/porchlight/v1/pair"),  # invite redemption
    ("GET", "/api/porchlight/v1/identity"),  # public key document
    ("GET", "/api/porchlight/v1/share/{token}"),  # an approved, finished clip
}


async def test_no_live_stream_endpoint_exists(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    routes = {
        (route.method, route.resource.canonical)
        for route in hass.http.app.router.routes()
        if route.resource is not None
        and "porchlight" in route.resource.canonical
        and route.method not in {"HEAD", "OPTIONS"}  # added by aiohttp and CORS
    }
    version = await hass.async_add_executor_job(bundle_version)
    # The dashboard's code and text (a static directory of files shipped with the package).
    assert routes == EXPECTED_ROUTES | {("GET", f"/porchlight_frontend/{version}")}
    shipped = {p.suffix for p in FRONTEND_DIR.rglob("*") if p.is_file()}
    assert shipped <= {".js", ".json"}
    # No Porchlight handler is a camera proxy or stream view.
    for route in hass.http.app.router.routes():
        if route.resource is not None and "porchlight" in route.resource.canonical:
            name = route.resource.name or ""
            assert "stream" not in name
            assert "proxy" not in name
            assert "camera" not in route.resource.canonical
