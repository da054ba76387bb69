"""Legal holds: the only way to keep access events past retention, and past the 90-day cap.

A hold names its legal basis (at least a short sentence), the site, and the time from which
events must be kept. While it is active, retention never purges events received at or after
``preserve_from``. Placing and releasing a hold are both audited; hold rows are never deleted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from doorward.errors import InvalidInput, NotFound
from doorward.hub.services.common import audit
from doorward.store.db import Database
from doorward.store.eventlog_models import as_utc
from doorward.store.models import utcnow
from doorward.store.privacy_models import LegalHoldRow

__all__ = ["MIN_BASIS_CHARS", "LegalHold", "active_holds", "place_hold", "release_hold"]

#: A basis must say something checkable ("court order 2026/114, district court X").
MIN_BASIS_CHARS = 10


@dataclass(frozen=True, slots=True)
class LegalHold:
    id: int
    site_id: str
    basis: str
    preserve_from: datetime
    created_by: str
    created_at: datetime
    released_at: datetime | None


def _public(row: LegalHoldRow) -> LegalHold:
    return LegalHold(row.id, row.site_id, row.basis, row.preserve_from, row.created_by,
                     row.created_at, row.released_at)


def place_hold(
    db: Database, *, site_id: str, basis: str, preserve_from: datetime, actor: str
) -> LegalHold:
    """Keep ``site_id``'s events from ``preserve_from`` on until released. Audited."""
    basis = basis.strip()
    if len(basis) < MIN_BASIS_CHARS:
        raise InvalidInput(
            "a legal hold must name its legal basis",
            hint=f"describe it in at least {MIN_BASIS_CHARS} characters, e.g. the court "
            "order or authority request and its reference",
        )
    if len(basis) > 2000:
        raise InvalidInput("the legal basis is longer than 2000 characters",
                           hint="give the reference, not the whole document")
    with db.write() as session:
        row = LegalHoldRow(site_id=site_id, basis=basis, preserve_from=as_utc(preserve_from),
                           created_by=actor, created_at=utcnow())
        session.add(row)
        session.flush()
        audit(session, actor=actor, action="legal_hold.place", purpose=basis,
              detail=f"hold={row.id} site={site_id} from={row.preserve_from.isoformat()}")
        return _public(row)


def release_hold(db: Database, hold_id: int, *, actor: str) -> LegalHold:
    """End a hold; the next retention run purges what it was keeping. Audited."""
    with db.write() as session:
        row = session.get(LegalHoldRow, hold_id)
        if row is None:
            raise NotFound(f"legal hold {hold_id} does not exist",
                           hint="list holds with `doorward legal-hold list`")
        if row.released_at is None:
            row.released_at = utcnow()
            row.released_by = actor
            audit(session, actor=actor, action="legal_hold.release", detail=f"hold={row.id}")
        return _public(row)


def active_holds(db: Database, site_id: str | None = None) -> list[LegalHold]:
    query = select(LegalHoldRow).where(LegalHoldRow.released_at.is_(None))
    if site_id is not None:
        query = query.where(LegalHoldRow.site_id == site_id)
    with db.read() as session:
        return [_public(r) for r in session.scalars(query.order_by(LegalHoldRow.id))]
