"""The hand-written 0001_eventlog migration creates exactly what the models describe."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from doorward.store.base import Base
from doorward.store.db import Database

EVENTLOG_TABLES = {"eventlog_entries", "chain_heads", "eventlog_checkpoints"}


def _ours(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    table = obj if type_ == "table" else getattr(obj, "table", None)
    return table is not None and table.name in EVENTLOG_TABLES


def test_migrated_schema_matches_the_models(db: Database) -> None:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={"include_object": _ours, "compare_type": True, "compare_server_default": True},
        )
        diffs = compare_metadata(context, Base.metadata)
    assert diffs == []


def test_the_migration_creates_the_three_tables_and_their_indexes(db: Database) -> None:
    inspector = inspect(db.engine)
    assert set(inspector.get_table_names()) >= EVENTLOG_TABLES
    indexes = {i["name"] for i in inspector.get_indexes("eventlog_entries")}
    indexes.discard("uq_eventlog_entries_event_id")  # PostgreSQL lists the unique one too
    assert indexes == {
        "ix_eventlog_entries_site_occurred",
        "ix_eventlog_entries_gate_occurred",
        "ix_eventlog_entries_site_received",
        "ix_eventlog_entries_subject",
    }
    assert inspector.get_pk_constraint("eventlog_entries")["constrained_columns"] == [
        "site_id",
        "seq",
    ]
    unique = inspector.get_unique_constraints("eventlog_entries")
    assert [u["column_names"] for u in unique] == [["event_id"]]
    columns = {c["name"] for c in inspector.get_columns("eventlog_entries")}
    assert not columns & {"name", "first_name", "last_name", "email", "phone", "image"}
