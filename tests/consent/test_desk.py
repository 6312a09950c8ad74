"""The consent desk's order of work, without Home Assistant.

Real pieces throughout: the home's and the agency's nodes with real keys, the consent store,
the audit log and the clip index on disk. Only the desk's ports are stood in for, each by a
recorder of what the desk told it, which also looks at the store and the log at that moment:
that is how "before" is checked.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import pytest

from custom_components.porchlight.consent import ports
from custom_components.porchlight.consent.desk import ConsentDesk, DeskSettings
from custom_components.porchlight.consent.errors import NotRecordedError, RefusedError
from custom_components.porchlight.consent.records import RequestState, ShareState
from custom_components.porchlight.consent.rules import Rules
from custom_components.porchlight.consent.store import ConsentStore
from custom_components.porchlight.federation.identity import Identity
from custom_components.porchlight.federation.node import OFFER, Node, Settings
from custom_components.porchlight.federation.peers import Peer
from custom_components.porchlight.recordings.index import ClipIndex
from custom_components.porchlight.recordings.models import Clip, Trigger

if TYPE_CHECKING:
    from collections.abc import Callable, Generator
    from pathlib import Path

    from custom_components.porchlight.consent.audit import AuditLog
    from custom_components.porchlight.consent.records import FootageRequest, Share
    from custom_components.porchlight.federation.clock import ManualClock
    from custom_components.porchlight.federation.messages import Envelope

HOME = (40_712_800, -74_006_000)  # micro-degrees; inside the requests' circle
ELSEWHERE = (41_712_800, -74_006_000)
AGENCY_ENDPOINT = "http://127.0.0.1:1/api/porchlight/v1"
HOME_ENDPOINT = "https://maple.example/api/porchlight/v1"
DAY = 86400


async def in_thread[T](target: Callable[..., T], *args: object) -> T:
    """What Home Assistant's executor does for the desk: the blocking call off the loop."""
    return await asyncio.to_thread(target, *args)


@dataclass
class Owner(ports.Owner):
    """What the owner was told, in order, with what the store and the log held just then."""

    store: ConsentStore
    audit: AuditLog
    told: list[tuple[str, str]] = field(default_factory=list)
    # What happens to the home when the desk next reports a change (a disk failing then).
    on_changed: Callable[[], None] | None = None
    # At each announcement: the request as stored, and the kinds of the log's entries.
    seen: dict[str, tuple[FootageRequest | None, list[str]]] = field(default_factory=dict)

    def announce(self, request: FootageRequest) -> None:
        self.told.append(("announce", request.id))
        self.seen[request.id] = (
            self.store.request(request.id),
            [e.kind for e in self.audit.entries()],
        )

    def withdraw(self, request_id: str) -> None:
        self.told.append(("withdraw", request_id))

    def changed(self) -> None:
        """Counts only; entities are Home Assistant's."""
        if self.on_changed is not None:
            self.on_changed()

    def offer_failed(self, request_id: str, agency: str, error: str) -> None:
        self.told.append(("offer_failed", f"{request_id} {agency} {error}"))

    def offers_settled(self, still_failed: Callable[[str], bool]) -> None:
        """Nothing was said about failed offers here."""

    def decided(self, request: FootageRequest) -> None:
        self.told.append(("decided", request.id))

    def share_changed(self, share: Share, what: ShareState, request: FootageRequest | None) -> None:
        self.told.append((f"share_{what.value}", share.clip))


@dataclass
class Outgoing(ports.Outgoing):
    """The federation's delivery, which here only looks at what is about to go out."""

    store: ConsentStore
    audit: AuditLog
    node: Node
    # At each delivery attempt: the kinds of the log's entries and the shares stored.
    attempts: list[tuple[list[str], list[ShareState]]] = field(default_factory=list)

    def share_endpoint(self, agency: str) -> str:
        return HOME_ENDPOINT

    async def async_deliver(self) -> int:
        self.attempts.append(
            ([e.kind for e in self.audit.entries()], [s.state for s in self.store.shares()])
        )
        return 0


