"""Units (flats, houses). Admins only."""

from __future__ import annotations

from fastapi import APIRouter, status

from doorward.hub.deps import AdminUser, Ctx
from doorward.hub.schemas import UnitCreate, UnitPublic
from doorward.hub.services import people

router = APIRouter(prefix="/units", tags=["units"])


@router.get("")
def list_units(ctx: Ctx, user: AdminUser) -> list[UnitPublic]:
    return people.list_units(ctx)


@router.post("", status_code=status.HTTP_201_CREATED)
def create_unit(data: UnitCreate, ctx: Ctx, user: AdminUser) -> UnitPublic:
    return people.create_unit(ctx, user, data)


@router.delete("/{unit_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_unit(unit_id: str, ctx: Ctx, user: AdminUser) -> None:
    people.delete_unit(ctx, user, unit_id)
