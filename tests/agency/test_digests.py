"""`porchlight-agency digest`: the views homes sent, kept per home and week, checked again."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

import pytest

from custom_components.porchlight.federation.canonical import b64u
from custom_components.porchlight.federation.digest import AgencyCounts
from custom_components.porchlight.federation.identity import Identity
from custom_components.porchlight.federation.messages import seal
from porchlight_agency import digests
from porchlight_agency.profile import Profile

from .cli_helpers import Cli, one_line_error

if TYPE_CHECKING:
    from pathlib import Path

    from custom_components.porchlight.federation.messages import Envelope

ASKED = AgencyCounts(requests_received=2, in_area=1, declined=1)


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    cli = Cli(tmp_path / "agency", 8750)
    assert cli.init().status == 0
    return cli


def _view(agency: str, period: str = "2026-W48", **changes: Any) -> dict[str, Any]:
    view: dict[str, Any] = {
        "v": 1,
        "kind": "porchlight-agency-digest",
        "period": period,
        "homes": 5,
        "agencies": [{"agency": agency, **ASKED.to_json()}],
        "withheld": 0,
    }
    return {**view, **changes}


def _sealed(home: Identity, agency: str, view: dict[str, Any], created: int) -> Envelope:
    return seal(
        home,
        "agency_digest",
        {"view": view},
        to=agency,
        now=created,
        lifetime=3600,
        message_id=b64u(bytes(16)),
    )


def test_views_are_kept_newest_first_and_printed(cli: Cli) -> None:
    profile = Profile(cli.profile_dir)
    agency = cli.node().identity.keyid
    home, other = Identity.generate(), Identity.generate()
    now = int(time.time())
    assert digests.keep(profile, _sealed(home, agency, _view(agency), now), agency) is not None
    older = _sealed(home, agency, _view(agency, homes=9), now - 10)
    assert digests.keep(profile, older, agency) is None
    newer = _sealed(home, agency, _view(agency), now + 10)
    assert digests.keep(profile, newer, agency) is not None
    withheld = _view(agency, "2026-W49", agencies=[], withheld=1)
    digests.keep(profile, _sealed(home, agency, withheld, now), agency)
    nothing = _view(agency, "2026-W49", agencies=[])
    digests.keep(profile, _sealed(other, agency, nothing, now), agency)

    shown = cli.run_sync("digest")
    assert shown.status == 0, shown.err
    lines = shown.out.splitlines()
    assert len(lines) == 3
    assert lines[0].startswith(f"2026-W48  from {home.keyid}")
    assert lines[0].endswith(
        "5 homes: requests received 2, in area 1, clips shared 0, declined 1, "
        "auto declined 0, expired 0"
    )
    assert "row withheld" in shown.out
    assert "no request of this agency" in shown.out
    as_json = json.loads(cli.run_sync("digest", "--json", "--period", "2026-W48").out)
    assert [(v["home"], v["homes"], v["home_name"]) for v in as_json] == [(home.keyid, 5, "")]


def test_a_damaged_or_misfiled_view_is_skipped_and_reported(cli: Cli) -> None:
    profile = Profile(cli.profile_dir)
    agency = cli.node().identity.keyid
    home, other = Identity.generate(), Identity.generate()
    now = int(time.time())
    path = digests.keep(profile, _sealed(home, agency, _view(agency), now), agency)
    assert path is not None
    (path.parent / "notes.txt").write_text("not a view")
    (path.parent / "sub.json").mkdir()
    # Filed under another home's folder: refused.
    misfiled = digests.folder(profile) / other.keyid / "2026-W48.json"
    misfiled.parent.mkdir()
    misfiled.write_bytes(path.read_bytes())
    # Signed by the home but for another agency (written past the checks of keep).
    stranger = Identity.generate().keyid
    wrong = digests.folder(profile) / home.keyid / "2026-W47.json"
    wrong.write_bytes(_sealed(home, agency, _view(stranger, "2026-W47"), now).encode())
    result = cli.run_sync("digest")
    assert result.status == 1
    assert result.out.count("\n") == 1
    assert "is not a digest view of the home it is filed under" in result.err
    assert "is not a digest view for this agency" in result.err
    assert one_line_error(result.err.splitlines(keepends=True)[-1]).startswith("2 stored view")
    # A damaged file is replaced by the next view verified.
    path.write_text("{")
    assert digests.keep(profile, _sealed(home, agency, _view(agency), now - 99), agency) == path


def test_no_view_or_a_bad_week_is_one_line_error(cli: Cli) -> None:
    none = cli.run_sync("digest")
    assert none.status == 1
    assert one_line_error(none.err).startswith("no home has sent this agency")
    bad = cli.run_sync("digest", "--period", "2026-49")
    assert bad.status == 2
    assert one_line_error(bad.err).startswith("--period: period must be an ISO week")
