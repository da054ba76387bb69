"""Event log: hash-chained entries per site, chain heads, purge checkpoints.

Written by hand to match ``doorward.store.eventlog_models``; tests/store/test_eventlog_schema.py
compares the migrated schema with the models on SQLite and PostgreSQL.

Revision ID: 0001_eventlog
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_eventlog"
down_revision = None
branch_labels = ("eventlog",)
depends_on = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "eventlog_entries",
        sa.Column("site_id", sa.String(64), nullable=False),
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("gate_id", sa.String(64), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("edge_seq", sa.BigInteger(), nullable=False),
        sa.Column("outcome", sa.String(64), nullable=False),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.Column("credential_kind", sa.String(32), nullable=False),
        sa.Column("subject", sa.String(64), nullable=True),
        sa.Column("pass_id", sa.String(64), nullable=True),
        sa.Column("alarm", sa.String(64), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("entry_hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("site_id", "seq", name="pk_eventlog_entries"),
        sa.UniqueConstraint("event_id", name="uq_eventlog_entries_event_id"),
    )
    op.create_index(
        "ix_eventlog_entries_site_occurred", "eventlog_entries", ["site_id", "occurred_at"]
    )
    op.create_index(
        "ix_eventlog_entries_gate_occurred", "eventlog_entries", ["gate_id", "occurred_at"]
    )
    op.create_index(
        "ix_eventlog_entries_site_received", "eventlog_entries", ["site_id", "received_at"]
    )
    op.create_index("ix_eventlog_entries_subject", "eventlog_entries", ["subject"])

    op.create_table(
        "chain_heads",
        sa.Column("site_id", sa.String(64), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("last_hash", sa.String(64), nullable=False),
        sa.Column("head_mac", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("site_id", name="pk_chain_heads"),
    )

    op.create_table(
        "eventlog_checkpoints",
        sa.Column("id", _BIG_ID, autoincrement=True, nullable=False),
        sa.Column("site_id", sa.String(64), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("entry_hash", sa.String(64), nullable=False),
        sa.Column("purged_count", sa.BigInteger(), nullable=False),
        sa.Column("purged_before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("prev_mac", sa.String(64), nullable=False),
        sa.Column("mac", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_eventlog_checkpoints"),
    )
    op.create_index("ix_eventlog_checkpoints_site_id", "eventlog_checkpoints", ["site_id"])


def downgrade() -> None:
    op.drop_index("ix_eventlog_checkpoints_site_id", table_name="eventlog_checkpoints")
    op.drop_table("eventlog_checkpoints")
    op.drop_table("chain_heads")
    for name in (
        "ix_eventlog_entries_subject",
        "ix_eventlog_entries_site_received",
        "ix_eventlog_entries_gate_occurred",
        "ix_eventlog_entries_site_occurred",
    ):
        op.drop_index(name, table_name="eventlog_entries")
    op.drop_table("eventlog_entries")
