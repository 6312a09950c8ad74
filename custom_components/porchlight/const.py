"""Constants shared by Porchlight's Home Assistant glue."""

from typing import Final

DOMAIN: Final = "porchlight"

# Config entry data (home facts that never leave this Home Assistant).
CONF_HOME_NAME: Final = "home_name"
CONF_LOCATION: Final = "location"

# Config entry options (what the owner tunes later).
CONF_CAMERAS: Final = "cameras"
# The dedicated federation port (federation/listener.py); absent or 0: off.
CONF_FEDERATION_PORT: Final = "federation_port"
# Pass neighbors' alerts and trusted agencies' footage requests on to our other neighbors.
CONF_RELAY: Final = "relay"

# The identity key lives beside HA's own private storage, so HA backups carry it (treat
# backups as secret) and no web-served folder ever contains it.
IDENTITY_DIR: Final = "porchlight"
IDENTITY_FILE: Final = "identity_ed25519.pem"

# Recording options.
CONF_PRE_ROLL: Final = "pre_roll"
CONF_POST_ROLL: Final = "post_roll"
CONF_RETENTION_DAYS: Final = "retention_days"
CONF_STORAGE_CAP_GB: Final = "storage_cap_gb"
CONF_CONTINUOUS: Final = "continuous"
CONF_TRIGGERS: Final = "triggers"
CONF_DOORBELL_ENTITIES: Final = "doorbell_entities"
CONF_MOTION_ENTITIES: Final = "motion_entities"

DEFAULT_PRE_ROLL: Final = 10
DEFAULT_POST_ROLL: Final = 20
DEFAULT_RETENTION_DAYS: Final = 30
DEFAULT_STORAGE_CAP_GB: Final = 20.0
RECORDING_DEFAULTS: Final = {
    CONF_PRE_ROLL: DEFAULT_PRE_ROLL,
    CONF_POST_ROLL: DEFAULT_POST_ROLL,
    CONF_RETENTION_DAYS: DEFAULT_RETENTION_DAYS,
    CONF_STORAGE_CAP_GB: DEFAULT_STORAGE_CAP_GB,
    CONF_CONTINUOUS: False,
}

# Where recordings live: <config>/porchlight/. Not under www/ or media/, so nothing serves
# them except Porchlight's own signed views.
RECORDINGS_DIR: Final = "porchlight"
INDEX_FILE: Final = "clips.sqlite3"

SERVICE_CAPTURE_CLIP: Final = "capture_clip"

# Footage-request options (the owner's rules; hard limits in consent/rules.py).
CONF_REQUIRE_CASE: Final = "require_case"
CONF_DECLINE_ALL: Final = "decline_all"
CONF_MAX_WINDOW_HOURS: Final = "max_window_hours"
CONF_MAX_AREA_SQ_MI: Final = "max_area_sq_mi"
CONF_MAX_LOOKBACK_DAYS: Final = "max_lookback_days"
CONF_BLOCKED_AGENCIES: Final = "blocked_agencies"
CONF_ALLOWED_AGENCIES: Final = "allowed_agencies"
CONF_SHARE_HOURS: Final = "share_hours"
CONF_MAX_DOWNLOADS: Final = "max_downloads"
REQUEST_DEFAULTS: Final = {
    CONF_REQUIRE_CASE: True,
    CONF_DECLINE_ALL: False,
    CONF_MAX_WINDOW_HOURS: 12,
    CONF_MAX_AREA_SQ_MI: 0.5,
    CONF_MAX_LOOKBACK_DAYS: 45,
    CONF_BLOCKED_AGENCIES: [],
    CONF_ALLOWED_AGENCIES: [],
    CONF_SHARE_HOURS: 72,
    CONF_MAX_DOWNLOADS: 1,
}
CONSENT_FILE: Final = "consent.sqlite3"
AUDIT_FILE: Final = "audit.sqlite3"

# The clip and thumbnail views' paths (views.py), signed for the media browser, the
# notification's links and the dashboard (local_time.clip_link, thumbnail_link).
CLIP_URL: Final = "/api/porchlight/clips/{clip_id}.mp4"
THUMBNAIL_URL: Final = "/api/porchlight/clips/{clip_id}.jpg"

# One offer carries at most this many links and manifest entries, which keeps it well inside
# the agency's 64 KiB message limit; more are approved in turns.
MAX_CLIPS_PER_OFFER: Final = 50
