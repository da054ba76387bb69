"""Checks on doorward.store.db that the event log relies on: SQLite writes start with
BEGIN IMMEDIATE, commit durably, and migrations are safe to start from several processes."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from doorward.store.db import Database


def test_a_sqlite_write_holds_the_write_lock_from_its_first_statement(tmp_path: Path) -> None:
    path = tmp_path / "x.sqlite3"
    db = Database(f"sqlite:///{path}")
    try:
        with db.write() as session:
            session.execute(text("CREATE TABLE t (n INTEGER)"))
        with db.write() as session:
            session.execute(text("SELECT count(*) FROM t")).scalar_one()  # a read, no write yet
            other = sqlite3.connect(path, timeout=0, isolation_level=None)
            try:
                with pytest.raises(sqlite3.OperationalError, match="locked"):
                    other.execute("BEGIN IMMEDIATE")
            finally:
                other.close()
    finally:
        db.dispose()


def test_sqlite_connections_use_wal_and_full_sync(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'x.sqlite3'}")
    try:
        with db.write() as session:
            assert session.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
            assert session.execute(text("PRAGMA synchronous")).scalar_one() == 2  # FULL
    finally:
        db.dispose()


def test_several_processes_may_migrate_the_same_database_at_once(database_url: str) -> None:
    errors: list[BaseException] = []
    start = threading.Barrier(3)

    def migrate() -> None:
        database = Database(database_url)  # its own engine, like another hub replica
        try:
            start.wait()
            database.migrate()
        except BaseException as exc:
            errors.append(exc)
        finally:
            database.dispose()

    threads = [threading.Thread(target=migrate) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    db = Database(database_url)
    try:
        assert {"eventlog_entries", "chain_heads", "alembic_version"} <= set(
            inspect(db.engine).get_table_names()
        )
        db.migrate()  # and again, later: nothing to do, no error
    finally:
        db.dispose()
