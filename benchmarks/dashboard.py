"""The dashboard under load: the Porchlight panel with 50 pending requests of 10 clips each.

A real hass process (porchlight_dev.hass) with Porchlight set up through its config flow and
two RTSP test cameras; the real recorder records 10 short clips (capture_clip, ffmpeg stream
copy), and a real agency (the porchlight-agency CLI's code, its inbox a real server on
loopback) sends 50 footage requests through the real federation path, each covering all 10
clips. Then, in one Chromium:

- `panel_s`: open /porchlight until the request list is interactive (all 50 requests drawn,
  every request's Decline button enabled), from navigation start, median of the rounds;
- `baseline_s`: open Home Assistant's default dashboard (Overview) until its view shows its
  cards, same browser, same run, same rounds, alternating with the panel;
- `ratio`: panel_s / baseline_s (target <= 1.2);
- `approve_ws_ms`: websocket round trip of porchlight/requests/approve (one clip, delivery to
  the agency's inbox included, since the command answers with the delivery's outcome), median;
- `list_ws_ms`: round trip of porchlight/requests/list (all 50 requests, what the panel
  waits for before it can draw), median: how much of panel_s is the data;
- `bundle_kb_gzip`: the panel bundle gzipped (level 9), KiB (target <= 120); the card's too;
- `panel_marks_s`: medians of the panel's User Timing marks (panel.ts), seconds from
  navigation start: `bundle` (its module downloaded), `start` (the element got hass),
  `strings` (text and home arrived), `requests` (the first snapshot arrived); what follows
  `requests` until `panel_s` is drawing.

Eleven rounds by default: on these 2-core machines the Overview's own opening time varies by
up to half between rounds, and five rounds left the median ratio moving by 0.3 between runs.

Usage: scripts/bench dashboard [--requests 50] [--clips 10] [--rounds 11]
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from playwright.async_api import Page, async_playwright

from porchlight_dev import dashboard_home
from porchlight_dev.browser import CHROMIUM, CHROMIUM_ARGS
from porchlight_dev.dashboard_home import Agency, HassWebsocket
from porchlight_dev.hass import INTEGRATION, Camera, HassError, HassProcess, Home, write_config
from porchlight_dev.rtsp import RtspServer, free_port, make_camera_video

OWNER = ("owner", "bench-password")
HOME = Home(name="Maple Street 12", latitude=52.379189, longitude=4.899431)
CAMERAS = ["camera.front_door", "camera.garden"]
BUNDLES = INTEGRATION / "frontend"

# Runs in the page: walks open shadow roots, since HA's frontend is web components throughout.
DEEP = """
const deepAll = (root, selector, found = []) => {
  for (const el of root.querySelectorAll("*")) {
    if (el.matches(selector)) found.push(el);
    if (el.shadowRoot) deepAll(el.shadowRoot, selector, found);
  }
  return found;
};
"""
# Ready when every open request is drawn and each one's Decline button can be pressed.
PANEL_READY = (
    "(want) => {"
    + DEEP
    + """
  const panel = deepAll(document, "porchlight-panel")[0];
  if (!panel || !panel.shadowRoot) return false;
  const cards = panel.shadowRoot.querySelectorAll("section.card");
  if (cards.length !== want) return false;
  const decline = deepAll(panel.shadowRoot, "porchlight-decision button.danger, button.danger")
    .filter((b) => !b.disabled && b.getClientRects().length > 0);
  return decline.length >= want ? performance.now() : false;
}"""
)
# Ready when the Overview's view is there and has drawn its cards (each has a size).
BASELINE_READY = (
    "(want) => {"
    + DEEP
    + """
  const view = deepAll(document, "hui-view")[0];
  if (!view) return false;
  const cards = deepAll(view, "ha-card").filter((c) => c.getClientRects().length > 0);
  return cards.length >= want ? performance.now() : false;
}"""
)


def _log(text: str) -> None:
    print(f"bench dashboard: {text}", file=sys.stderr, flush=True)


def _bundle_kib(name: str) -> float:
    data = (BUNDLES / name).read_bytes()
    return round(len(gzip.compress(data, compresslevel=9, mtime=0)) / 1024, 1)


async def _timed_open(page: Page, url: str, ready: str, want: int) -> float:
    """Seconds from navigation start until `ready` holds in the page."""
    await page.goto("about:blank")
    await page.goto(url, wait_until="commit")
    handle = await page.wait_for_function(ready, arg=want, polling="raf", timeout=120_000)
    return float(await handle.json_value()) / 1000


# Where the panel's opening time went: the panel's own User Timing marks (panel.ts) and the
# bundle's download, in seconds from navigation start.
PANEL_MARKS = """() => {
  const at = (name) => performance.getEntriesByName(name).map((e) => e.startTime)[0] ?? null;
  const bundle = performance.getEntriesByType("resource")
    .filter((e) => e.name.includes("porchlight-panel.js")).map((e) => e.responseEnd)[0] ?? null;
  return {bundle, start: at("porchlight:start"), strings: at("porchlight:strings"),
          requests: at("porchlight:requests")};
}"""


async def _browser_rounds(
    hass: HassProcess, auth: dict[str, Any], requests: int, rounds: int
) -> tuple[list[float], list[float], int, list[dict[str, float | None]]]:
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = await browser.new_context(viewport={"width": 1280, "height": 800})
        await context.add_init_script(
            f"localStorage.setItem('hassTokens', JSON.stringify({json.dumps(auth)}));"
        )
        page = await context.new_page()
        overview = f"{hass.base_url}/lovelace/0"
        panel = f"{hass.base_url}/porchlight"
        # The Overview's card count, learnt once: the baseline waits for all of them.
        await page.goto(overview)
        await page.wait_for_function(BASELINE_READY, arg=1, polling="raf", timeout=120_000)
        await asyncio.sleep(2)
        cards = int(
            await page.evaluate(
                "() => {"
                + DEEP
                + """
                const view = deepAll(document, "hui-view")[0];
                return deepAll(view, "ha-card").filter((c) => c.getClientRects().length).length;
              }"""
            )
        )
        # One untimed load of each warms the browser's cache the same way for both.
        await _timed_open(page, panel, PANEL_READY, requests)
        panel_s, baseline_s = [], []
        marks: list[dict[str, float | None]] = []
        for _ in range(rounds):
            baseline_s.append(await _timed_open(page, overview, BASELINE_READY, cards))
            panel_s.append(await _timed_open(page, panel, PANEL_READY, requests))
            marks.append(await page.evaluate(PANEL_MARKS))
        await browser.close()
    return panel_s, baseline_s, cards, marks


async def _websocket_rounds(
    hass: HassProcess, token: str, rounds: int
) -> tuple[list[float], list[float]]:
    """Round trips of requests/list (what the panel waits for first) and of approve."""
    async with HassWebsocket(hass.base_url, token) as ws:
        list_ms = []
        for _ in range(rounds):
            started = time.perf_counter()
            listed = await ws.command("porchlight/requests/list")
            list_ms.append((time.perf_counter() - started) * 1000)
        chosen = [r for r in listed["requests"] if r["open"]][:rounds]
        times = []
        for request in chosen:
            started = time.perf_counter()
            result = await ws.command(
                "porchlight/requests/approve",
                request_id=request["request_id"],
                clip_ids=[request["clips"][0]["clip"]],
            )
            times.append((time.perf_counter() - started) * 1000)
            if result["delivery"] != "delivered":
                msg = f"an approval was not delivered: {result}"
                raise HassError(msg)
    return list_ms, times


def run(requests: int, clips: int, rounds: int) -> dict[str, Any]:
    """Build the home, measure, and return the JSON line's fields."""
    with tempfile.TemporaryDirectory(prefix="porchlight-bench-dashboard-") as tmp:
        base = Path(tmp)
        video = make_camera_video(base / "doorbell.mp4")
        rtsp = RtspServer(video, cams=len(CAMERAS))
        port = free_port()
        cameras = (Camera("Front door", rtsp.url(1)), Camera("Garden", rtsp.url(2)))
        write_config(base / "hass", port, Home(HOME.name, HOME.latitude, HOME.longitude, cameras))
        hass = HassProcess(base / "hass", port)
        agency = Agency(base / "agency")
        try:
            rtsp.start()
            hass.start()
            owner = hass.onboard(*OWNER)
            if owner is None:
                msg = "the new hass was onboarded already"
                raise HassError(msg)
            token = owner.access_token
            hass.wait_running(token)
            dashboard_home.add_porchlight(
                hass,
                token,
                name=HOME.name,
                latitude=HOME.latitude,
                longitude=HOME.longitude,
                cameras=CAMERAS,
            )
            agency.must("init", "--name", agency.name, "--endpoint", agency.endpoint)
            dashboard_home.pair_agency(hass, token, agency)
            agency.serve(base / "agency-inbox.log")
            dashboard_home.wait_cameras_streaming(hass, token, len(CAMERAS))
            _log(f"recording {clips} clips")
            start = time.time() - 5
            dashboard_home.record_clips(hass, token, CAMERAS, clips, timeout=60.0 * clips)
            end = time.time() - 0.5
            _log(f"sending {requests} requests")
            started = time.perf_counter()
            ids = [
                agency.request((HOME.latitude, HOME.longitude), start, end) for _ in range(requests)
            ]
            for request_id in ids:
                request = dashboard_home.wait_request(hass, token, request_id)
                if len(request["clips"]) != clips or request["state"] != "pending":
                    got = f"{request['state']} with {len(request['clips'])} clips"
                    msg = f"request {request_id} is {got}"
                    raise HassError(msg)
            sent_s = time.perf_counter() - started
            _log(f"{requests} requests pending after {sent_s:.1f} s; opening Chromium")
            panel_s, baseline_s, cards, marks = asyncio.run(
                _browser_rounds(hass, owner.frontend_auth(hass.base_url), requests, rounds)
            )
            list_ms, approve_ms = asyncio.run(_websocket_rounds(hass, token, rounds))
            warnings = hass.porchlight_warnings()
        finally:
            agency.stop()
            hass.stop()
            rtsp.stop()
    panel = statistics.median(panel_s)
    baseline = statistics.median(baseline_s)
    return {
        "benchmark": "dashboard",
        "requests": requests,
        "clips_per_request": clips,
        "rounds": rounds,
        "panel_s": round(panel, 3),
        "baseline_s": round(baseline, 3),
        "baseline_cards": cards,
        "ratio": round(panel / baseline, 2),
        "approve_ws_ms": round(statistics.median(approve_ms), 1),
        "bundle_kb_gzip": _bundle_kib("porchlight-panel.js"),
        "card_bundle_kb_gzip": _bundle_kib("porchlight-requests-card.js"),
        "panel_s_all": [round(s, 3) for s in panel_s],
        "baseline_s_all": [round(s, 3) for s in baseline_s],
        "approve_ws_ms_all": [round(ms, 1) for ms in approve_ms],
        "list_ws_ms": round(statistics.median(list_ms), 1),
        "panel_marks_s": _median_marks(marks),
        "requests_setup_s": round(sent_s, 1),
        "porchlight_warnings": len(warnings),
    }


def _median_marks(marks: list[dict[str, float | None]]) -> dict[str, float | None]:
    """Each mark's median over the rounds (ms in the page, seconds here); None if never set."""
    medians: dict[str, float | None] = {}
    for name in marks[0] if marks else {}:
        seen = [value for m in marks if (value := m.get(name)) is not None]
        medians[name] = round(statistics.median(seen) / 1000, 3) if seen else None
    return medians


def main(argv: list[str] | None = None) -> int:
    """Print one JSON line."""
    parser = argparse.ArgumentParser(prog="scripts/bench dashboard")
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--clips", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=11)
    args = parser.parse_args(argv)
    print(json.dumps(run(args.requests, args.clips, args.rounds), sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
