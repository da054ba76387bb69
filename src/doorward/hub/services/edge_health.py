"""The hub's view of its edges: heartbeats, the "edge offline" alarm, and commands to edges.

Heartbeats arrive over HTTPS (``POST /api/v1/edge/heartbeat``) or MQTT (the bridge); both
land in :func:`record_heartbeat`, which keeps one ``edge_status`` row per gate. A watcher
thread (:func:`start_offline_watch`) raises an ``edge_offline`` alarm, once, for a gate whose
edge missed heartbeats for ``settings.edge_offline_seconds``; the next heartbeat logs
``edge_online``.

Commands (lockdown, release, manual open, fire) are stored for HTTPS edges to fetch and
acknowledge, and pushed at once to MQTT edges when the bridge runs (``ctx.edge_push``). Each
command expires: a manual open that waited a minute for an unreachable edge must never open
the door later. A fire reported by one gate's input is relayed to every other gate of the
site. Nothing here names a person.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from doorward.errors import DoorwardError, InvalidInput
from doorward.hub.services.common import audit, bump_version, ensure_site
from doorward.hub.services.context import HubContext
from doorward.store.edge_health_models import EdgeCommandRow, EdgeStatusRow
from doorward.store.models import GateRow, SiteRow, utcnow
from doorward.transport.messages import Command, CommandList, EventMessage, Heartbeat

__all__ = [
    "COMMAND_TTL",
    "acknowledge_commands",
    "check_offline",
    "edge_statuses",
    "issue_command",
    "pending_commands",
    "push_to_edges",
    "record_heartbeat",
    "relay_fire",
    "set_lockdown",
    "start_offline_watch",
]

log = logging.getLogger(__name__)

#: How long a command waits for its edge. A manual open is only meaningful right now.
COMMAND_TTL: dict[str, timedelta] = {
    "manual_open": timedelta(seconds=20),
    "fire": timedelta(minutes=10),
    "fire_clear": timedelta(minutes=10),
    "lockdown": timedelta(hours=1),
    "release_lockdown": timedelta(hours=1),
    "resync": timedelta(minutes=5),
}
MIN_REASON_CHARS = 5
MAX_READERS = 32
_INT32_MAX = 2**31 - 1


def _event(ctx: HubContext, gate_id: str, kind: str, now: datetime, **fields: object) -> None:
    ctx.eventlog.append([EventMessage(
        event_id=uuid.uuid4().hex, site_id=ctx.site_id, gate_id=gate_id,
        kind=kind, occurred_at=now, edge_seq=0, **fields,  # type: ignore[arg-type]
    )])


# -- heartbeats and the offline alarm -------------------------------------------------------
def record_heartbeat(
    ctx: HubContext, edge_id: str, heartbeat: Heartbeat, now: datetime | None = None
) -> None:
    """Store the gate's latest heartbeat; a gate that was alarmed offline is logged online."""
    now = now or utcnow()
    sent_at = heartbeat.sent_at
    if sent_at.tzinfo is None:  # an edge without a zone on its clock: read it as UTC
        sent_at = sent_at.replace(tzinfo=UTC)
    with ctx.db.write() as session:
        row = session.get(EdgeStatusRow, (ctx.site_id, heartbeat.gate_id))
        was_alarmed = bool(row and row.offline_alarmed)
        if row is None:
            row = EdgeStatusRow(site_id=ctx.site_id, gate_id=heartbeat.gate_id)
            session.add(row)
        row.edge_id = edge_id or heartbeat.edge_id
        row.last_seen_at = now
        row.sent_at = sent_at
        row.snapshot_version = _clamp(heartbeat.snapshot_version)
        row.outbox_depth = _clamp(heartbeat.outbox_depth)
        readers = [(k, v) for k, v in heartbeat.readers_online.items() if "\x00" not in k]
        row.readers_online = dict(readers[:MAX_READERS])
        row.door = heartbeat.door
        row.lockdown = heartbeat.lockdown
        row.fire = heartbeat.fire
        row.offline_alarmed = False
    if was_alarmed:
        _event(ctx, heartbeat.gate_id, "system", now, outcome="edge_online",
               reason="heartbeats from the edge again")


