"""An owner adds Porchlight from the dashboard of a real Home Assistant, in Chromium."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import TYPE_CHECKING

from playwright.async_api import async_playwright, expect

from porchlight_dev.browser import CHROMIUM, CHROMIUM_ARGS

if TYPE_CHECKING:
    from porchlight_dev.hass import HassProcess, Tokens

SCREENSHOTS = Path(__file__).resolve().parents[2] / ".cache" / "e2e"


async def test_owner_adds_porchlight_from_the_ui(real_hass: tuple[HassProcess, Tokens]) -> None:
    hass, tokens = real_hass
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = await browser.new_context(viewport={"width": 1280, "height": 900})
        # Log the browser in the way the frontend itself remembers a login.
        await context.add_init_script(
            "localStorage.setItem('hassTokens', JSON.stringify(%s));"  # noqa: UP031
            % __import__("json").dumps(tokens.frontend_auth(hass.base_url))
        )
        page = await context.new_page()
        # The "add integration" deep link, as my.home-assistant.io redirects use it.
        await page.goto(f"{hass.base_url}/config/integrations/dashboard/add?domain=porchlight")

        # The deep link first asks whether to set up the integration at all.
        await page.get_by_role("button", name="OK").click(timeout=30_000)
        dialog = page.locator("dialog-data-entry-flow")
        await expect(dialog.get_by_text("Set up your Porchlight home")).to_be_visible(
            timeout=30_000
        )
        # The form is prefilled from HA's home settings and offers the streaming cameras.
        await expect(dialog.get_by_text("Front door")).to_be_visible()
        await expect(dialog.get_by_text("Garden")).to_be_visible()
        await page.screenshot(path=SCREENSHOTS / "add-integration-form.png")

        await dialog.get_by_role("button", name="Submit").click()
        # Success: the new devices are offered for naming: the home and each camera.
        await expect(dialog.get_by_text("Name and assign")).to_be_visible(timeout=30_000)
        for name in ("Maple Street 12", "Front door", "Garden"):
            await expect(dialog.get_by_placeholder(name, exact=True)).to_be_visible()
        # The integration's own brand icon (custom_components/porchlight/brand) is served.
        icon = dialog.get_by_role("img", name="Porchlight").first
        await expect(icon).to_have_js_property("complete", value=True)
        assert await icon.evaluate("img => img.naturalWidth") > 0
        await page.screenshot(path=SCREENSHOTS / "add-integration-done.png")
        await dialog.get_by_role("button", name="Skip and finish").click()
        await expect(dialog).to_be_hidden()
        await browser.close()

    entries = hass.request(
        "GET", "/api/config/config_entries/entry?domain=porchlight", token=tokens.access_token
    )
    assert [(e["title"], e["state"]) for e in entries] == [("Maple Street 12", "loaded")]
    key = hass.config_dir / ".storage" / "porchlight" / "identity_ed25519.pem"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    # Loading Porchlight left nothing for the homeowner to worry about in hass' own log.
    assert hass.porchlight_warnings() == []
