"""Access decisions on the hub: the same domain core the edges run, then one logged event."""

from __future__ import annotations

import itertools
import secrets
from datetime import datetime

from doorward.domain.decide import decide
from doorward.domain.model import AccessRequest, CardData, Decision
from doorward.errors import NotFound
from doorward.hub.schemas import AccessRequestIn, DecisionPublic
from doorward.hub.services.context import HubContext
from doorward.hub.services.passes import record_pass_use
from doorward.hub.services.snapshots import domain_snapshot
from doorward.store.models import utcnow
from doorward.transport.messages import EventMessage

__all__ = ["decide_at_gate", "decide_request", "decision_event", "to_request"]

# Events the hub itself records are ordered by this counter, as an edge orders its own.
_hub_seq = itertools.count(int(utcnow().timestamp() * 1000))


def to_request(gate_id: str, data: AccessRequestIn) -> AccessRequest:
    card = CardData(data.card_format, data.card_number.upper()) if data.card_number else None
    return AccessRequest(
        gate_id=gate_id, reader_id=data.reader_id, kind=data.kind, card=card,
        pin_id=data.pin_id, pin=data.pin, token=data.token, pass_code=data.pass_code,
    )


def decision_event(site_id: str, decision: Decision, now: datetime) -> EventMessage:
    """The event that records ``decision``: a pseudonym, never a name."""
    return EventMessage(
        event_id=secrets.token_hex(16), site_id=site_id, gate_id=decision.gate_id,
        kind="access", occurred_at=now, edge_seq=next(_hub_seq), outcome=decision.outcome.value,
        reason=decision.reason, credential_kind=decision.credential_kind.value,
        subject=decision.subject, pass_id=decision.pass_id, alarm=decision.alarm,
    )


def decide_request(ctx: HubContext, request: AccessRequest, now: datetime) -> Decision:
    """Decide, remember and log one request. Used by the API and the demo traffic."""
    snapshot = domain_snapshot(ctx)
    if request.gate_id not in snapshot.gates:
        raise NotFound(f"gate {request.gate_id!r} does not exist", hint="list gates for ids")
    with ctx.decide_lock:  # AccessMemory is plain data, not thread-safe
        decision = decide(request, snapshot, now, ctx.memory)
        ctx.memory.remember(request, decision, now)
    ctx.eventlog.append([decision_event(ctx.site_id, decision, now)])
    if decision.granted and decision.pass_id:
        record_pass_use(ctx, decision.pass_id)
    return decision


def decide_at_gate(
    ctx: HubContext, gate_id: str, data: AccessRequestIn, now: datetime | None = None
) -> DecisionPublic:
    now = now or utcnow()
    request = to_request(gate_id, data)
    decision = decide_request(ctx, request, now)
    return DecisionPublic(
        granted=decision.granted, outcome=decision.outcome.value, reason=decision.reason,
        gate_id=decision.gate_id, credential_kind=decision.credential_kind.value,
        credential_id=decision.credential_id,
        pass_id=decision.pass_id, alarm=decision.alarm, needs_face=decision.needs_face,
    )
