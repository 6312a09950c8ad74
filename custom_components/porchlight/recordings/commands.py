"""The ffmpeg command lines Porchlight runs, built with ffmpeg-python.

Every command copies streams (`-c copy`): recording never re-encodes, which is what keeps a
16-camera home within two CPU cores. The only decode is one frame for a clip's thumbnail.
"""

from __future__ import annotations

import shutil
from typing import TYPE_CHECKING

import ffmpeg

if TYPE_CHECKING:
    from pathlib import Path

# Network sources time out after this long without data, so a dead camera makes ffmpeg exit
# instead of hanging (the supervisor then restarts it with backoff).
SOURCE_TIMEOUT_US = 5_000_000
SEGMENT_EXTENSION = ".ts"


def _source_options(source: str) -> dict[str, str | int]:
    if source.startswith(("rtsp://", "rtsps://")):
        # TCP: doorbells sit on Wi-Fi where UDP loses packets and leaves grey smears.
        return {"rtsp_transport": "tcp", "timeout": SOURCE_TIMEOUT_US}
    if source.startswith(("http://", "https://")):
        return {"rw_timeout": SOURCE_TIMEOUT_US}
    return {}


def orphan_guard() -> list[str]:
    """A prefix that makes the kernel send ffmpeg SIGTERM when its parent dies.

    ffmpeg ignores SIGPIPE, so a recorder whose Home Assistant was killed would otherwise go
    on filling the disk forever. util-linux's setpriv is in every Debian (and HA OS) install;
    where it is missing, ffmpeg runs unguarded and a restart of HA cleans up instead.
    """
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "TERM", "--"] if setpriv else []


def record_segments(
    binary: str, source: str, directory: Path, run_id: str, segment_seconds: int
) -> list[str]:
    """Copy the camera's video into ~segment_seconds MPEG-TS files, listing each on stdout.

    MPEG-TS because a segment cut short by a crash or power loss stays playable up to the
    last packet, where an MP4 without its index would be lost. Each completed segment is
    printed as a CSV line (name,start,end) the moment it is closed: that line is both the
    supervisor's sign of progress and the segment's wall-clock anchor.
    """
    stream = ffmpeg.input(source, **_source_options(source))
    output = ffmpeg.output(
        stream.video,
        str(directory / f"{run_id}-%06d{SEGMENT_EXTENSION}"),
        c="copy",
        f="segment",
        segment_time=segment_seconds,
        segment_format="mpegts",
        # Write each frame as it comes instead of a segment's worth at once (256 KiB buffer),
        # so a clip can take the segment still being written up to the last second.
        segment_format_options="flush_packets=1",
        reset_timestamps=1,
        segment_list="pipe:1",
        segment_list_type="csv",
        an=None,
    )
    args: list[str] = output.global_args("-hide_banner", "-nostdin", "-loglevel", "error").compile(
        cmd=binary
    )
    return args


def join_segments(binary: str, concat_list: Path, destination: Path) -> list[str]:
    """Join segments listed in an ffconcat file into one MP4, without re-encoding.

    `+faststart` puts the index first so browsers start playing before the download ends;
    `-map_metadata -1` drops container metadata (camera names, GPS) that should not travel.
    """
    output = ffmpeg.input(str(concat_list), f="concat", safe=0).output(
        str(destination),
        c="copy",
        f="mp4",
        movflags="+faststart",
        map_metadata=-1,
    )
    args: list[str] = output.global_args(
        "-hide_banner", "-nostdin", "-loglevel", "error", "-y"
    ).compile(cmd=binary)
    return args


def thumbnail(binary: str, segment: Path, destination: Path) -> list[str]:
    """Decode the first frame of a segment (always a keyframe) into a small JPEG.

    Taken from the segment holding the trigger, this is the keyframe at or before it: one
    decoded frame, and no seeking or probing in the finished MP4 (half the CPU).
    """
    output = ffmpeg.input(str(segment)).output(
        str(destination), frames=1, vf="scale=480:-2", q=5, f="image2"
    )
    args: list[str] = output.global_args(
        "-hide_banner", "-nostdin", "-loglevel", "error", "-y"
    ).compile(cmd=binary)
    return args
