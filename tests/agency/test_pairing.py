"""init, invite, pair, confirm and peers against real homes on loopback."""

from __future__ import annotations

import stat
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from custom_components.porchlight.federation.identity import Identity
from custom_components.porchlight.federation.invites import Invite

if TYPE_CHECKING:
    from tests.federation.loopback import Network

    from .cli_helpers import Cli


def test_init_prints_the_fingerprint_and_keeps_the_key_private(cli: Cli) -> None:
    result = cli.init()
    assert result.status == 0
    fingerprint = result.out.strip()
    node = cli.node()
    assert fingerprint == node.identity.fingerprint
    assert len(fingerprint.split("-")) == 8
    assert "independent" in result.err or "already trust" in result.err
    key = cli.profile_dir / "identity.pem"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(cli.profile_dir.stat().st_mode) == 0o700
    assert Identity.from_pem(key.read_bytes()).keyid == node.identity.keyid
    assert node.endpoint == cli.endpoint
    assert node.settings.role == "agency"


def test_init_refuses_to_overwrite_a_profile(cli: Cli) -> None:
    first = cli.init().out
    again = cli.init("Other PD")
    assert again.status == 1
    assert again.err.startswith("porchlight-agency: error: ")
    assert "refusing to overwrite" in again.err
    assert cli.node().identity.fingerprint == first.strip()


def test_init_without_an_api_path_serves_the_default_one(cli: Cli) -> None:
    result = cli.run_sync("init", "--name", "Metro PD", "--endpoint", "https://pd.example.org/")
    assert result.status == 0
    assert cli.node().endpoint == "https://pd.example.org/api/porchlight/v1"


def test_init_rejects_a_bad_endpoint_and_a_bad_name(cli: Cli) -> None:
    bad_url = cli.run_sync("init", "--name", "Metro PD", "--endpoint", "ftp://pd.example.org")
    assert bad_url.status == 2
    assert "endpoint URL" in bad_url.err
    bad_name = cli.run_sync("init", "--name", " ", "--endpoint", "https://pd.example.org")
    assert bad_name.status == 2
    assert "name" in bad_name.err
    assert not (cli.profile_dir / "identity.pem").exists()


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://pd.example:99999",
        "http://pd.example:0",
        "http://[1.2.3]",
        "http://pd.example?x=1",
        "http://user@pd.example",
        "ftp://pd.example",
    ],
)
def test_init_refuses_an_endpoint_and_shows_it_as_typed(cli: Cli, endpoint: str) -> None:
    result = cli.run_sync("init", "--name", "Metro PD", "--endpoint", endpoint)
    assert result.status == 2
    assert result.err.startswith(
        f"porchlight-agency: error: not a usable endpoint URL: {endpoint!r} (http:// or "
    )
    assert result.err.count("\n") == 1
    assert not cli.profile_dir.exists()


def test_init_accepts_an_upper_case_scheme_and_refuses_an_overlong_endpoint(cli: Cli) -> None:
    long = "https://pd.example/" + "a" * 240
    result = cli.run_sync("init", "--name", "Metro PD", "--endpoint", long)
    assert result.status == 2
    assert "the endpoint URL is longer than 256 characters" in result.err
    assert cli.run_sync("init", "--name", "PD", "--endpoint", "HTTPS://pd.example").status == 0
    assert cli.node().endpoint == "https://pd.example/api/porchlight/v1"


def test_init_refuses_a_key_left_without_a_profile_and_keeps_it(cli: Cli) -> None:
    cli.profile_dir.mkdir()
    key = cli.profile_dir / "identity.pem"
    key.write_bytes(b"an earlier key")
    result = cli.init()
    assert result.status == 1
    assert f"{key} is there without a profile.json" in result.err
    assert result.err.count("\n") == 1
    assert key.read_bytes() == b"an earlier key"


def test_init_refuses_a_folder_holding_something_else(cli: Cli) -> None:
    cli.profile_dir.mkdir()
    (cli.profile_dir / "notes.txt").write_text("mine")
    result = cli.init()
    assert result.status == 1
    assert "is not empty; init needs a new or empty folder" in result.err
    assert [p.name for p in cli.profile_dir.iterdir()] == ["notes.txt"]


def test_init_uses_an_empty_folder_even_if_a_command_left_its_lock(cli: Cli) -> None:
    cli.profile_dir.mkdir()
    assert cli.run_sync("invite").status == 1  # no profile yet; its lock file stays
    assert (cli.profile_dir / ".lock").exists()
    assert cli.init().status == 0
    assert cli.run_sync("invite").status == 0


