"""inbox: the agency endpoint served for real, offers kept, outbox delivered, clean stop."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import threading
from typing import TYPE_CHECKING

import pytest

from custom_components.porchlight.federation.httpsig import new_nonce
from custom_components.porchlight.federation.messages import BROADCAST, seal
from custom_components.porchlight.federation.node import OFFER, NodeHooks
from porchlight_agency import profile as profile_module
from porchlight_agency.profile import Profile
from tests.federation import loopback

from .cli_helpers import Served, issue_request, paired_home, wait_listening

if TYPE_CHECKING:
    from custom_components.porchlight.federation.canonical import JSON
    from custom_components.porchlight.federation.messages import Envelope
    from tests.federation.loopback import Network, Running

    from .cli_helpers import Cli

DAY = 86400


def offer_body(request_id: str, home: Running, agency: str, clips: int = 2) -> dict[str, JSON]:
    """An offer as a home sends it, with a manifest the home signed for this agency."""
    return loopback.offer_body(home, agency, request_id, tuple(f"clip{i}" for i in range(clips)))


async def send_offer(
    network: Network, home: Running, agency_keyid: str, body: dict[str, JSON]
) -> Envelope:
    """Sign and deliver an offer to the agency's offer endpoint, as a home does."""
    envelope = home.node.send(agency_keyid, "footage_offer", body, lifetime=DAY, route=OFFER)
    assert await home.node.deliver(network.sender) == 1
    return envelope


async def test_inbox_keeps_offers_from_homes_it_never_paired_with(
    cli: Cli, network: Network
) -> None:
    cli.init()
    entry = await paired_home(cli, network)
    request_id = await issue_request(cli)
    stranger = await network.start("Oak Ave 3")  # heard of the request through a neighbor
    stranger.node.import_agency(cli.run_sync("invite", "--lan").out.strip(), lan=True)
    agency = cli.node().identity.keyid
    served = Served(cli, "--once-seconds", "2")
    async with served:
        first = await send_offer(
            network, stranger, agency, offer_body(request_id, stranger, agency, 3)
        )
        second = await send_offer(network, entry, agency, offer_body(request_id, entry, agency, 1))
    result = await served.result()
    assert result.status == 0, result.err
    lines = result.out.splitlines()
    assert lines == [
        (
            f"offer {first.event_id} from {stranger.node.identity.fingerprint} "
            f"for request {request_id}: 3 clips"
        ),
        (
            f"offer {second.event_id} from {entry.node.identity.fingerprint} "
            f"for request {request_id}: 1 clip"
        ),
    ]
    stored = cli.profile_dir / "offers" / request_id / f"{first.event_id}.json"
    assert stored.read_bytes() == first.encode()
    assert oct(stored.stat().st_mode & 0o777) == "0o600"
    assert "2 offer(s) received" in result.err
    assert "/share/" not in result.out + result.err  # capability URLs hold tokens

    listing = cli.run_sync("offers", request_id[:10])
    assert listing.status == 0
    assert "case 2026-000123" in listing.out
    assert f"from {stranger.node.identity.fingerprint}  3 clips" in listing.out
    assert f"from {entry.node.identity.fingerprint}  1 clip " in listing.out
    assert cli.run_sync("offers").out == listing.out


@pytest.mark.allow_porchlight_warnings(r"could not be delivered \(status 403\); kept for a retry")
async def test_inbox_refuses_offers_for_requests_it_did_not_issue(
    cli: Cli, network: Network
) -> None:
    cli.init()
    home = await network.start("Oak Ave 3")
    home.node.import_agency(cli.run_sync("invite", "--lan").out.strip(), lan=True)
    async with Served(cli, "--once-seconds", "1") as served:
        agency = cli.node().identity.keyid
        home.node.send(
            agency, "footage_offer", offer_body("0" * 64, home, agency), lifetime=DAY, route=OFFER
        )
        assert await home.node.deliver(network.sender) == 0
    assert (await served.result()).out == ""
    assert not (cli.profile_dir / "offers").exists()


async def test_inbox_sees_requests_issued_while_it_runs(cli: Cli, network: Network) -> None:
    cli.init()
    home = await paired_home(cli, network)
    async with Served(cli, "--once-seconds", "3") as served:
        request_id = await issue_request(cli)
        await send_offer(
            network,
            home,
            cli.node().identity.keyid,
            offer_body(request_id, home, cli.node().identity.keyid),
        )
    assert request_id in (await served.result()).out


async def test_home_pairs_through_the_running_inbox(cli: Cli, network: Network) -> None:
    cli.init()
    invite = cli.run_sync("invite", "--lan").out.strip()
    home = await network.start("Maple St 12")
    async with Served(cli, "--once-seconds", "1"):
        peer = await home.node.accept_invite(invite, network.sender, lan=True)
    (agency_side,) = cli.node().peers
    assert agency_side.name == "Maple St 12"
    assert agency_side.pending
    assert agency_side.pairing_code == peer.pairing_code
    assert agency_side.lan


