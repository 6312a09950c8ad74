"""Only an alert's poster can attach clips to it, at the home that receives it.

Any paired neighbor can send an `alert_clips` message naming any alert id it saw relayed,
with a manifest it signed itself for this home: the inbox accepts it (the manifest is the
sender's, for us). The home must not show those links as the poster's, nor let them replace
the poster's. Home Assistant is phcc's hass; Oak (the poster) and Elm (another neighbor) are
real protocol nodes on loopback, delivering over HTTP to its inbox.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from homeassistant.exceptions import ServiceValidationError
from pytest_homeassistant_custom_component.common import async_capture_events

from custom_components.porchlight.alerts import EVENT_ALERT, EVENT_ALERT_CLIPS
from custom_components.porchlight.const import DOMAIN
from custom_components.porchlight.federation.evidence import (
    ClipEvidence,
    alert_share_group,
    sign_manifest,
)

from .footage_helpers import neighbor_of_home, redeem_invite

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.common import MockConfigEntry

    from custom_components.porchlight.federation.canonical import JSON

    from .federation.loopback import Network, Running

DROPPED = r"Clips for alert \w+ dropped: they came from a neighbor that did not post it"


def _clips_body(node: Running, home: str, alert: str, clip: str) -> dict[str, JSON]:
    """A well-formed alert_clips body from node for the home: its own manifest, one link."""
    now = node.node.clock.now()
    manifest = sign_manifest(
        node.node.identity,
        agency=home,
        request=alert_share_group(alert, home),
        case="",
        created=now,
        audit=(1, "a" * 64),
        clips=[
            ClipEvidence(
                clip=clip,
                file=f"{clip}.mp4",
                camera="Porch",
                start=now - 60,
                end=now - 40,
                sha256="b" * 64,
                size=1000,
                type="video/mp4",
                consent={"approved_at": now, "by": "owner", "record": "c" * 64},
            )
        ],
    )
    return {
        "alert": alert,
        "manifest": manifest.to_json(),
        "links": [{"clip": clip, "url": f"{node.endpoint}/share/{clip}", "expires": now + 3600}],
    }


async def _links(hass: HomeAssistant, alert: str) -> list[dict[str, Any]]:
    response = await hass.services.async_call(
        DOMAIN, "alert_clips", {"event_id": alert}, blocking=True, return_response=True
    )
    return response["clips"]  # type: ignore[no-any-return,index]


async def _send(hass: HomeAssistant, node: Running, network: Network, *args: Any) -> None:
    home = args[0]
    node.node.send(home, "alert_clips", _clips_body(node, *args), lifetime=3600)
    assert await node.node.deliver(network.sender) == 1
    await hass.async_block_till_done()


@pytest.mark.allow_porchlight_warnings(DROPPED)
async def test_only_the_poster_attaches_clips_to_its_alert(
    hass: HomeAssistant, init_integration: MockConfigEntry, endpoint: str, network: Network
) -> None:
    home = init_integration.runtime_data.federation.node.identity.keyid
    oak = await neighbor_of_home(hass, endpoint, network)
    elm = await network.start("Elm 5")
    await redeem_invite(hass, endpoint, network, elm)
    shown = async_capture_events(hass, EVENT_ALERT)
    counted = async_capture_events(hass, EVENT_ALERT_CLIPS)

    alert = oak.node.broadcast_alert("Van checking car doors", category="theft")
    assert await oak.node.deliver(network.sender) == 1
    await hass.async_block_till_done()
    # Elm names Oak's alert: refused, not shown, nothing to hand out.
    await _send(hass, elm, network, home, alert.event_id, "e1")
    assert counted == []
    with pytest.raises(ServiceValidationError):
        await _links(hass, alert.event_id)
    # Oak's own clips attach; Elm's sent afterwards do not replace them.
    await _send(hass, oak, network, home, alert.event_id, "o1")
    await _send(hass, elm, network, home, alert.event_id, "e2")
    assert [e.data for e in counted] == [{"event_id": alert.event_id, "clips": 1}]
    assert [link["clip"] for link in await _links(hass, alert.event_id)] == ["o1"]
    assert [e.data["clips"] for e in shown] == [0]

    # Clips that come before their alert wait for it, and attach only if it is the sender's.
    later = oak.node.broadcast_alert("Still there", category="suspicious")
    await _send(hass, elm, network, home, later.event_id, "e3")
    assert await oak.node.deliver(network.sender) == 1
    await hass.async_block_till_done()
    assert shown[-1].data["clips"] == 0
    with pytest.raises(ServiceValidationError):
        await _links(hass, later.event_id)
    # Oak's own clips ahead of its alert (held back in its outbox, sent after them).
    third = oak.node.broadcast_alert("Gone now", category="other")
    oak.node.outbox.drop_peer(home)
    await _send(hass, oak, network, home, third.event_id, "o3")
    assert counted[1:] == []
    oak.node.sending.queue(home, third, oak.node.clock.now())
    assert await oak.node.deliver(network.sender) == 1
    await hass.async_block_till_done()
    assert (shown[-1].data["event_id"], shown[-1].data["clips"]) == (third.event_id, 1)
    assert [link["clip"] for link in await _links(hass, third.event_id)] == ["o3"]
