"""Core tables: sites, gates, units, people, logins, credentials, schedules, passes, audit.

Names live only in ``people``. The pseudonym of a person lives in ``subject_map``, its own
table: erasing a person deletes that row and with it the salt, so their old events (which
carry only the pseudonym) can no longer be linked back to anyone (crypto-shredding).

Every row that an edge snapshot carries has a ``version``: the site's snapshot version at its
last change, so a delta "since version N" is a ``version > N`` query. Deleted rows leave a
``snapshot_tombstones`` row for the same reason.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapped, mapped_column

from doorward.store.base import Base

__all__ = [
    "AuditEntry",
    "CredentialRow",
    "EdgeClientRow",
    "GateRow",
    "LoginSession",
    "PassRow",
    "PersonRow",
    "ScheduleRow",
    "SiteRow",
    "SnapshotTombstone",
    "SubjectMapRow",
    "UnitRow",
    "UserRow",
    "UtcDateTime",
    "utcnow",
]


def utcnow() -> datetime:
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both SQLite (which drops the zone) and PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class SiteRow(Base):
    __tablename__ = "sites"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    snapshot_version: Mapped[int] = mapped_column(Integer, default=0)
    lockdown: Mapped[bool] = mapped_column(Boolean, default=False)


class GateRow(Base):
    __tablename__ = "gates"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    direction: Mapped[str] = mapped_column(String(16))
    antipassback: Mapped[str] = mapped_column(String(16), default="off")
    antipassback_seconds: Mapped[int] = mapped_column(Integer, default=0)
    requires_face: Mapped[bool] = mapped_column(Boolean, default=False)
    held_open_seconds: Mapped[int] = mapped_column(Integer, default=30)
    tailgate_window_seconds: Mapped[int] = mapped_column(Integer, default=5)
    version: Mapped[int] = mapped_column(Integer, default=0)


class UnitRow(Base):
    __tablename__ = "units"
    __table_args__ = (UniqueConstraint("site_id", "label"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"), index=True)
    label: Mapped[str] = mapped_column(String(64))


class PersonRow(Base):
    """A resident, staff member, guard or admin. There is no other category of person."""

    __tablename__ = "people"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"), index=True)
    unit_id: Mapped[str | None] = mapped_column(
        ForeignKey("units.id", ondelete="SET NULL"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    moved_out_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class SubjectMapRow(Base):
    """Person -> pseudonymous subject id. Deleting the row shreds the link for good."""

    __tablename__ = "subject_map"

    person_id: Mapped[str] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    subject: Mapped[str] = mapped_column(String(64), unique=True)
    salt: Mapped[str] = mapped_column(String(64))  # hex; per-person


class UserRow(Base):
    """A login: admin, guard or resident. Passwords are argon2id hashes."""

    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    person_id: Mapped[str | None] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), index=True
    )
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class LoginSession(Base):
    """A browser session or API bearer token. Only the SHA-256 of the token is stored."""

    __tablename__ = "sessions"

    token_digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())


class EdgeClientRow(Base):
    """An edge controller's bearer token (SHA-256 stored), bound to one gate."""

    __tablename__ = "edge_clients"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    gate_id: Mapped[str] = mapped_column(ForeignKey("gates.id", ondelete="CASCADE"), index=True)
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class ScheduleRow(Base):
    __tablename__ = "schedules"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    windows: Mapped[list[Any]] = mapped_column(JSON)  # [[weekday, start_min, end_min], ...]
    holidays: Mapped[list[Any]] = mapped_column(JSON)  # ["2026-12-25", ...]
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    version: Mapped[int] = mapped_column(Integer, default=0)


class CredentialRow(Base):
    __tablename__ = "credentials"
    __table_args__ = (UniqueConstraint("card_format", "card_number"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"), index=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    card_format: Mapped[str | None] = mapped_column(String(32))
    card_number: Mapped[str | None] = mapped_column(String(64))
    pin_id: Mapped[str | None] = mapped_column(String(32), unique=True)
    pin_hash: Mapped[str | None] = mapped_column(String(200))
    gates: Mapped[list[Any]] = mapped_column(JSON)
    schedule_id: Mapped[str | None] = mapped_column(
        ForeignKey("schedules.id", ondelete="SET NULL")
    )
    valid_from: Mapped[datetime | None] = mapped_column(UtcDateTime())
    valid_until: Mapped[datetime | None] = mapped_column(UtcDateTime())
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    responder: Mapped[bool] = mapped_column(Boolean, default=False)
    face_second_factor: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=0, index=True)


class PassRow(Base):
    """A visitor or delivery pass. Only the digest of the short code is kept."""

    __tablename__ = "passes"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    host_person_id: Mapped[str | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL"), index=True
    )
    host_unit_id: Mapped[str] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"))
    visitor_name: Mapped[str] = mapped_column(String(100))
    valid_from: Mapped[datetime] = mapped_column(UtcDateTime())
    valid_until: Mapped[datetime] = mapped_column(UtcDateTime())
    max_uses: Mapped[int] = mapped_column(Integer)
    uses: Mapped[int] = mapped_column(Integer, default=0)
    code_digest: Mapped[str] = mapped_column(String(128), index=True)
    gates: Mapped[list[Any]] = mapped_column(JSON)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=0, index=True)


class SnapshotTombstone(Base):
    """A credential or pass that was deleted, so deltas can tell edges to drop it."""

    __tablename__ = "snapshot_tombstones"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"), index=True)
    item_kind: Mapped[str] = mapped_column(String(16))  # "credential" | "pass"
    item_id: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, index=True)


class AuditEntry(Base):
    """Who did or read what, when, why, and whose data it touched. Append-only."""

    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    purpose: Mapped[str] = mapped_column(Text, default="")
    subject: Mapped[str | None] = mapped_column(String(64), index=True)
    detail: Mapped[str] = mapped_column(Text, default="")
