"""The installed console script, run as a real process (as an officer runs it)."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from pathlib import Path

from porchlight_dev.rtsp import free_port

from .cli_helpers import wait_listening

SCRIPT = Path(sys.executable).parent / "porchlight-agency"


def run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT), *argv], capture_output=True, text=True, timeout=60, check=False
    )


def test_script_is_installed_and_prints_help() -> None:
    result = run("--help")
    assert result.returncode == 0, result.stderr
    for command in ("init", "invite", "pair", "request", "inbox", "offers", "fetch", "verify"):
        assert command in result.stdout


def test_script_creates_a_profile_and_fails_in_one_line(tmp_path: Path) -> None:
    profile = str(tmp_path / "agency")
    argv = ["--profile", profile, "init", "--name", "Metro PD", "--endpoint", "https://pd.example"]
    created = run(*argv)
    assert created.returncode == 0, created.stderr
    assert len(created.stdout.strip().split("-")) == 8
    again = run(*argv)
    assert again.returncode == 1
    assert again.stderr.startswith("porchlight-agency: error: ")
    assert "Traceback" not in again.stderr
    bad = run("--profile", profile, "request", "--from", "soon", "--to", "later")
    assert bad.returncode == 2
    assert bad.stderr.count("\n") == 1


def test_script_refuses_arguments_that_are_not_utf8(tmp_path: Path) -> None:
    profile = str(tmp_path / "agency")
    argv = [str(SCRIPT), "--profile", profile, "init", "--name", b"PD\xff", "--endpoint"]
    result = subprocess.run(
        [*argv, "https://pd.example"], capture_output=True, timeout=60, check=False
    )
    assert result.returncode == 2
    assert (
        result.stderr == b"porchlight-agency: error: --name: not UTF-8 text (check the "
        b"terminal's character encoding)\n"
    )
    assert not (tmp_path / "agency" / "identity.pem").exists()


def test_cli_imports_no_home_assistant() -> None:
    code = (
        "import sys, porchlight_agency.cli, porchlight_agency.fetch; "
        "sys.exit(any(m == 'homeassistant' or m.startswith('homeassistant.') for m in sys.modules))"
    )
    assert subprocess.run([sys.executable, "-c", code], timeout=60, check=False).returncode == 0


def test_cli_works_without_segno(tmp_path: Path) -> None:
    profile = str(tmp_path / "agency")
    code = (
        "import sys; sys.modules['segno'] = None; from porchlight_agency.cli import main; "
        "sys.exit(main(sys.argv[1:]))"
    )
    command = [sys.executable, "-c", code, "--profile", profile]
    init = ["init", "--name", "PD", "--endpoint", "https://pd.example"]
    for argv in (init, ["invite", "--qr", str(tmp_path / "invite.svg")]):
        result = subprocess.run(
            [*command, *argv], capture_output=True, text=True, timeout=60, check=False
        )
        assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("plinv1.")
    assert "QR code not written: it needs the segno package" in result.stderr
    assert not (tmp_path / "invite.svg").exists()


async def test_script_inbox_stops_on_sigterm(socket_enabled: None, tmp_path: Path) -> None:
    profile = str(tmp_path / "agency")
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    assert run("--profile", profile, "init", "--name", "PD", "--endpoint", endpoint).returncode == 0
    process = await asyncio.create_subprocess_exec(
        str(SCRIPT),
        "--profile",
        profile,
        "inbox",
        "--port",
        str(port),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        await wait_listening(port)
        process.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(process.communicate(), 30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.communicate()
    assert process.returncode == 0, err
    assert b"stopped; 0 offer(s) received" in err
