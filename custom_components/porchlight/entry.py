"""Home Assistant entry points: setting up, unloading and removing a Porchlight home.

Loaded lazily through the package's __init__, so the HA-free parts of the package
(federation/, recordings/) import without Home Assistant.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from homeassistant.const import CONF_LATITUDE, CONF_LONGITUDE, EVENT_HOMEASSISTANT_STOP, Platform
from homeassistant.exceptions import ConfigEntryError
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.storage import STORAGE_DIR
from homeassistant.util import dt as dt_util

from . import panel, services, views, websocket
from .background import BackgroundWork
from .consent.audit import AuditError, AuditLog
from .consent.desk import DeskSettings
from .consent.rules import Rules
from .consent.store import ConsentStore, ConsentStoreError
from .consent_glue import consent_desk
from .const import (
    AUDIT_FILE,
    CONF_ALLOWED_AGENCIES,
    CONF_BLOCKED_AGENCIES,
    CONF_CAMERAS,
    CONF_DECLINE_ALL,
    CONF_HOME_NAME,
    CONF_LOCATION,
    CONF_MAX_AREA_SQ_MI,
    CONF_MAX_DOWNLOADS,
    CONF_MAX_LOOKBACK_DAYS,
    CONF_MAX_WINDOW_HOURS,
    CONF_REQUIRE_CASE,
    CONF_SHARE_HOURS,
    CONSENT_FILE,
    DOMAIN,
    IDENTITY_DIR,
    IDENTITY_FILE,
    INDEX_FILE,
    RECORDINGS_DIR,
    REQUEST_DEFAULTS,
)
from .data import PorchlightConfigEntry, PorchlightData
from .decline_rules import async_setup_decline_rules, rules_of
from .digest_glue import REFRESH as DIGEST_REFRESH
from .digest_glue import NeighborhoodDigests, async_remove_digests
from .federation import identity as identity_file
from .federation.clock import SystemClock
from .federation_glue import async_remove_federation, async_setup_federation
from .issues import Severity, clear_issue, raise_issue
from .recordings.index import ClipIndex, ClipIndexError
from .recordings_glue import HomeRecorder, RecordingSettings

if TYPE_CHECKING:
    from collections.abc import Mapping

    from homeassistant.core import Event, HomeAssistant
    from homeassistant.helpers.typing import ConfigType

_LOGGER = logging.getLogger(__name__)
PLATFORMS = [Platform.BINARY_SENSOR, Platform.EVENT, Platform.GEO_LOCATION, Platform.SENSOR]
CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


def identity_path(hass: HomeAssistant) -> Path:
    """Where this home's private identity key is kept."""
    return Path(hass.config.path(STORAGE_DIR, IDENTITY_DIR, IDENTITY_FILE))


