"""A resident's own data: their entries, who on the staff read their data, and the export.

Only ever called for the logged-in resident's own person id: there is no function here that
takes someone else's id from the request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from doorward.errors import NotFound
from doorward.hub.services.common import audit, own_subject
from doorward.hub.services.context import HubContext
from doorward.hub.web.policy import consent_given
from doorward.hub.web.rendering import PageUser
from doorward.store.models import (
    AuditEntry,
    CredentialRow,
    GateRow,
    PassRow,
    PersonRow,
    UnitRow,
    utcnow,
)

__all__ = ["Entry", "StaffRead", "export_my_data", "my_entries", "my_subject", "staff_reads"]

#: Audit actions that are a resident's own doing, not a read by staff.
_OWN_ACTIONS = ("consent.face.grant", "consent.face.withdraw", "data.export")


@dataclass(frozen=True, slots=True)
class Entry:
    occurred_at: datetime
    gate: str
    granted: bool
    reason: str
    credential_kind: str


@dataclass(frozen=True, slots=True)
class StaffRead:
    at: datetime
    actor: str
    action: str
    purpose: str


def my_subject(hub: HubContext, user: PageUser) -> str:
    return own_subject(hub.db, user.person_id)


def my_entries(hub: HubContext, user: PageUser, limit: int = 50) -> list[Entry]:
    """The resident's own comings and goings, newest first. Shown to them alone."""
    subject = my_subject(hub, user)
    events = hub.eventlog.events_for_subject(subject, limit=1000)
    with hub.db.read() as session:
        names = dict(session.execute(select(GateRow.id, GateRow.name)).all())
    newest = sorted(events, key=lambda e: e.occurred_at, reverse=True)[:limit]
    return [
        Entry(e.occurred_at, names.get(e.gate_id, e.gate_id), e.outcome == "granted", e.reason,
              e.credential_kind)
        for e in newest
    ]


def staff_reads(hub: HubContext, user: PageUser) -> list[StaffRead]:
    """Every audited action by someone else that touched this resident's data."""
    subject = my_subject(hub, user)
    with hub.db.read() as session:
        rows = session.execute(
            select(AuditEntry.at, AuditEntry.actor, AuditEntry.action, AuditEntry.purpose)
            .where(AuditEntry.subject == subject, AuditEntry.actor != user.username,
                   AuditEntry.action.not_in(_OWN_ACTIONS))
            .order_by(AuditEntry.id.desc())
        ).all()
    return [StaffRead(at, actor, action, purpose) for at, actor, action, purpose in rows]


def export_my_data(hub: HubContext, user: PageUser) -> dict[str, Any]:
    """Everything Doorward holds about the resident, as JSON-ready data (no secrets)."""
    subject = my_subject(hub, user)
    assert user.person_id is not None
    with hub.db.read() as session:
        person = session.get(PersonRow, user.person_id)
        if person is None:
            raise NotFound("your record no longer exists", hint="it may have been erased")
        unit = session.get(UnitRow, person.unit_id) if person.unit_id else None
        credentials = session.scalars(
            select(CredentialRow).where(CredentialRow.person_id == person.id)
        ).all()
        passes = session.scalars(
            select(PassRow).where(PassRow.host_person_id == person.id)
        ).all()
    events = hub.eventlog.events_for_subject(subject, limit=10000)
    data: dict[str, Any] = {
        "exported_at": utcnow().isoformat(),
        "person": {"name": person.name, "role": person.role,
                   "unit": unit.label if unit else None,
                   "created_at": person.created_at.isoformat(),
                   "moved_out_at": person.moved_out_at.isoformat() if person.moved_out_at
                   else None},
        "pseudonym": subject,
        "login": {"username": user.username, "role": user.role},
        # Card numbers are shown by their last four digits; PIN hashes and keys never leave.
        "credentials": [
            {"id": c.id, "kind": c.kind, "card_number_last4": (c.card_number or "")[-4:] or None,
             "valid_from": c.valid_from.isoformat() if c.valid_from else None,
             "valid_until": c.valid_until.isoformat() if c.valid_until else None,
             "revoked": c.revoked}
            for c in credentials
        ],
        "passes_issued": [
            {"id": p.id, "kind": p.kind, "visitor_name": p.visitor_name,
             "valid_from": p.valid_from.isoformat(), "valid_until": p.valid_until.isoformat(),
             "max_uses": p.max_uses, "uses": p.uses, "revoked": p.revoked}
            for p in passes
        ],
        "entries": [
            {"occurred_at": e.occurred_at.isoformat(), "gate_id": e.gate_id, "kind": e.kind,
             "outcome": e.outcome, "reason": e.reason, "credential_kind": e.credential_kind}
            for e in events
        ],
        "face_consent": consent_given(hub, subject),
        "staff_reads": [
            {"at": r.at.isoformat(), "by": r.actor, "action": r.action, "purpose": r.purpose}
            for r in staff_reads(hub, user)
        ],
    }
    with hub.db.write() as session:
        audit(session, actor=user.username, action="data.export", subject=subject)
    return data
