"""Schedules: weekly windows, holidays and a timezone. Admins only."""

from __future__ import annotations

from fastapi import APIRouter, status

from doorward.hub.deps import AdminUser, Ctx
from doorward.hub.schemas import ScheduleCreate, SchedulePublic
from doorward.hub.services import gates

router = APIRouter(prefix="/schedules", tags=["schedules"])


@router.get("")
def list_schedules(ctx: Ctx, user: AdminUser) -> list[SchedulePublic]:
    return gates.list_schedules(ctx)


@router.post("", status_code=status.HTTP_201_CREATED)
def create_schedule(data: ScheduleCreate, ctx: Ctx, user: AdminUser) -> SchedulePublic:
    return gates.create_schedule(ctx, user, data)


@router.put("/{schedule_id}")
def replace_schedule(
    schedule_id: str, data: ScheduleCreate, ctx: Ctx, user: AdminUser
) -> SchedulePublic:
    return gates.update_schedule(ctx, user, schedule_id, data)


@router.delete("/{schedule_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_schedule(schedule_id: str, ctx: Ctx, user: AdminUser) -> None:
    gates.delete_schedule(ctx, user, schedule_id)