async def test_inbox_delivers_the_outbox(cli: Cli, network: Network) -> None:
    cli.init()
    heard: list[str] = []
    hooks = NodeHooks(on_request=lambda env, _origin, _via: heard.append(env.event_id))
    home = await paired_home(cli, network, hooks=hooks)
    port = home.port
    await network.stop(home)
    request_id = await issue_request(cli)
    assert heard == []
    # Make the queued entry due now rather than after its backoff.
    outbox = cli.profile_dir / "outbox.json"
    document = json.loads(outbox.read_text())
    for entry in document["entries"]:
        entry["next_attempt"] = 0
    outbox.write_text(json.dumps(document))
    await network.serve(home.node, port=port)
    async with Served(cli, "--once-seconds", "1.5", "--deliver-every", "0.2"):
        pass
    assert heard == [request_id]
    assert len(cli.node().outbox) == 0


async def test_inbox_answers_503_while_the_profile_stays_busy(
    cli: Cli, network: Network, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    cli.init()
    home = await paired_home(cli, network)
    request_id = await issue_request(cli)
    monkeypatch.setattr(profile_module, "LOCK_TIMEOUT", 0.3)
    holder = Profile(cli.profile_dir)
    async with Served(cli, "--once-seconds", "2", "--deliver-every", "0.1") as served:
        with holder.locked():
            home.node.send(
                cli.node().identity.keyid, "footage_offer",
                offer_body(request_id, home, cli.node().identity.keyid),
                lifetime=DAY, route=OFFER,
            )  # fmt: skip
            assert await home.node.deliver(network.sender) == 0
            await asyncio.sleep(0.5)  # a delivery round gives up meanwhile
        (entry,) = home.node.outbox
        assert entry.last_error == "status 503"
    assert (await served.result()).status == 0
    assert "Request answered 503: the profile" in caplog.text
    assert "Delivery round skipped" in caplog.text


async def test_inbox_cannot_listen_on_a_taken_port(cli: Cli, network: Network) -> None:
    cli.init()
    home = await network.start("Maple St 12")
    result = await cli.run("inbox", "--port", str(home.port), "--once-seconds", "1")
    assert result.status == 1
    assert result.err.startswith(
        f"porchlight-agency: error: cannot listen on 127.0.0.1:{home.port}"
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--once-seconds", "0"], "argument --once-seconds: seconds must be a positive number"),
        (["--once-seconds", "nan"], "argument --once-seconds: seconds must be a positive number"),
        (["--once-seconds", "inf"], "argument --once-seconds: seconds must be a positive number"),
        (["--deliver-every", "-1"], "argument --deliver-every: seconds must be a positive"),
        (["--once-seconds", "soon"], "argument --once-seconds: invalid seconds value: 'soon'"),
        (["--port", "99999"], "argument --port: a port is 0 to 65535, not 99999"),
        (["--port", "-1"], "argument --port: a port is 0 to 65535, not -1"),
        (["--port", "http"], "argument --port: invalid port value: 'http'"),
    ],
)
def test_inbox_rejects_a_bad_duration_or_port(cli: Cli, argv: list[str], message: str) -> None:
    cli.init()
    result = cli.run_sync("inbox", *argv)
    assert result.status == 2
    assert result.err.startswith(f"porchlight-agency: error: {message}"), result.err
    assert result.err.count("\n") == 1


def test_inbox_cannot_listen_on_an_address_of_another_computer(cli: Cli) -> None:
    cli.init()
    # 192.0.2.0/24 is TEST-NET-1 (RFC 5737): no machine has it.
    result = cli.run_sync("inbox", "--host", "192.0.2.1", "--port", "0", "--once-seconds", "1")
    assert result.status == 1
    error = result.err.removeprefix("porchlight-agency: error: cannot listen on 192.0.2.1:0: ")
    assert error != result.err
    assert "None" not in error
    assert len(error) > 1


def test_inbox_stops_cleanly_on_sigterm(cli: Cli) -> None:
    cli.init()

    def stop_when_listening() -> None:
        asyncio.run(wait_listening(cli.port))
        os.kill(os.getpid(), signal.SIGTERM)

    killer = threading.Thread(target=stop_when_listening)
    killer.start()
    result = cli.run_sync("inbox", "--port", str(cli.port))
    killer.join()
    assert result.status == 0
    assert "stopped; 0 offer(s) received" in result.err


async def test_inbox_keeps_only_offers(
    cli: Cli, network: Network, caplog: pytest.LogCaptureFixture
) -> None:
    cli.init()
    home = await paired_home(cli, network)
    caplog.set_level(logging.INFO, logger="porchlight_agency")
    alert = seal(
        home.node.identity,
        "alert",
        {"text": "Package thief on Maple St", "category": "other", "name": "", "max_hops": 0},
        to=BROADCAST,
        now=network.clock.now(),
        lifetime=3600,
        message_id=new_nonce(),
    )
    async with Served(cli, "--once-seconds", "1") as served:
        status, _ = await network.sender.post(
            home.node.identity, cli.endpoint + "/inbox", alert.encode(), lan=True
        )
        assert status == 202
    assert (await served.result()).out == ""
    assert not (cli.profile_dir / "offers").exists()
    assert f"alert from {home.node.identity.fingerprint} (not kept)" in caplog.text
