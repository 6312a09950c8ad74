"""request: checked locally against the homes' limits, signed, delivered, remembered."""

from __future__ import annotations

import json
import time
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import pytest

from custom_components.porchlight.federation.node import NodeHooks
from porchlight_agency.errors import UsageError
from porchlight_agency.request import format_time, parse_time

from .cli_helpers import iso, issue_request, paired_home

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from custom_components.porchlight.federation.messages import Envelope
    from custom_components.porchlight.federation.peers import Peer
    from tests.federation.loopback import Network

    from .cli_helpers import Cli


class Heard:
    """Footage requests a home's owner side received, through its node's hooks."""

    def __init__(self) -> None:
        self.requests: list[tuple[Envelope, Peer | None, Peer]] = []
        self.hooks = NodeHooks(
            on_request=lambda env, origin, via: self.requests.append((env, origin, via))
        )


async def test_request_reaches_the_paired_home_and_is_remembered(
    cli: Cli, network: Network
) -> None:
    cli.init()
    heard = Heard()
    await paired_home(cli, network, hooks=heard.hooks)
    request_id = await issue_request(cli, "--hops", "2", "--hours-valid", "10")
    ((envelope, origin, via),) = heard.requests
    agency = cli.node()
    assert envelope.event_id == request_id
    assert origin is not None
    assert origin.keyid == via.keyid == agency.identity.keyid
    body = envelope.body
    assert body["case"] == "2026-000123"
    assert body["area"] == {
        "kind": "circle",
        "lat": 40_712_800,
        "lon": -74_006_000,
        "radius_m": 200,
    }
    assert body["reply_to"] == cli.endpoint
    assert body["max_hops"] == 2
    assert envelope.expires - envelope.created == 10 * 3600
    assert agency.issued == {request_id: envelope.expires}
    assert len(agency.outbox) == 0
    assert (cli.profile_dir / "requests" / f"{request_id}.json").read_bytes() == envelope.encode()


async def test_request_to_an_unreachable_home_stays_queued(cli: Cli, network: Network) -> None:
    cli.init()
    home = await paired_home(cli, network)
    await network.stop(home)
    now = time.time()
    result = await cli.run(
        "request", "--center", "40.7128,-74.0060", "--radius", "200", "--from",
        iso(now - 3600), "--to", iso(now - 60), "--case", "", "--reason", "Hit and run",
    )  # fmt: skip
    assert result.status == 0, result.err
    assert "not delivered (Connection refused)" in result.err
    assert "; kept in the outbox ('inbox' retries it)" in result.err
    (entry,) = cli.node().outbox
    assert entry.attempts == 1


@pytest.mark.allow_porchlight_warnings(r"was given up \(status 403\)")
async def test_request_refused_by_a_home_that_does_not_trust_the_agency(
    cli: Cli, network: Network
) -> None:
    cli.init()
    heard = Heard()
    home = await paired_home(cli, network, hooks=heard.hooks)
    home.node.peers.set_trusted(cli.node().identity.keyid, trusted=False)
    now = time.time()
    result = await cli.run(
        "request", "--center", "40.7128,-74.0060", "--radius", "200", "--from",
        iso(now - 3600), "--to", iso(now - 60), "--case", "", "--reason", "Hit and run",
    )  # fmt: skip
    assert result.status == 1
    assert (
        f"{home.node.identity.fingerprint}  Maple St 12: refused: 403 untrusted; not retried"
        in result.err
    )
    assert "reached no home, and no delivery of it is left to retry" in result.err.splitlines()[-1]
    assert result.out == ""
    assert heard.requests == []
    assert len(cli.node().outbox) == 0


@pytest.mark.allow_porchlight_warnings(r"was given up \(refused: destination is a loopback address")
async def test_request_to_a_home_whose_address_is_now_refused_is_not_said_to_be_kept(
    cli: Cli, network: Network
) -> None:
    cli.init()
    home = await paired_home(cli, network)
    # The home was paired as public; its name now resolves to a private (here: loopback) one.
    state_path = cli.profile_dir / "state.json"
    state = json.loads(state_path.read_text())
    (peer,) = state["peers"]["peers"]
    peer["lan"] = False
    state_path.write_text(json.dumps(state))
    now = time.time()
    result = await cli.run(
        "request", "--center", "40.7128,-74.0060", "--radius", "200", "--from",
        iso(now - 3600), "--to", iso(now - 60), "--case", "", "--reason", "Hit and run",
    )  # fmt: skip
    assert result.status == 1
    line = f"{home.node.identity.fingerprint}  Maple St 12: not sent: the home's address is refused"
    assert line in result.err
    assert result.err.splitlines()[-2].endswith("; not retried")
    assert "kept in the outbox" not in result.err
    assert len(cli.node().outbox) == 0