def test_an_interrupted_init_leaves_nothing_half_made(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(self: Path, target: Path) -> Path:
        raise KeyboardInterrupt  # Ctrl-C with the key and state written, not yet in place

    with monkeypatch.context() as patch:
        patch.setattr(Path, "rename", interrupted)
        assert cli.init().status == 130
    assert list(cli.profile_dir.parent.iterdir()) == []
    assert cli.init().status == 0
    assert cli.run_sync("peers").status == 0


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("PD\udcff", "--name: not UTF-8 text"),  # how Python passes a stray \xff byte on
        ("PD\x1b[2J", "--name: control character U+001B not allowed"),
        ("Metro\nPD", "--name: control character U+000A not allowed"),
    ],
)
def test_init_refuses_a_name_no_message_could_carry(cli: Cli, name: str, message: str) -> None:
    result = cli.run_sync("init", "--name", name, "--endpoint", "https://pd.example.org")
    assert result.status == 2
    assert result.err.startswith(f"porchlight-agency: error: {message}")
    assert result.err.count("\n") == 1
    assert not (cli.profile_dir / "identity.pem").exists()


def test_commands_without_a_profile_say_how_to_make_one(cli: Cli) -> None:
    for argv in (["peers"], ["invite"], ["offers"], ["confirm", "A" * 32, "12345678"]):
        result = cli.run_sync(*argv)
        assert result.status == 1, argv
        assert result.err.count("\n") == 1
        assert "porchlight-agency init" in result.err


def test_invite_prints_an_agency_invite_and_its_qr_code(cli: Cli) -> None:
    cli.init()
    qr = cli.profile_dir.parent / "invite.svg"
    result = cli.run_sync("invite", "--hours", "2", "--qr", str(qr))
    assert result.status == 0
    invite = Invite.from_text(result.out.strip())
    node = cli.node()
    assert (invite.role, invite.name, invite.endpoint) == ("agency", "Metro PD", cli.endpoint)
    assert invite.keyid == node.identity.keyid
    assert len(node.invites) == 1
    assert qr.read_text().startswith("<svg")


