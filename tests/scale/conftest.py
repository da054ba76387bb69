"""Fixtures for the scale tests: a throwaway PostgreSQL schema, and the broker's URL."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text

from doorward.store.db import normalize_url

POSTGRES_URL = os.environ.get(
    "DOORWARD_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
BROKER = os.environ.get("DOORWARD_TEST_MQTT_URL", "mqtt://127.0.0.1:1883")


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A URL whose search_path is a fresh schema, dropped afterwards."""
    schema = f"scale_{secrets.token_hex(5)}"
    admin = create_engine(normalize_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield f"{POSTGRES_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
