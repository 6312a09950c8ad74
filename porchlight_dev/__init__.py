"""Developer tooling: real Home Assistant processes for scripts/develop, e2e tests and the demo.

Not shipped with the integration; lives beside it so every tool starts hass the same way.
"""
