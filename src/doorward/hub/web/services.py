"""What the guard console needs and the hub's services do not offer (yet).

Live events as staff may see them (a resident is only "resident"; a visitor is their given
name and host unit), alarms and their acknowledgements, gate status, manual open and the
aggregated charts. Queries live here, never in the page routes. Everything a member of staff
does is written to the audit log.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from doorward.errors import InvalidInput, NotFound
from doorward.hub.services import edge_health
from doorward.hub.services.common import audit
from doorward.hub.services.context import HubContext
from doorward.hub.web.rendering import PageUser
from doorward.store.edge_health_models import EdgeStatusRow
from doorward.store.eventlog_models import EventLogEntry
from doorward.store.models import (
    AuditEntry,
    GateRow,
    PassRow,
    PersonRow,
    SiteRow,
    SubjectMapRow,
    UnitRow,
    utcnow,
)
from doorward.transport.messages import EventMessage

__all__ = [
    "ONLINE_WINDOW",
    "AlarmView",
    "EventView",
    "GateStatus",
    "HourBar",
    "acknowledge_alarm",
    "alarm_view",
    "event_view",
    "events_after",
    "gate_status",
    "hourly_traffic",
    "latest_seq",
    "manual_open",
    "occupancy",
    "open_alarms",
    "recent_events",
    "set_lockdown",
    "subject_of_event",
]

#: Kept for importers; gate status now uses heartbeats and ``settings.edge_offline_seconds``.
ONLINE_WINDOW = timedelta(minutes=10)
MIN_REASON_CHARS = 5
_ACK = "alarm.ack"

_COLUMNS = (
    EventLogEntry.seq, EventLogEntry.event_id, EventLogEntry.kind, EventLogEntry.gate_id,
    EventLogEntry.occurred_at, EventLogEntry.outcome, EventLogEntry.reason,
    EventLogEntry.credential_kind, EventLogEntry.subject, EventLogEntry.pass_id,
    EventLogEntry.alarm, EventLogEntry.detail,
)


@dataclass(frozen=True, slots=True)
class EventView:
    """One event on the console: no name unless it is a visitor's given name."""

    seq: int
    event_id: str
    occurred_at: datetime
    gate_id: str
    gate_name: str
    kind: str
    granted: bool
    outcome: str
    reason: str
    credential_kind: str
    who: str  # "resident", "staff", "visitor Ana (unit 12)", "" for door/system events
    alarm: str | None
    has_subject: bool  # a break-glass lookup is possible


@dataclass(frozen=True, slots=True)
class AlarmView:
    event: EventView
    acknowledged_by: str = ""
    comment: str = ""


@dataclass(frozen=True, slots=True)
class GateStatus:
    id: str
    name: str
    kind: str
    direction: str
    online: bool
    last_seen: datetime | None
    door: str  # "open" | "closed" | "unknown"
    lockdown: bool
    fire: bool = False
    has_edge: bool = False  # an edge has sent at least one heartbeat


@dataclass(frozen=True, slots=True)
class HourBar:
    hour: datetime
    granted: int
    denied: int