def test_invite_without_segno_prints_the_invite_and_says_the_qr_code_needs_it(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli.init()
    monkeypatch.setitem(sys.modules, "segno", None)  # as if segno were not installed
    qr = cli.profile_dir.parent / "invite.svg"
    result = cli.run_sync("invite", "--qr", str(qr))
    assert result.status == 0
    assert Invite.from_text(result.out.strip()).name == "Metro PD"
    said = (
        "QR code not written: it needs the segno package (pip install segno); "
        "the invite text below works without it"
    )
    assert [line for line in result.err.splitlines() if "QR" in line] == [said]
    assert not qr.exists()
    assert len(cli.node().invites) == 1


def test_invite_lifetime_is_bounded(cli: Cli) -> None:
    cli.init()
    for hours in ("0", "25"):
        result = cli.run_sync("invite", "--hours", hours)
        assert result.status == 2
        assert "--hours" in result.err


async def test_home_imports_the_agency_invite_one_sided(cli: Cli, network: Network) -> None:
    cli.init()
    home = await network.start("Maple St 12")
    text = cli.run_sync("invite", "--lan").out.strip()
    peer = home.node.import_agency(text, lan=True)
    assert (peer.name, peer.role, peer.trusted) == ("Metro PD", "agency", False)
    assert peer.fingerprint == cli.node().identity.fingerprint
    assert len(cli.node().peers) == 0  # the agency learns nothing


async def test_pair_and_confirm_make_the_home_an_entry_point(cli: Cli, network: Network) -> None:
    cli.init()
    home = await network.start("Maple St 12")
    result = await cli.run("pair", home.node.create_invite(lan=True).to_text(), "--lan")
    assert result.status == 0, result.err
    code = result.out.strip()
    agency = cli.node()
    (peer,) = agency.peers
    assert (peer.name, peer.pending, peer.pairing_code, peer.lan) == (
        "Maple St 12",
        True,
        code,
        True,
    )
    assert agency.peers.active_neighbors() == []
    home_side = home.node.peers.get(agency.identity.keyid)
    assert home_side is not None
    assert (home_side.role, home_side.trusted, home_side.pairing_code) == ("agency", False, code)

    listed = cli.run_sync("peers")
    assert f"pending, code {code}" in listed.out
    assert "Maple St 12" in listed.out

    wrong = cli.run_sync("confirm", peer.fingerprint, "00000000" if code != "00000000" else "1")
    assert wrong.status == 2
    assert "does not match" in wrong.err
    assert cli.node().peers.active_neighbors() == []

    spaced = f"{code[:4]} {code[4:]}"
    done = cli.run_sync("confirm", peer.fingerprint.lower(), spaced)
    assert done.status == 0, done.err
    assert [p.name for p in cli.node().peers.active_neighbors()] == ["Maple St 12"]
    assert "confirmed" in cli.run_sync("peers").out


def test_confirm_unknown_home_fails(cli: Cli) -> None:
    cli.init()
    result = cli.run_sync("confirm", "AAAA-" * 7 + "AAAA", "12345678")
    assert result.status == 2
    assert "no home with fingerprint" in result.err


def test_peers_of_a_new_agency_is_empty(cli: Cli) -> None:
    cli.init()
    result = cli.run_sync("peers")
    assert (result.status, result.out) == (0, "")
    assert "No home is paired" in result.err


async def test_pair_with_a_bad_invite_is_a_usage_error(cli: Cli, network: Network) -> None:
    cli.init()
    result = await cli.run("pair", "plinv1.garbage")
    assert result.status == 2
    assert result.err == (
        "porchlight-agency: error: not a usable Porchlight invite: copy the whole text the "
        "homeowner gave you (it starts with 'plinv1.')\n"
    )


async def test_pair_with_another_agency_is_refused(cli: Cli, network: Network) -> None:
    cli.init()
    other = await network.start("County Sheriff", role="agency")
    result = await cli.run("pair", other.node.create_invite(lan=True).to_text(), "--lan")
    assert result.status == 2
    assert "another agency" in result.err


async def test_pair_with_its_own_invite_is_refused(cli: Cli) -> None:
    cli.init()
    own = cli.run_sync("invite").out.strip()
    # An agency invite is refused before anything else; a home invite bearing our key too.
    result = await cli.run("pair", own)
    assert result.status == 2
    assert "this agency's own invite (for homes to import)" in result.err


async def test_pair_with_an_unreachable_home_fails(cli: Cli, network: Network) -> None:
    cli.init()
    home = await network.start("Maple St 12")
    text = home.node.create_invite(lan=True).to_text()
    await network.stop(network.running[0])
    result = await cli.run("pair", text, "--lan")
    assert result.status == 1
    assert result.err.endswith(": Connection refused\n")  # in words, not an exception class
    assert "cannot reach the home" in result.err
    assert result.err.count("\n") == 1
    assert len(cli.node().peers) == 0


async def test_pair_with_a_private_home_needs_lan(cli: Cli, network: Network) -> None:
    cli.init()
    home = await network.start("Maple St 12")
    result = await cli.run("pair", home.node.create_invite(lan=True).to_text())
    assert result.status == 1
    assert "not a public address" in result.err
    assert "--lan" in result.err


async def test_pair_with_a_used_invite_reports_the_refusal(cli: Cli, network: Network) -> None:
    cli.init()
    home = await network.start("Maple St 12")
    text = home.node.create_invite(lan=True).to_text()
    assert (await cli.run("pair", text, "--lan")).status == 0
    result = await cli.run("pair", text, "--lan")
    assert result.status == 1
    assert result.err == (
        "porchlight-agency: error: the invite was used already or has expired; ask for a new one\n"
    )


async def test_pair_with_an_expired_invite_fails(cli: Cli, network: Network) -> None:
    cli.init()
    home = await network.start("Maple St 12")
    text = home.node.create_invite(lan=True, lifetime=60).to_text()
    # The home's clock is ahead: for the agency the invite has expired long ago.
    network.clock.advance(-3600)
    expired = home.node.create_invite(lan=True, lifetime=60).to_text()
    network.clock.advance(3600)
    result = await cli.run("pair", expired, "--lan")
    assert result.status == 1
    assert "expired" in result.err
    assert text


async def test_names_from_homes_cannot_drive_the_terminal(cli: Cli, network: Network) -> None:
    cli.init()
    home = await network.start("Maple\x1b[2J\u202eSt")
    result = await cli.run("pair", home.node.create_invite(lan=True).to_text(), "--lan")
    assert result.status == 0
    listed = cli.run_sync("peers").out
    assert "\x1b" not in listed
    assert "\u202e" not in listed
    assert "Maple\\u001b[2J\\u202eSt" in listed
