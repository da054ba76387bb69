"""Alembic environment: always run programmatically through ``Database.migrate``."""

from __future__ import annotations

from alembic import context

import doorward.store.models_all  # noqa: F401  (registers every table on Base.metadata)
from doorward.store.base import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only reachable from the alembic CLI
    raise SystemExit("run migrations with `doorward db upgrade`, not the alembic CLI")

context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
