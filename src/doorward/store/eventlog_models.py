"""Tables of the tamper-evident event log (alembic branch ``eventlog``).

``eventlog_entries`` holds one hash-chained row per event, chained per site by ``seq``.
``chain_heads`` holds the last ``seq`` and hash of each site's chain: appenders lock that row,
so concurrent hub processes extend one correct chain. ``eventlog_checkpoints`` records every
purge (what was deleted and the hash it ended on), so the chain still verifies afterwards.

There is no column for a name: a person appears only as the pseudonymous ``subject``.
Hashes and MACs are lowercase hex, so they read the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Dialect, Index, Integer, String, TypeDecorator
from sqlalchemy.orm import Mapped, mapped_column

from doorward.store.base import Base

__all__ = ["ChainHead", "EventLogCheckpoint", "EventLogEntry", "UTCDateTime"]

#: BIGINT on PostgreSQL, INTEGER on SQLite (where only INTEGER PRIMARY KEY autoincrements).
_BigId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored as UTC and always read back as an aware UTC datetime.

    SQLite keeps no zone (and SQLAlchemy drops tzinfo without converting), so values are
    converted to UTC before they are stored; naive values are taken to be UTC already.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else as_utc(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        return None if value is None else as_utc(value)


def as_utc(value: datetime) -> datetime:
    """``value`` as an aware UTC datetime; a naive value is taken to be UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


class EventLogEntry(Base):
    __tablename__ = "eventlog_entries"

    site_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    event_id: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    gate_id: Mapped[str] = mapped_column(String(64))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    edge_seq: Mapped[int] = mapped_column(BigInteger)
    outcome: Mapped[str] = mapped_column(String(64), default="")
    reason: Mapped[str] = mapped_column(String(200), default="")
    credential_kind: Mapped[str] = mapped_column(String(32), default="")
    subject: Mapped[str | None] = mapped_column(String(64))
    pass_id: Mapped[str | None] = mapped_column(String(64))
    alarm: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (
        Index("ix_eventlog_entries_site_occurred", "site_id", "occurred_at"),
        Index("ix_eventlog_entries_gate_occurred", "gate_id", "occurred_at"),
        Index("ix_eventlog_entries_site_received", "site_id", "received_at"),
        # Only for the data subject's own export and for erasure checks (guarded by the hub).
        Index("ix_eventlog_entries_subject", "subject"),
    )


class ChainHead(Base):
    __tablename__ = "chain_heads"

    site_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger)
    last_hash: Mapped[str] = mapped_column(String(64))
    #: HMAC over (site, last_seq, last_hash): truncating the chain's tail needs the key.
    head_mac: Mapped[str] = mapped_column(String(64))


class EventLogCheckpoint(Base):
    __tablename__ = "eventlog_checkpoints"

    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    site_id: Mapped[str] = mapped_column(String(64), index=True)
    #: The last purged entry: the chain resumes at ``seq + 1`` with ``prev_hash == entry_hash``.
    seq: Mapped[int] = mapped_column(BigInteger)
    entry_hash: Mapped[str] = mapped_column(String(64))
    purged_count: Mapped[int] = mapped_column(BigInteger)
    purged_before: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: The previous checkpoint's MAC for this site ("" for the first): checkpoints form a chain.
    prev_mac: Mapped[str] = mapped_column(String(64))
    mac: Mapped[str] = mapped_column(String(64))
