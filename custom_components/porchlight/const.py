"""Constants shared by Porchlight's Home Assistant glue."""

from typing import Final

DOMAIN: Final = "porchlight"

# Config entry data (home facts that never leave this Home Assistant).
CONF_HOME_NAME: Final = "home_name"
CONF_LOCATION: Final = "location"

# Config entry options (what the owner tunes later).
CONF_CAMERAS: Final = "cameras"

# The identity key lives beside HA's own private storage, so HA backups carry it (treat
# backups as secret) and no web-served folder ever contains it.
IDENTITY_DIR: Final = "porchlight"
IDENTITY_FILE: Final = "identity_ed25519.pem"
