"""Local recording: one supervised ffmpeg per camera, segments, event clips, index, retention.

No Home Assistant imports here either: the HA glue (recordings_glue.py) feeds it stream sources,
triggers and a clock; the benchmark drives it directly.
"""
