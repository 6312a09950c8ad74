"""The dashboard's files in Home Assistant: the bundles' URL, the sidebar panel, the card."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Final

from homeassistant.components.frontend import add_extra_js_url
from homeassistant.components.http.server import StaticPathConfig
from homeassistant.components.panel_custom import async_register_panel

from .const import DOMAIN

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

FRONTEND_DIR: Final = Path(__file__).parent / "frontend"
URL_BASE: Final = "/porchlight_frontend"
PANEL_FILE: Final = "porchlight-panel.js"
CARD_FILE: Final = "porchlight-requests-card.js"


def bundle_version(directory: Path = FRONTEND_DIR) -> str:
    """A short hash of every file under the bundle directory: a new bundle is a new URL."""
    digest = hashlib.sha256()
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        digest.update(path.relative_to(directory).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


async def async_setup_panel(hass: HomeAssistant) -> str:
    """Serve the bundles, register the admin-only sidebar panel and load the card; the URL base."""
    version = await hass.async_add_executor_job(bundle_version)
    base = f"{URL_BASE}/{version}"
    # Cacheable for good: the version in the URL changes with the files.
    await hass.http.async_register_static_paths(
        [StaticPathConfig(base, str(FRONTEND_DIR), cache_headers=True)]
    )
    await async_register_panel(
        hass,
        frontend_url_path="porchlight",
        webcomponent_name="porchlight-panel",
        module_url=f"{base}/{PANEL_FILE}",
        sidebar_title="Porchlight",
        sidebar_icon="mdi:doorbell-video",
        require_admin=True,
        config_panel_domain=DOMAIN,
    )
    add_extra_js_url(hass, f"{base}/{CARD_FILE}")
    return base
