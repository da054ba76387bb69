"""Edge endpoints: events up (idempotent by event id), snapshots down, heartbeats up,
commands down (fetched and acknowledged), and the site lockdown for staff."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field, field_validator

from doorward.errors import PermissionDenied
from doorward.hub.deps import Ctx, EdgeClient, GuardUser
from doorward.hub.services import edge_health, events, snapshots
from doorward.hub.services.accounts import EdgeIdentity
from doorward.transport.messages import (
    Command,
    CommandAck,
    CommandList,
    EventBatch,
    Heartbeat,
    IngestAck,
    SnapshotMessage,
)

router = APIRouter(prefix="/edge", tags=["edge"])


class LockdownIn(BaseModel):
    active: bool = Field(description="true: lock the site down; false: release it")
    reason: str = Field(min_length=1, max_length=500, description="why (audited)")

    @field_validator("reason")
    @classmethod
    def _printable(cls, value: str) -> str:
        if any(ord(c) < 32 for c in value):
            raise ValueError("the reason may not contain control characters")
        return value


class LockdownOut(BaseModel):
    active: bool
    commands: list[Command]


def _own_gate(edge: EdgeIdentity, gate_id: str, what: str) -> None:
    if gate_id != edge.gate_id:
        raise PermissionDenied(
            f"this edge is enrolled for gate {edge.gate_id!r}, not {gate_id!r}",
            hint=f"ask for your own gate's {what}",
        )


@router.post("/events")
def ingest_events(batch: EventBatch, ctx: Ctx, edge: EdgeClient) -> IngestAck:
    ack = events.ingest_batch(ctx, edge, batch)
    edge_health.relay_fire(ctx, batch.events, ack.accepted)
    return ack


@router.get("/snapshot")
def get_snapshot(
    ctx: Ctx,
    edge: EdgeClient,
    gate_id: Annotated[str, Query(min_length=1, max_length=64)],
    since: Annotated[int, Query(ge=0)] = 0,
) -> SnapshotMessage:
    """The full snapshot (since=0) or the delta since a version the edge already holds."""
    _own_gate(edge, gate_id, "snapshot")
    return snapshots.snapshot_message(ctx, gate_id, since)


@router.post("/heartbeat", status_code=204)
def heartbeat(beat: Heartbeat, ctx: Ctx, edge: EdgeClient) -> None:
    """The edge is alive: its snapshot version, outbox depth, readers, door, lockdown, fire."""
    _own_gate(edge, beat.gate_id, "heartbeat")
    edge_health.record_heartbeat(ctx, edge.id, beat)


@router.get("/commands")
def get_commands(
    ctx: Ctx, edge: EdgeClient, gate_id: Annotated[str, Query(min_length=1, max_length=64)]
) -> CommandList:
    """Commands waiting for this gate (unacknowledged, not expired), oldest first."""
    _own_gate(edge, gate_id, "commands")
    return edge_health.pending_commands(ctx, gate_id)


@router.post("/commands/ack", status_code=204)
def ack_commands(done: CommandAck, ctx: Ctx, edge: EdgeClient) -> None:
    """The edge carried these commands out; they are not sent again."""
    edge_health.acknowledge_commands(ctx, edge.gate_id, done.command_ids)


@router.post("/lockdown")
def lockdown(data: LockdownIn, ctx: Ctx, user: GuardUser) -> LockdownOut:
    """Lock every gate of the site (only responder credentials pass) or release it."""
    sent = edge_health.set_lockdown(ctx, user.username, data.active, data.reason)
    return LockdownOut(active=data.active, commands=sent)
