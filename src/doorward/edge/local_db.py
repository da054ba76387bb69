"""The edge's local SQLite files (outbox, snapshot cache): opened the same durable way."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from doorward.errors import StoreError

__all__ = ["open_local_db"]


def open_local_db(
    path: Path, schema: str, *, what: str, hint: str, secure_delete: bool = False
) -> sqlite3.Connection:
    """A WAL, ``synchronous=FULL`` connection with ``schema`` applied; StoreError if it fails.

    ``isolation_level=None``: callers issue ``BEGIN IMMEDIATE`` themselves (one writer).
    ``secure_delete`` zeroes freed pages, so deleted rows leave no copy in the file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        if secure_delete:
            conn.execute("PRAGMA secure_delete=ON")
        conn.execute(schema)
    except sqlite3.Error as exc:
        raise StoreError(f"cannot open the edge {what} at {path}: {exc}", hint=hint) from exc
    return conn