async def test_a_reason_may_span_lines(cli: Cli, network: Network) -> None:
    cli.init()
    heard = Heard()
    await paired_home(cli, network, hooks=heard.hooks)
    await issue_request(cli, "--reason", "Burglary at 14:05.\nSuspect fled on foot.")
    ((envelope, _, _),) = heard.requests
    assert envelope.body["reason"] == "Burglary at 14:05.\nSuspect fled on foot."


async def test_request_with_a_geojson_polygon(cli: Cli, network: Network, tmp_path: Path) -> None:
    cli.init()
    heard = Heard()
    await paired_home(cli, network, hooks=heard.hooks)
    geojson = tmp_path / "block.geojson"
    ring = [[-74.0060, 40.7128], [-74.0050, 40.7128], [-74.0050, 40.7135], [-74.0060, 40.7128]]
    geojson.write_text(
        json.dumps(
            {
                "type": "Feature",
                "properties": {},
                "geometry": {"type": "Polygon", "coordinates": [ring]},
            }
        )
    )
    now = time.time()
    result = await cli.run(
        "request", "--polygon", str(geojson), "--from", iso(now - 3600), "--to", iso(now - 60),
        "--case", "C-1", "--reason", "Vandalism",
    )  # fmt: skip
    assert result.status == 0, result.err
    ((envelope, _, _),) = heard.requests
    area = envelope.body["area"]
    assert isinstance(area, dict)
    assert area["kind"] == "polygon"


async def test_request_without_confirmed_homes_is_not_issued(cli: Cli) -> None:
    cli.init()
    now = time.time()
    result = await cli.run(
        "request", "--center", "40.7128,-74.0060", "--radius", "200", "--from",
        iso(now - 3600), "--to", iso(now - 60), "--case", "", "--reason", "Hit and run",
    )  # fmt: skip
    assert result.status == 1
    assert "no confirmed home" in result.err
    assert cli.node().issued == {}


def _argv(now: float, **change: str | None) -> list[str]:
    options: dict[str, str | None] = {
        "--center": "40.7128,-74.0060",
        "--radius": "200",
        "--from": iso(now - 3600),
        "--to": iso(now - 60),
        "--case": "C-1",
        "--reason": "Vandalism",
    } | change
    argv = ["request"]
    for name, value in options.items():
        if value is not None:
            argv += [name, value]
    return argv


