"""Where the consent desk's Home Assistant side used to be; it is consent_glue.py now.

Kept only for the modules that still import these names from here (event.py, sensor.py,
federation_glue.py); once they import from consent_glue.py, this module goes.
"""

from .consent_glue import plain, signal_pending, signal_requests

__all__ = ["plain", "signal_pending", "signal_requests"]
