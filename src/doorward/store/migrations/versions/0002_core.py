"""Core tables: sites, gates, units, people, subject map, logins, credentials, schedules, passes.

Revision ID: 0002_core
Revises:
Create Date: 2026-11-26

Written by hand; ``tests/hub/test_schema.py`` checks it matches ``doorward.store.models``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from doorward.store.models import UtcDateTime

revision = "0002_core"
down_revision = None
branch_labels = ("core",)
depends_on = None


def _pk(*cols: str, table: str) -> sa.PrimaryKeyConstraint:
    return sa.PrimaryKeyConstraint(*cols, name=f"pk_{table}")


def _fk(col: str, table: str, target: str, ondelete: str | None = None) -> sa.ForeignKeyConstraint:
    ref_table = target.split(".")[0]
    return sa.ForeignKeyConstraint(
        [col], [target], name=f"fk_{table}_{col}_{ref_table}", ondelete=ondelete
    )


def _uq(table: str, *cols: str) -> sa.UniqueConstraint:
    return sa.UniqueConstraint(*cols, name=f"uq_{table}_{cols[0]}")


def _ix(table: str, col: str) -> None:
    op.create_index(f"ix_{table}_{col}", table, [col])


def upgrade() -> None:
    op.create_table(
        "sites",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("snapshot_version", sa.Integer(), nullable=False),
        sa.Column("lockdown", sa.Boolean(), nullable=False),
        _pk("id", table="sites"),
    )
    op.create_table(
        "gates",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("site_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("direction", sa.String(16), nullable=False),
        sa.Column("antipassback", sa.String(16), nullable=False),
        sa.Column("antipassback_seconds", sa.Integer(), nullable=False),
        sa.Column("requires_face", sa.Boolean(), nullable=False),
        sa.Column("held_open_seconds", sa.Integer(), nullable=False),
        sa.Column("tailgate_window_seconds", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        _pk("id", table="gates"),
        _fk("site_id", "gates", "sites.id"),
    )
    _ix("gates", "site_id")
    op.create_table(
        "units",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("site_id", sa.String(64), nullable=False),
        sa.Column("label", sa.String(64), nullable=False),
        _pk("id", table="units"),
        _fk("site_id", "units", "sites.id"),
        _uq("units", "site_id", "label"),
    )
    _ix("units", "site_id")
    op.create_table(
        "people",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("site_id", sa.String(64), nullable=False),
        sa.Column("unit_id", sa.String(64), nullable=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("moved_out_at", UtcDateTime(), nullable=True),
        _pk("id", table="people"),
        _fk("site_id", "people", "sites.id"),
        _fk("unit_id", "people", "units.id", "SET NULL"),
    )
    _ix("people", "site_id")
    _ix("people", "unit_id")
    op.create_table(
        "subject_map",
        sa.Column("person_id", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(64), nullable=False),
        sa.Column("salt", sa.String(64), nullable=False),
        _pk("person_id", table="subject_map"),
        _fk("person_id", "subject_map", "people.id", "CASCADE"),
        _uq("subject_map", "subject"),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("person_id", sa.String(64), nullable=True),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        _pk("id", table="users"),
        _fk("person_id", "users", "people.id", "CASCADE"),
        _uq("users", "username"),
    )
    _ix("users", "person_id")
    op.create_table(
        "sessions",
        sa.Column("token_digest", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        _pk("token_digest", table="sessions"),
        _fk("user_id", "sessions", "users.id", "CASCADE"),
    )
    _ix("sessions", "user_id")
    op.create_table(
        "edge_clients",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("gate_id", sa.String(64), nullable=False),
        sa.Column("token_digest", sa.String(64), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        _pk("id", table="edge_clients"),
        _fk("gate_id", "edge_clients", "gates.id", "CASCADE"),
        _uq("edge_clients", "token_digest"),
    )
    _ix("edge_clients", "gate_id")
    op.create_table(
        "schedules",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("site_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("windows", sa.JSON(), nullable=False),
        sa.Column("holidays", sa.JSON(), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        _pk("id", table="schedules"),
        _fk("site_id", "schedules", "sites.id"),
    )
    _ix("schedules", "site_id")
    op.create_table(
        "credentials",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("site_id", sa.String(64), nullable=False),
        sa.Column("person_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("card_format", sa.String(32), nullable=True),
        sa.Column("card_number", sa.String(64), nullable=True),
        sa.Column("pin_id", sa.String(32), nullable=True),
        sa.Column("pin_hash", sa.String(200), nullable=True),
        sa.Column("gates", sa.JSON(), nullable=False),
        sa.Column("schedule_id", sa.String(64), nullable=True),
        sa.Column("valid_from", UtcDateTime(), nullable=True),
        sa.Column("valid_until", UtcDateTime(), nullable=True),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.Column("responder", sa.Boolean(), nullable=False),
        sa.Column("face_second_factor", sa.Boolean(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        _pk("id", table="credentials"),
        _fk("site_id", "credentials", "sites.id"),
        _fk("person_id", "credentials", "people.id", "CASCADE"),
        _fk("schedule_id", "credentials", "schedules.id", "SET NULL"),
        _uq("credentials", "card_format", "card_number"),
        _uq("credentials", "pin_id"),
    )
    _ix("credentials", "site_id")
    _ix("credentials", "person_id")
    _ix("credentials", "version")
    op.create_table(
        "passes",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("site_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("host_person_id", sa.String(64), nullable=True),
        sa.Column("host_unit_id", sa.String(64), nullable=False),
        sa.Column("visitor_name", sa.String(100), nullable=False),
        sa.Column("valid_from", UtcDateTime(), nullable=False),
        sa.Column("valid_until", UtcDateTime(), nullable=False),
        sa.Column("max_uses", sa.Integer(), nullable=False),
        sa.Column("uses", sa.Integer(), nullable=False),
        sa.Column("code_digest", sa.String(128), nullable=False),
        sa.Column("gates", sa.JSON(), nullable=False),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        _pk("id", table="passes"),
        _fk("site_id", "passes", "sites.id"),
        _fk("host_person_id", "passes", "people.id", "SET NULL"),
        _fk("host_unit_id", "passes", "units.id", "CASCADE"),
    )
    _ix("passes", "site_id")
    _ix("passes", "host_person_id")
    _ix("passes", "code_digest")
    _ix("passes", "version")
    op.create_table(
        "snapshot_tombstones",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("site_id", sa.String(64), nullable=False),
        sa.Column("item_kind", sa.String(16), nullable=False),
        sa.Column("item_id", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        _pk("id", table="snapshot_tombstones"),
        _fk("site_id", "snapshot_tombstones", "sites.id"),
    )
    _ix("snapshot_tombstones", "site_id")
    _ix("snapshot_tombstones", "version")
    op.create_table(
        "audit_entries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("subject", sa.String(64), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        _pk("id", table="audit_entries"),
    )
    _ix("audit_entries", "at")
    _ix("audit_entries", "subject")


def downgrade() -> None:
    for table in (
        "audit_entries",
        "snapshot_tombstones",
        "passes",
        "credentials",
        "schedules",
        "edge_clients",
        "sessions",
        "users",
        "subject_map",
        "people",
        "units",
        "gates",
        "sites",
    ):
        op.drop_table(table)
