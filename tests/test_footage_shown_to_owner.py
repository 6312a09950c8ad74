"""How a request is shown to the owner: the agency's words as plain text, each clip at the
same local time in the notification, the action response and the media browser.

Fixtures `agency` and `recorded`: conftest.py; sending and reading back: footage_helpers.py.
"""

from __future__ import annotations

import hashlib
import re
from typing import TYPE_CHECKING

import pytest
from homeassistant.components.media_source import URI_SCHEME, async_browse_media
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util

from custom_components.porchlight.consent_glue import plain
from custom_components.porchlight.const import DOMAIN

from .footage_helpers import call, notifications, send_request
from .home import FRONT_DOOR

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.common import MockConfigEntry
    from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

    from custom_components.porchlight.recordings.models import Clip

    from .federation.loopback import Network, Running


# --- what the agency wrote is shown, never rendered ------------------------------------------
async def test_markdown_from_the_agency_is_shown_as_text(
    hass: HomeAssistant, init_integration: MockConfigEntry, agency: Running, network: Network
) -> None:
    pixel = "![x](https://pd.example/p.png?home=1) <img src=https://pd.example/q> [Approve](x)"
    await send_request(hass, agency, network, reason=pixel, case="*bold*\nsecond line")
    (note,) = notifications(hass).values()
    message = note["message"]
    # An image would load from the agency's server only in the homes that were asked.
    assert "![" not in message
    assert "<img" not in message
    # The only links are Porchlight's own, to its signed clip paths.
    assert message.count("](") == message.count("](/api/porchlight/clips/") == 3
    assert r"\!\[x\]\(https://pd\.example/p\.png?home=1\) &lt;img" in message
    assert r"Case: \*bold\* second line." in message


def test_plain_text_escapes_every_markdown_character() -> None:
    assert plain("a\\b`c*d_e{f}g[h]i(j)k#l+m-n.o!p|q~r>s<t&u") == (
        r"a\\b\`c\*d\_e\{f\}g\[h\]i\(j\)k\#l\+m\-n\.o\!p\|q\~r&gt;s&lt;t&amp;u"
    )
    assert plain("tab\there\x7fend\u0085") == "tab here end "


@pytest.fixture
async def media_browser(hass: HomeAssistant) -> None:
    """The media browser, set up before the test server starts (its router freezes then)."""
    assert await async_setup_component(hass, "media_source", {})


async def test_owner_sees_each_clip_at_the_same_local_time_everywhere(
    hass: HomeAssistant,
    media_browser: None,
    init_integration: MockConfigEntry,
    agency: Running,
    network: Network,
    recorded: list[Clip],
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    # A home eight hours from UTC: a time shown in UTC would read as another time of day.
    await hass.config.async_set_time_zone("America/Los_Angeles")
    envelope = await send_request(hass, agency, network)
    clip = recorded[1]
    local = dt_util.as_local(dt_util.utc_from_timestamp(int(clip.start)))
    utc = dt_util.utc_from_timestamp(int(clip.start))

    # The notification: the clip's camera, its local day and time, and a link that plays it.
    (note,) = notifications(hass).values()
    (line,) = [li for li in note["message"].splitlines() if clip.id in li]
    assert "Front door" in line
    assert f"{local:%Y-%m-%d %H:%M:%S}" in line
    assert f"{utc:%H:%M:%S}" not in line
    link = re.search(r"\]\((/api/porchlight/clips/[^)\s]+)\)", line)
    assert link is not None
    client = await hass_client_no_auth()
    played = await client.get(link.group(1))
    assert played.status == 200
    assert hashlib.sha256(await played.read()).hexdigest() == clip.sha256

    # The media browser files it under the same local day and shows the same time.
    day = await async_browse_media(
        hass, f"{URI_SCHEME}{DOMAIN}/{FRONT_DOOR}/{local.date().isoformat()}"
    )
    (item,) = [c for c in day.children if c.identifier.endswith(clip.id)]
    assert f"{local:%H:%M:%S}" in item.title
    assert f"{local:%H:%M:%S}" in line

    # Action responses: ISO 8601 in Home Assistant's time zone, which templates can parse.
    approved = await call(hass, "approve_clips", request_id=envelope.event_id, clip_ids=[clip.id])
    expires = dt_util.parse_datetime(approved["approved"][0]["expires"])
    assert expires is not None
    assert expires.utcoffset() == local.utcoffset()
    (listed,) = (await call(hass, "list_requests"))["requests"]
    shown = next(c for c in listed["clips"] if c["clip"] == clip.id)
    assert shown["start"] == local.isoformat()
    assert shown["camera"] == "Front door"
    assert listed["shares"][0]["expires"] == approved["approved"][0]["expires"]
