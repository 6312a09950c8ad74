"""The home's exact location never appears in anything the home sends (property test).

Every message a home builds is built here from a home whose location hypothesis picks, for a
request whose area contains that home (so the location is really used, to judge it): the
offer (links and signed manifest) and every other envelope type a home seals. None of their
canonical bytes may contain the location in micro-degrees or in decimal degrees.
"""

from __future__ import annotations

import math
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from custom_components.porchlight.consent.offers import offer_body
from custom_components.porchlight.consent.records import (
    ConsentRecord,
    FootageRequest,
    RequestState,
)
from custom_components.porchlight.consent.rules import Ask, Rules, judge
from custom_components.porchlight.federation.camera_map import (
    CellReport,
    build_map,
    cell_of,
    map_body,
)
from custom_components.porchlight.federation.canonical import b64u, canon
from custom_components.porchlight.federation.identity import Identity
from custom_components.porchlight.federation.messages import BROADCAST, seal, transition_statement

HOME_KEY = Identity.generate()
AGENCY = Identity.generate()
NOW = 1_799_999_917

latitudes = st.integers(-60_000_000, 60_000_000)
longitudes = st.integers(-179_000_000, 179_000_000)


def forms(lat: int, lon: int) -> set[str]:
    """How a coordinate could be written down, from micro-degrees to four decimals."""
    out = {str(lat), str(lon)}
    for digits in (4, 5, 6):
        out |= {f"{lat / 1e6:.{digits}f}", f"{lon / 1e6:.{digits}f}"}
    return {f for f in out if len(f.lstrip("-").replace(".", "")) >= 5}


def as_numbers(written: set[str]) -> list[re.Pattern[str]]:
    """Each form as a number of its own, not as digits inside a longer number."""
    return [re.compile(rf"(?<![0-9.]){re.escape(form)}(?![0-9])") for form in written]


def area_around(lat: int, lon: int, north_m: int, east_m: int) -> dict[str, object]:
    """A 300 m circle whose center is offset from the home (the agency's own choice)."""
    dlat = round(north_m / 111_320 * 1e6)
    dlon = round(east_m / (111_320 * math.cos(math.radians(lat / 1e6))) * 1e6)
    return {"kind": "circle", "lat": lat + dlat, "lon": lon + dlon, "radius_m": 300}


def home_messages(request: FootageRequest, home: tuple[int, int]) -> list[bytes]:
    """Every message body a home builds, for this request and in general."""
    consent = ConsentRecord(
        request.id,
        "0123456789abcdef",
        "Front door",
        NOW - 900,
        NOW - 880,
        "a" * 64,
        7,
        NOW,
        "Ann",
    )
    offer = offer_body(
        HOME_KEY,
        request=request,
        consents=[consent],
        links=[
            (
                "0123456789abcdef",
                "https://home.example/api/porchlight/v1/share/" + "t" * 43,
                NOW + 60,
            )
        ],
        audit_head=(7, "b" * 64),
        now=NOW,
    )
    new = Identity.generate()
    # The camera map: the home's own cell, and a map in which its cell holds k homes.
    cell = cell_of(*home)
    crowd = [CellReport(Identity.generate().keyid, cell) for _ in range(5)]
    bodies: list[tuple[str, dict[str, object], str]] = [
        ("footage_offer", offer, AGENCY.keyid),
        (
            "alert",
            {"text": "Lost dog near the park", "category": "other", "name": "", "max_hops": 1},
            BROADCAST,
        ),
        (
            "pair_request",
            {
                "token": "A" * 22,
                "name": "Maple 12",
                "endpoint": "https://h.example/api/porchlight/v1",
                "role": "neighbor",
            },
            AGENCY.keyid,
        ),
        (
            "pair_accept",
            {"token_hash": "c" * 64, "name": "Maple 12", "role": "neighbor"},
            AGENCY.keyid,
        ),
        (
            "key_transition",
            {
                "new_key": b64u(new.public_key),
                "seq": 1,
                "new_sig": b64u(
                    new.sign(transition_statement(HOME_KEY.public_key, new.public_key, 1))
                ),
            },
            AGENCY.keyid,
        ),
        ("revoke", {"reason": "compromised"}, AGENCY.keyid),
        ("map_cell", cell.to_json(), AGENCY.keyid),
        ("camera_map", map_body(build_map(crowd, 5), 5), AGENCY.keyid),
        (
            "vouch",
            {"agency": AGENCY.keyid, "agency_key": b64u(AGENCY.public_key), "name": "Metro PD"},
            AGENCY.keyid,
        ),
    ]
    return [
        seal(HOME_KEY, kind, body, to=to, now=NOW, lifetime=300, message_id="A" * 22).encode()  # type: ignore[arg-type]
        for kind, body, to in bodies
    ]


@settings(max_examples=60, deadline=None)
@given(lat=latitudes, lon=longitudes, north=st.integers(-200, 200), east=st.integers(-200, 200))
def test_home_location_is_in_no_message_it_sends(lat: int, lon: int, north: int, east: int) -> None:
    area = area_around(lat, lon, north, east)
    ask = Ask(
        agency=AGENCY.keyid,
        agency_known=True,
        agency_trusted=True,
        case="2026-1",
        area=area,
        start=NOW - 3600,
        end=NOW - 60,
    )  # type: ignore[arg-type]
    # The location is used (the request is judged against it) ...
    assert judge(ask, Rules(), (lat, lon), NOW).state is RequestState.PENDING
    request = FootageRequest(
        id="d" * 64,
        agency=AGENCY.keyid,
        agency_name="Metro PD",
        via=AGENCY.keyid,
        case="2026-1",
        reason="theft",
        area=area,
        start=NOW - 3600,
        end=NOW - 60,
        reply_to="https://pd.example",  # type: ignore[arg-type]
        received_at=NOW,
        expires=NOW + 86400,
        state=RequestState.PENDING,
    )
    # ... and appears in nothing the home sends.
    # As numbers of their own: 999997 inside the timestamp 1799999977 is not the longitude
    # (Hypothesis found that example), while any written-down form of it is.
    banned = as_numbers(forms(lat, lon))
    for data in home_messages(request, (lat, lon)):
        text = data.decode()
        assert not any(form.search(text) for form in banned), "location leaked"
    assert canon(area)  # the area itself is the agency's and is never sent back


def test_a_number_that_merely_contains_the_digits_is_no_leak() -> None:
    # The example Hypothesis found: lon=999997 and the timestamp NOW + 60 = 1799999977.
    # The check must tell them apart, and still catch the longitude written on its own.
    lon = 999_997
    banned = as_numbers(forms(0, lon))
    assert not any(form.search('{"expires":1799999977}') for form in banned)
    assert any(form.search('{"lon":999997}') for form in banned)
    assert any(form.search('{"lon":"0.999997"}') for form in banned)
