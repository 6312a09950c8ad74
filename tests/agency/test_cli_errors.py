"""Every way a command can fail ends in one line on stderr and an exit status, no traceback."""

from __future__ import annotations

import io
import json
import logging
import threading
import time
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import pytest
from aiohttp import web

from custom_components.porchlight.federation.identity import Identity
from custom_components.porchlight.federation.invites import Invite
from custom_components.porchlight.federation.node import API_PREFIX
from porchlight_agency import cli as cli_module
from porchlight_agency import profile as profile_module
from porchlight_agency.cli import configure_logging, main
from porchlight_agency.profile import HOME_ENV, Profile, default_root

from .cli_helpers import issue_request, one_line_error, paired_home

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, Callable
    from pathlib import Path

    from tests.federation.loopback import Network

    from .cli_helpers import Cli


def test_help_exits_zero(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for command in ("init", "invite", "pair", "confirm", "peers", "request", "inbox", "offers"):
        assert command in out
    assert "fetch" in out
    assert "verify" in out


def test_no_command_is_a_usage_error() -> None:
    err = io.StringIO()
    assert main([], err=err) == 2
    assert "the following arguments are required: COMMAND" in one_line_error(err.getvalue())


def test_unknown_command_is_a_usage_error() -> None:
    err = io.StringIO()
    assert main(["arrest"], err=err) == 2
    assert "invalid choice: 'arrest'" in one_line_error(err.getvalue())


def test_profile_defaults_to_the_environment_then_the_home_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(HOME_ENV, str(tmp_path / "pd"))
    assert default_root() == tmp_path / "pd"
    monkeypatch.delenv(HOME_ENV)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert default_root() == tmp_path / ".config" / "porchlight-agency"


def test_environment_profile_is_used(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(HOME_ENV, str(tmp_path / "pd"))
    out = io.StringIO()
    argv = ["init", "--name", "Metro PD", "--endpoint", "https://pd.example.org"]
    assert main(argv, out=out, err=io.StringIO()) == 0
    assert (tmp_path / "pd" / "identity.pem").exists()


def test_profile_path_that_is_a_file_fails_cleanly(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    err = io.StringIO()
    for profile in (blocker, blocker / "agency"):
        argv = ["--profile", str(profile), "init", "--name", "PD", "--endpoint", "https://pd.ex"]
        assert main(argv, err=err) == 1
        assert f"{profile} cannot be a profile folder" in one_line_error(err.getvalue())
        err = io.StringIO()


def test_interrupt_is_reported(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(_ctx: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setitem(cli_module.COMMANDS, "peers", interrupted)
    result = cli.run_sync("peers")
    assert (result.status, result.err) == (130, "porchlight-agency: interrupted\n")
    monkeypatch.setitem(cli_module.COMMANDS, "fetch", interrupted)
    result = cli.run_sync("fetch", "0123abcd")
    assert result.status == 130
    assert result.err == (
        "porchlight-agency: interrupted "
        "(run fetch again: it resumes the downloads kept in .incoming)\n"
    )


def test_damaged_profile_files_are_reported(cli: Cli) -> None:
    cli.init()
    state = cli.profile_dir / "state.json"
    saved = state.read_bytes()
    state.write_text('{"format": 1}')
    assert "state" in one_line_error(cli.run_sync("peers").err)
    state.unlink()
    assert "state.json is missing" in one_line_error(cli.run_sync("peers").err)
    state.write_bytes(saved)

    info = cli.profile_dir / "profile.json"
    info.write_text("{")
    assert "cannot read" in one_line_error(cli.run_sync("peers").err)
    info.write_text(json.dumps({"format": 1, "name": "Metro PD", "endpoint": cli.endpoint}))

    key = cli.profile_dir / "identity.pem"
    pem = key.read_bytes()
    key.write_bytes(b"not a key")
    assert "cannot use" in one_line_error(cli.run_sync("peers").err)
    key.unlink()
    assert "key file" in one_line_error(cli.run_sync("peers").err)
    key.write_bytes(pem)
    key.chmod(0o644)
    assert cli.run_sync("peers").status == 0
    assert oct(key.stat().st_mode & 0o777) == "0o600"  # tightened again


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"[]", "profile.json is damaged (no usable agency name in it)"),
        (b'{"format": 1}', "profile.json is damaged (no usable agency name in it)"),
        (b'{"format": 1, "name": 5}', "profile.json is damaged (no usable agency name in it)"),
        (b'{"format": 1, "name": "PD\\udcff"}', "profile.json is damaged (no usable agency"),
        (b"[" * 100_000 + b"]" * 100_000, "cannot read"),
    ],
    ids=["list", "no-name", "number", "surrogate", "deep"],
)
def test_a_damaged_profile_file_is_named(cli: Cli, content: bytes, message: str) -> None:
    cli.init()
    (cli.profile_dir / "profile.json").write_bytes(content)
    assert message in one_line_error(cli.run_sync("peers").err)


def test_a_deeply_nested_state_file_is_damaged(cli: Cli) -> None:
    cli.init()
    (cli.profile_dir / "state.json").write_bytes(b"[" * 100_000 + b"]" * 100_000)
    error = one_line_error(cli.run_sync("peers").err)
    assert error.startswith(f"the profile state in {cli.profile_dir} is damaged (RecursionError")


def test_busy_profile_fails_after_waiting(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    cli.init()
    monkeypatch.setattr(profile_module, "LOCK_TIMEOUT", 0.2)
    holder = Profile(cli.profile_dir)
    with holder.locked():
        result = cli.run_sync("invite")
    assert result.status == 1
    assert "stayed busy" in one_line_error(result.err)


def test_a_command_waits_for_a_short_lock(cli: Cli) -> None:
    cli.init()
    holder = Profile(cli.profile_dir)
    locked = threading.Event()

    def hold() -> None:
        with holder.locked():
            locked.set()
            time.sleep(0.3)

    thread = threading.Thread(target=hold)
    thread.start()
    locked.wait()
    started = time.monotonic()
    result = cli.run_sync("invite")
    thread.join()
    assert result.status == 0
    assert time.monotonic() - started >= 0.2


def test_qr_file_that_cannot_be_written(cli: Cli, tmp_path: Path) -> None:
    cli.init()
    invites = len(cli.node().invites)
    result = cli.run_sync("invite", "--qr", str(tmp_path / "missing" / "dir" / "x.svg"))
    # A typo in the path creates no folders, and no invite is issued.
    assert result.status == 2
    assert (
        one_line_error(result.err)
        == f"--qr: the folder {tmp_path / 'missing' / 'dir'} does not exist"
    )
    assert not (tmp_path / "missing").exists()
    assert len(cli.node().invites) == invites
    (tmp_path / "x.svg").mkdir()
    result = cli.run_sync("invite", "--qr", str(tmp_path / "x.svg"))
    assert result.status == 1
    assert "--qr: cannot write" in one_line_error(result.err)


def test_offers_of_a_new_agency(cli: Cli) -> None:
    cli.init()
    result = cli.run_sync("offers")
    assert (result.status, result.out) == (0, "")
    assert "No request issued yet" in result.err


def test_offers_for_an_unknown_or_ambiguous_request(cli: Cli) -> None:
    cli.init()
    for request in ("a" * 64, "a" * 8 + "b" * 56):
        (cli.profile_dir / "offers" / request).mkdir(parents=True)
    assert "names no request" in one_line_error(cli.run_sync("offers", "cccccccc").err)
    assert "at least 8" in one_line_error(cli.run_sync("offers", "aaaa").err)
    assert "matches several" in one_line_error(cli.run_sync("offers", "aaaaaaaa").err)
    listing = cli.run_sync("offers", "aaaaaaaaa")
    assert listing.out == f"{'a' * 64}  (not issued from this profile)\n  no offer yet\n"


async def test_offers_refuses_an_altered_offer_file(cli: Cli, network: Network) -> None:
    cli.init()
    home = await paired_home(cli, network)
    request_id = await issue_request(cli)
    envelope = home.node.send(
        cli.node().identity.keyid,
        "footage_offer",
        {
            "request": request_id,
            "manifest": {},
            "links": [{"clip": "c1", "url": f"{home.endpoint}/share/t", "expires": 2_000_000_000}],
        },
        lifetime=3600,
    )
    Profile(cli.profile_dir).store_offer(envelope)
    assert cli.run_sync("offers").status == 0
    (stored,) = (cli.profile_dir / "offers" / request_id).iterdir()
    stored.write_bytes(stored.read_bytes().replace(b'"c1"', b'"c2"'))
    result = cli.run_sync("offers")
    assert result.status == 1
    skipped, error = result.err.splitlines(keepends=True)
    assert skipped.startswith(f"skipped: {stored} is not a message signed by its sender")
    assert one_line_error(error) == "1 stored file(s) could not be used (see above)"
    assert result.out.splitlines()[1:] == ["  no offer yet"]

    request_file = cli.profile_dir / "requests" / f"{request_id}.json"
    request_file.write_bytes(request_file.read_bytes()[:50])
    result = cli.run_sync("offers")
    assert result.status == 1
    assert result.out.splitlines()[0] == f"{request_id}  (its stored request is damaged)"
    assert f"skipped: {request_file} is not a message signed by its sender" in result.err
    assert "2 stored file(s) could not be used" in result.err


def test_logging_goes_to_stderr_only_when_nobody_else_logs() -> None:
    root = logging.getLogger("test-root")
    configure_logging(2, root)
    (handler,) = root.handlers
    assert root.level == logging.DEBUG
    configure_logging(0, root)
    assert root.handlers == [handler]
    assert isinstance(handler, logging.StreamHandler)


# --- pair: what a home (or something claiming to be one) may answer -------------------------
@asynccontextmanager
async def answering_pair(answer: Callable[[], web.Response]) -> AsyncGenerator[str]:
    """An endpoint on loopback that answers every POST to /pair with a fresh `answer()`."""

    async def pair(_request: web.Request) -> web.Response:
        return answer()

    app = web.Application()
    app.router.add_post(API_PREFIX + "/pair", pair)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}{API_PREFIX}"
    finally:
        await runner.cleanup()


@pytest.fixture
async def fake_home(socket_enabled: None) -> AsyncGenerator[str]:
    """An endpoint that answers /pair with 200 and something that is not a pair_accept."""
    async with answering_pair(lambda: web.json_response({"v": 1})) as endpoint:
        yield endpoint


def home_invite(endpoint: str, key: bytes) -> str:
    return Invite(
        endpoint, key, "neighbor", "Maple St 12", "A" * 22, int(time.time()) + 600
    ).to_text()


async def test_pair_refuses_an_answer_that_is_not_a_pairing(cli: Cli, fake_home: str) -> None:
    cli.init()
    result = await cli.run("pair", home_invite(fake_home, Identity.generate().public_key), "--lan")
    assert result.status == 1
    assert "the home's answer was not acceptable (schema)" in one_line_error(result.err)
    assert len(cli.node().peers) == 0


@pytest.fixture
async def refusing_home(socket_enabled: None) -> AsyncGenerator[str]:
    """An endpoint that answers /pair with 403 untrusted."""
    async with answering_pair(
        lambda: web.json_response({"error": "untrusted"}, status=403)
    ) as endpoint:
        yield endpoint


async def test_pair_reports_a_refusal_with_its_status(cli: Cli, refusing_home: str) -> None:
    cli.init()
    invite = home_invite(refusing_home, Identity.generate().public_key)
    result = await cli.run("pair", invite, "--lan")
    assert result.status == 1
    assert one_line_error(result.err).startswith("the home refused the invite (403 ")


async def test_pair_refuses_an_invite_bearing_its_own_key(cli: Cli, fake_home: str) -> None:
    cli.init()
    result = await cli.run("pair", home_invite(fake_home, cli.node().identity.public_key))
    assert result.status == 2
    assert "own invite" in one_line_error(result.err)
