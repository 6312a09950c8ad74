"""Footage requests at home: lifecycle, auto-decline rules, consent, shares, audit log."""
