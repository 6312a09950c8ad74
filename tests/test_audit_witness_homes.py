"""Three Home Assistant homes witness each other's audit logs over real HTTP on loopback.

Maple sends its signed checkpoints to its neighbors Birch and Cedar, which keep the head and
countersign it. Then someone holding Maple's key rewrites an old entry of its audit log and
re-signs every checkpoint: the log verifies on its own, and fails against both witnesses.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import pytest
from homeassistant.core import Context
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util

from custom_components.porchlight.consent.audit import AuditKind
from custom_components.porchlight.consent.audit.entry import checkpoint_message
from custom_components.porchlight.consent.audit.witness import (
    Witnessed,
    checkpoint_body,
    sign_statement,
    verify_statement,
)
from custom_components.porchlight.const import DOMAIN
from custom_components.porchlight.federation.canonical import b64u

from .consent.audit_helpers import _rewrite_with_key, _tamper
from .home import HOME
from .test_neighborhood_homes import Home, _another_home_assistant, _pair_homes, _set_up

if TYPE_CHECKING:
    from pathlib import Path

    from homeassistant.auth.models import User
    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.typing import WebSocketGenerator

    from custom_components.porchlight.consent.audit import AuditLog
    from custom_components.porchlight.federation.canonical import JSON
    from custom_components.porchlight.witness_glue import AuditWitnessing

REWRITTEN_SEQ = 3  # an early entry, under every checkpoint


def _witnessing(home: Home) -> AuditWitnessing:
    return home.entry.runtime_data.federation.witnessing  # type: ignore[no-any-return]


def _audit(home: Home) -> AuditLog:
    return home.entry.runtime_data.desk.audit  # type: ignore[no-any-return]


async def _until(condition: Any, *homes: Home) -> None:
    """Let the homes deliver to each other (over HTTP) until condition() holds."""
    for _ in range(50):
        for home in homes:
            await home.settle()
        if condition():
            return
        await asyncio.sleep(0.05)
    pytest.fail("the homes did not get there")


async def _verify(hass: HomeAssistant, user: User) -> Any:
    return await hass.services.async_call(
        DOMAIN,
        "verify_audit",
        {},
        blocking=True,
        return_response=True,
        context=Context(user_id=user.id),
    )


@pytest.mark.usefixtures("socket_enabled")
@pytest.mark.allow_porchlight_warnings(
    r"Neighbor .* rewrote its audit log: two different heads",
    r"Neighbor .* rewrote its audit log: the log shrank",
    r"sent a witness statement that the witness signature does not verify",
    r"sent a witness statement not its own or not for this home",
    r"sent an audit checkpoint that the checkpoint is not signed by the home's pinned key",
    r"No audit checkpoint to send to the neighbors: the audit log file is gone",
)
async def test_a_rewritten_audit_log_fails_verification_against_its_witnesses(  # noqa: PLR0915  # one story
    hass: HomeAssistant,
    tmp_path: Path,
    hass_admin_user: User,
    hass_read_only_user: User,
    hass_ws_client: WebSocketGenerator,
) -> None:
    maple = await _set_up(hass, "Maple", HOME["latitude"], HOME["longitude"])
    async with (
        _another_home_assistant(tmp_path / "birch") as birch_hass,
        _another_home_assistant(tmp_path / "cedar") as cedar_hass,
    ):
        birch = await _set_up(birch_hass, "Birch", HOME["latitude"] + 0.01, HOME["longitude"])
        cedar = await _set_up(cedar_hass, "Cedar", HOME["latitude"] - 0.01, HOME["longitude"])
        await _pair_homes(maple, birch)
        await _pair_homes(maple, cedar)
        homes = (maple, birch, cedar)
        maple_id = maple.node.identity.keyid
        witnesses = {birch.node.identity.keyid, cedar.node.identity.keyid}
        home = _witnessing(maple)

        # Nothing sent yet, so the first hourly check signs a checkpoint and sends it.
        sent_before = len(list(_audit(maple).entries()))
        await home.async_tick(dt_util.utcnow())
        await _until(lambda: set(home.statements) == witnesses, *homes)
        checkpoint = _audit(maple).last_checkpoint
        assert checkpoint is not None
        witnessed = Witnessed(checkpoint.seq - 1, checkpoint.prev)
        for neighbor in (birch, cedar):
            assert _witnessing(neighbor).heads == {maple_id: witnessed}
            statement = home.statements[neighbor.node.identity.keyid]
            assert verify_statement(statement) == neighbor.node.identity.keyid
            assert (statement["home"], statement["size"], statement["head"]) == (
                maple_id,
                witnessed.size,
                witnessed.head,
            )
        # The checkpoints left through the outbox, so each is in the audit log.
        sent = [
            e
            for e in _audit(maple).entries(sent_before)
            if e.kind == AuditKind.MESSAGE_SENT and e.subject.startswith("127.0.0.1:")
        ]
        assert {e.subject for e in sent} >= {f"127.0.0.1:{h.port}" for h in (birch, cedar)}

        # A new checkpoint goes out at the next check; with none, nothing does.
        await hass.async_add_executor_job(_audit(maple).checkpoint)
        await home.async_tick(dt_util.utcnow())
        newer = _audit(maple).last_checkpoint
        assert newer is not None
        assert newer.seq > checkpoint.seq
        await _until(
            lambda: all(s["size"] == newer.seq - 1 for s in home.statements.values()), *homes
        )
        sent_at = home.sent
        await home.async_tick(dt_util.utcnow())
        assert home.sent == sent_at

        # Verified: the chain, and both witnesses.
        assert await _verify(hass, hass_admin_user) == {
            "ok": True,
            "entries": _audit(maple).head()[0],
            "checkpoints": 2,  # the first check's and the one signed above
            "witnesses": 2,
        }
        ws = await hass_ws_client(hass)
        await ws.send_json_auto_id({"type": "porchlight/audit/verify"})
        reply = (await ws.receive_json())["result"]
        assert reply["ok"] is True
        assert {(w["witness"], w["status"]) for w in reply["witnesses"]} == {
            (w, "ok") for w in witnesses
        }

        # Someone with Maple's key rewrites an old entry while Home Assistant is stopped,
        # re-chaining and re-signing every checkpoint.
        identity = maple.entry.runtime_data.identity
        path = _audit(maple).path
        assert await hass.config_entries.async_unload(maple.entry.entry_id)
        with _tamper(path) as db:
            _rewrite_with_key(db, identity, REWRITTEN_SEQ)
        assert await hass.config_entries.async_setup(maple.entry.entry_id)
        home = _witnessing(maple)
        assert set(home.statements) == witnesses  # kept across the reload
        # Without the witnesses the rewrite would pass: the chain verifies.
        report = await hass.async_add_executor_job(_audit(maple).verify)
        assert report.ok
        assert report.checkpoints == 3  # and the one unload signed
        with pytest.raises(HomeAssistantError) as failed:
            await _verify(hass, hass_admin_user)
        assert failed.value.translation_key == "audit_witness_rewritten"
        assert failed.value.translation_placeholders is not None
        assert failed.value.translation_placeholders["witness"] in witnesses
        assert failed.value.translation_placeholders["seq"] == str(newer.seq - 1)
        assert "neighbor" in str(failed.value)
        assert "was rewritten" in str(failed.value)
        # Any user may verify; only an admin is told which neighbor it was.
        with pytest.raises(HomeAssistantError) as failed:
            await _verify(hass, hass_read_only_user)
        assert failed.value.translation_placeholders == {"witness": "?", "seq": str(newer.seq - 1)}
        ws = await hass_ws_client(hass)
        await ws.send_json_auto_id({"type": "porchlight/audit/verify"})
        reply = (await ws.receive_json())["result"]
        assert reply["ok"] is False
        assert {(w["witness"], w["status"]) for w in reply["witnesses"]} == {
            (w, "rewritten") for w in witnesses
        }

        # The rewritten history shown to Birch: two heads for one entry, a repair issue.
        forged = next(e for e in _audit(maple).entries(newer.seq - 1, 1))
        assert forged.kind == AuditKind.CHECKPOINT
        assert forged.prev != newer.prev
        maple.node.sending.send(
            birch.node.identity.keyid, "audit_checkpoint", checkpoint_body(forged), lifetime=600
        )
        await maple.entry.runtime_data.federation.async_deliver()
        issue_id = f"audit_equivocation_{maple_id}"
        await _until(lambda: ir.async_get(birch_hass).async_get_issue(DOMAIN, issue_id), *homes)
        assert _witnessing(birch).heads[maple_id] == Witnessed(newer.seq - 1, newer.prev)

        await _refusals(maple, birch, cedar)
        await hass.config_entries.async_unload(maple.entry.entry_id)
        await birch_hass.config_entries.async_unload(birch.entry.entry_id)
        await cedar_hass.config_entries.async_unload(cedar.entry.entry_id)


async def _refusals(maple: Home, birch: Home, cedar: Home) -> None:
    """What a witness or a home refuses, handed straight to their listeners."""
    maple_id, birch_id = maple.node.identity.keyid, birch.node.identity.keyid
    witness, home = _witnessing(birch), _witnessing(maple)
    maple_at_birch = birch.node.peers.get(maple_id)
    birch_at_maple = maple.node.peers.get(birch_id)
    assert maple_at_birch is not None
    assert birch_at_maple is not None
    kept = witness.heads[maple_id]
    # A checkpoint signed by another key than the one pinned for Maple.
    key = b64u(cedar.node.identity.public_key)
    signed = checkpoint_message(kept.size + 1, "5" * 64, key)
    body: dict[str, JSON] = {
        "size": kept.size + 1,
        "head": "5" * 64,
        "key": key,
        "sig": b64u(cedar.node.identity.sign(signed)),
    }
    witness.checkpoint_received(maple_at_birch, body)
    assert witness.heads[maple_id] == kept
    # After Maple's key rotation its log continues: the head kept under the old keyid holds.
    rotated = replace(maple_at_birch, keyid="A" * 32, retired_keys=(maple_at_birch.public_key,))
    first = next(e for e in _audit(maple).entries() if e.kind == "checkpoint")
    witness.checkpoint_received(rotated, checkpoint_body(first))
    assert "A" * 32 not in witness.heads
    assert ir.async_get(birch.hass).async_get_issue(DOMAIN, f"audit_equivocation_{'A' * 32}")

    statement = home.statements[birch_id]
    # Forged (the head changed), Cedar's statement handed over by Birch, a stale one.
    home.witness_received(birch_at_maple, {**statement, "head": "0" * 64})
    cedar_says = sign_statement(cedar.node.identity, maple_id, kept, 1)
    home.witness_received(birch_at_maple, cedar_says)
    other_home = sign_statement(birch.node.identity, birch_id, kept, 1)
    home.witness_received(birch_at_maple, other_home)
    stale = sign_statement(birch.node.identity, maple_id, Witnessed(1, "1" * 64), 1)
    home.witness_received(birch_at_maple, stale)
    assert home.statements[birch_id] == statement

    # The removed-neighbor sweep clears the made-up keyid's issue, not Maple's.
    birch.entry.runtime_data.federation.tamper_issues()
    issues = ir.async_get(birch.hass)
    assert issues.async_get_issue(DOMAIN, f"audit_equivocation_{'A' * 32}") is None
    assert issues.async_get_issue(DOMAIN, f"audit_equivocation_{maple_id}") is not None

    # A witnessed row that is no entry at all any more: not the witnessed entry either.
    with _tamper(_audit(maple).path) as db:
        db.execute("UPDATE entries SET data = '{' WHERE seq = ?", (int(statement["size"]),))  # type: ignore[call-overload]
    report, results = await home.async_verify()
    assert not report.ok
    assert {r.status.value for r in results} == {"rewritten"}

    # No checkpoint can be signed while the audit file is gone: nothing is sent.
    path = _audit(maple).path
    path.rename(path.with_name("moved"))
    try:
        assert await home.async_send(force=True) == 0
    finally:
        path.with_name("moved").rename(path)