@dataclass
class Home:
    """A home's desk and the agency that asks it for footage."""

    desk: ConsentDesk
    node: Node
    agency: Node
    owner: Owner
    outgoing: Outgoing
    index: ClipIndex
    clip: Clip

    @property
    def agency_peer(self) -> Peer:
        peer = self.node.peers.get(self.agency.identity.keyid)
        assert peer is not None
        return peer

    def ask(self, **changes: Any) -> Envelope:
        """The agency signs a request for the last two hours around the home."""
        now = self.agency.clock.now()
        body: dict[str, Any] = {
            "case": "2026-000123",
            "reason": "Burglary reported at 14:05",
            "area": {"kind": "circle", "lat": HOME[0], "lon": HOME[1], "radius_m": 200},
            "start": now - 7200,
            "end": now - 60,
            "reply_to": AGENCY_ENDPOINT,
            "max_hops": 1,
        }
        body.update(changes)
        return self.agency.request_footage(body, lifetime=DAY, peers=[])

    async def receive(self, envelope: Envelope, origin: Peer | None = None) -> FootageRequest:
        """Hand the request to the desk as the node does; returns it as stored."""
        origin = origin or self.agency_peer
        await self.desk.async_receive(envelope, origin, origin)
        stored = self.desk.store.request(envelope.event_id)
        assert stored is not None
        return stored

    def log(self) -> list[str]:
        return [e.kind for e in self.desk.audit.entries()]

    def holds(self) -> frozenset[str]:
        clip = self.index.clip(self.clip.id)
        assert clip is not None
        return clip.holds


def _build(
    tmp_path: Path,
    clock: ManualClock,
    identity: Identity,
    log: AuditLog,
    rules: Rules,
    at: tuple[int, int],
) -> Home:
    """A home that imported and trusts one agency, with one clip from an hour ago."""
    agency = Node(Identity.generate(), Settings(name="Metro PD", role="agency"), clock)
    agency.advertise(AGENCY_ENDPOINT)
    node = Node(identity, Settings(name="Maple Street 12"), clock)
    peer = node.import_agency(agency.create_invite(lan=True).to_text(), lan=True)
    node.peers.set_trusted(peer.keyid, trusted=True)
    store = ConsentStore(tmp_path / "consent.sqlite3")
    index = ClipIndex(tmp_path / "index.sqlite3")
    video = tmp_path / "clip.mp4"
    video.write_bytes(b"\x00" * 1000)
    clip = Clip(
        id="01aaaaaaaaaaaaaa",
        camera="camera.front_door",
        trigger=Trigger.DOORBELL,
        start=clock.now() - 3600,
        end=clock.now() - 3590,
        size=1000,
        sha256=hashlib.sha256(video.read_bytes()).hexdigest(),
        path=video,
        thumbnail=None,
        created=clock.now() - 3590,
    )
    index.add_clip(clip)
    owner = Owner(store, log)
    outgoing = Outgoing(store, log, node)
    desk = ConsentDesk(
        store=store,
        audit=log,
        node=node,
        outgoing=outgoing,
        index=index,
        camera_names={"camera.front_door": "Front door"},
        home=at,
        settings=DeskSettings(rules=rules),
        owner=owner,
        run_blocking=in_thread,
        start_task=lambda target, name: asyncio.get_running_loop().create_task(target, name=name),
    )
    return Home(desk, node, agency, owner, outgoing, index, clip)


type MakeHome = Callable[..., Home]


@pytest.fixture
def make_home(
    tmp_path: Path, clock: ManualClock, identity: Identity, log: AuditLog
) -> Generator[MakeHome]:
    """Build the test's home with the owner's rules and the home's location; closed after."""
    built: list[Home] = []

    def make(rules: Rules | None = None, at: tuple[int, int] = HOME) -> Home:
        built.append(_build(tmp_path, clock, identity, log, rules or Rules(), at))
        return built[-1]

    yield make
    for home in built:
        home.desk.store.close()
        home.index.close()


@pytest.fixture
def home(make_home: MakeHome) -> Home:
    """A home with the default rules."""
    return make_home()


async def test_a_request_is_recorded_and_its_clips_held_before_the_owner_hears_of_it(
    home: Home,
) -> None:
    envelope = home.ask()
    request = await home.receive(envelope)

    assert request.state is RequestState.PENDING
    assert home.owner.told == [("announce", request.id)]
    stored, logged = home.owner.seen[request.id]
    assert stored == request
    assert logged[-2:] == ["request_received", "request_pending"]
    assert home.holds() == {f"request:{request.id[:16]}"}


