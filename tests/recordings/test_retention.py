"""Retention picks old and over-cap clips, oldest first, and never a held one."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from custom_components.porchlight.recordings.models import Clip, Trigger
from custom_components.porchlight.recordings.retention import DAY, RetentionPolicy, clips_to_prune

NOW = 100 * DAY


def _clip(clip_id: str, age_days: float, size: int = 10, *, held: bool = False) -> Clip:
    start = NOW - age_days * DAY
    return Clip(
        id=clip_id,
        camera="camera.a",
        trigger=Trigger.MOTION,
        start=start,
        end=start + 30,
        size=size,
        sha256="0" * 64,
        path=Path(f"{clip_id}.mp4"),
        thumbnail=None,
        created=start,
        holds=frozenset({"request:r"}) if held else frozenset(),
    )


def _ids(clips: list[Clip]) -> list[str]:
    return [c.id for c in clips]


def test_clips_past_the_age_limit_go() -> None:
    clips = [_clip("old", 31), _clip("new", 1)]
    assert _ids(clips_to_prune(clips, 0, RetentionPolicy(30, 10**9), NOW)) == ["old"]


def test_oldest_unheld_clips_go_until_under_the_cap() -> None:
    clips = [_clip("a", 5, 40), _clip("b", 4, 40), _clip("c", 3, 40), _clip("d", 2, 40)]
    # 160 bytes of clips plus 30 of segments, cap 100: 190 -> 150 -> 110 -> 70, d stays.
    assert _ids(clips_to_prune(clips, 30, RetentionPolicy(30, 100), NOW)) == ["a", "b", "c"]


def test_held_clips_are_never_pruned_even_over_the_cap() -> None:
    clips = [
        _clip("held-old", 40, 50, held=True),
        _clip("a", 5, 50),
        _clip("held", 4, 50, held=True),
    ]
    doomed = clips_to_prune(clips, 0, RetentionPolicy(30, 10), NOW)
    assert _ids(doomed) == ["a"]  # still over the cap: held footage outranks the limit


def test_age_and_cap_together_count_each_clip_once() -> None:
    clips = [_clip("old", 40, 60), _clip("a", 5, 60), _clip("b", 1, 60)]
    # After the old one goes, 120 remain against a cap of 100: "a" goes too, once.
    assert _ids(clips_to_prune(clips, 0, RetentionPolicy(30, 100), NOW)) == ["old", "a"]


def test_nothing_goes_when_within_limits() -> None:
    clips = [_clip("a", 1), replace(_clip("b", 2), size=5)]
    assert clips_to_prune(clips, 0, RetentionPolicy(30, 1000), NOW) == []
