"""A data subject's export: the hub's "my data" export plus what it leaves out.

The resident portal's export (``doorward.hub.web.my_data.export_my_data``) gives the
profile, credentials without secrets, passes issued, own events and staff reads. This adds
the full face-consent history, face-template *metadata* (which credential, when made, when
last used: never the sealed template, its salt or nonce) and every audit entry about the
person, their own actions included. Only ever for the logged-in person's own data.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from doorward.errors import PermissionDenied
from doorward.hub.services.accounts import AuthUser
from doorward.hub.services.context import HubContext
from doorward.store.face_models import FaceConsentRow, FaceTemplateRow
from doorward.store.models import AuditEntry

__all__ = ["export_subject_data"]


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def export_subject_data(hub: HubContext, user: AuthUser) -> dict[str, Any]:
    """Everything Doorward holds about ``user``'s own person, as JSON-ready data."""
    from doorward.hub.web.my_data import export_my_data
    from doorward.hub.web.rendering import PageUser

    if user.person_id is None:
        raise PermissionDenied("only a login linked to a person has data to export",
                               hint="staff accounts hold no personal record of their own")
    page_user = PageUser(user_id=user.id, username=user.username, role=user.role,
                         person_id=user.person_id, session_digest="")
    data = export_my_data(hub, page_user)
    subject = data["pseudonym"]
    with hub.db.read() as session:
        consents = session.scalars(
            select(FaceConsentRow).where(FaceConsentRow.subject == subject)
            .order_by(FaceConsentRow.id)).all()
        templates = session.execute(
            select(FaceTemplateRow.credential_id, FaceTemplateRow.created_at,
                   FaceTemplateRow.last_used_at)
            .where(FaceTemplateRow.subject == subject).order_by(FaceTemplateRow.id)).all()
        audit_rows = session.execute(
            select(AuditEntry.at, AuditEntry.actor, AuditEntry.action, AuditEntry.purpose)
            .where(AuditEntry.subject == subject).order_by(AuditEntry.id)).all()
    data["face_consent_history"] = [
        {"purpose": c.purpose, "policy_version": c.policy_version,
         "retention_days": c.retention_days, "granted_at": _iso(c.granted_at),
         "withdrawn_at": _iso(c.withdrawn_at)}
        for c in consents
    ]
    data["face_templates"] = [
        {"credential_id": cred, "created_at": _iso(created), "last_used_at": _iso(used),
         "note": "metadata only: the sealed template never leaves the hub"}
        for cred, created, used in templates
    ]
    data["audit_entries_about_me"] = [
        {"at": _iso(at), "by": actor, "action": action, "purpose": purpose}
        for at, actor, action, purpose in audit_rows
    ]
    return data