@pytest.mark.allow_porchlight_warnings(r"Footage action refused: request_not_open")
async def test_a_request_the_owners_rules_decline_is_never_announced(
    make_home: MakeHome, caplog: pytest.LogCaptureFixture
) -> None:
    home = make_home(Rules(decline_all=True))
    request = await home.receive(home.ask())

    assert request.state is RequestState.AUTO_DECLINED
    assert home.owner.told == []
    assert home.log()[-2:] == ["request_received", "request_auto_declined"]
    assert home.holds() == frozenset()
    assert len(home.node.outbox) == 0
    with pytest.raises(RefusedError) as refused:
        await home.desk.async_approve(request.id, [home.clip.id], "owner")
    assert refused.value.key == "request_not_open"
    assert "Footage action refused: request_not_open" in caplog.text


async def test_restored_requests_meet_the_owners_new_rules_before_any_announcement(
    home: Home,
) -> None:
    request = await home.receive(home.ask())
    home.owner.told.clear()
    # The owner blocks the agency; the reload builds the desk again with the new rules.
    home.desk.settings = DeskSettings(rules=Rules(blocked=frozenset({request.agency})))

    await home.desk.async_restore()

    # Not announced again; only told it is decided, so what was said before it (a phone's
    # notification, made before the reload) can go.
    assert home.owner.told == [("decided", request.id)]
    stored = home.desk.store.request(request.id)
    assert stored is not None
    assert stored.state is RequestState.AUTO_DECLINED
    assert home.log()[-1] == "request_auto_declined"
    assert home.holds() == frozenset()


async def test_a_request_from_an_agency_this_home_does_not_know_is_rejected(
    home: Home, clock: ManualClock
) -> None:
    # A neighbor relays the request of an agency never imported here.
    home.agency = Node(Identity.generate(), Settings(name="Metro PD", role="agency"), clock)
    home.agency.advertise(AGENCY_ENDPOINT)
    oak = Identity.generate()
    neighbor = Peer(
        keyid=oak.keyid,
        public_key=oak.public_key,
        role="neighbor",
        name="Oak 3",
        endpoint="https://oak.example/api/porchlight/v1",
        paired_at=clock.now(),
        trusted=True,
    )
    home.node.peers.add(neighbor)
    envelope = home.ask()

    await home.desk.async_receive(envelope, None, neighbor)

    request = home.desk.store.request(envelope.event_id)
    assert request is not None
    assert request.state is RequestState.REJECTED
    assert request.why == "unknown_agency"
    assert home.owner.told == []
    assert home.log()[-2:] == ["request_received", "request_rejected"]
    assert home.holds() == frozenset()


async def test_an_agency_the_owner_does_not_trust_is_rejected(home: Home) -> None:
    home.node.peers.set_trusted(home.agency.identity.keyid, trusted=False)
    request = await home.receive(home.ask())

    assert request.state is RequestState.REJECTED
    assert home.owner.told == []
    assert home.holds() == frozenset()


async def test_a_home_outside_the_area_tells_nobody(make_home: MakeHome) -> None:
    home = make_home(at=ELSEWHERE)
    request = await home.receive(home.ask())

    assert request.state is RequestState.NOT_IN_AREA
    assert home.owner.told == []
    assert home.holds() == frozenset()


async def test_each_consent_is_in_the_audit_log_before_its_link_goes_out(home: Home) -> None:
    request = await home.receive(home.ask())

    approval = await home.desk.async_approve(request.id, [home.clip.id], "Alex")

    [consent] = approval.consents
    assert consent.clip == home.clip.id
    # At the one delivery attempt, the consent and the checkpoint the manifest names were
    # in the log, and the share was stored.
    [(logged, shares)] = home.outgoing.attempts
    assert logged[-2:] == ["clip_approved", "checkpoint"]
    assert shares == [ShareState.OFFERED]
    [offer] = list(home.node.outbox)
    assert offer.route == OFFER
    assert approval.delivery.state == "queued"
    # Every matching clip is decided: the announcement goes.
    assert home.owner.told[-1] == ("withdraw", request.id)


