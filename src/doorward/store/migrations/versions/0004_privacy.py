"""Privacy jobs: legal holds and retention purge records.

Revision ID: 0004_privacy
Revises: (none; its own branch, it references no other branch's tables)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from doorward.store.models import UtcDateTime

revision = "0004_privacy"
down_revision = None
branch_labels = ("privacy",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "legal_holds",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("site_id", sa.String(64), nullable=False),
        sa.Column("basis", sa.Text(), nullable=False),
        sa.Column("preserve_from", UtcDateTime(), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("released_at", UtcDateTime(), nullable=True),
        sa.Column("released_by", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legal_holds")),
    )
    op.create_index(op.f("ix_legal_holds_site_id"), "legal_holds", ["site_id"])
    op.create_table(
        "privacy_purges",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("target", sa.String(32), nullable=False),
        sa.Column("site_id", sa.String(64), nullable=False),
        sa.Column("cutoff", UtcDateTime(), nullable=True),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_privacy_purges")),
    )
    op.create_index(op.f("ix_privacy_purges_at"), "privacy_purges", ["at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_privacy_purges_at"), table_name="privacy_purges")
    op.drop_table("privacy_purges")
    op.drop_index(op.f("ix_legal_holds_site_id"), table_name="legal_holds")
    op.drop_table("legal_holds")