def recordings_path(hass: HomeAssistant) -> Path:
    """Where this home's segments, clips and clip index are kept."""
    return Path(hass.config.path(RECORDINGS_DIR))


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:  # noqa: ARG001
    """Register what exists once per Home Assistant: services and HTTP views."""
    services.async_setup_services(hass)
    await async_setup_decline_rules(hass)
    websocket.async_setup_websocket(hass)
    await panel.async_setup_panel(hass)
    views.async_setup_views(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: PorchlightConfigEntry) -> bool:
    """Set up a Porchlight home from a config entry."""
    # Identity: the key that signs everything this home sends. It is created once; an
    # unreadable key stops setup instead of being replaced behind the owner's back.
    key_path = identity_path(hass)
    try:
        loaded = await hass.async_add_executor_job(identity_file.load_or_create, key_path)
    except identity_file.IdentityFileError as err:
        raise ConfigEntryError(
            translation_domain=DOMAIN,
            translation_key="identity_unusable",
            translation_placeholders={"path": str(key_path), "error": str(err)},
        ) from err
    identity = loaded.identity
    if loaded.created:
        _LOGGER.info("Created identity key for this home, fingerprint %s", identity.fingerprint)
    if loaded.permissions_tightened:
        _LOGGER.warning(
            "Identity key %s was readable by other users; its mode is now 0600", key_path
        )

    # The clip index: an unreadable one stops setup; it is never recreated over old clips.
    root = recordings_path(hass)
    try:
        index = await hass.async_add_executor_job(ClipIndex, root / INDEX_FILE)
    except ClipIndexError as err:
        raise ConfigEntryError(
            translation_domain=DOMAIN,
            translation_key="index_unusable",
            translation_placeholders={"path": str(root / INDEX_FILE), "error": str(err)},
        ) from err

    # The home as a device, so its fingerprint is visible where owners look for devices.
    home = dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id,
        identifiers={(DOMAIN, entry.entry_id)},
        entry_type=dr.DeviceEntryType.SERVICE,
        manufacturer="Porchlight",
        model="Home",
        name=entry.data[CONF_HOME_NAME],
        serial_number=identity.fingerprint,
    )

    # The consent desk's files: requests and shares (committed on every change) and the
    # audit log of everything that leaves. Neither is ever recreated over an unreadable
    # file. Opened before the federation: nothing may leave before the log can record it.
    clock = SystemClock()
    store: ConsentStore | None = None
    try:
        store = await hass.async_add_executor_job(ConsentStore, root / CONSENT_FILE)
        audit = AuditLog(root / AUDIT_FILE, identity, clock)
        await hass.async_add_executor_job(audit.open)
    except (ConsentStoreError, AuditError) as err:
        if store is not None:
            await hass.async_add_executor_job(store.close)
        await hass.async_add_executor_job(index.close)
        raise ConfigEntryError(
            translation_domain=DOMAIN,
            translation_key="consent_unusable",
            translation_placeholders={"path": str(root), "error": str(err)},
        ) from err
    _report_audit(hass, audit)

    # Federation: pinned peers, open invites and the outbox, delivered on a timer; every
    # message and pairing answer is written to the audit log before it is sent. Timers run
    # through `work`, which unload stops before any file closes.
    work = BackgroundWork(hass)
    federation = await async_setup_federation(hass, entry, identity, clock, audit, work=work)

    cameras = tuple(entry.options[CONF_CAMERAS])
    recorder = HomeRecorder(
        hass,
        entry.entry_id,
        cameras,
        RecordingSettings.from_options(entry.options),
        root,
        index,
        work,
    )
    entry.runtime_data = PorchlightData(
        identity=identity,
        key_path=key_path,
        cameras=cameras,
        camera_names={c: _friendly_name(hass, c) for c in cameras},
        home_device_id=home.id,
        recorder=recorder,
        federation=federation,
        work=work,
        desk=consent_desk(
            hass,
            entry.entry_id,
            store=store,
            audit=audit,
            federation=federation,
            index=index,
            camera_names={c: _friendly_name(hass, c) for c in cameras},
            home=_micro_degrees(entry.data[CONF_LOCATION]),
            settings=desk_settings(entry.options),
            screening=rules_of(hass),
            work=work,
        ),
    )
    desk = entry.runtime_data.desk
    federation.serve_desk(desk)
    # Transparency digests: the neighbors' kept, the home's own sent now and every REFRESH.
    digests = NeighborhoodDigests(hass, federation.node, desk.store.requests, work)
    await digests.async_load()
    federation.digests = digests
    await desk.async_settle()
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    await desk.async_restore()

    # Recording starts last, with everything it reports to in place. Home Assistant does not
    # unload entries when it stops, so stopping ffmpeg on shutdown is ours to do.
    await recorder.async_start()
    work.start(digests.async_send, dt_util.utcnow(), "porchlight digests")
    work.every(DIGEST_REFRESH, digests.async_send, "porchlight digests")

    async def _stop(_event: Event) -> None:
        await _async_close_index(hass, entry.runtime_data)

    entry.async_on_unload(hass.bus.async_listen_once(EVENT_HOMEASSISTANT_STOP, _stop))
    return True


