"""The dashboard in a real hass: an agency's real request, decided by the owner in Chromium."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .conftest import DashboardHome


def test_the_agency_request_reaches_the_home_with_its_three_clips(
    dashboard: DashboardHome,
) -> None:
    request = dashboard.request
    assert request["state"] == "pending"
    assert request["agency"] == dashboard.agency.name
    assert len(request["clips"]) == 3
    assert {clip["camera"] for clip in request["clips"]} == {"Front door", "Garden"}
    assert dashboard.agency.offers(request["request_id"]) == []
    assert dashboard.hass.porchlight_warnings() == []
