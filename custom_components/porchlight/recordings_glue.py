"""Recording for one home: the HA side of recordings/ (sources, triggers, entities, repairs)."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

from homeassistant.components.camera import async_get_stream_source
from homeassistant.components.ffmpeg import get_ffmpeg_manager
from homeassistant.const import STATE_ON, STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.event import async_track_state_change_event

from .const import (
    CONF_CONTINUOUS,
    CONF_DOORBELL_ENTITIES,
    CONF_MOTION_ENTITIES,
    CONF_POST_ROLL,
    CONF_PRE_ROLL,
    CONF_RETENTION_DAYS,
    CONF_STORAGE_CAP_GB,
    CONF_TRIGGERS,
    RECORDING_DEFAULTS,
)
from .issues import Severity, clear_issue, raise_issue
from .recordings.clip_maker import ClipMaker
from .recordings.clips import ClipScheduler, PendingClip
from .recordings.models import Clip, Segment, Trigger
from .recordings.retention import DAY, RetentionPolicy, clips_to_prune
from .recordings.supervisor import CameraRecorder, RecorderConfig, RecorderStatus
from .signals import signal_clip, signal_status

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime
    from pathlib import Path

    from .background import BackgroundWork
    from .recordings.index import ClipIndex

_LOGGER = logging.getLogger(__name__)

# A camera that has produced nothing for this long gets a repair issue.
UNREACHABLE_AFTER = 60.0
HOUSEKEEPING_INTERVAL = timedelta(seconds=30)
# A clip whose post-roll never arrived (camera died) is cut from what exists after this.
OVERDUE_GRACE = 30.0
# Without continuous recording, segments are kept only long enough to serve a pre-roll.
SEGMENT_BUFFER = 120.0
GIB = 1024**3


def unreachable_issue_id(camera: str) -> str:
    """Repair issue id for one camera."""
    return f"camera_unreachable_{camera}"


@dataclass(slots=True)
class RecordingSettings:
    """The recording part of the entry options, with defaults filled in."""

    pre_roll: float
    post_roll: float
    policy: RetentionPolicy
    continuous: bool
    triggers: dict[str, dict[str, list[str]]] = field(default_factory=dict)

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> RecordingSettings:
        """Read the settings from config entry options."""
        merged = {**RECORDING_DEFAULTS, **options}
        return cls(
            pre_roll=float(merged[CONF_PRE_ROLL]),
            post_roll=float(merged[CONF_POST_ROLL]),
            policy=RetentionPolicy(
                max_age_days=float(merged[CONF_RETENTION_DAYS]),
                max_bytes=int(float(merged[CONF_STORAGE_CAP_GB]) * GIB),
            ),
            continuous=bool(merged[CONF_CONTINUOUS]),
            triggers=dict(merged.get(CONF_TRIGGERS, {})),
        )

    @property
    def segment_keep_seconds(self) -> float:
        """How long plain segments stay on disk."""
        if self.continuous:
            return self.policy.max_age_days * DAY
        return max(SEGMENT_BUFFER, self.pre_roll + OVERDUE_GRACE)


class HomeRecorder:
    """All cameras of one home: recorders, triggers, clips, retention, reachability."""

    def __init__(  # noqa: PLR0913, PLR0917  # everything a home's recording depends on, injected
        self,
        hass: HomeAssistant,
        entry_id: str,
        cameras: tuple[str, ...],
        settings: RecordingSettings,
        root: Path,
        index: ClipIndex,
        work: BackgroundWork,
    ) -> None:
        """Prepare recorders for cameras; nothing runs until async_start().

        Housekeeping runs through work, which unload stops before the index closes.
        """
        self.hass = hass
        self.work = work
        self.entry_id = entry_id
        self.cameras = cameras
        self.settings = settings
        self.root = root
        self.index = index
        self.storage: dict[str, int] = dict.fromkeys(cameras, 0)
        binary = get_ffmpeg_manager(hass).binary
        self.recorders: dict[str, CameraRecorder] = {
            camera: CameraRecorder(
                RecorderConfig(camera, binary, self.camera_dir(camera) / "segments"),
                source=partial(async_get_stream_source, hass, camera),
                on_segment=self._segment_recorded,
                on_status=partial(self._status_changed, camera),
            )
            for camera in cameras
        }
        self.clips = ClipMaker(
            binary,
            index,
            scheduler=ClipScheduler(settings.pre_roll, settings.post_roll),
            clips_dir=lambda camera: self.camera_dir(camera) / "clips",
            growing=lambda camera: self.recorders[camera].growing,
            on_clip=self._clip_made,
            create_task=hass.async_create_background_task,
        )
        self._unsubscribe: list[Any] = []

    @property
    def scheduler(self) -> ClipScheduler:
        """Pending clip windows per camera."""
        return self.clips.scheduler

    def camera_dir(self, camera: str) -> Path:
        """Folder of one camera's segments and clips."""
        return self.root / camera.removeprefix("camera.")

    async def async_start(self) -> None:
        """Start a recorder per camera and listen for triggers."""
        for recorder in self.recorders.values():
            recorder.start()
        watched = {
            entity_id: (camera, kind)
            for camera, kinds in self.settings.triggers.items()
            if camera in self.recorders
            for kind, key in (
                (Trigger.DOORBELL, CONF_DOORBELL_ENTITIES),
                (Trigger.MOTION, CONF_MOTION_ENTITIES),
            )
            for entity_id in kinds.get(key, [])
        }
        if watched:
            self._unsubscribe.append(
                async_track_state_change_event(
                    self.hass, list(watched), partial(self._trigger_entity_changed, watched)
                )
            )
        # Awaited, not cancelled, at unload: a pass stopped between pruning a clip from the
        # index and deleting its file would leave the file behind.
        self.work.every(HOUSEKEEPING_INTERVAL, self._housekeeping, "porchlight housekeeping")
        await self._housekeeping()

    async def async_stop(self) -> None:
        """Stop ffmpeg everywhere, then cut the clips still waiting for their post-roll."""
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe.clear()
        await asyncio.gather(*(r.stop() for r in self.recorders.values()))
        # A doorbell press seconds before a restart still becomes a (shorter) clip.
        await self.clips.close()

    @callback
    def trigger(self, camera: str, trigger: Trigger, at: float | None = None) -> PendingClip:
        """Start or extend a clip of camera around `at` (now by default)."""
        pending = self.clips.trigger(camera, trigger, at)
        _LOGGER.debug(
            "%s: %s trigger, clip %s until %.0f", camera, trigger, pending.id, pending.end
        )
        return pending

    @callback
    def _trigger_entity_changed(
        self, watched: dict[str, tuple[str, Trigger]], event: Event[EventStateChangedData]
    ) -> None:
        new, old = event.data["new_state"], event.data["old_state"]
        if new is None or new.state in (STATE_UNAVAILABLE, STATE_UNKNOWN):
            return
        if new.domain == "event":
            # An event entity's state is the time of its latest event: any change is a press.
            fired = old is not None and old.state != new.state
        else:
            fired = new.state == STATE_ON and (old is None or old.state != STATE_ON)
        if fired:
            camera, kind = watched[new.entity_id]
            self.trigger(camera, kind)

    async def _segment_recorded(self, segment: Segment) -> None:
        await self.clips.segment_recorded(segment)
        self.storage[segment.camera] += segment.size

    async def _clip_made(self, clip: Clip) -> None:
        _LOGGER.info("%s: %s clip %s, %.1f s", clip.camera, clip.trigger, clip.id, clip.duration)
        await self._refresh_storage()
        async_dispatcher_send(self.hass, signal_clip(self.entry_id), clip.camera, clip)

    @callback
    def _status_changed(self, camera: str, status: RecorderStatus) -> None:
        self._check_reachable(camera, status)
        async_dispatcher_send(self.hass, signal_status(self.entry_id))

    @callback
    def _check_reachable(self, camera: str, status: RecorderStatus) -> None:
        issue_id = unreachable_issue_id(camera)
        if status.connected:
            clear_issue(self.hass, issue_id)
            return
        if status.down_since is not None and time.time() - status.down_since >= UNREACHABLE_AFTER:
            raise_issue(
                self.hass,
                issue_id,
                "camera_unreachable",
                {
                    "camera": camera,
                    "minutes": f"{UNREACHABLE_AFTER / 60:.0f}",
                    "error": status.last_error or "",
                },
                severity=Severity.WARNING,
            )

    async def _housekeeping(self, now: datetime | None = None) -> None:  # noqa: ARG002
        self.clips.build_overdue(time.time(), OVERDUE_GRACE)
        await self.work.async_add_executor_job(self._prune, time.time())
        await self._refresh_storage()
        for camera, recorder in self.recorders.items():
            self._check_reachable(camera, recorder.status)

    def _prune(self, now: float) -> None:
        """Blocking: delete expired segments and clips (never held clips)."""
        keep_after = now - self.settings.segment_keep_seconds
        for camera in self.cameras:
            pending = self.scheduler.pending(camera)
            old = [
                s
                for s in self.index.segments_before(camera, keep_after)
                if pending is None or not s.overlaps(pending.start, pending.end)
            ]
            for segment in old:
                segment.path.unlink(missing_ok=True)
            self.index.forget_segments(old)
        other = sum(self.index.segment_bytes(c) for c in self.cameras)
        for clip in clips_to_prune(self.index.clips(), other, self.settings.policy, now):
            _LOGGER.info("%s: pruning clip %s", clip.camera, clip.id)
            self.index.forget_clip(clip.id)
            clip.path.unlink(missing_ok=True)
            if clip.thumbnail is not None:
                clip.thumbnail.unlink(missing_ok=True)

    async def _refresh_storage(self) -> None:
        def measure() -> dict[str, int]:
            return {c: self.index.clip_bytes(c) + self.index.segment_bytes(c) for c in self.cameras}

        self.storage = await self.work.async_add_executor_job(measure)
        async_dispatcher_send(self.hass, signal_status(self.entry_id))

    def clip(self, clip_id: str) -> Clip | None:
        """Blocking: look a clip up in the index."""
        return self.index.clip(clip_id)
