"""People and units. Reads of person-level data are audited; erasure crypto-shreds.

Erasing a person deletes their subject-map row (the salt that made their pseudonym), their
credentials and logins. Their old events keep only a pseudonym nobody can resolve any more.
"""

from __future__ import annotations

import secrets

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from doorward.domain.pseudonym import subject_id
from doorward.errors import Conflict, NotFound
from doorward.hub.schemas import (
    PersonCreate,
    PersonPublic,
    PersonUpdate,
    UnitCreate,
    UnitPublic,
)
from doorward.hub.services.accounts import AuthUser
from doorward.hub.services.common import (
    audit,
    bump_version,
    ensure_site,
    get_or_404,
    new_id,
    subject_of,
    tombstone,
)
from doorward.hub.services.context import HubContext
from doorward.store.models import CredentialRow, PersonRow, SubjectMapRow, UnitRow, UserRow

__all__ = [
    "create_person",
    "create_unit",
    "delete_unit",
    "erase_person",
    "get_person",
    "list_people",
    "list_units",
    "resolve_subject",
    "update_person",
]


def _person_public(row: PersonRow) -> PersonPublic:
    return PersonPublic(
        id=row.id, name=row.name, role=row.role, unit_id=row.unit_id,  # type: ignore[arg-type]
        moved_out_at=row.moved_out_at,
    )


def _check_unit(session: Session, site_id: str, unit_id: str | None) -> None:
    if unit_id is None:
        return
    unit = session.get(UnitRow, unit_id)
    if unit is None or unit.site_id != site_id:
        raise NotFound(f"unit {unit_id!r} does not exist", hint="create the unit first")


def add_person(session: Session, ctx: HubContext, data: PersonCreate) -> PersonRow:
    """Insert a person and their pseudonym inside an open write session."""
    ensure_site(session, ctx.site_id)
    _check_unit(session, ctx.site_id, data.unit_id)
    row = PersonRow(
        id=new_id("per"), site_id=ctx.site_id, unit_id=data.unit_id, name=data.name, role=data.role
    )
    session.add(row)
    session.flush()
    salt = secrets.token_bytes(16)
    subject = subject_id(ctx.pseudonym_key, row.id, salt)
    session.add(SubjectMapRow(person_id=row.id, subject=subject, salt=salt.hex()))
    return row


def create_person(ctx: HubContext, actor: AuthUser, data: PersonCreate) -> PersonPublic:
    with ctx.db.write() as session:
        row = add_person(session, ctx, data)
        audit(session, actor=actor.username, action="person.create",
              subject=subject_of(session, row.id))
        return _person_public(row)


def list_people(ctx: HubContext, actor: AuthUser, unit_id: str | None = None) -> list[PersonPublic]:
    with ctx.db.write() as session:
        query = select(PersonRow).where(PersonRow.site_id == ctx.site_id).order_by(PersonRow.name)
        if unit_id is not None:
            query = query.where(PersonRow.unit_id == unit_id)
        rows = session.scalars(query).all()
        audit(session, actor=actor.username, action="people.list", detail=f"unit={unit_id or '*'}")
        return [_person_public(r) for r in rows]


def get_person(ctx: HubContext, actor: AuthUser, person_id: str) -> PersonPublic:
    with ctx.db.write() as session:
        row = get_or_404(session, PersonRow, person_id, "person")
        audit(session, actor=actor.username, action="person.read",
              subject=subject_of(session, person_id))
        return _person_public(row)


def update_person(
    ctx: HubContext, actor: AuthUser, person_id: str, data: PersonUpdate
) -> PersonPublic:
    with ctx.db.write() as session:
        row = get_or_404(session, PersonRow, person_id, "person")
        changes = data.model_dump(exclude_unset=True)
        if "unit_id" in changes:
            _check_unit(session, ctx.site_id, changes["unit_id"])
        for key, value in changes.items():
            setattr(row, key, value)
        audit(session, actor=actor.username, action="person.update",
              subject=subject_of(session, person_id), detail=",".join(sorted(changes)))
        return _person_public(row)


