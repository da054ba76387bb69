"""The Database wrapper: SQLite in WAL mode with one writer; errors converted to StoreError."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import text

from doorward.errors import StoreError
from doorward.store.db import Database, normalize_url


def test_postgres_urls_use_psycopg3() -> None:
    assert normalize_url("postgresql://u@h/d") == "postgresql+psycopg://u@h/d"
    assert normalize_url("postgres://u@h/d") == "postgresql+psycopg://u@h/d"
    assert normalize_url("sqlite:///x.db") == "sqlite:///x.db"


def test_sqlite_runs_in_wal_mode(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'x.sqlite3'}")
    try:
        with db.read() as session:
            mode = session.execute(text("PRAGMA journal_mode")).scalar_one()
        assert mode == "wal"
    finally:
        db.dispose()


def test_concurrent_writers_never_see_database_locked(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'x.sqlite3'}")
    with db.write() as session:
        session.execute(text("CREATE TABLE counter (n INTEGER NOT NULL)"))
        session.execute(text("INSERT INTO counter VALUES (0)"))
    errors: list[BaseException] = []

    def bump() -> None:
        try:
            for _ in range(50):
                with db.write() as s:
                    n = s.execute(text("SELECT n FROM counter")).scalar_one()
                    s.execute(text("UPDATE counter SET n = :n"), {"n": n + 1})
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=bump) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert errors == []
        with db.read() as session:
            assert session.execute(text("SELECT n FROM counter")).scalar_one() == 200
    finally:
        db.dispose()


def test_failed_write_rolls_back_and_raises_store_error(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'x.sqlite3'}")
    try:
        with db.write() as session:
            session.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY)"))
        with pytest.raises(StoreError, match="write failed"), db.write() as session:
            session.execute(text("INSERT INTO t VALUES (1)"))
            session.execute(text("INSERT INTO t VALUES (1)"))
        with db.read() as session:
            assert session.execute(text("SELECT count(*) FROM t")).scalar_one() == 0
    finally:
        db.dispose()


def test_bad_url_is_a_store_error_with_a_hint() -> None:
    with pytest.raises(StoreError) as info:
        Database("nosuchdialect://x")
    assert "sqlite:///" in info.value.hint
