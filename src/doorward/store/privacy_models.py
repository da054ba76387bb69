"""Tables of the privacy jobs (alembic branch ``privacy``): legal holds and purge records.

``legal_holds``: a hold keeps a site's access events from ``preserve_from`` on, beyond the
normal retention (and beyond the 90-day hard cap), only while it is active and only with a
stated legal ``basis``. ``privacy_purges``: one row per retention purge (what, how many,
cut-off), next to the event log's own signed checkpoints.

Neither table holds a name: a purge record counts rows, a hold names a basis and a date.
The erasure ledger is deliberately NOT a table: it must outlive a database restore, so it is
a file in the data folder (see :mod:`doorward.privacy.erasure`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from doorward.store.base import Base
from doorward.store.models import UtcDateTime, utcnow

__all__ = ["LegalHoldRow", "PurgeRecordRow"]


class LegalHoldRow(Base):
    __tablename__ = "legal_holds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    site_id: Mapped[str] = mapped_column(String(64), index=True)
    #: Why the law requires keeping the events (case number, authority request...).
    basis: Mapped[str] = mapped_column(Text)
    #: Events received at or after this time are kept while the hold is active.
    preserve_from: Mapped[datetime] = mapped_column(UtcDateTime())
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    released_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    released_by: Mapped[str | None] = mapped_column(String(64))


class PurgeRecordRow(Base):
    __tablename__ = "privacy_purges"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(64))
    #: "access_events" | "visitor_passes" | "face_templates" | "erasure_replay"
    target: Mapped[str] = mapped_column(String(32))
    site_id: Mapped[str] = mapped_column(String(64))
    cutoff: Mapped[datetime | None] = mapped_column(UtcDateTime())
    count: Mapped[int] = mapped_column(Integer)
    #: e.g. "checkpoint=12" or "consent_withdrawn=1,moved_out=2,unused=0"
    detail: Mapped[str] = mapped_column(Text, default="")