def erase_person(ctx: HubContext, actor: AuthUser, person_id: str) -> None:
    """Delete the person, their pseudonym salt, credentials, logins and face data
    (crypto-shredding), and record the erasure in the ledger that restores replay."""
    with ctx.db.write() as session:
        row = get_or_404(session, PersonRow, person_id, "person")
        subject = subject_of(session, person_id)
        # Ledger first (outside the database, so a restore replays it), and the face rows,
        # which name the pseudonym and have no foreign key to cascade from.
        from doorward.privacy.erasure import on_person_erased

        on_person_erased(session, ctx.settings, person_id, subject)
        creds = session.scalars(select(CredentialRow).where(CredentialRow.person_id == person_id))
        version = bump_version(session, ctx.site_id)
        for cred in creds.all():
            tombstone(session, ctx.site_id, "credential", cred.id, version)
        # Explicit statements in dependency order: the ORM does not know these tables' links.
        for table, column in (
            (CredentialRow, CredentialRow.person_id),
            (UserRow, UserRow.person_id),
            (SubjectMapRow, SubjectMapRow.person_id),
            (PersonRow, PersonRow.id),
        ):
            session.execute(delete(table).where(column == person_id))
        session.expunge(row)
        # The audit entry keeps the now-unresolvable pseudonym, never the name.
        audit(session, actor=actor.username, action="person.erase", subject=subject)


def resolve_subject(ctx: HubContext, actor: AuthUser, subject: str, purpose: str) -> PersonPublic:
    """Break-glass: who is behind a pseudonym. Needs a stated purpose; always audited."""
    with ctx.db.write() as session:
        audit(session, actor=actor.username, action="subject.resolve", purpose=purpose,
              subject=subject)
    with ctx.db.read() as session:
        person_id = session.scalar(
            select(SubjectMapRow.person_id).where(SubjectMapRow.subject == subject)
        )
        row = session.get(PersonRow, person_id) if person_id else None
        if row is None:
            raise NotFound(
                "no person has that subject id",
                hint="it may belong to an erased person; erased people cannot be resolved",
            )
        return _person_public(row)


def create_unit(ctx: HubContext, actor: AuthUser, data: UnitCreate) -> UnitPublic:
    with ctx.db.write() as session:
        ensure_site(session, ctx.site_id)
        taken = session.scalar(
            select(UnitRow.id).where(UnitRow.site_id == ctx.site_id, UnitRow.label == data.label)
        )
        if taken:
            raise Conflict(f"unit {data.label!r} already exists", hint="use another label")
        row = UnitRow(id=new_id("unit"), site_id=ctx.site_id, label=data.label)
        session.add(row)
        audit(session, actor=actor.username, action="unit.create", detail=data.label)
        return UnitPublic(id=row.id, label=row.label, residents=0)


def list_units(ctx: HubContext) -> list[UnitPublic]:
    with ctx.db.read() as session:
        counts = {
            unit_id: n
            for unit_id, n in session.execute(
                select(PersonRow.unit_id, func.count()).group_by(PersonRow.unit_id)
            )
        }
        rows = session.scalars(
            select(UnitRow).where(UnitRow.site_id == ctx.site_id).order_by(UnitRow.label)
        ).all()
        return [UnitPublic(id=r.id, label=r.label, residents=counts.get(r.id, 0)) for r in rows]


def delete_unit(ctx: HubContext, actor: AuthUser, unit_id: str) -> None:
    with ctx.db.write() as session:
        row = get_or_404(session, UnitRow, unit_id, "unit")
        if session.scalar(select(PersonRow.id).where(PersonRow.unit_id == unit_id).limit(1)):
            raise Conflict(
                f"unit {row.label!r} still has people", hint="move or erase them first"
            )
        session.delete(row)
        audit(session, actor=actor.username, action="unit.delete", detail=row.label)
