"""Helpers every service uses: ids, the site's snapshot version, audit entries, lookups."""

from __future__ import annotations

import secrets
from typing import Any, TypeVar

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from doorward.errors import NotFound
from doorward.store.db import Database
from doorward.store.models import AuditEntry, SiteRow, SnapshotTombstone, SubjectMapRow

__all__ = [
    "audit",
    "bump_version",
    "ensure_site",
    "get_or_404",
    "new_id",
    "subject_of",
    "tombstone",
]

RowT = TypeVar("RowT")


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(8)}"


def ensure_site(session: Session, site_id: str, name: str = "") -> SiteRow:
    site = session.get(SiteRow, site_id)
    if site is None:
        site = SiteRow(id=site_id, name=name or site_id, snapshot_version=0, lockdown=False)
        session.add(site)
        session.flush()
    return site


def bump_version(session: Session, site_id: str) -> int:
    """Advance the site's snapshot version and return the new value (rows changed carry it)."""
    ensure_site(session, site_id)
    session.execute(
        update(SiteRow)
        .where(SiteRow.id == site_id)
        .values(snapshot_version=SiteRow.snapshot_version + 1)
    )
    version = session.scalar(select(SiteRow.snapshot_version).where(SiteRow.id == site_id))
    assert version is not None
    return version


def tombstone(session: Session, site_id: str, kind: str, item_id: str, version: int) -> None:
    session.add(
        SnapshotTombstone(site_id=site_id, item_kind=kind, item_id=item_id, version=version)
    )


def audit(
    session: Session,
    *,
    actor: str,
    action: str,
    purpose: str = "",
    subject: str | None = None,
    detail: str = "",
) -> None:
    session.add(
        AuditEntry(actor=actor, action=action, purpose=purpose, subject=subject, detail=detail)
    )


def subject_of(session: Session, person_id: str) -> str | None:
    return session.scalar(select(SubjectMapRow.subject).where(SubjectMapRow.person_id == person_id))


def own_subject(db: Database, person_id: str | None) -> str:
    """The pseudonym of the logged-in person; NotFound (with what to do) if there is none."""
    if person_id is None:
        raise NotFound("this login is not linked to a person", hint="ask an admin to link it")
    with db.read() as session:
        subject = subject_of(session, person_id)
    if subject is None:
        raise NotFound("your record no longer exists on this site",
                       hint="it may have been erased; ask an admin to re-add you")
    return subject


def get_or_404(session: Session, model: type[RowT], key: Any, what: str) -> RowT:
    row = session.get(model, key)
    if row is None:
        raise NotFound(f"{what} {key!r} does not exist", hint=f"list {what}s to find a valid id")
    return row
