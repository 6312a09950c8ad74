"""The dashboard in a real hass: an agency's real request, decided by the owner in Chromium.

One hass per module (the `dashboard` fixture): three clips recorded from two RTSP cameras,
the agency CLI paired and trusted, its inbox a real server on loopback. The owner uses the
panel at /porchlight like anyone would; what reaches the agency is checked with the CLI's
own code. Screenshots of every view and the card, light and dark, desktop and phone, are
kept under $PORCHLIGHT_ARTIFACTS (default build/screenshots/).
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import time
import urllib.error
import urllib.request
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Locator, Page, async_playwright, expect

from custom_components.porchlight.federation.evidence import read_manifest
from porchlight_agency.fetch import offer_links
from porchlight_dev import dashboard_home
from porchlight_dev.browser import CHROMIUM, CHROMIUM_ARGS
from porchlight_dev.dashboard_home import HassWebsocket, WebsocketError

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from porchlight_dev.hass import Tokens

    from .conftest import DashboardHome

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("PORCHLIGHT_ARTIFACTS") or REPO / "build" / "screenshots")
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
VIEWS = ("Requests", "History", "Audit", "Neighbors & agencies")
UI_TIMEOUT = 30_000  # ms; a cold hass frontend on a busy 2-core machine
expect.set_options(timeout=UI_TIMEOUT)


@asynccontextmanager
async def logged_in(
    dashboard: DashboardHome,
    tokens: Tokens,
    *,
    viewport: dict[str, int] = DESKTOP,
    dark: bool = False,
) -> AsyncIterator[Page]:
    """A Chromium page logged in as `tokens`' user, the way the frontend remembers a login.

    Dark: the browser prefers a dark scheme, which HA's default theme follows (its own
    "auto" mode), as a phone in dark mode does.
    """
    hass = dashboard.hass
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = await browser.new_context(
                viewport=viewport,  # type: ignore[arg-type]
                color_scheme="dark" if dark else "light",
            )
            await context.add_init_script(
                "localStorage.setItem('hassTokens', JSON.stringify(%s));"  # noqa: UP031
                % json.dumps(tokens.frontend_auth(hass.base_url))
            )
            page = await context.new_page()
            page.set_default_timeout(UI_TIMEOUT)
            yield page
        finally:
            await browser.close()


async def open_panel(page: Page, dashboard: DashboardHome) -> Locator:
    """Open /porchlight; the panel element once its request list has loaded."""
    await page.goto(f"{dashboard.hass.base_url}/porchlight")
    panel = page.locator("porchlight-panel")
    await expect(panel.get_by_role("heading", name="Requests", exact=True)).to_be_visible()
    await expect(panel.get_by_text("Loading")).to_have_count(0)
    return panel


def request_section(panel: Locator, request_id: str) -> Locator:
    return panel.locator(f'section[aria-labelledby="req-{request_id}"]')


async def in_thread[T](function: Any, *args: Any) -> T:
    result: T = await asyncio.to_thread(function, *args)
    return result


def owner_service(dashboard: DashboardHome, name: str, **data: Any) -> Any:
    return dashboard_home.service(
        dashboard.hass, dashboard.owner.access_token, name, data, response=True
    )


def home_request(dashboard: DashboardHome, request_id: str) -> dict[str, Any]:
    listed = owner_service(dashboard, "list_requests")
    (request,) = [r for r in listed["requests"] if r["request_id"] == request_id]
    return dict(request)


def get(url: str) -> tuple[int, bytes, str | None]:
    """Status, body and content type of a plain GET, as the agency's fetch sees them."""
    try:
        with urllib.request.urlopen(url, timeout=30) as resp:  # noqa: S310  # loopback
            return resp.status, resp.read(), resp.headers.get("Content-Type")
    except urllib.error.HTTPError as err:
        return err.code, err.read(), err.headers.get("Content-Type")


async def wait_offers(dashboard: DashboardHome, request_id: str, count: int) -> list[Any]:
    agency = dashboard.agency
    await in_thread(
        dashboard_home.wait_for,
        lambda: len(agency.offers(request_id)) >= count,
        f"{count} offer(s) at the agency",
    )
    return agency.offers(request_id)


