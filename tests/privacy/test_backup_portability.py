"""A backup is a logical dump: it restores into the other database kind, rows and chain intact,
and the migration creates exactly the privacy tables the models describe."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, func, select, text

from conftest import POSTGRES_URL, _postgres_schema_url
from doorward.privacy.backup import BackupKey, make_backup, restore_backup
from doorward.store.base import Base
from doorward.store.db import Database, normalize_url
from doorward.store.eventlog import EventLog, load_chain_key
from doorward.store.models import PersonRow

from .conftest import World, append_events, days_ago

KEY = BackupKey.from_passphrase("correct horse battery staple",
                                {"time_cost": 1, "memory_cost": 1024, "parallelism": 1})
PRIVACY_TABLES = {"legal_holds", "privacy_purges"}


@pytest.fixture
def other_database(world: World, tmp_path: Path) -> Iterator[Database]:
    """An empty, migrated database of the other kind than the world's."""
    if not world.ctx.db.is_sqlite:
        target = Database(f"sqlite:///{tmp_path / 'other.sqlite3'}")
        target.migrate()
        yield target
        target.dispose()
        return
    schema = f"t_{secrets.token_hex(6)}"
    admin = create_engine(normalize_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    target = Database(_postgres_schema_url(schema))
    try:
        target.migrate()
        yield target
    finally:
        target.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def test_a_backup_restores_into_the_other_database_kind(
    world: World, other_database: Database
) -> None:
    ctx = world.ctx
    append_events(world, None, 5, days_ago(1))
    blob = make_backup(ctx.db, ctx.settings, KEY)
    report = restore_backup(other_database, ctx.settings, blob, KEY)
    assert report.rows["eventlog_entries"] == 5 and report.rows["people"] == 1
    with other_database.read() as session:
        names = session.scalars(select(PersonRow.name)).all()
        audits = session.scalar(select(func.count()).select_from(Base.metadata.tables[
            "audit_entries"]))
    assert names == ["Ana Example"] and audits and audits > 0
    moved = EventLog(other_database, load_chain_key(ctx.settings))
    assert moved.verify().ok and moved.count() == 5


def _ours(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    table = obj if type_ == "table" else getattr(obj, "table", None)
    return table is not None and table.name in PRIVACY_TABLES


def test_the_privacy_migration_matches_the_models(db: Database) -> None:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"include_object": _ours, "compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
