"""Face verification: consent records and sealed templates.

Revision ID: 0003_face
Revises: (none; its own branch, so the face extra stays independent)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_face"
down_revision = None
branch_labels = ("face",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "face_consent",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("subject", sa.String(128), nullable=False),
        sa.Column("purpose", sa.String(200), nullable=False),
        sa.Column("policy_version", sa.String(200), nullable=False),
        sa.Column("retention_days", sa.Integer(), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_face_consent")),
    )
    op.create_index(op.f("ix_face_consent_subject"), "face_consent", ["subject"])
    op.create_table(
        "face_template",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("subject", sa.String(128), nullable=False),
        sa.Column("credential_id", sa.String(128), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("salt", sa.LargeBinary(), nullable=False),
        sa.Column("nonce", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_face_template")),
        sa.UniqueConstraint("subject", "credential_id", name=op.f("uq_face_template_subject")),
    )
    op.create_index(op.f("ix_face_template_subject"), "face_template", ["subject"])


def downgrade() -> None:
    op.drop_index(op.f("ix_face_template_subject"), table_name="face_template")
    op.drop_table("face_template")
    op.drop_index(op.f("ix_face_consent_subject"), table_name="face_consent")
    op.drop_table("face_consent")