def _clamp(value: int) -> int:
    """Counters as the 32-bit columns can hold them (a wild edge must not fail the write)."""
    return max(0, min(value, _INT32_MAX))


def edge_statuses(ctx: HubContext) -> dict[str, EdgeStatusRow]:
    with ctx.db.read() as session:
        rows = session.scalars(select(EdgeStatusRow).where(EdgeStatusRow.site_id == ctx.site_id))
        return {row.gate_id: row for row in rows}


def check_offline(ctx: HubContext, now: datetime | None = None) -> list[str]:
    """Raise ``edge_offline`` once for each gate silent beyond the threshold; return them."""
    now = now or utcnow()
    limit = timedelta(seconds=ctx.settings.edge_offline_seconds)
    with ctx.db.read() as session:
        silent = session.execute(
            select(EdgeStatusRow.gate_id, EdgeStatusRow.last_seen_at).where(
                EdgeStatusRow.site_id == ctx.site_id,
                EdgeStatusRow.offline_alarmed.is_(False),
                EdgeStatusRow.last_seen_at < now - limit,
            )
        ).all()
    alarmed = []
    for gate_id, last_seen in silent:
        with ctx.db.write() as session:
            # Conditional: with several hub replicas only one raises the alarm.
            claimed = session.execute(
                update(EdgeStatusRow)
                .where(EdgeStatusRow.site_id == ctx.site_id, EdgeStatusRow.gate_id == gate_id,
                       EdgeStatusRow.offline_alarmed.is_(False))
                .values(offline_alarmed=True)
            ).rowcount  # type: ignore[attr-defined]
        if claimed:
            seconds = int((now - last_seen).total_seconds())
            _event(ctx, gate_id, "alarm", now, alarm="edge_offline", outcome="edge_offline",
                   reason=f"no heartbeat from the edge for {seconds} s",
                   detail={"last_seen": last_seen.isoformat()})
            alarmed.append(gate_id)
    return alarmed


def start_offline_watch(ctx: HubContext) -> Callable[[], None]:
    """A thread that runs :func:`check_offline` a few times per threshold; returns its stop."""
    stop = threading.Event()
    every = min(5.0, max(0.2, ctx.settings.edge_offline_seconds / 4))

    def watch() -> None:
        while not stop.wait(every):
            try:
                check_offline(ctx)
            except DoorwardError as exc:  # a busy database: the next round retries
                log.warning("edge offline check: %s", exc)

    thread = threading.Thread(target=watch, name="doorward-edge-watch", daemon=True)
    thread.start()

    def stop_watch() -> None:
        stop.set()
        thread.join(10)

    return stop_watch


# -- commands -------------------------------------------------------------------------------
def _site_gates(ctx: HubContext) -> list[str]:
    with ctx.db.read() as session:
        return list(session.scalars(
            select(GateRow.id).where(GateRow.site_id == ctx.site_id).order_by(GateRow.id)))


def push_to_edges(ctx: HubContext, reason: str) -> None:
    """Ask every gate's edge to fetch its delta now, rather than at its next heartbeat.

    A ``resync`` command: pushed at once over MQTT, fetched at the next command poll over
    HTTPS. The edge answers with its snapshot version and gets the delta since then (a
    revocation, a withdrawn face template). The command names no person.
    """
    gate_ids = _site_gates(ctx)
    if gate_ids:
        issue_command(ctx, gate_ids, "resync", reason)


def issue_command(
    ctx: HubContext, gate_ids: Sequence[str], name: str, reason: str = "",
    now: datetime | None = None,
) -> list[Command]:
    """Store ``name`` for each gate's edge (HTTPS fetches it) and push it over MQTT if the
    bridge runs. Returns the commands as sent."""
    now = now or utcnow()
    ttl = COMMAND_TTL.get(name)
    if ttl is None:
        raise InvalidInput(f"unknown edge command {name!r}",
                           hint=f"use one of {', '.join(sorted(COMMAND_TTL))}")
    with ctx.db.write() as session:
        rows = [
            EdgeCommandRow(site_id=ctx.site_id, gate_id=gate_id, command=name,
                           reason=reason[:500], issued_at=now, expires_at=now + ttl)
            for gate_id in gate_ids
        ]
        session.add_all(rows)
        session.flush()
        commands = [_command(row) for row in rows]
    if ctx.edge_push is not None:
        for command in commands:
            try:
                ctx.edge_push(command.gate_id or "", command)
            except DoorwardError as exc:  # the broker is down: HTTPS edges still fetch theirs
                log.warning("command %s to %s not pushed: %s", name, command.gate_id, exc)
    return commands


