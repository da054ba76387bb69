"""Gates and schedules: the rules every snapshot carries."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select

from doorward.errors import Conflict, InvalidInput
from doorward.hub.schemas import (
    GateCreate,
    GatePublic,
    GateUpdate,
    ScheduleCreate,
    SchedulePublic,
    WindowIn,
)
from doorward.hub.services.accounts import AuthUser
from doorward.hub.services.common import audit, bump_version, ensure_site, get_or_404, new_id
from doorward.hub.services.context import HubContext
from doorward.store.models import CredentialRow, GateRow, ScheduleRow

__all__ = [
    "create_gate",
    "create_schedule",
    "delete_schedule",
    "get_gate",
    "list_gates",
    "list_schedules",
    "update_gate",
    "update_schedule",
]


def gate_public(row: GateRow) -> GatePublic:
    return GatePublic.model_validate(row, from_attributes=True)


def create_gate(ctx: HubContext, actor: AuthUser, data: GateCreate) -> GatePublic:
    with ctx.db.write() as session:
        ensure_site(session, ctx.site_id)
        if session.get(GateRow, data.id) is not None:
            raise Conflict(f"gate id {data.id!r} is taken", hint="choose another gate id")
        row = GateRow(
            site_id=ctx.site_id, version=bump_version(session, ctx.site_id),
            **data.model_dump(mode="json"),
        )
        session.add(row)
        audit(session, actor=actor.username, action="gate.create", detail=data.id)
        return gate_public(row)


def list_gates(ctx: HubContext) -> list[GatePublic]:
    with ctx.db.read() as session:
        rows = session.scalars(
            select(GateRow).where(GateRow.site_id == ctx.site_id).order_by(GateRow.id)
        ).all()
        return [gate_public(r) for r in rows]


def get_gate(ctx: HubContext, gate_id: str) -> GatePublic:
    with ctx.db.read() as session:
        return gate_public(get_or_404(session, GateRow, gate_id, "gate"))


def update_gate(ctx: HubContext, actor: AuthUser, gate_id: str, data: GateUpdate) -> GatePublic:
    with ctx.db.write() as session:
        row = get_or_404(session, GateRow, gate_id, "gate")
        changes = data.model_dump(mode="json", exclude_unset=True, exclude_none=True)
        for key, value in changes.items():
            setattr(row, key, value)
        row.version = bump_version(session, ctx.site_id)
        audit(session, actor=actor.username, action="gate.update", detail=gate_id)
        return gate_public(row)


def _check_schedule(data: ScheduleCreate) -> None:
    for index, window in enumerate(data.windows):
        if window.end_minute <= window.start_minute:
            raise InvalidInput(
                f"windows[{index}] ends before it starts",
                hint="end_minute must be greater than start_minute (minutes after midnight)",
            )
    try:
        ZoneInfo(data.timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidInput(
            f"unknown timezone {data.timezone!r}", hint="use an IANA name such as Europe/Lisbon"
        ) from exc


def schedule_public(row: ScheduleRow) -> SchedulePublic:
    return SchedulePublic(
        id=row.id, name=row.name, timezone=row.timezone, holidays=row.holidays,
        windows=[WindowIn(weekday=w[0], start_minute=w[1], end_minute=w[2]) for w in row.windows],
    )


def _fields(data: ScheduleCreate) -> dict[str, object]:
    return {
        "name": data.name,
        "windows": [[w.weekday, w.start_minute, w.end_minute] for w in data.windows],
        "holidays": sorted(d.isoformat() for d in data.holidays),
        "timezone": data.timezone,
    }


def create_schedule(ctx: HubContext, actor: AuthUser, data: ScheduleCreate) -> SchedulePublic:
    _check_schedule(data)
    with ctx.db.write() as session:
        ensure_site(session, ctx.site_id)
        row = ScheduleRow(
            id=new_id("sch"), site_id=ctx.site_id, version=bump_version(session, ctx.site_id),
            **_fields(data),
        )
        session.add(row)
        audit(session, actor=actor.username, action="schedule.create", detail=data.name)
        return schedule_public(row)


def update_schedule(
    ctx: HubContext, actor: AuthUser, schedule_id: str, data: ScheduleCreate
) -> SchedulePublic:
    _check_schedule(data)
    with ctx.db.write() as session:
        row = get_or_404(session, ScheduleRow, schedule_id, "schedule")
        for key, value in _fields(data).items():
            setattr(row, key, value)
        row.version = bump_version(session, ctx.site_id)
        audit(session, actor=actor.username, action="schedule.update", detail=schedule_id)
        return schedule_public(row)


def list_schedules(ctx: HubContext) -> list[SchedulePublic]:
    with ctx.db.read() as session:
        rows = session.scalars(
            select(ScheduleRow).where(ScheduleRow.site_id == ctx.site_id).order_by(ScheduleRow.name)
        ).all()
        return [schedule_public(r) for r in rows]


def delete_schedule(ctx: HubContext, actor: AuthUser, schedule_id: str) -> None:
    with ctx.db.write() as session:
        row = get_or_404(session, ScheduleRow, schedule_id, "schedule")
        if session.scalar(
            select(CredentialRow.id).where(CredentialRow.schedule_id == schedule_id).limit(1)
        ):
            raise Conflict(
                "credentials still use this schedule",
                hint="move those credentials to another schedule first",
            )
        bump_version(session, ctx.site_id)
        session.delete(row)
        audit(session, actor=actor.username, action="schedule.delete", detail=schedule_id)
