"""The ffmpeg command lines: stream copy always, timeouts fitting each kind of source."""

from __future__ import annotations

from pathlib import Path

import pytest

from custom_components.porchlight.recordings import commands


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("rtsp://cam/stream", ["-rtsp_transport", "tcp", "-timeout", "5000000"]),
        ("rtsps://cam/stream", ["-rtsp_transport", "tcp", "-timeout", "5000000"]),
        ("https://cam/stream.m3u8", ["-rw_timeout", "5000000"]),
        ("/dev/video0", []),
    ],
)
def test_source_options_fit_the_protocol(source: str, expected: list[str]) -> None:
    args = commands.record_segments("ffmpeg", source, Path("/r"), "1", 2)
    assert args[1 : args.index("-i")] == expected
    assert args[args.index("-i") + 1] == source
    # Never re-encode: every stream is copied.
    assert args[args.index("-c") + 1] == "copy"


def test_orphan_guard_uses_setpriv_when_present(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(commands.shutil, "which", lambda name: f"/usr/bin/{name}")
    assert commands.orphan_guard() == ["/usr/bin/setpriv", "--pdeathsig", "TERM", "--"]
    monkeypatch.setattr(commands.shutil, "which", lambda name: None)
    assert commands.orphan_guard() == []
