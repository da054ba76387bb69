"""Tables of the hub's view of its edges (alembic branch ``edge_health``).

``edge_status``: one row per gate with an edge: when the hub last heard a heartbeat, what
the edge reported (snapshot version, outbox depth, door, lockdown, fire) and whether the
"edge offline" alarm is raised. ``edge_commands``: commands for HTTPS edges to fetch
(lockdown, release, manual open, fire) until the edge acknowledges them or they expire.

No person appears in either table: a command names a gate and a reason; who issued it is
in the audit log.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from doorward.store.base import Base
from doorward.store.models import UtcDateTime, utcnow

__all__ = ["EdgeCommandRow", "EdgeStatusRow"]


class EdgeStatusRow(Base):
    __tablename__ = "edge_status"

    site_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    gate_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    edge_id: Mapped[str] = mapped_column(String(64))
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime())  # the hub's clock
    sent_at: Mapped[datetime] = mapped_column(UtcDateTime())  # the edge's clock
    snapshot_version: Mapped[int] = mapped_column(Integer, default=0)
    outbox_depth: Mapped[int] = mapped_column(Integer, default=0)
    readers_online: Mapped[dict[str, bool]] = mapped_column(JSON, default=dict)
    door: Mapped[str] = mapped_column(String(16), default="unknown")
    lockdown: Mapped[bool] = mapped_column(Boolean, default=False)
    fire: Mapped[bool] = mapped_column(Boolean, default=False)
    offline_alarmed: Mapped[bool] = mapped_column(Boolean, default=False)


class EdgeCommandRow(Base):
    __tablename__ = "edge_commands"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    site_id: Mapped[str] = mapped_column(String(64), index=True)
    gate_id: Mapped[str] = mapped_column(String(64), index=True)
    command: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text, default="")
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    acked_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
