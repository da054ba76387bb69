"""Shared fixtures.

``db`` is a migrated :class:`doorward.store.db.Database`, parametrised over a fresh SQLite
file and a fresh PostgreSQL schema, so every test that uses it runs against both.
PostgreSQL comes from ``DOORWARD_TEST_POSTGRES_URL`` (default: the local server's ``test``
database); ``.ci/run`` makes sure the server is there.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from doorward.store.db import Database, normalize_url

POSTGRES_URL = os.environ.get(
    "DOORWARD_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
MQTT_URL = os.environ.get("DOORWARD_TEST_MQTT_URL", "mqtt://127.0.0.1:1883")
_DEFAULT_FACES = Path(__file__).resolve().parents[1] / ".." / "shared" / "faces"
SHARED_FACES = Path(os.environ.get("DOORWARD_FACES_DIR", _DEFAULT_FACES)).resolve()


def _postgres_schema_url(schema: str) -> str:
    sep = "&" if "?" in POSTGRES_URL else "?"
    return f"{POSTGRES_URL}{sep}options=-csearch_path%3D{schema}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL to an empty database: a SQLite file, or a throwaway PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'doorward.sqlite3'}"
        return
    schema = f"t_{secrets.token_hex(6)}"
    admin = create_engine(normalize_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield _postgres_schema_url(schema)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    """A migrated database on SQLite and on PostgreSQL."""
    database = Database(database_url)
    database.migrate()
    try:
        yield database
    finally:
        database.dispose()