def _command(row: EdgeCommandRow) -> Command:
    return Command(command=row.command, gate_id=row.gate_id,  # type: ignore[arg-type]
                   issued_at=row.issued_at, reason=row.reason, command_id=str(row.id))


def pending_commands(ctx: HubContext, gate_id: str, now: datetime | None = None) -> CommandList:
    """Commands for ``gate_id`` not yet acknowledged and not expired, oldest first."""
    now = now or utcnow()
    with ctx.db.read() as session:
        rows = session.scalars(
            select(EdgeCommandRow).where(
                EdgeCommandRow.site_id == ctx.site_id, EdgeCommandRow.gate_id == gate_id,
                EdgeCommandRow.acked_at.is_(None), EdgeCommandRow.expires_at > now,
            ).order_by(EdgeCommandRow.id)
        ).all()
    return CommandList(commands=[_command(row) for row in rows])


def acknowledge_commands(
    ctx: HubContext, gate_id: str, command_ids: Sequence[str], now: datetime | None = None
) -> int:
    """Mark the gate's own commands done; ids of other gates are ignored. Returns how many."""
    # Ids the hub issued are small decimal integers; anything else names no command.
    ids = [int(i) for i in command_ids if i.isascii() and i.isdigit() and len(i) <= 9]
    if not ids:
        return 0
    with ctx.db.write() as session:
        done = session.execute(
            update(EdgeCommandRow)
            .where(EdgeCommandRow.site_id == ctx.site_id, EdgeCommandRow.gate_id == gate_id,
                   EdgeCommandRow.id.in_(ids), EdgeCommandRow.acked_at.is_(None))
            .values(acked_at=now or utcnow())
        ).rowcount  # type: ignore[attr-defined]
    return int(done)


def set_lockdown(ctx: HubContext, actor: str, active: bool, reason: str) -> list[Command]:
    """Lock the whole site down (only responder credentials pass) or release it.

    Kept in the site's snapshot, so an edge that restarts or was offline gets it too, and
    sent as a command to every gate so it takes effect at once. Audited with the reason.
    """
    reason = reason.strip()
    if len(reason) < MIN_REASON_CHARS or any(ord(c) < 32 for c in reason):
        raise InvalidInput(
            f"a {'lockdown' if active else 'release'} needs a reason in plain text",
            hint=f"say why in at least {MIN_REASON_CHARS} characters (it is audited)",
        )
    with ctx.db.write() as session:
        ensure_site(session, ctx.site_id)
        session.execute(update(SiteRow).where(SiteRow.id == ctx.site_id)
                        .values(lockdown=active))
        bump_version(session, ctx.site_id)
        audit(session, actor=actor, action="site.lockdown" if active else "site.release",
              purpose=reason[:500], detail=ctx.site_id)
    name = "lockdown" if active else "release_lockdown"
    return issue_command(ctx, _site_gates(ctx), name, reason)


def relay_fire(ctx: HubContext, events: Sequence[EventMessage], accepted: Sequence[str]) -> int:
    """A gate's own fire input opened it: open every other gate of the site (and close them
    again when it clears). Only newly stored events from the input count, never a fire the
    hub itself relayed, so relays cannot echo. Returns how many commands were sent."""
    fresh = set(accepted)
    sent = 0
    for event in events:
        if event.event_id not in fresh or event.detail.get("source") != "input":
            continue
        if event.alarm == "fire":
            name, why = "fire", f"fire input at gate {event.gate_id}"
        elif event.outcome == "fire_cleared":
            name, why = "fire_clear", f"fire input cleared at gate {event.gate_id}"
        else:
            continue
        others = [g for g in _site_gates(ctx) if g != event.gate_id]
        sent += len(issue_command(ctx, others, name, why))
    return sent
