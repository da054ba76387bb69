"""People (admins only). Every read is audited; DELETE erases (crypto-shredding)."""

from __future__ import annotations

from fastapi import APIRouter, status

from doorward.hub.deps import AdminUser, Ctx
from doorward.hub.schemas import PersonCreate, PersonPublic, PersonUpdate, ResolveIn
from doorward.hub.services import people

router = APIRouter(prefix="/people", tags=["people"])


@router.get("")
def list_people(ctx: Ctx, user: AdminUser, unit_id: str | None = None) -> list[PersonPublic]:
    return people.list_people(ctx, user, unit_id)


@router.post("", status_code=status.HTTP_201_CREATED)
def create_person(data: PersonCreate, ctx: Ctx, user: AdminUser) -> PersonPublic:
    return people.create_person(ctx, user, data)


@router.post("/resolve")
def resolve_subject(data: ResolveIn, ctx: Ctx, user: AdminUser) -> PersonPublic:
    """Break-glass: the person behind a pseudonymous subject id. Needs a purpose; audited."""
    return people.resolve_subject(ctx, user, data.subject, data.purpose)


@router.get("/{person_id}")
def get_person(person_id: str, ctx: Ctx, user: AdminUser) -> PersonPublic:
    return people.get_person(ctx, user, person_id)


@router.patch("/{person_id}")
def update_person(person_id: str, data: PersonUpdate, ctx: Ctx, user: AdminUser) -> PersonPublic:
    return people.update_person(ctx, user, person_id, data)


@router.delete("/{person_id}", status_code=status.HTTP_204_NO_CONTENT)
def erase_person(person_id: str, ctx: Ctx, user: AdminUser) -> None:
    people.erase_person(ctx, user, person_id)
