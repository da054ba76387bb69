"""The hand-written 0002_core migration builds exactly the tables the models describe."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

import doorward.store.models as core
from doorward.store.base import Base
from doorward.store.db import Database

CORE_TABLES = {
    obj.__tablename__
    for obj in vars(core).values()
    if isinstance(obj, type) and issubclass(obj, Base) and obj is not Base
}


def test_migrated_schema_matches_models(db: Database) -> None:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_object": _core_only}
        )
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_every_core_table_exists(db: Database) -> None:
    present = set(inspect(db.engine).get_table_names())
    assert present >= CORE_TABLES
    assert "subject_map" in CORE_TABLES


def _core_only(obj: Any, name: str | None, type_: str, reflected: bool, other: Any) -> bool:
    """Compare only this migration's tables; other branches check their own."""
    if type_ == "table":
        return name in CORE_TABLES
    table = getattr(obj, "table", None)
    return table is None or table.name in CORE_TABLES
