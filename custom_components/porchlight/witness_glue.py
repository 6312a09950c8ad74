"""Witnessed audit logs in Home Assistant: both roles of a home (consent/audit/witness.py).

As the home: every hour, if the audit log wrote a checkpoint since the last one sent (and at
least daily, forcing one), send it to every active neighbor; keep each neighbor's latest
countersigned statement, verbatim. As the witness: check a neighbor's checkpoint, keep its
latest head, answer with a countersigned statement; a neighbor that shows two histories gets
a repair issue, like a tampering relay.

Both are kept in one private HA Store, not in the audit log: a statement certifies the log,
so it must survive exactly the rewrite it is there to expose (a log rewritten from some seq on
would drop statements kept inside it), and the witnessed heads of neighbors are not events of
this home. The messages themselves go through the node's outbox, so every one is written to
the audit log before it leaves (federation_glue.record_sent).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Final

from homeassistant.core import callback
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from .consent.audit import AuditError
from .consent.audit.witness import (
    EquivocationError,
    Witnessed,
    WitnessError,
    WitnessResult,
    check_checkpoint,
    check_witnesses,
    checkpoint_body,
    sign_statement,
    verify_statement,
)
from .consent_glue import plain
from .const import DOMAIN
from .federation.identity import keyid
from .issues import Severity, raise_issue

if TYPE_CHECKING:
    from datetime import datetime

    from homeassistant.core import HomeAssistant

    from .background import BackgroundWork
    from .consent.audit import AuditEntry, AuditLog, AuditReport
    from .federation.canonical import JSON
    from .federation.peers import Peer
    from .federation_glue import Federation

_LOGGER = logging.getLogger(__name__)

STORAGE_KEY: Final = f"{DOMAIN}.audit_witness"
STORAGE_VERSION: Final = 1
CHECK_INTERVAL: Final = timedelta(hours=1)
RESEND_SECONDS: Final = 86_400  # at least daily, so witnesses see the log is still there
LIFETIME: Final = 2 * 86_400
# One per neighbor that showed this home two histories of its audit log.
EQUIVOCATION_ISSUE: Final = "audit_equivocation_{keyid}"


@dataclass
class AuditWitnessing:
    """This home's checkpoints sent to its neighbors, and theirs witnessed here."""

    hass: HomeAssistant
    federation: Federation
    audit: AuditLog
    work: BackgroundWork
    store: Store[dict[str, Any]] = field(init=False)
    # Neighbor keyid -> the head witnessed for it.
    heads: dict[str, Witnessed] = field(init=False, default_factory=dict)
    # Witness keyid -> its latest statement about this home, verbatim.
    statements: dict[str, dict[str, JSON]] = field(init=False, default_factory=dict)
    # (size, time) of the checkpoint last sent.
    sent: tuple[int, int] = field(init=False, default=(0, 0))

    def __post_init__(self) -> None:
        """The private store (statements are evidence; heads say who our neighbors are)."""
        self.store = Store(self.hass, STORAGE_VERSION, STORAGE_KEY, private=True)

    async def async_load(self) -> None:
        """Bring back what was kept; start the hourly check."""
        if (data := await self.store.async_load()) is not None:
            self.heads = {k: Witnessed.from_json(v) for k, v in data["heads"].items()}
            self.statements = data["statements"]
            self.sent = (data["sent"][0], data["sent"][1])
        self.work.every(CHECK_INTERVAL, self.async_tick, "porchlight audit witness")

    def _data(self) -> dict[str, Any]:
        return {
            "heads": {k: v.to_json() for k, v in self.heads.items()},
            "statements": self.statements,
            "sent": list(self.sent),
        }

    def _save(self) -> None:
        self.store.async_delay_save(self._data, 1)

    async def async_save(self) -> None:
        """Write now (on unload: a delayed save would be lost on a reload)."""
        await self.store.async_save(self._data())

    # --- the home ----------------------------------------------------------------------------
    async def async_tick(self, _now: datetime) -> None:
        """Send a checkpoint written since the last one sent; once a day, force one."""
        now = self.federation.node.clock.now()
        if now - self.sent[1] >= RESEND_SECONDS:
            await self.async_send(force=True)
            return
        latest = self.audit.last_checkpoint
        if latest is not None and latest.seq - 1 != self.sent[0]:
            await self.async_send()

    async def async_send(self, *, force: bool = False) -> int:
        """Queue the latest checkpoint (a fresh one if force) for every active neighbor.

        Returns how many neighbors it was queued for.
        """
        entry = self.audit.last_checkpoint
        if force or entry is None:
            try:
                entry = await self.work.async_add_executor_job(self.audit.checkpoint)
            except AuditError as err:
                _LOGGER.warning("No audit checkpoint to send to the neighbors: %s", err)
                return 0
        node = self.federation.node
        body = checkpoint_body(entry)
        neighbors = node.peers.active_neighbors()
        for neighbor in neighbors:
            node.sending.send(neighbor.keyid, "audit_checkpoint", body, lifetime=LIFETIME)
        self.sent = (entry.seq - 1, node.clock.now())
        self._save()
        self._deliver()
        return len(neighbors)

    @callback
    def witness_received(self, peer: Peer, body: dict[str, JSON]) -> None:
        """A neighbor countersigned our checkpoint: keep its statement if it is evidence."""
        try:
            witness = verify_statement(body)
        except WitnessError as err:
            _LOGGER.warning("Neighbor %s sent a witness statement that %s", peer.fingerprint, err)
            return
        if witness != peer.keyid or body["home"] != self.federation.node.identity.keyid:
            _LOGGER.warning(
                "Neighbor %s sent a witness statement not its own or not for this home",
                peer.fingerprint,
            )
            return
        kept = self.statements.get(witness)
        if kept is None or int(kept["size"]) <= int(body["size"]):  # type: ignore[arg-type]
            self.statements[witness] = dict(body)
            self._save()

    async def async_verify(self) -> tuple[AuditReport, list[WitnessResult]]:
        """Verify the chain, then every kept statement against it."""

        def entry_at(seq: int) -> AuditEntry | None:
            try:
                return self.audit.entry_at(seq)
            except AuditError:
                return None  # a damaged row is not the witnessed entry either

        def verify() -> tuple[AuditReport, list[WitnessResult]]:
            report = self.audit.verify()
            results = check_witnesses(self.statements.values(), entry_at, report.keys)
            return report, results

        return await self.work.async_add_executor_job(verify)

    # --- the witness -------------------------------------------------------------------------
    @callback
    def checkpoint_received(self, peer: Peer, body: dict[str, JSON]) -> None:
        """A neighbor's checkpoint: check it against its key and what we saw, countersign."""
        last = self.heads.get(peer.keyid)
        for old in peer.retired_keys:  # its log continues across a key rotation
            last = last or self.heads.get(keyid(old))
        try:
            witnessed = check_checkpoint(body, peer.public_key, last)
        except EquivocationError as err:
            _LOGGER.warning("Neighbor %s rewrote its audit log: %s", peer.fingerprint, err)
            raise_issue(
                self.hass,
                EQUIVOCATION_ISSUE.format(keyid=peer.keyid),
                "audit_equivocation",
                {"name": plain(peer.name), "fingerprint": peer.fingerprint, "problem": str(err)},
                severity=Severity.ERROR,
            )
            return
        except ValueError as err:  # WitnessError, or a key that is not one
            _LOGGER.warning("Neighbor %s sent an audit checkpoint that %s", peer.fingerprint, err)
            return
        self.heads[peer.keyid] = witnessed
        self._save()
        node = self.federation.node
        statement = sign_statement(node.identity, peer.keyid, witnessed, node.clock.now())
        node.sending.send(peer.keyid, "audit_witness", statement, lifetime=LIFETIME)
        self._deliver()

    @callback
    def _deliver(self) -> None:
        """Send what was queued now rather than at the next delivery round."""
        self.work.start(self.federation.async_tick, dt_util.utcnow(), "porchlight audit witness")