def _views(hub: HubContext, rows: list[tuple[object, ...]]) -> list[EventView]:
    """Label events for staff: categories for residents and staff, given names for visitors."""
    subjects = {r[8] for r in rows if r[8]}
    pass_ids = {r[9] for r in rows if r[9]}
    with hub.db.read() as session:
        gates = dict(session.execute(select(GateRow.id, GateRow.name)).all())
        roles = dict(
            session.execute(
                select(SubjectMapRow.subject, PersonRow.role)
                .join(PersonRow, PersonRow.id == SubjectMapRow.person_id)
                .where(SubjectMapRow.subject.in_(subjects))
            ).all()
        ) if subjects else {}
        visitors = {
            pid: (name, unit or "?", kind)
            for pid, name, unit, kind in session.execute(
                select(PassRow.id, PassRow.visitor_name, UnitRow.label, PassRow.kind)
                .join(UnitRow, UnitRow.id == PassRow.host_unit_id, isouter=True)
                .where(PassRow.id.in_(pass_ids))
            ).all()
        } if pass_ids else {}
    views = []
    for seq, event_id, kind, gate_id, at, outcome, reason, cred_kind, subject, pass_id, alarm, \
            detail in rows:
        if not reason and kind == "door" and isinstance(detail, dict) and detail.get("state"):
            reason = f"door {detail['state']}"
        elif not reason and kind in ("door", "system") and outcome:
            reason = f"{'door ' if kind == 'door' else ''}{str(outcome).replace('_', ' ')}"
        who = ""
        if pass_id and pass_id in visitors:
            name, unit, pass_kind = visitors[pass_id]
            who = f"{pass_kind} {name} (unit {unit})"
        elif subject:
            role = roles.get(str(subject), "")
            who = "resident" if role in ("", "resident") else "staff"
        views.append(EventView(
            seq=int(str(seq)), event_id=str(event_id), occurred_at=at,  # type: ignore[arg-type]
            gate_id=str(gate_id), gate_name=gates.get(str(gate_id), str(gate_id)),
            kind=str(kind), granted=outcome == "granted", outcome=str(outcome),
            reason=str(reason), credential_kind=str(cred_kind), who=who,
            alarm=alarm if isinstance(alarm, str) else None, has_subject=bool(subject),
        ))
    return views


def recent_events(hub: HubContext, limit: int = 50, gate_id: str = "") -> list[EventView]:
    """The newest events of the site (or of one gate), newest first."""
    query = (
        select(*_COLUMNS).where(EventLogEntry.site_id == hub.site_id)
        .order_by(EventLogEntry.seq.desc()).limit(limit)
    )
    if gate_id:
        query = query.where(EventLogEntry.gate_id == gate_id)
    with hub.db.read() as session:
        rows = [tuple(r) for r in session.execute(query)]
    return _views(hub, rows)


def latest_seq(hub: HubContext) -> int:
    with hub.db.read() as session:
        value = session.scalar(
            select(func.max(EventLogEntry.seq)).where(EventLogEntry.site_id == hub.site_id)
        )
    return int(value or 0)


def events_after(hub: HubContext, seq: int, limit: int = 50) -> list[EventView]:
    """Events stored after ``seq``, oldest first (what a live stream has not sent yet)."""
    query = (
        select(*_COLUMNS)
        .where(EventLogEntry.site_id == hub.site_id, EventLogEntry.seq > seq)
        .order_by(EventLogEntry.seq).limit(limit)
    )
    with hub.db.read() as session:
        rows = [tuple(r) for r in session.execute(query)]
    return _views(hub, rows)


def event_view(hub: HubContext, event_id: str) -> EventView:
    """One event of the site as staff may see it."""
    query = select(*_COLUMNS).where(EventLogEntry.site_id == hub.site_id,
                                    EventLogEntry.event_id == event_id)
    with hub.db.read() as session:
        rows = [tuple(r) for r in session.execute(query)]
    if not rows:
        raise NotFound(f"there is no event {event_id!r}", hint="pick an event on the console")
    return _views(hub, rows)[0]


def _acks(hub: HubContext, event_ids: list[str]) -> dict[str, tuple[str, str]]:
    if not event_ids:
        return {}
    with hub.db.read() as session:
        found = session.execute(
            select(AuditEntry.detail, AuditEntry.actor, AuditEntry.purpose)
            .where(AuditEntry.action == _ACK, AuditEntry.detail.in_(event_ids))
        ).all()
    return {event_id: (actor, comment) for event_id, actor, comment in found}


