"""Engines, sessions and migrations.

SQLite is the default: WAL mode, and every write goes through one writer (a process-wide
lock plus ``BEGIN IMMEDIATE``), so concurrent requests never meet "database is locked".
PostgreSQL is used when the URL says so; its own MVCC handles concurrent writers.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from doorward.errors import StoreError

__all__ = ["Database", "normalize_url"]

_MIGRATIONS = Path(__file__).parent / "migrations"
#: PostgreSQL advisory lock id held while migrating ("doorward" in ASCII, as an int).
_MIGRATE_LOCK = 0x646F6F7277617264


def normalize_url(url: str) -> str:
    """Use psycopg 3 for ``postgresql://`` URLs."""
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url[len("postgresql://") :]
    if url.startswith("postgres://"):
        return "postgresql+psycopg://" + url[len("postgres://") :]
    return url


class Database:
    """One database: an engine, a session factory and the single SQLite writer.

    ``read()`` gives a session for queries; ``write()`` gives a session inside a transaction
    that commits on success and rolls back on error. On SQLite, writes are serialised.
    """

    def __init__(self, url: str, *, echo: bool = False, **engine_args: Any) -> None:
        self.url = normalize_url(url)
        self.is_sqlite = self.url.startswith("sqlite")
        if self.is_sqlite:
            path = self.url.split("///", 1)[-1]
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            engine_args.setdefault("connect_args", {"check_same_thread": False, "timeout": 30})
        else:
            engine_args.setdefault("pool_pre_ping", True)
        try:
            self.engine: Engine = create_engine(self.url, echo=echo, **engine_args)
        except (SQLAlchemyError, ImportError, ValueError) as exc:
            raise StoreError(
                f"cannot use database URL {url!r}: {exc}",
                hint="use sqlite:///path/to/file.sqlite3 or postgresql://user@host/db",
            ) from exc
        if self.is_sqlite:
            self._configure_sqlite(self.engine)
        self._writer = threading.RLock()
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @staticmethod
    def _configure_sqlite(engine: Engine) -> None:
        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            # Let SQLAlchemy, not pysqlite, emit BEGIN so that writes can use BEGIN IMMEDIATE.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            # FULL, not NORMAL: the hub acknowledges events to edges, which then drop them from
            # their outbox, so a committed write must survive a power cut.
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Any) -> None:
            immediate = conn.get_execution_options().get("doorward_immediate", False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    @contextmanager
    def read(self) -> Iterator[Session]:
        try:
            with self._sessions() as session:
                yield session
        except SQLAlchemyError as exc:
            raise StoreError(f"database read failed: {exc.__class__.__name__}: {exc}") from exc

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A session in one transaction; the single writer on SQLite."""
        if self.is_sqlite:
            with self._writer:
                yield from self._write_session(immediate=True)
        else:
            yield from self._write_session(immediate=False)

    def _write_session(self, *, immediate: bool) -> Iterator[Session]:
        try:
            with self.engine.connect() as raw:
                conn = raw.execution_options(doorward_immediate=immediate)
                with Session(bind=conn, expire_on_commit=False) as session:
                    try:
                        yield session
                        session.commit()
                    except BaseException:
                        session.rollback()
                        raise
        except SQLAlchemyError as exc:
            raise StoreError(f"database write failed: {exc.__class__.__name__}: {exc}") from exc

    def migrate(self, revision: str = "heads") -> None:
        """Bring the schema up to ``revision`` with Alembic.

        On SQLite, a process that opens a brand-new file while another is switching it to WAL
        can get "database is locked" without SQLite's busy handler ever waiting (WAL recovery
        does not wait), so that one case is retried a few times.
        """
        for attempt in range(8):
            try:
                self._migrate_once(revision)
                return
            except StoreError as exc:
                locked = "database is locked" in str(exc)
                if not (self.is_sqlite and locked) or attempt == 7:
                    raise
                time.sleep(0.05 * 2**attempt)

    def _migrate_once(self, revision: str) -> None:
        cfg = Config()
        cfg.set_main_option("script_location", str(_MIGRATIONS))
        try:
            with self._writer, self.engine.connect() as raw:
                conn = raw.execution_options(doorward_immediate=self.is_sqlite)
                with conn.begin():
                    if not self.is_sqlite:
                        # Hub replicas starting together must not run the same migration twice.
                        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATE_LOCK})
                    cfg.attributes["connection"] = conn
                    command.upgrade(cfg, revision)
        except SQLAlchemyError as exc:
            raise StoreError(f"migration failed: {exc}") from exc

    def dispose(self) -> None:
        self.engine.dispose()
