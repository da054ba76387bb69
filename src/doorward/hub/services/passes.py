"""Visitor and delivery passes, issued by a resident for their own unit.

The hub keeps only the HMAC digest of the short code; the code itself and the signed QR
payload are shown once, to the resident who issued them.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import segno
from sqlalchemy import select

from doorward.domain.model import PassGrant
from doorward.domain.passes import issue_pass, new_pass_code, pass_code_digest
from doorward.errors import InvalidInput, NotFound, PermissionDenied
from doorward.hub.schemas import PassCreate, PassIssued, PassPublic
from doorward.hub.services.accounts import AuthUser
from doorward.hub.services.common import audit, bump_version, get_or_404, new_id, subject_of
from doorward.hub.services.context import HubContext
from doorward.store.db import Database
from doorward.store.models import GateRow, PassRow, PersonRow, utcnow

__all__ = [
    "MAX_PASS_DAYS",
    "issue_visitor_pass",
    "list_passes",
    "pass_grant",
    "pass_uses",
    "record_pass_use",
    "revoke_pass",
]

MAX_PASS_DAYS = 7


def pass_public(row: PassRow) -> PassPublic:
    return PassPublic(
        id=row.id, kind=row.kind, host_unit_id=row.host_unit_id,  # type: ignore[arg-type]
        visitor_name=row.visitor_name, valid_from=row.valid_from, valid_until=row.valid_until,
        max_uses=row.max_uses, uses=row.uses, gates=list(row.gates), revoked=row.revoked,
    )


def pass_grant(row: PassRow, host_subject: str) -> PassGrant:
    return PassGrant(
        id=row.id, kind=row.kind, host_unit=row.host_unit_id,  # type: ignore[arg-type]
        host_subject=host_subject, valid_from=row.valid_from, valid_until=row.valid_until,
        max_uses=row.max_uses, gates=frozenset(row.gates), revoked=row.revoked,
        site_id=row.site_id,
    )


def _check_window(data: PassCreate, now: datetime) -> None:
    for name in ("valid_from", "valid_until"):
        if getattr(data, name).tzinfo is None:
            raise InvalidInput(
                f"{name} has no timezone", hint="send ISO 8601 with an offset, e.g. ...T18:00:00Z"
            )
    if data.valid_until <= data.valid_from:
        raise InvalidInput("valid_until is not after valid_from", hint="fix the visit window")
    if data.valid_until <= now:
        raise InvalidInput("the visit window is already over", hint="choose a future window")
    if data.valid_until - data.valid_from > timedelta(days=MAX_PASS_DAYS):
        raise InvalidInput(
            f"a pass may last at most {MAX_PASS_DAYS} days", hint="issue a shorter pass"
        )


def issue_visitor_pass(
    ctx: HubContext, user: AuthUser, data: PassCreate, base_url: str, now: datetime | None = None
) -> PassIssued:
    now = now or utcnow()
    _check_window(data, now)
    if user.person_id is None:
        raise PermissionDenied("this login is not linked to a resident", hint="ask an admin")
    code = new_pass_code()
    with ctx.db.write() as session:
        host = get_or_404(session, PersonRow, user.person_id, "person")
        if host.unit_id is None:
            raise PermissionDenied(
                "only a resident with a unit can issue passes", hint="ask an admin to set your unit"
            )
        for gate_id in data.gates:
            get_or_404(session, GateRow, gate_id, "gate")
        host_subject = subject_of(session, host.id) or ""
        row = PassRow(
            id=new_id("pass"), site_id=ctx.site_id, kind=data.kind.value, host_person_id=host.id,
            host_unit_id=host.unit_id, visitor_name=data.visitor_name,
            valid_from=data.valid_from, valid_until=data.valid_until, max_uses=data.max_uses,
            uses=0, code_digest=pass_code_digest(code, ctx.pass_code_key),
            gates=sorted(set(data.gates)), revoked=False,
            version=bump_version(session, ctx.site_id),
        )
        session.add(row)
        audit(session, actor=user.username, action=f"pass.issue.{data.kind.value}",
              subject=host_subject, detail=row.id)
    payload = issue_pass(ctx.keys, pass_grant(row, host_subject))
    return PassIssued.model_validate({
        "pass": pass_public(row), "qr_payload": payload, "short_code": code,
        "share_link": f"{base_url.rstrip('/')}/visit/{row.id}#{payload}",
        "qr_svg": segno.make(payload, error="m").svg_inline(scale=4),
    })


def list_passes(ctx: HubContext, user: AuthUser) -> list[PassPublic]:
    """Admins see every pass; a resident sees their own unit's."""
    with ctx.db.read() as session:
        query = select(PassRow).where(PassRow.site_id == ctx.site_id)
        if user.role != "admin":
            unit_id = _unit_of(ctx, user)
            query = query.where(PassRow.host_unit_id == unit_id)
        return [pass_public(r) for r in session.scalars(query.order_by(PassRow.valid_from))]


def _unit_of(ctx: HubContext, user: AuthUser) -> str | None:
    if user.person_id is None:
        return None
    with ctx.db.read() as session:
        return session.scalar(select(PersonRow.unit_id).where(PersonRow.id == user.person_id))


def revoke_pass(ctx: HubContext, user: AuthUser, pass_id: str) -> PassPublic:
    with ctx.db.write() as session:
        row = session.get(PassRow, pass_id)
        own = row is not None and user.person_id is not None and (
            row.host_unit_id
            == session.scalar(select(PersonRow.unit_id).where(PersonRow.id == user.person_id))
        )
        if row is None or (user.role != "admin" and not own):
            # Residents cannot probe other units' pass ids: same answer as "no such pass".
            raise NotFound(f"pass {pass_id!r} does not exist", hint="list your passes")
        if not row.revoked:
            row.revoked = True
            row.version = bump_version(session, ctx.site_id)
        audit(session, actor=user.username, action="pass.revoke", detail=pass_id)
        return pass_public(row)


def pass_uses(db: Database, site_id: str) -> dict[str, int]:
    """Uses so far of the site's current, used passes (to seed the hub's decision memory)."""
    with db.read() as session:
        rows = session.execute(
            select(PassRow.id, PassRow.uses).where(
                PassRow.site_id == site_id, PassRow.uses > 0, PassRow.revoked.is_(False),
                PassRow.valid_until > utcnow(),
            )
        ).all()
    return {pass_id: uses for pass_id, uses in rows}


def record_pass_use(ctx: HubContext, pass_id: str) -> None:
    with ctx.db.write() as session:
        row = session.get(PassRow, pass_id)
        if row is not None:
            row.uses += 1