def open_alarms(hub: HubContext, limit: int = 20) -> list[AlarmView]:
    """The newest alarms with whoever acknowledged them (unacknowledged first)."""
    query = (
        select(*_COLUMNS)
        .where(EventLogEntry.site_id == hub.site_id)
        .where((EventLogEntry.kind == "alarm") | EventLogEntry.alarm.is_not(None))
        .order_by(EventLogEntry.seq.desc()).limit(limit)
    )
    with hub.db.read() as session:
        rows = [tuple(r) for r in session.execute(query)]
    views = _views(hub, rows)
    acks = _acks(hub, [v.event_id for v in views])
    alarms = [AlarmView(v, *acks.get(v.event_id, ("", ""))) for v in views]
    return sorted(alarms, key=lambda a: (bool(a.acknowledged_by), -a.event.seq))


def alarm_view(hub: HubContext, event_id: str) -> AlarmView:
    query = select(*_COLUMNS).where(
        EventLogEntry.event_id == event_id,
        (EventLogEntry.kind == "alarm") | EventLogEntry.alarm.is_not(None),
    )
    with hub.db.read() as session:
        rows = [tuple(r) for r in session.execute(query)]
    if not rows:
        raise NotFound(f"there is no alarm {event_id!r}", hint="reload the console")
    view = _views(hub, rows)[0]
    return AlarmView(view, *_acks(hub, [event_id]).get(event_id, ("", "")))


def acknowledge_alarm(hub: HubContext, actor: PageUser, event_id: str, comment: str) -> AlarmView:
    """Record who acknowledged an alarm and their comment (audited; the log stays untouched)."""
    current = alarm_view(hub, event_id)
    if current.acknowledged_by:
        return current
    with hub.db.write() as session:
        audit(session, actor=actor.username, action=_ACK, purpose=comment.strip()[:500],
              detail=event_id)
    return alarm_view(hub, event_id)


def subject_of_event(hub: HubContext, event_id: str) -> str:
    """The pseudonym on one event, for a break-glass lookup (never shown to staff)."""
    with hub.db.read() as session:
        subject = session.scalar(
            select(EventLogEntry.subject).where(EventLogEntry.event_id == event_id)
        )
    if not subject:
        raise NotFound(
            "no resident is behind this event",
            hint="visitor, door and system events carry no person; erased people cannot be found",
        )
    return subject


def gate_status(hub: HubContext, now: datetime | None = None) -> list[GateStatus]:
    """Each gate: online from its edge's heartbeats (within ``edge_offline_seconds``), the
    last door state, and lockdown and fire as the edge reported them (or the site's flag)."""
    now = now or utcnow()
    offline_after = timedelta(seconds=hub.settings.edge_offline_seconds)
    edges = edge_health.edge_statuses(hub)
    with hub.db.read() as session:
        gates = session.scalars(
            select(GateRow).where(GateRow.site_id == hub.site_id).order_by(GateRow.name)
        ).all()
        site = session.get(SiteRow, hub.site_id)
        doors: dict[str, str] = {}
        for gate in gates:
            door_event = session.execute(
                select(EventLogEntry.outcome, EventLogEntry.detail)
                .where(EventLogEntry.gate_id == gate.id, EventLogEntry.kind == "door",
                       EventLogEntry.outcome.in_(("", "opened", "closed")))
                .order_by(EventLogEntry.seq.desc()).limit(1)
            ).first()
            found = (door_event[0], door_event[1]) if door_event is not None else None
            doors[gate.id] = _door_state(found, edges.get(gate.id))
    site_lockdown = bool(site.lockdown) if site else False
    result = []
    for gate in gates:
        edge = edges.get(gate.id)
        seen = edge.last_seen_at if edge else None
        result.append(GateStatus(
            id=gate.id, name=gate.name, kind=gate.kind, direction=gate.direction,
            online=seen is not None and now - seen <= offline_after,
            last_seen=seen, door=doors[gate.id],
            lockdown=site_lockdown or bool(edge and edge.lockdown),
            fire=bool(edge and edge.fire), has_edge=edge is not None,
        ))
    return result


