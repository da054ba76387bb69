"""The site's privacy policy as admins set it: retention and the face-verification switch.

Face consent itself lives in the face module's consent table (``FaceService``); each opt-in
or opt-out is also audited. There is no policy table yet, so each change is an append-only
audit entry (``policy.update``, the new policy as JSON in ``detail``); the newest is in force.
That keeps every change attributable for free; a dedicated table can replace it later
without changing this module's functions. Defaults come from the settings.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select

from doorward.errors import InvalidInput
from doorward.hub.services.common import audit
from doorward.hub.services.context import HubContext
from doorward.hub.services.edge_health import push_to_edges
from doorward.hub.services.face_enrolment import announce_face_change
from doorward.hub.web.rendering import PageUser
from doorward.store.models import AuditEntry

if TYPE_CHECKING:
    from doorward.face.service import FaceService

__all__ = [
    "HARD_CAP_DAYS",
    "SitePolicy",
    "consent_given",
    "current_policy",
    "forget_face",
    "record_consent",
    "set_face_switch",
    "set_retention",
]

HARD_CAP_DAYS = 90
_ACTION = "policy.update"
_CONSENT_GRANT = "consent.face.grant"
_CONSENT_WITHDRAW = "consent.face.withdraw"


@dataclass(frozen=True, slots=True)
class SitePolicy:
    access_event_retention_days: int
    visitor_retention_days: int
    face_enabled: bool = False
    dpia_reference: str = ""
    face_responsible: str = ""
    changed_by: str = ""
    changed_at: datetime | None = None


def current_policy(hub: HubContext) -> SitePolicy:
    defaults = SitePolicy(
        access_event_retention_days=hub.settings.access_event_retention_days,
        visitor_retention_days=hub.settings.visitor_retention_days,
    )
    with hub.db.read() as session:
        newest = session.execute(
            select(AuditEntry.detail, AuditEntry.actor, AuditEntry.at)
            .where(AuditEntry.action == _ACTION)
            .order_by(AuditEntry.id.desc()).limit(1)
        ).first()
    if newest is None:
        return defaults
    detail, actor, at = newest
    stored = json.loads(detail)
    known = {k: v for k, v in stored.items() if k in SitePolicy.__dataclass_fields__}
    return replace(defaults, **known, changed_by=actor, changed_at=at)


def _save(hub: HubContext, actor: PageUser, policy: SitePolicy, purpose: str) -> SitePolicy:
    data = asdict(policy)
    data.pop("changed_by")
    data.pop("changed_at")
    with hub.db.write() as session:
        audit(session, actor=actor.username, action=_ACTION, purpose=purpose,
              detail=json.dumps(data, sort_keys=True))
    return current_policy(hub)


def set_retention(
    hub: HubContext, actor: PageUser, access_event_days: int, visitor_days: int
) -> SitePolicy:
    for label, days in (("access events", access_event_days), ("visitor data", visitor_days)):
        if not 1 <= days <= HARD_CAP_DAYS:
            raise InvalidInput(
                f"retention for {label} must be between 1 and {HARD_CAP_DAYS} days",
                hint=f"{HARD_CAP_DAYS} days is the hard cap; keep data as briefly as you can",
            )
    policy = replace(current_policy(hub), access_event_retention_days=access_event_days,
                     visitor_retention_days=visitor_days)
    return _save(hub, actor, policy, "retention changed")


def set_face_switch(
    hub: HubContext, actor: PageUser, enabled: bool, dpia_reference: str, responsible: str
) -> SitePolicy:
    """Turn face verification on only with a DPIA reference and a responsible person."""
    dpia_reference, responsible = dpia_reference.strip(), responsible.strip()
    if enabled and (len(dpia_reference) < 3 or len(responsible) < 3):
        raise InvalidInput(
            "face verification cannot be switched on without a DPIA reference and a "
            "responsible person",
            hint="record the data-protection impact assessment's reference and who answers "
            "for it, then switch it on",
        )
    policy = replace(current_policy(hub), face_enabled=enabled,
                     dpia_reference=dpia_reference[:200], face_responsible=responsible[:200])
    return _save(hub, actor, policy, "face switch " + ("on" if enabled else "off"))


def _face_service(hub: HubContext) -> FaceService:
    from doorward.face.service import FaceService

    # Consent calls never compare faces, so the match threshold does not matter here.
    return FaceService(hub.db, threshold=0.0)


def consent_given(hub: HubContext, subject: str) -> bool:
    """Whether the resident's face consent is in force (the face module's consent table)."""
    return _face_service(hub).active_consent(subject) is not None


def record_consent(hub: HubContext, actor: PageUser, subject: str, granted: bool) -> None:
    """Opt in (only while the site has face verification on) or out (always possible;
    withdrawing deletes every template of the resident)."""
    site = current_policy(hub)
    if granted and not site.face_enabled:
        raise InvalidInput(
            "face verification is switched off at this site",
            hint="there is nothing to opt in to; your managers have not enabled it",
        )
    service = _face_service(hub)
    if granted:
        service.record_consent(subject, policy_version=site.dpia_reference or "unversioned")
    else:
        service.withdraw_consent(subject)
    with hub.db.write() as session:
        if not granted:  # the next snapshot delta then deletes the templates on every edge
            announce_face_change(session, hub.site_id, subject)
        audit(session, actor=actor.username,
              action=_CONSENT_GRANT if granted else _CONSENT_WITHDRAW,
              purpose="face verification as a second factor", subject=subject)
    if not granted:
        push_to_edges(hub, "face templates changed")


def forget_face(hub: HubContext, subject: str) -> None:
    """Withdraw any face consent and delete every template of ``subject`` (on erasure)."""
    _face_service(hub).withdraw_consent(subject)
    with hub.db.write() as session:
        announce_face_change(session, hub.site_id, subject)
    push_to_edges(hub, "face templates changed")