def desk_settings(options: Mapping[str, Any]) -> DeskSettings:
    """The owner's request rules and share settings from the entry options."""
    o = {**REQUEST_DEFAULTS, **options}
    return DeskSettings(
        rules=Rules(
            max_window_hours=float(o[CONF_MAX_WINDOW_HOURS]),
            max_area_sq_mi=float(o[CONF_MAX_AREA_SQ_MI]),
            max_lookback_days=float(o[CONF_MAX_LOOKBACK_DAYS]),
            require_case=bool(o[CONF_REQUIRE_CASE]),
            blocked=frozenset(o[CONF_BLOCKED_AGENCIES]),
            allowed=frozenset(o[CONF_ALLOWED_AGENCIES]),
            decline_all=bool(o[CONF_DECLINE_ALL]),
        ),
        share_hours=int(o[CONF_SHARE_HOURS]),
        max_downloads=int(o[CONF_MAX_DOWNLOADS]),
    )


def _micro_degrees(location: Mapping[str, float]) -> tuple[int, int]:
    """The home's location as the integers areas are compared in (never sent anywhere)."""
    return round(location[CONF_LATITUDE] * 1e6), round(location[CONF_LONGITUDE] * 1e6)


def _report_audit(hass: HomeAssistant, audit: AuditLog) -> None:
    """A repair issue when the audit log does not verify (R6.5); removed when it does."""
    report = audit.last_report
    if report is None or report.ok:
        clear_issue(hass, "audit_tampered")
        return
    _LOGGER.error(
        "Audit log failed verification at entry %s: %s", report.first_bad_seq, report.problem
    )
    raise_issue(
        hass,
        "audit_tampered",
        "audit_tampered",
        {"seq": str(report.first_bad_seq), "problem": str(report.problem)},
        severity=Severity.CRITICAL,
    )


def _friendly_name(hass: HomeAssistant, camera: str) -> str:
    state = hass.states.get(camera)
    return state.name if state is not None else camera


async def async_unload_entry(hass: HomeAssistant, entry: PorchlightConfigEntry) -> bool:
    """Stop recording, unload entities, close the index, flush the federation's state."""
    data = entry.runtime_data
    await _async_close_index(hass, data)
    unloaded = await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
    await data.federation.async_close()
    await hass.async_add_executor_job(data.desk.close)
    return unloaded


async def _async_close_index(hass: HomeAssistant, data: PorchlightData) -> None:
    """Stop all that uses the clip index, then close it (unload, Home Assistant stopping).

    In this order, because each step may still use what the next one closes.
    """
    # No delivery attempt starts any more, and the one under way is recorded: cancelled in
    # flight, a message the peer received would stay queued and go again after the reload.
    await data.federation.async_stop_delivering()
    # The timers' passes and their threads (awaited, never cancelled); then the desk's
    # pass and requests being judged: nothing in the background touches a file after this.
    await data.work.async_stop()
    await data.desk.async_stop()
    # ffmpeg, and the clips still waiting for their post-roll.
    await data.recorder.async_stop()
    # Downloads in flight stop at their next chunk and are counted, releasing their clip's
    # hold in the index, before the index and the store close: a reload must not leave a
    # single-use link uncounted.
    await data.desk.shares.async_close()
    await hass.async_add_executor_job(data.recorder.index.close)


async def async_remove_entry(
    hass: HomeAssistant,
    entry: PorchlightConfigEntry,  # noqa: ARG001  # Home Assistant's entry point signature
) -> None:
    """Delete the identity key when the owner removes Porchlight: no secret is left behind.

    Recordings stay: they are the owner's footage, not a secret of the integration, and
    deleting hours of video because an integration was removed would be a nasty surprise.
    """
    await async_remove_federation(hass)
    await async_remove_digests(hass)
    await hass.async_add_executor_job(identity_file.remove, identity_path(hass))