async def test_owner_plays_a_clip_and_shares_one_of_three_the_agency_gets_exactly_it(
    dashboard: DashboardHome, tmp_path: Path
) -> None:
    request_id = dashboard.request["request_id"]
    async with logged_in(dashboard, dashboard.owner) as page:
        panel = await open_panel(page, dashboard)
        section = request_section(panel, request_id)
        await expect(section.get_by_role("heading", level=3)).to_have_text(
            f"Metro PD, case {dashboard_home.CASE}"
        )
        clips = section.locator("li.clip")
        await expect(clips).to_have_count(3)

        # Play the first clip inline: the browser really decodes and plays it.
        await clips.nth(0).get_by_role("button", name="Play").click()
        video = clips.nth(0).locator("video")
        await expect(video).to_be_visible()
        await page.wait_for_function(
            "v => v.readyState >= 2 && v.currentTime > 0.3 && !v.error",
            arg=await video.element_handle(),
        )

        # Select the second clip only, and share it.
        box = clips.nth(1).get_by_role("checkbox")
        chosen = (await box.get_attribute("id") or "").removeprefix("clip-")
        await box.check()
        await section.get_by_role("button", name="Share selected (1)").click()
        dialog = panel.locator("dialog[open]")
        await expect(dialog).to_contain_text("This clip leaves home and goes to Metro PD")
        await expect(dialog).to_contain_text("Each link allows 1 download and works for 72 hours")
        await expect(dialog).to_contain_text("The 2 clips you did not select stay at home")
        await dialog.get_by_role("button", name="Share 1 clip", exact=True).click()
        await expect(dialog).to_have_count(0)
        # The request stays open (more clips may still be shared); the chosen one is shared.
        await expect(clips.nth(1)).to_contain_text("Shared")

    assert home_request(dashboard, request_id)["state"] == "approved"
    (offer,) = await wait_offers(dashboard, request_id, 1)
    assert [link.clip for link in offer_links(offer)] == [chosen]

    out = tmp_path / "evidence"
    fetched = await in_thread(dashboard.agency.run, "fetch", request_id, "--out", str(out), "--lan")
    assert fetched.status == 0, fetched.err
    (manifest_path,) = out.rglob("manifest.json")
    manifest = read_manifest(manifest_path.parent)
    assert [c.clip for c in manifest.clips] == [chosen]
    assert sorted(p.name for p in manifest_path.parent.glob("*.mp4")) == [f"{chosen}.mp4"]
    verified = await in_thread(dashboard.agency.run, "verify", str(out))
    assert verified.status == 0, verified.out + verified.err
    assert dashboard.hass.porchlight_warnings() == []


async def test_declined_request_sends_nothing_and_a_revoked_link_is_like_an_unknown_one(
    dashboard: DashboardHome,
) -> None:
    declined = (await in_thread(dashboard.new_request))["request_id"]
    async with logged_in(dashboard, dashboard.owner) as page:
        panel = await open_panel(page, dashboard)
        section = request_section(panel, declined)
        await expect(section.locator("li.clip")).to_have_count(3)
        await section.get_by_role("button", name="Decline").click()
        dialog = panel.locator("dialog[open]")
        await expect(dialog).to_contain_text("Nothing is shared")
        await dialog.get_by_role("button", name="Decline request").click()
        await expect(section).to_have_count(0)
        assert home_request(dashboard, declined)["state"] == "declined"

        # A third request, one clip approved: once its offer reached the agency, the home
        # has delivered what it had to send, so the declined request's inbox is final.
        revoked = (await in_thread(dashboard.new_request))["request_id"]
        clip = home_request(dashboard, revoked)["clips"][0]["clip"]
        async with HassWebsocket(dashboard.hass.base_url, dashboard.owner.access_token) as ws:
            await ws.command("porchlight/requests/approve", request_id=revoked, clip_ids=[clip])
        (offer,) = await wait_offers(dashboard, revoked, 1)
        assert dashboard.agency.offers(declined) == []
        (link,) = offer_links(offer)

        # Revoke it in History before the agency downloads it.
        await panel.locator("nav button", has_text="History").click()
        history = panel.locator(f'section[aria-labelledby="hist-{revoked}"]')
        await history.get_by_role("button", name="Revoke").click()
        await expect(history).to_contain_text("Revoked")

    base, token = link.url.rsplit("/", 1)
    made_up = f"{base}/{secrets.token_urlsafe(len(token))[: len(token)]}"
    revoked_answer = await in_thread(get, link.url)
    unknown_answer = await in_thread(get, made_up)
    assert revoked_answer[0] == 404
    assert revoked_answer == unknown_answer


