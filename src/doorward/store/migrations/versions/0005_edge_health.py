"""Edge health: last heartbeat per gate, and commands waiting for HTTPS edges.

Revision ID: 0005_edge_health
Revises: (none; its own branch, it references no other branch's tables)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from doorward.store.models import UtcDateTime

revision = "0005_edge_health"
down_revision = None
branch_labels = ("edge_health",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "edge_status",
        sa.Column("site_id", sa.String(64), nullable=False),
        sa.Column("gate_id", sa.String(64), nullable=False),
        sa.Column("edge_id", sa.String(64), nullable=False),
        sa.Column("last_seen_at", UtcDateTime(), nullable=False),
        sa.Column("sent_at", UtcDateTime(), nullable=False),
        sa.Column("snapshot_version", sa.Integer(), nullable=False),
        sa.Column("outbox_depth", sa.Integer(), nullable=False),
        sa.Column("readers_online", sa.JSON(), nullable=False),
        sa.Column("door", sa.String(16), nullable=False),
        sa.Column("lockdown", sa.Boolean(), nullable=False),
        sa.Column("fire", sa.Boolean(), nullable=False),
        sa.Column("offline_alarmed", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("site_id", "gate_id", name=op.f("pk_edge_status")),
    )
    op.create_table(
        "edge_commands",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("site_id", sa.String(64), nullable=False),
        sa.Column("gate_id", sa.String(64), nullable=False),
        sa.Column("command", sa.String(32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("issued_at", UtcDateTime(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        sa.Column("acked_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_edge_commands")),
    )
    op.create_index(op.f("ix_edge_commands_site_id"), "edge_commands", ["site_id"])
    op.create_index(op.f("ix_edge_commands_gate_id"), "edge_commands", ["gate_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_edge_commands_gate_id"), table_name="edge_commands")
    op.drop_index(op.f("ix_edge_commands_site_id"), table_name="edge_commands")
    op.drop_table("edge_commands")
    op.drop_table("edge_status")