@pytest.mark.allow_porchlight_warnings(r"Approval not recorded: the audit log is not open")
async def test_no_link_exists_when_the_audit_log_refuses_the_consent(
    home: Home, caplog: pytest.LogCaptureFixture
) -> None:
    request = await home.receive(home.ask())
    home.desk.audit.close()  # the log refuses every entry from now on

    with pytest.raises(NotRecordedError) as failed:
        await home.desk.async_approve(request.id, [home.clip.id], "Alex")

    assert failed.value.key == "approval_failed"
    assert failed.value.placeholders == {"error": "the audit log is not open"}
    assert "Approval not recorded: the audit log is not open" in caplog.text
    assert home.desk.store.shares() == []
    assert len(home.node.outbox) == 0
    assert home.outgoing.attempts == []
    stored = home.desk.store.request(request.id)
    assert stored is not None
    assert stored.state is RequestState.PENDING
    assert stored.consents == ()
    home.desk.audit.open()


async def test_a_share_can_be_revoked_until_it_is_downloaded(home: Home) -> None:
    request = await home.receive(home.ask())
    await home.desk.async_approve(request.id, [home.clip.id], "Alex")
    [share] = home.desk.store.shares(request.id)

    assert await home.desk.async_revoke(request.id, [home.clip.id], "Alex") == (1, [])

    assert [s.state for s in home.desk.store.shares(request.id)] == [ShareState.REVOKED]
    assert home.log()[-1] == "share_revoked"
    assert f"share:{share.id[:16]}" not in home.holds()


@pytest.mark.allow_porchlight_warnings(r"Footage action refused: already_downloaded")
async def test_a_downloaded_share_can_no_longer_be_revoked(
    home: Home, caplog: pytest.LogCaptureFixture
) -> None:
    request = await home.receive(home.ask())
    await home.desk.async_approve(request.id, [home.clip.id], "Alex")
    [share] = home.desk.store.shares(request.id)
    # The agency fetched every byte (the share server counts a download this way).
    home.desk.store.change_share(share.id, lambda s: s.counted(1000, reached_end=True, size=1000))

    with pytest.raises(RefusedError) as refused:
        await home.desk.async_revoke(request.id, [home.clip.id], "Alex")
    assert refused.value.key == "already_downloaded"
    assert refused.value.placeholders == {"request": request.id, "clip": home.clip.id}
    assert "Footage action refused: already_downloaded" in caplog.text
    # Revoking all that still can be revokes nothing, and says what was downloaded.
    assert await home.desk.async_revoke(request.id, None, "Alex") == (0, [home.clip.id])
    assert [s.state for s in home.desk.store.shares(request.id)] == [ShareState.DOWNLOADED]


async def test_a_declined_request_sends_nothing_and_releases_its_clips(home: Home) -> None:
    request = await home.receive(home.ask())

    await home.desk.async_decline(request.id, "Alex")

    stored = home.desk.store.request(request.id)
    assert stored is not None
    assert stored.state is RequestState.DECLINED
    assert home.owner.told[-1] == ("withdraw", request.id)
    assert home.log()[-1] == "request_declined"
    assert home.holds() == frozenset()
    assert len(home.node.outbox) == 0


async def test_housekeeping_expires_what_is_past_its_time(home: Home, clock: ManualClock) -> None:
    request = await home.receive(home.ask())
    await home.desk.async_approve(request.id, [home.clip.id], "Alex")

    clock.advance(2 * DAY)  # past the request's lifetime, not yet the links' 72 hours
    await home.desk.async_housekeeping()
    stored = home.desk.store.request(request.id)
    assert stored is not None
    assert not stored.open
    assert home.owner.told[-1] == ("withdraw", request.id)
    assert [s.state for s in home.desk.store.shares()] == [ShareState.OFFERED]

    clock.advance(2 * DAY)
    await home.desk.async_housekeeping()
    assert [s.state for s in home.desk.store.shares()] == [ShareState.EXPIRED]
    assert "share_expired" in home.log()
    assert home.holds() == frozenset()


