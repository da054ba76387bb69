"""Edge endpoints: events up (idempotent by event id), snapshots down."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from doorward.errors import PermissionDenied
from doorward.hub.deps import Ctx, EdgeClient
from doorward.hub.services import events, snapshots
from doorward.transport.messages import EventBatch, IngestAck, SnapshotMessage

router = APIRouter(prefix="/edge", tags=["edge"])


@router.post("/events")
def ingest_events(batch: EventBatch, ctx: Ctx, edge: EdgeClient) -> IngestAck:
    return events.ingest_batch(ctx, edge, batch)


@router.get("/snapshot")
def get_snapshot(
    ctx: Ctx,
    edge: EdgeClient,
    gate_id: Annotated[str, Query(min_length=1, max_length=64)],
    since: Annotated[int, Query(ge=0)] = 0,
) -> SnapshotMessage:
    """The full snapshot (since=0) or the delta since a version the edge already holds."""
    if gate_id != edge.gate_id:
        raise PermissionDenied(
            f"this edge is enrolled for gate {edge.gate_id!r}, not {gate_id!r}",
            hint="ask for your own gate's snapshot",
        )
    return snapshots.snapshot_message(ctx, gate_id, since)
