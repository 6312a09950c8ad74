"""Start and stop the loopback RTSP server (porchlight_dev/rtsp_server.py) from our venv."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

SERVER = Path(__file__).with_name("rtsp_server.py")
# GStreamer's Python bindings are Debian's, so the server runs on Debian's Python.
SYSTEM_PYTHON = "/usr/bin/python3"


class RtspError(RuntimeError):
    """The RTSP server did not come up."""


def make_camera_video(
    path: Path, *, size: str = "640x360", fps: int = 15, seconds: int = 10, bitrate: str = "1M"
) -> Path:
    """Encode a camera-like H.264 clip once: keyframe every 2 s, no B-frames, as doorbells do."""
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.mp4")
    subprocess.run(  # noqa: S603
        [  # noqa: S607
            "ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
            "-f", "lavfi", "-i", f"testsrc2=size={size}:rate={fps}:duration={seconds}",
            "-c:v", "libx264", "-preset", "veryfast", "-profile:v", "main", "-bf", "0",
            "-g", str(fps * 2), "-keyint_min", str(fps * 2), "-sc_threshold", "0",
            "-b:v", bitrate, "-maxrate", bitrate, "-bufsize", bitrate,
            "-pix_fmt", "yuv420p", "-an", str(tmp),
        ],
        check=True,
    )  # fmt: skip
    tmp.replace(path)
    return path


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(slots=True)
class RtspServer:
    """One server process with `cams` cameras looping `video`."""

    video: Path
    cams: int = 1
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    def url(self, camera: int = 1) -> str:
        """The stream URL of camera number `camera` (1-based)."""
        return f"rtsp://127.0.0.1:{self.port}/cam{camera}"

    def start(self, timeout: float = 15.0) -> None:
        """Start serving and wait until the port accepts connections."""
        self.process = subprocess.Popen(  # noqa: S603
            [SYSTEM_PYTHON, str(SERVER), str(self.video), "--port", str(self.port),
             "--cams", str(self.cams)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                err = self.process.stderr.read().decode() if self.process.stderr else ""
                msg = f"RTSP server exited with {self.process.returncode}: {err.strip()}"
                raise RtspError(msg)
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        self.stop()
        msg = f"RTSP server did not listen on {self.port} within {timeout:.0f} s"
        raise RtspError(msg)

    def stop(self) -> None:
        """Take every camera down at once (a clean disconnect for readers)."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        if self.process.stderr:
            self.process.stderr.close()
        self.process = None

    def freeze(self) -> None:
        """Simulate hung cameras: connections stay open, no data flows."""
        if self.process is not None:
            os.kill(self.process.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        """Undo freeze()."""
        if self.process is not None:
            os.kill(self.process.pid, signal.SIGCONT)