# --- storage that fails part way ---------------------------------------------------------------
@pytest.mark.allow_porchlight_warnings(r"The clips of footage request \w+ could not be held")
async def test_a_request_whose_clips_cannot_be_held_is_still_announced(
    home: Home, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # The clip index fails just after the request is stored, before its clips are held.
    home.owner.on_changed = home.index.close
    envelope = home.ask()

    request = await home.receive(envelope)

    # Before: stored pending but never announced, and the agency's resend a duplicate.
    assert request.state is RequestState.PENDING
    assert home.owner.told == [("announce", request.id)]
    assert home.log()[-2:] == ["request_received", "request_pending"]
    assert "could not be held" in caplog.text
    assert len(home.node.outbox) == 0  # nothing is shared without the owner's consent
    with ClipIndex(tmp_path / "index.sqlite3") as index:
        clip = index.clip(home.clip.id)
        assert clip is not None
        assert clip.holds == frozenset()


@pytest.mark.allow_porchlight_warnings(r"Decline not recorded: the audit log is not open")
async def test_a_decline_the_audit_log_refuses_changes_nothing(home: Home) -> None:
    request = await home.receive(home.ask())
    home.desk.audit.close()

    # Before: a raw AuditError, which Home Assistant shows untranslated.
    with pytest.raises(NotRecordedError) as failed:
        await home.desk.async_decline(request.id, "Alex")

    assert failed.value.key == "decline_failed"
    assert failed.value.placeholders == {"error": "the audit log is not open"}
    home.desk.audit.open()
    assert home.desk.store.request(request.id) == request
    assert home.holds() == {f"request:{request.id[:16]}"}
    assert home.owner.told == [("announce", request.id)]
    assert home.log()[-1] == "request_pending"


async def _two_shares(home: Home) -> FootageRequest:
    """A request with two clips, both approved."""
    video = home.clip.path.with_name("second.mp4")
    video.write_bytes(home.clip.path.read_bytes())
    home.index.add_clip(replace(home.clip, id="01bbbbbbbbbbbbbb", path=video))
    request = await home.receive(home.ask())
    await home.desk.async_approve(request.id, [c.clip for c in request.candidates], "Alex")
    assert len(home.desk.store.shares(request.id)) == 2
    return request


@pytest.mark.allow_porchlight_warnings(r"Revocation not recorded: the audit log is not open")
async def test_a_revocation_the_audit_log_refuses_revokes_nothing(home: Home) -> None:
    request = await _two_shares(home)
    home.desk.audit.close()

    # Before: a raw AuditError, the first share revoked without its entry in the log.
    with pytest.raises(NotRecordedError) as failed:
        await home.desk.async_revoke(request.id, None, "Alex")

    assert failed.value.key == "revoke_failed"
    assert failed.value.placeholders == {"error": "the audit log is not open", "revoked": "0"}
    home.desk.audit.open()
    shares = home.desk.store.shares(request.id)
    assert [s.state for s in shares] == [ShareState.OFFERED, ShareState.OFFERED]
    assert "share_revoked" not in home.log()


@pytest.mark.allow_porchlight_warnings(r"Revocation not recorded: the audit log is not open")
async def test_each_revocation_is_in_the_audit_log_when_the_log_fails_half_way(
    home: Home,
) -> None:
    request = await _two_shares(home)
    # The log fails once the first share is revoked.
    home.owner.on_changed = home.desk.audit.close

    with pytest.raises(NotRecordedError) as failed:
        await home.desk.async_revoke(request.id, None, "Alex")

    home.owner.on_changed = None
    assert failed.value.placeholders == {"error": "the audit log is not open", "revoked": "1"}
    home.desk.audit.open()
    # Every share revoked has its entry, and no entry is without its revocation.
    shares = home.desk.store.shares(request.id)
    assert sorted(s.state for s in shares) == [ShareState.OFFERED, ShareState.REVOKED]
    revoked = [e.data["clip"] for e in home.desk.audit.entries() if e.kind == "share_revoked"]
    assert revoked == [s.clip for s in shares if s.state is ShareState.REVOKED]
    # Revoking again revokes what is left.
    assert await home.desk.async_revoke(request.id, None, "Alex") == (1, [])
    assert [s.state for s in home.desk.store.shares(request.id)] == [ShareState.REVOKED] * 2
