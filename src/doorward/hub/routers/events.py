"""Events for staff (time, gate, outcome, reason, credential kind; no names, no pseudonyms)
and hourly aggregates per gate."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from doorward.hub.deps import Ctx, GuardUser
from doorward.hub.schemas import EventPublic, HourlyCount
from doorward.hub.services import events

router = APIRouter(tags=["events"])


@router.get("/events")
def list_events(
    ctx: Ctx,
    user: GuardUser,
    since: datetime | None = None,
    until: datetime | None = None,
    gate_id: str | None = None,
    kind: Literal["access", "alarm", "door", "system"] | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[EventPublic]:
    return events.list_events(ctx, since=since, until=until, gate_id=gate_id, kind=kind,
                              limit=limit)


@router.get("/stats/hourly")
def hourly_stats(
    ctx: Ctx, user: GuardUser, since: datetime | None = None, until: datetime | None = None
) -> list[HourlyCount]:
    return events.hourly_stats(ctx, since, until)