NOW = time.time()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"--from": "yesterday"}, "--from: not an ISO 8601 time: 'yesterday'"),
        ({"--to": "2026-13-01T00:00"}, "--to: not an ISO 8601 time"),
        ({"--from": iso(NOW - 13 * 3600)}, "the time window is 13.0 h; homes accept at most 12 h"),
        ({"--to": iso(NOW - 7200)}, "--to must be later than --from"),
        ({"--to": iso(NOW + 600)}, "--to lies in the future"),
        (
            {"--from": iso(NOW - 46 * 86400), "--to": iso(NOW - 46 * 86400 + 60)},
            "--from is more than 45 days ago",
        ),
        ({"--radius": "1000"}, "the area is 1.21 sq mi; homes accept at most 0.5 sq mi"),
        ({"--center": "40.7"}, "--center: expected LAT,LON"),
        ({"--center": "north,south"}, "--center: expected LAT,LON"),
        ({"--center": "95,0"}, "--center/--radius:"),
        ({"--center": None}, "an area is needed"),
        ({"--polygon": "x.geojson"}, "give either --center and --radius or --polygon"),
        ({"--case": "C" * 65}, "--case: at most 64 characters"),
        ({"--reason": " "}, "--reason: 1 to 500 characters"),
        ({"--hops": "7"}, "--hops: 0 to 6"),
        ({"--hours-valid": "0"}, "--hours-valid: 1 to 336"),
        ({"--radius": "wide"}, "argument --radius: invalid float value: 'wide'"),
        ({"--case": None}, "the following arguments are required: --case"),
        ({"--reason": "bad\udcff"}, "--reason: not UTF-8 text"),
        ({"--case": "\udcfe"}, "--case: not UTF-8 text"),
        ({"--case": "C-1\x07"}, "--case: control character U+0007 not allowed"),
        ({"--reason": "a\rb"}, "--reason: control character U+000D not allowed"),
        ({"--from": "0001-01-01"}, "--from: '0001-01-01' is outside the range of times"),
        ({"--from": "0001-01-01T00:00+05:00"}, "--from: '0001-01-01T00:00+05:00' is outside"),
        ({"--to": "9999-12-31T23:59"}, "--to: '9999-12-31T23:59' is outside the range"),
        ({"--to": "9999-12-31T23:59-12:00"}, "--to: '9999-12-31T23:59-12:00' is outside"),
        (
            {"--from": "9999-12-31T23:00Z", "--to": "9999-12-31T23:59Z"},
            "--to lies in the future (9999-12-31 23:59:00 UTC)",
        ),
    ],
)
def test_request_outside_the_homes_limits_is_refused_locally(
    cli: Cli, change: dict[str, str | None], message: str
) -> None:
    cli.init()
    result = cli.run_sync(*_argv(time.time(), **change))
    assert result.status == 2
    assert result.err.startswith(f"porchlight-agency: error: {message}"), result.err
    assert result.err.count("\n") == 1
    assert cli.node().issued == {}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "--polygon: cannot read"),
        (b"{not json", "is not a usable GeoJSON polygon"),
        (b'{"type": "Point", "coordinates": [1, 2]}', "is not a usable GeoJSON polygon"),
        (b" " * (1 << 20) + b"{}", "is larger than"),
        pytest.param(
            b"[" * 200_000 + b"]" * 200_000, "not JSON (nested too deeply)", id="deep-arrays"
        ),
        pytest.param(
            b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
            "not JSON (nested too deeply)",
            id="deep-objects",
        ),
    ],
)
def test_request_with_a_bad_geojson_file_is_refused(
    cli: Cli, tmp_path: Path, content: bytes | None, message: str
) -> None:
    cli.init()
    path = tmp_path / "area.geojson"
    if content is not None:
        path.write_bytes(content)
    result = cli.run_sync(
        *_argv(time.time(), **{"--center": None, "--radius": None, "--polygon": str(path)})
    )
    assert result.status == 2
    assert message in result.err
    assert result.err.count("\n") == 1


@pytest.fixture
def new_york(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """This process in America/New_York's time zone."""
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.usefixtures("new_york")
def test_a_local_time_the_clocks_show_twice_is_refused() -> None:
    with pytest.raises(UsageError) as caught:
        parse_time("2026-11-01T01:10", "--from")
    assert str(caught.value) == (
        "--from: '2026-11-01T01:10' happens twice in this computer's time zone (the clocks go "
        "back); give its offset: 2026-11-01T01:10:00-04:00 or 2026-11-01T01:10:00-05:00"
    )
    assert (
        parse_time("2026-11-01T01:10-05:00", "--from")
        - parse_time("2026-11-01T01:10-04:00", "--from")
        == 3600
    )


@pytest.mark.usefixtures("new_york")
def test_a_local_time_the_clocks_skip_is_refused() -> None:
    with pytest.raises(UsageError, match=r"'2026-03-08T02:30' does not exist in this computer"):
        parse_time("2026-03-08T02:30", "--to")
    assert parse_time("2026-03-08T03:30", "--to") == parse_time("2026-03-08T07:30Z", "--to")


@pytest.mark.usefixtures("new_york")
async def test_the_window_is_read_back_in_local_time_too(cli: Cli, network: Network) -> None:
    cli.init()
    await paired_home(cli, network)
    now = time.time()
    start, end = int(now - 3600), int(now - 60)
    result = await cli.run(
        "request", "--center", "40.7128,-74.0060", "--radius", "200", "--from", iso(start),
        "--to", iso(end), "--case", "", "--reason", "Hit and run",
    )  # fmt: skip
    assert result.status == 0, result.err
    local = datetime.fromtimestamp(start, ZoneInfo("America/New_York"))
    assert f"(here: {local.strftime('%Y-%m-%d %H:%M:%S %z')} to " in result.err


def test_times_without_offset_are_local_time(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        assert parse_time("2026-07-01T12:00", "--from") == parse_time("2026-07-01T16:00Z", "--from")
    finally:
        monkeypatch.undo()
        time.tzset()


def test_times_beyond_year_9999_are_shown_as_seconds() -> None:
    assert format_time(0) == "1970-01-01 00:00:00 UTC"
    assert format_time(10**15) == "1000000000000000 s after 1970-01-01 UTC"
