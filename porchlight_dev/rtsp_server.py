"""Loopback RTSP server for tests and the demo: /cam1../camN loop one H.264 file forever.

Run by Debian's own /usr/bin/python3 (GStreamer's Python bindings come from Debian, not from
our venv): `/usr/bin/python3 rtsp_server.py clip.mp4 --port 8554 --cams 4`.

Nothing is re-encoded. The file is parsed once into access units; each camera's appsrc pushes
them again and again with timestamps shifted by one clip length per pass, so a reader sees
one endless live stream with monotonic timestamps, paced in real time by GStreamer's clock.
Serves on 127.0.0.1 only, over interleaved TCP (what doorbells and HA use). Kill the process
to take the cameras down (a clean disconnect); SIGSTOP/SIGCONT simulates a hung camera.
"""

import argparse
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtsp", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtsp, GstRtspServer  # noqa: E402

LAUNCH = (
    "( appsrc name=src is-live=true format=time stream-type=stream max-bytes=2000000"
    " ! rtph264pay name=pay0 pt=96 config-interval=-1 )"
)


def detached_copy(buffer):
    """A buffer sharing the frame data but with timestamps of its own.

    PyGObject's Buffer.copy() returns the same object, so setting timestamps on it would
    shift the original frames too.
    """
    flags = Gst.BufferCopyFlags
    return buffer.copy_region(
        flags.FLAGS | flags.TIMESTAMPS | flags.META | flags.MEMORY, 0, buffer.get_size()
    )


def load_access_units(path):
    """Parse the file once; return (caps, frames starting at 0, loop length in ns)."""
    pipeline = Gst.parse_launch(
        f'filesrc location="{path}" ! parsebin ! h264parse config-interval=-1'
        " ! video/x-h264,stream-format=byte-stream,alignment=au ! appsink name=sink sync=false"
    )
    sink = pipeline.get_by_name("sink")
    pipeline.set_state(Gst.State.PLAYING)
    frames, caps = [], None
    while (sample := sink.emit("pull-sample")) is not None:
        caps = caps or sample.get_caps()
        frames.append(sample.get_buffer())
    pipeline.set_state(Gst.State.NULL)
    if not frames:
        sys.exit(f"rtsp_server: no H.264 video in {path}")
    for frame in frames:
        if frame.dts == Gst.CLOCK_TIME_NONE:
            frame.dts = frame.pts
    first = min(f.dts for f in frames)
    pts = [f.pts for f in frames]
    step = frames[0].duration
    if step == Gst.CLOCK_TIME_NONE:
        step = (max(pts) - min(pts)) // max(1, len(frames) - 1)
    out = []
    for frame in frames:
        copy = detached_copy(frame)
        copy.pts, copy.dts, copy.duration = frame.pts - first, frame.dts - first, step
        out.append(copy)
    return caps, out, max(pts) - min(pts) + step


class Loop:
    """Feeds one camera's appsrc forever."""

    def __init__(self, appsrc, frames, loop_ns):
        self.frames, self.loop_ns, self.next, self.offset = frames, loop_ns, 0, None
        appsrc.connect("need-data", self.need_data)

    def need_data(self, src, _length):
        if self.offset is None:
            # A live source starts at the pipeline's current running time; a non-live one
            # would seek back to 0 whenever a new reader joins the shared pipeline.
            self.offset = src.get_clock().get_time() - src.get_base_time()
        frame = detached_copy(self.frames[self.next])
        frame.pts += self.offset
        frame.dts += self.offset
        self.next += 1
        if self.next == len(self.frames):
            self.next, self.offset = 0, self.offset + self.loop_ns
        src.emit("push-buffer", frame)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("file")
    parser.add_argument("--port", type=int, default=8554)
    parser.add_argument("--cams", type=int, default=1)
    args = parser.parse_args()
    Gst.init(None)
    caps, frames, loop_ns = load_access_units(args.file)

    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(args.port))

    def configure(_factory, media):
        src = media.get_element().get_by_name("src")
        src.set_property("caps", caps)
        media.porchlight_loop = Loop(src, frames, loop_ns)

    for number in range(1, args.cams + 1):
        factory = GstRtspServer.RTSPMediaFactory()
        factory.set_launch(LAUNCH)
        factory.set_shared(True)  # all readers of a camera share its one pipeline
        factory.set_protocols(GstRtsp.RTSPLowerTrans.TCP)
        factory.connect("media-configure", configure)
        server.get_mount_points().add_factory(f"/cam{number}", factory)
    if server.attach(None) == 0:
        sys.exit(f"rtsp_server: cannot listen on 127.0.0.1:{args.port}")
    print(f"serving rtsp://127.0.0.1:{args.port}/cam1..cam{args.cams}", flush=True)
    GLib.MainLoop().run()


if __name__ == "__main__":
    main()