def _door_state(event: tuple[str, object] | None, edge: EdgeStatusRow | None) -> str:
    """The newest door event (the edge's "opened"/"closed", or a ``state`` detail), else what
    the edge's last heartbeat said."""
    if event is not None:
        outcome, detail = event
        state = detail.get("state", "") if isinstance(detail, dict) else ""
        state = state or {"opened": "open", "closed": "closed"}.get(outcome, "")
        if state in ("open", "closed"):
            return str(state)
    return edge.door if edge is not None else "unknown"


def manual_open(hub: HubContext, actor: PageUser, gate_id: str, reason: str) -> str:
    """Open a gate from the console: needs a reason; audited, logged as a door event, and
    sent to the gate's edge as a ``manual_open`` command (which pulses the strike)."""
    reason = reason.strip()
    if len(reason) < MIN_REASON_CHARS:
        raise InvalidInput(
            "a manual open needs a reason",
            hint=f"say why in at least {MIN_REASON_CHARS} characters (it is audited)",
        )
    with hub.db.read() as session:
        if session.get(GateRow, gate_id) is None:
            raise NotFound(f"gate {gate_id!r} does not exist", hint="pick a gate from the list")
    event_id = uuid.uuid4().hex
    with hub.db.write() as session:
        audit(session, actor=actor.username, action="gate.manual_open", purpose=reason[:500],
              detail=f"{gate_id} event={event_id}")
    # The event carries no staff name: the audit entry says who.
    hub.eventlog.append([EventMessage(
        event_id=event_id, site_id=hub.site_id, gate_id=gate_id, kind="door",
        occurred_at=utcnow(), edge_seq=0, outcome="manual_open",
        reason="opened by staff from the console", detail={"action": "manual_open"},
    )])
    edge_health.issue_command(hub, [gate_id], "manual_open", "opened by staff from the console")
    return event_id


def set_lockdown(hub: HubContext, actor: PageUser, active: bool, reason: str) -> int:
    """Lock the site down or release it from the console; returns the gates told."""
    return len(edge_health.set_lockdown(hub, actor.username, active, reason))


def hourly_traffic(hub: HubContext, hours: int = 24, now: datetime | None = None
                   ) -> dict[str, list[HourBar]]:
    """Access events per gate and hour over the last ``hours``: aggregates only."""
    now = (now or utcnow()).replace(minute=0, second=0, microsecond=0)
    since = now - timedelta(hours=hours - 1)
    counts = hub.eventlog.hourly_counts(hub.site_id, since, now + timedelta(hours=1))
    with hub.db.read() as session:
        names = dict(session.execute(
            select(GateRow.id, GateRow.name).where(GateRow.site_id == hub.site_id)
        ).all())
    table: dict[str, dict[datetime, list[int]]] = defaultdict(dict)
    for gate_id, hour, outcome, n in counts:
        cell = table[gate_id].setdefault(hour, [0, 0])
        cell[0 if outcome == "granted" else 1] += n
    result: dict[str, list[HourBar]] = {}
    for gate_id in sorted(set(names) | set(table), key=lambda g: names.get(g, g)):
        bars = []
        for step in range(hours):
            hour = since + timedelta(hours=step)
            granted, denied = table[gate_id].get(hour, [0, 0])
            bars.append(HourBar(hour, granted, denied))
        result[names.get(gate_id, gate_id)] = bars
    return result


def occupancy(hub: HubContext, now: datetime | None = None) -> int:
    """People inside now, as a site total: granted entries minus granted exits since midnight."""
    now = now or utcnow()
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    with hub.db.read() as session:
        directions = dict(session.execute(
            select(GateRow.id, GateRow.direction).where(GateRow.site_id == hub.site_id)
        ).all())
        per_gate = session.execute(
            select(EventLogEntry.gate_id, func.count())
            .where(EventLogEntry.site_id == hub.site_id, EventLogEntry.kind == "access",
                   EventLogEntry.outcome == "granted", EventLogEntry.occurred_at >= midnight)
            .group_by(EventLogEntry.gate_id)
        ).all()
    inside = sum(n if directions.get(g) != "exit" else -n for g, n in per_gate)
    return max(inside, 0)
