"""Retention: every kind of personal data has a lifetime, and a job that ends it.

===================  ==========================================================  ===========
what                 kept for                                                    purged by
===================  ==========================================================  ===========
access events        ``access_event_retention_days`` (default 30, hard cap 90)   event-log purge
                     unless an active legal hold keeps them                       + checkpoint
visitor passes       ``visitor_retention_days`` (default 7) after the visit ends  row deleted
face templates       until consent is withdrawn, 30 days after move-out, or 12    row deleted
                     months unused
login sessions       until they expire                                           row deleted
===================  ==========================================================  ===========

Every run writes one ``privacy_purges`` row and one audit entry per kind of data, even when it
deletes nothing, so "did retention run?" always has an answer. The cut-off rules are pure
functions of (now, settings, holds) and are tested on their own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import CursorResult, delete, select
from sqlalchemy.orm import Session

from doorward.errors import InvalidInput, PrivacyViolation
from doorward.hub.services.common import audit, bump_version, tombstone
from doorward.hub.services.context import HubContext
from doorward.privacy.legal_hold import active_holds
from doorward.store.eventlog_models import ChainHead, as_utc
from doorward.store.face_models import FaceConsentRow, FaceTemplateRow
from doorward.store.models import LoginSession, PassRow, PersonRow, SubjectMapRow, utcnow
from doorward.store.privacy_models import PurgeRecordRow

if TYPE_CHECKING:
    from doorward.face.service import FaceService

__all__ = [
    "FACE_MOVED_OUT_DAYS",
    "FACE_UNUSED_DAYS",
    "HARD_CAP_DAYS",
    "RetentionReport",
    "access_event_cutoff",
    "run_retention",
    "visitor_cutoff",
]

HARD_CAP_DAYS = 90
FACE_MOVED_OUT_DAYS = 30
FACE_UNUSED_DAYS = 365
ACTOR = "retention"


def access_event_cutoff(
    now: datetime, retention_days: int, hold_starts: Sequence[datetime] = ()
) -> datetime:
    """Events received before the returned time may be purged.

    More than 90 days is refused outright: only a legal hold (``hold_starts``: the
    ``preserve_from`` of each active hold) can keep events longer, and then only from its date.
    """
    if retention_days > HARD_CAP_DAYS:
        raise PrivacyViolation(
            f"access events may be kept at most {HARD_CAP_DAYS} days, not {retention_days}",
            hint="to keep specific events longer, place a legal hold that names its basis "
            "(`doorward legal-hold place`)",
        )
    if retention_days < 1:
        raise InvalidInput(f"retention must be at least 1 day, got {retention_days}",
                           hint="set access_event_retention_days between 1 and 90")
    cutoff = as_utc(now) - timedelta(days=retention_days)
    return min([cutoff, *(as_utc(h) for h in hold_starts)])


def visitor_cutoff(now: datetime, retention_days: int) -> datetime:
    """Passes whose validity ended before the returned time are deleted."""
    if not 1 <= retention_days <= HARD_CAP_DAYS:
        raise PrivacyViolation(
            f"visitor data may be kept 1 to {HARD_CAP_DAYS} days after the visit, "
            f"not {retention_days}",
            hint="set visitor_retention_days (default 7)",
        )
    return as_utc(now) - timedelta(days=retention_days)


@dataclass
class RetentionReport:
    ran_at: datetime
    access_events: dict[str, int] = field(default_factory=dict)  # site -> entries purged
    access_cutoffs: dict[str, datetime] = field(default_factory=dict)
    visitor_passes: int = 0
    face_templates: dict[str, int] = field(default_factory=dict)  # reason -> templates
    sessions: int = 0

    def lines(self) -> list[str]:
        out = [f"retention ran at {self.ran_at.isoformat()}"]
        for site, purged in sorted(self.access_events.items()):
            out.append(f"access events, site {site}: {purged} purged (received before "
                       f"{self.access_cutoffs[site].isoformat()})")
        out.append(f"visitor passes: {self.visitor_passes} deleted")
        reasons = ", ".join(f"{k} {v}" for k, v in sorted(self.face_templates.items()))
        out.append(f"face templates: {sum(self.face_templates.values())} deleted ({reasons})")
        out.append(f"expired login sessions: {self.sessions} deleted")
        return out


def _rowcount(result: Any) -> int:
    return int(cast("CursorResult[Any]", result).rowcount or 0)


def _record(session: Session, *, target: str, site_id: str, cutoff: datetime | None,
            count: int, detail: str) -> None:
    session.add(PurgeRecordRow(at=utcnow(), actor=ACTOR, target=target, site_id=site_id,
                               cutoff=cutoff, count=count, detail=detail))
    audit(session, actor=ACTOR, action=f"retention.{target}", purpose="retention policy",
          detail=f"deleted={count} {detail}".strip())


def _retention_days(hub: HubContext) -> tuple[int, int]:
    """The site policy admins set in the web console, else the settings' defaults."""
    from doorward.hub.web.policy import current_policy

    policy = current_policy(hub)
    return policy.access_event_retention_days, policy.visitor_retention_days