async def test_a_request_with_many_clips_shows_three_and_the_rest_on_demand(
    dashboard: DashboardHome,
) -> None:
    """Five clips match: three are drawn, "Show all 5 clips" draws the others, shareable too."""
    await in_thread(dashboard.record_clips, 2)
    window = (dashboard.window[0], time.time() - 0.5)
    request = await in_thread(dashboard.new_request, window)
    request_id = request["request_id"]
    assert len(request["clips"]) == 5
    async with logged_in(dashboard, dashboard.owner) as page:
        panel = await open_panel(page, dashboard)
        section = request_section(panel, request_id)
        clips = section.locator("li.clip")
        await expect(clips).to_have_count(3)
        more = section.get_by_role("button", name="Show all 5 clips")
        await expect(more).to_have_attribute("aria-expanded", "false")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        await section.screenshot(path=ARTIFACTS / "panel-request-folded.png")
        await more.click()
        await expect(clips).to_have_count(5)
        fewer = section.get_by_role("button", name="Show fewer clips")
        await expect(fewer).to_have_attribute("aria-expanded", "true")

        # The last clip, hidden at first, is shared like any other.
        box = clips.nth(4).get_by_role("checkbox")
        chosen = (await box.get_attribute("id") or "").removeprefix("clip-")
        await box.check()
        await fewer.click()
        await expect(clips).to_have_count(3)
        await section.get_by_role("button", name="Share selected (1)").click()
        dialog = panel.locator("dialog[open]")
        await expect(dialog).to_contain_text("The 4 clips you did not select stay at home")
        await dialog.get_by_role("button", name="Share 1 clip", exact=True).click()
        await expect(dialog).to_have_count(0)

    (offer,) = await wait_offers(dashboard, request_id, 1)
    assert [link.clip for link in offer_links(offer)] == [chosen]


# Every command; each either changes something or reveals what only the owner may see.
def _commands(request_id: str, clip: str, fingerprint: str) -> list[tuple[str, dict[str, Any]]]:
    return [
        ("porchlight/home", {}),
        ("porchlight/requests/list", {}),
        ("porchlight/requests/subscribe", {}),
        ("porchlight/requests/approve", {"request_id": request_id, "clip_ids": [clip]}),
        ("porchlight/requests/decline", {"request_id": request_id}),
        ("porchlight/requests/retry", {"request_id": request_id}),
        ("porchlight/shares/revoke", {"request_id": request_id}),
        ("porchlight/audit/list", {}),
        ("porchlight/audit/verify", {}),
        ("porchlight/peers/list", {}),
        ("porchlight/peers/confirm", {"fingerprint": fingerprint, "code": "12345678"}),
        ("porchlight/peers/remove", {"fingerprint": fingerprint}),
        ("porchlight/agencies/trust", {"fingerprint": fingerprint}),
        ("porchlight/agencies/untrust", {"fingerprint": fingerprint}),
        ("porchlight/agencies/import", {"invite": "plinv1.e30"}),
        ("porchlight/invites/create", {}),
        ("porchlight/invites/accept", {"invite": "plinv1.e30"}),
    ]


async def test_a_user_who_is_not_an_administrator_gets_no_panel_and_no_command(
    dashboard: DashboardHome,
) -> None:
    request = await in_thread(dashboard.new_request)
    request_id, clip = request["request_id"], request["clips"][0]["clip"]
    async with HassWebsocket(dashboard.hass.base_url, dashboard.user.access_token) as ws:
        for type_, data in _commands(request_id, clip, dashboard.agency_fingerprint):
            with pytest.raises(WebsocketError) as refused:
                await ws.command(type_, **data)
            assert refused.value.code == "unauthorized", type_
    # Nothing changed: the request is still pending, the agency trusted, nothing sent.
    assert home_request(dashboard, request_id)["state"] == "pending"
    async with HassWebsocket(dashboard.hass.base_url, dashboard.owner.access_token) as ws:
        peers = await ws.command("porchlight/peers/list")
    (agency,) = [p for p in peers["peers"] if p["fingerprint"] == dashboard.agency_fingerprint]
    assert agency["trusted"] is True
    assert dashboard.agency.offers(request_id) == []

    async with logged_in(dashboard, dashboard.user) as page:
        await page.goto(dashboard.hass.base_url)
        sidebar = page.locator("ha-sidebar")
        await expect(sidebar.get_by_text("Overview")).to_be_visible()
        await expect(sidebar.get_by_text("Porchlight")).to_have_count(0)
        await page.goto(f"{dashboard.hass.base_url}/porchlight")
        await expect(page.locator("home-assistant")).to_be_attached()
        await expect(sidebar.get_by_text("Overview")).to_be_visible()
        await expect(page.locator("porchlight-panel")).to_have_count(0)
        await expect(page.get_by_text(dashboard_home.CASE)).to_have_count(0)


