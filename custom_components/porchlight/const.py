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