def run_retention(hub: HubContext, now: datetime | None = None) -> RetentionReport:
    """Purge everything past its lifetime, for every site in the event log and this hub."""
    now = as_utc(now or utcnow())
    access_days, visitor_days = _retention_days(hub)
    report = RetentionReport(ran_at=now)
    with hub.db.read() as session:
        sites = sorted({hub.site_id, *session.scalars(select(ChainHead.site_id))})
    for site in sites:
        holds = active_holds(hub.db, site)
        cutoff = access_event_cutoff(now, access_days, [h.preserve_from for h in holds])
        purge = hub.eventlog.purge(site, cutoff)
        report.access_events[site] = purge.purged
        report.access_cutoffs[site] = cutoff
        with hub.db.write() as session:
            held = ",".join(str(h.id) for h in holds)
            _record(session, target="access_events", site_id=site, cutoff=cutoff,
                    count=purge.purged,
                    detail=f"checkpoint={purge.checkpoint_id}" + (f" holds={held}" if held else ""))
    passes_cutoff = visitor_cutoff(now, visitor_days)
    with hub.db.write() as session:
        report.visitor_passes = _purge_passes(session, hub.site_id, passes_cutoff)
        _record(session, target="visitor_passes", site_id=hub.site_id, cutoff=passes_cutoff,
                count=report.visitor_passes, detail="")
    with hub.db.write() as session:
        report.face_templates = _purge_templates(session, now)
    report.face_templates["unused"] = _face_service(hub).purge_unused(
        now=now, max_idle_days=FACE_UNUSED_DAYS)
    with hub.db.write() as session:
        _record(session, target="face_templates", site_id=hub.site_id, cutoff=None,
                count=sum(report.face_templates.values()),
                detail=",".join(f"{k}={v}" for k, v in sorted(report.face_templates.items())))
    with hub.db.write() as session:
        report.sessions = _rowcount(session.execute(
            delete(LoginSession).where(LoginSession.expires_at < now)))
        _record(session, target="sessions", site_id=hub.site_id, cutoff=now,
                count=report.sessions, detail="")
    return report


def _purge_passes(session: Session, site_id: str, cutoff: datetime) -> int:
    ended = session.scalars(
        select(PassRow.id).where(PassRow.site_id == site_id, PassRow.valid_until < cutoff)
    ).all()
    if not ended:
        return 0
    # Edges drop deleted passes from their snapshot through a tombstone, like any deletion.
    version = bump_version(session, site_id)
    for pass_id in ended:
        tombstone(session, site_id, "pass", pass_id, version)
    session.execute(delete(PassRow).where(PassRow.id.in_(ended)))
    return len(ended)


def _face_service(hub: HubContext) -> FaceService:
    from doorward.face.service import FaceService

    # Purging never compares faces, so the match threshold does not matter here.
    return FaceService(hub.db, threshold=0.0)


def _purge_templates(session: Session, now: datetime) -> dict[str, int]:
    """Delete templates of erased people, without consent in force, or of people gone 30 days.

    Templates unused for a year go through the face module's own ``purge_unused``."""
    templates = session.execute(
        select(FaceTemplateRow.id, FaceTemplateRow.subject)).all()
    counts = {"no_consent": 0, "moved_out": 0, "erased": 0}
    if not templates:
        return counts
    consenting = set(session.scalars(
        select(FaceConsentRow.subject).where(FaceConsentRow.withdrawn_at.is_(None))))
    known = set(session.scalars(select(SubjectMapRow.subject)))
    moved_out = set(session.scalars(
        select(SubjectMapRow.subject)
        .join(PersonRow, PersonRow.id == SubjectMapRow.person_id)
        .where(PersonRow.moved_out_at <= now - timedelta(days=FACE_MOVED_OUT_DAYS))))
    doomed: list[int] = []
    for template_id, subject in templates:
        if subject not in known:
            reason = "erased"
        elif subject not in consenting:
            reason = "no_consent"
        elif subject in moved_out:
            reason = "moved_out"
        else:
            continue
        counts[reason] += 1
        doomed.append(template_id)
    if doomed:
        session.execute(delete(FaceTemplateRow).where(FaceTemplateRow.id.in_(doomed)))
    return counts