async def accessibility_problems(page: Page, name: str) -> list[str]:
    """Serious and critical axe-core violations on the page as it is now, one line per node.

    Once Home Assistant's own loading screen (`ha-init-page`) is gone: it can outlast the
    first drawing of our card by a moment, and its faint "Loading data" text, HA's and not
    ours, then failed the contrast check now and then (1 run in 4).
    """
    await expect(page.locator("ha-init-page")).to_have_count(0)
    results = await Axe().run(page)
    return [
        f"{name}: {v['id']} ({v['impact']}) at {node['target'][-1]}: {node.get('failureSummary')}"
        for v in results.response["violations"]
        if v["impact"] in {"serious", "critical"}
        for node in v["nodes"]
    ]


CARD_DASHBOARD = "porchlight-card"


async def add_card_dashboard(dashboard: DashboardHome) -> None:
    """A dashboard of its own holding the card, made as Settings > Dashboards makes one."""
    async with HassWebsocket(dashboard.hass.base_url, dashboard.owner.access_token) as ws:
        listed = await ws.command("lovelace/dashboards/list")
        if not any(d["url_path"] == CARD_DASHBOARD for d in listed):
            await ws.command(
                "lovelace/dashboards/create",
                url_path=CARD_DASHBOARD,
                title="Requests card",
                mode="storage",
                require_admin=False,
                show_in_sidebar=False,
            )
        await ws.command(
            "lovelace/config/save",
            url_path=CARD_DASHBOARD,
            config={
                "title": "Home",
                "views": [
                    {
                        "title": "Home",
                        "path": "home",
                        "cards": [{"type": "custom:porchlight-requests-card"}],
                    }
                ],
            },
        )


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
async def test_every_view_and_the_card_is_accessible_and_photographed(
    dashboard: DashboardHome, dark: bool
) -> None:
    """Screenshots for people to look at; axe-core's verdict on every view and the card."""
    await in_thread(dashboard.new_request)  # at least one pending request to show
    await add_card_dashboard(dashboard)
    theme = "dark" if dark else "light"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    for size, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        async with logged_in(dashboard, dashboard.owner, viewport=viewport, dark=dark) as page:
            panel = await open_panel(page, dashboard)
            await expect(panel.locator("li.clip").first).to_be_visible()
            for view in VIEWS:
                await panel.locator("nav button", has_text=view).click()
                await expect(
                    panel.get_by_role("heading", name=view, exact=True, level=2)
                ).to_be_visible()
                await expect(panel.get_by_text("Loading")).to_have_count(0)
                slug = view.split()[0].lower()
                await page.screenshot(path=ARTIFACTS / f"panel-{slug}-{size}-{theme}.png")
                if size == "desktop":
                    problems += await accessibility_problems(page, f"{view} ({theme})")

            await page.goto(f"{dashboard.hass.base_url}/{CARD_DASHBOARD}/home")
            card = page.locator("porchlight-requests-card")
            await expect(card.get_by_role("heading", name="Footage requests")).to_be_visible()
            await expect(card.get_by_text("Loading")).to_have_count(0)
            await page.screenshot(path=ARTIFACTS / f"card-{size}-{theme}.png")
            if size == "desktop":
                problems += await accessibility_problems(page, f"card ({theme})")
    # Every view is photographed before the verdict, so a failure still leaves the pictures.
    assert problems == [], "\n".join(problems)
    assert dashboard.hass.porchlight_warnings() == []
