"""Issuing and revoking cards, PINs and mobile keys; a resident's current mobile token."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from doorward.domain.mobile_key import STEP_SECONDS, current_step, issue_mobile_token
from doorward.domain.pin import hash_pin
from doorward.errors import Conflict, InvalidInput, NotFound
from doorward.hub.schemas import CredentialIssue, CredentialPublic, MobileTokenOut
from doorward.hub.services.accounts import AuthUser
from doorward.hub.services.common import (
    audit,
    bump_version,
    get_or_404,
    new_id,
    subject_of,
)
from doorward.hub.services.context import HubContext
from doorward.store.models import CredentialRow, GateRow, PersonRow, ScheduleRow, utcnow

__all__ = [
    "add_credential",
    "issue_credential",
    "list_credentials",
    "mobile_token_for",
    "revoke_credential",
]


def credential_public(row: CredentialRow) -> CredentialPublic:
    return CredentialPublic(
        id=row.id, person_id=row.person_id, kind=row.kind,  # type: ignore[arg-type]
        card_format=row.card_format,
        card_number_last4=row.card_number[-4:] if row.card_number else None,
        pin_id=row.pin_id, gates=list(row.gates), schedule_id=row.schedule_id,
        valid_from=row.valid_from, valid_until=row.valid_until, revoked=row.revoked,
        responder=row.responder,
    )


def _new_pin_id(session: Session) -> str:
    while True:
        pin_id = f"{secrets.randbelow(10**6):06d}"
        if session.scalar(select(CredentialRow.id).where(CredentialRow.pin_id == pin_id)) is None:
            return pin_id


def add_credential(session: Session, ctx: HubContext, data: CredentialIssue) -> CredentialRow:
    """Validate and insert a credential inside an open write session."""
    get_or_404(session, PersonRow, data.person_id, "person")
    for gate_id in data.gates:
        get_or_404(session, GateRow, gate_id, "gate")
    if data.schedule_id is not None:
        get_or_404(session, ScheduleRow, data.schedule_id, "schedule")
    if data.valid_from and data.valid_until and data.valid_until <= data.valid_from:
        raise InvalidInput("valid_until is not after valid_from", hint="swap or fix the dates")
    row = CredentialRow(
        id=new_id("cred"), site_id=ctx.site_id, person_id=data.person_id, kind=data.kind,
        gates=sorted(set(data.gates)), schedule_id=data.schedule_id,
        valid_from=data.valid_from, valid_until=data.valid_until, revoked=False,
        responder=data.responder, face_second_factor=False,
    )
    if data.kind == "card":
        if not data.card_format or not data.card_number:
            raise InvalidInput(
                "a card needs card_format and card_number", hint="e.g. wiegand26 and 00A1B2C3"
            )
        number = data.card_number.upper()
        clash = session.scalar(
            select(CredentialRow.id).where(
                CredentialRow.card_format == data.card_format, CredentialRow.card_number == number
            )
        )
        if clash:
            raise Conflict("this card is already issued", hint="revoke the old credential first")
        row.card_format, row.card_number = data.card_format, number
    elif data.kind == "pin":
        row.pin_hash = hash_pin(data.pin)  # raises InvalidInput for a malformed PIN
        row.pin_id = _new_pin_id(session)
    row.version = bump_version(session, ctx.site_id)
    session.add(row)
    return row


def issue_credential(ctx: HubContext, actor: AuthUser, data: CredentialIssue) -> CredentialPublic:
    with ctx.db.write() as session:
        row = add_credential(session, ctx, data)
        audit(session, actor=actor.username, action=f"credential.issue.{data.kind}",
              subject=subject_of(session, data.person_id))
        return credential_public(row)


def list_credentials(ctx: HubContext, person_id: str | None = None) -> list[CredentialPublic]:
    with ctx.db.read() as session:
        query = select(CredentialRow).where(CredentialRow.site_id == ctx.site_id)
        if person_id is not None:
            query = query.where(CredentialRow.person_id == person_id)
        return [credential_public(r) for r in session.scalars(query.order_by(CredentialRow.id))]


def revoke_credential(ctx: HubContext, actor: AuthUser, credential_id: str) -> CredentialPublic:
    with ctx.db.write() as session:
        row = get_or_404(session, CredentialRow, credential_id, "credential")
        if not row.revoked:
            row.revoked = True
            row.version = bump_version(session, ctx.site_id)
        audit(session, actor=actor.username, action="credential.revoke",
              subject=subject_of(session, row.person_id), detail=credential_id)
        return credential_public(row)


def mobile_token_for(
    ctx: HubContext, user: AuthUser, now: datetime | None = None
) -> MobileTokenOut:
    """The current signed token of the resident's own active mobile key."""
    now = now or utcnow()
    if user.person_id is None:
        raise NotFound("this login is not linked to a person", hint="ask an admin to link it")
    with ctx.db.read() as session:
        rows = session.scalars(
            select(CredentialRow).where(
                CredentialRow.person_id == user.person_id,
                CredentialRow.kind == "mobile",
                CredentialRow.revoked.is_(False),
            ).order_by(CredentialRow.created_at.desc())
        ).all()
    active = [
        r for r in rows
        if (r.valid_from is None or r.valid_from <= now)
        and (r.valid_until is None or now < r.valid_until)
    ]
    if not active:
        raise NotFound("you have no active mobile key", hint="ask the building office for one")
    step = current_step(now)
    return MobileTokenOut(
        credential_id=active[0].id, step=step,
        token=issue_mobile_token(ctx.keys, active[0].id, step),
        valid_for_seconds=STEP_SECONDS - int(now.timestamp()) % STEP_SECONDS,
    )
