"""scripts/develop starts, stops and starts again, and leaves no process or port behind.

Runs the real thing (`python -m porchlight_dev.develop`, what scripts/develop execs) in its own
process group, on free ports and a throwaway config dir, so a developer's own instance on
8123/8554 is not disturbed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from porchlight_dev.hass import HassProcess, port_is_free
from porchlight_dev.rtsp import free_port

if TYPE_CHECKING:
    from collections.abc import Generator

REPO = Path(__file__).resolve().parents[2]
READY = "develop: Home Assistant is up"
# The first start encodes the camera clip and onboards; a start that waits for an answer that
# never comes fails only after 120 s, well beyond this.
START_WITHIN = 100.0
# hass' own shutdown takes a few seconds; develop gives it 30 s before SIGKILL.
STOP_WITHIN = 45.0


def _proc_stat(pid: int) -> tuple[str, int, int] | None:
    """State, parent pid and process group of a process; None once it is gone (reaped)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8")
    except FileNotFoundError, ProcessLookupError:
        return None
    # "pid (comm) state ppid pgrp ...": comm may contain spaces and parentheses.
    state, ppid, pgrp = stat[stat.rindex(")") + 2 :].split()[:3]
    return state, int(ppid), int(pgrp)


def _all_pids() -> list[int]:
    return [int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit()]


def _descendants(root: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for pid in _all_pids():
        if (info := _proc_stat(pid)) is not None:
            children.setdefault(info[1], []).append(pid)
    found: set[int] = set()
    todo = [root]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


class Develop:
    """One run of develop; remembers every process it started, to check they are all gone."""

    def __init__(self, config: Path, port: int, rtsp_port: int, log: Path) -> None:
        self.log = log
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                [
                    sys.executable, "-m", "porchlight_dev.develop",
                    "--config", str(config), "--port", str(port), "--rtsp-port", str(rtsp_port),
                ],
                cwd=REPO,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own group, as a shell job in a terminal has
            )  # fmt: skip
        self.started: set[int] = set()
        self.groups = {self.process.pid}

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def _look(self) -> None:
        self.started |= _descendants(self.process.pid)
        # hass runs in a session of its own: its group id is its pid.
        self.groups |= {info[2] for pid in self.started if (info := _proc_stat(pid))}

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._look()
            if READY in self.output():
                self._look()
                return
            if self.process.poll() is not None:
                pytest.fail(f"develop exited with {self.process.returncode}:\n{self.output()}")
            time.sleep(0.5)
        pytest.fail(f"develop was not ready within {timeout:.0f} s:\n{self.output()}")

    def stop(self, how: str, timeout: float) -> int:
        """Stop it as a developer does; return its exit code."""
        self._look()
        if how == "ctrl-c":  # the terminal sends SIGINT to the whole foreground group
            os.killpg(self.process.pid, signal.SIGINT)
        else:  # `kill PID`
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            pytest.fail(f"develop did not exit within {timeout:.0f} s of {how}:\n{self.output()}")

    def left_behind(self) -> list[str]:
        """Processes of this run still in the process table (running or unreaped)."""
        pids = self.started | {
            pid for pid in _all_pids() if (info := _proc_stat(pid)) and info[2] in self.groups
        }
        return [f"{pid} {info[0]}" for pid in sorted(pids) if (info := _proc_stat(pid))]

    def kill_all(self) -> None:
        """After a failed check: take everything down so no test after this one suffers."""
        self._look()
        for pgid in self.groups:
            try:
                os.killpg(pgid, signal.SIGKILL)
            except ProcessLookupError:
                continue
        for pid in self.started:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                continue
        self.process.wait()


@pytest.fixture
def runs() -> Generator[list[Develop]]:
    started: list[Develop] = []
    yield started
    for run in started:
        run.kill_all()


def test_develop_starts_again_after_ctrl_c_and_kill(tmp_path: Path, runs: list[Develop]) -> None:
    config, port, rtsp_port = tmp_path / "develop", free_port(), free_port()

    for number, how in ((1, "ctrl-c"), (2, "SIGTERM")):
        run = Develop(config, port, rtsp_port, tmp_path / f"develop-{number}.log")
        runs.append(run)
        # The second run finds an onboarded hass (its onboarding API answers 404) and logs in.
        run.wait_ready(START_WITHIN)
        assert len(run.started) >= 2, run.output()  # at least hass and the RTSP server
        assert run.stop(how, STOP_WITHIN) == 0, run.output()
        assert "develop: stopping" in run.output()
        assert run.left_behind() == []
        assert port_is_free(port)
        assert port_is_free(rtsp_port)

    assert HassProcess(config, port).porchlight_warnings() == []
