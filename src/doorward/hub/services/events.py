"""Reading the event log (no names: events carry only pseudonyms, and staff see not even
those), aggregates by gate and hour, ingest from edges, and chain verification.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from doorward.errors import InvalidInput, PermissionDenied
from doorward.hub.schemas import EventPublic, HourlyCount, VerifyOut
from doorward.hub.services.accounts import EdgeIdentity
from doorward.hub.services.context import HubContext
from doorward.store.models import utcnow
from doorward.transport.messages import EventBatch, IngestAck

__all__ = ["hourly_stats", "ingest_batch", "list_events", "verify_log"]

MAX_STATS_DAYS = 31


def list_events(
    ctx: HubContext,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    gate_id: str | None = None,
    kind: str | None = None,
    limit: int = 100,
) -> list[EventPublic]:
    rows = ctx.eventlog.events(
        site_id=ctx.site_id, since=since, until=until, gate_id=gate_id, kind=kind, limit=limit
    )
    return [
        EventPublic(
            event_id=r.event_id, occurred_at=r.occurred_at, gate_id=r.gate_id, kind=r.kind,
            outcome=r.outcome, reason=r.reason, credential_kind=r.credential_kind, alarm=r.alarm,
        )
        for r in rows
    ]


def hourly_stats(
    ctx: HubContext, since: datetime | None = None, until: datetime | None = None
) -> list[HourlyCount]:
    """Granted and denied access events per gate and UTC hour: the only chart shape there is."""
    until = until or utcnow()
    since = since or until - timedelta(days=1)
    if until <= since:
        raise InvalidInput("until is not after since", hint="swap the two times")
    if until - since > timedelta(days=MAX_STATS_DAYS):
        raise InvalidInput(
            f"the range is longer than {MAX_STATS_DAYS} days", hint="ask for a shorter range"
        )
    totals: dict[tuple[str, datetime], list[int]] = defaultdict(lambda: [0, 0])
    for row in ctx.eventlog.hourly_counts(ctx.site_id, since, until):
        # row[3], not row.count: on a NamedTuple ``count`` is also tuple.count.
        totals[(row.gate_id, row.hour)][0 if row.outcome == "granted" else 1] += row[3]
    return [
        HourlyCount(gate_id=gate, hour=hour, granted=g, denied=d)
        for (gate, hour), (g, d) in sorted(totals.items(), key=lambda kv: (kv[0][1], kv[0][0]))
    ]


def ingest_batch(ctx: HubContext, edge: EdgeIdentity, batch: EventBatch) -> IngestAck:
    """Store an edge's events; an edge may report only its own gate at this site."""
    for event in batch.events:
        if event.site_id != ctx.site_id or event.gate_id != edge.gate_id:
            raise PermissionDenied(
                f"event {event.event_id} is for {event.site_id}/{event.gate_id}, but this edge "
                f"is enrolled for {ctx.site_id}/{edge.gate_id}",
                hint="check the edge's site and gate settings",
            )
    return ctx.eventlog.append(batch.events)


def verify_log(ctx: HubContext) -> VerifyOut:
    report = ctx.eventlog.verify()
    if report.ok:
        return VerifyOut(ok=True, entries=report.checked, message="the hash chain verifies")
    return VerifyOut(
        ok=False, entries=report.checked,
        message=f"tampering found at site {report.site_id}, seq {report.seq}: {report.problem}",
    )
