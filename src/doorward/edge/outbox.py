"""The edge's durable outbox: every event is on disk before the gate hardware hears "done".

Stdlib ``sqlite3`` in WAL mode with ``synchronous=FULL``, so a committed event survives a
power cut or a ``kill -9``. Events are forwarded at-least-once in the order they were
recorded (``edge_seq``) and deleted only when the hub acknowledges them: a broker accepting
a publish is not enough. The hub ingests by event id, so a resend is harmless.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from doorward.edge.local_db import open_local_db
from doorward.errors import StoreError
from doorward.transport.messages import EventMessage

__all__ = ["Outbox"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    edge_seq INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL UNIQUE,
    body TEXT NOT NULL
)
"""


class Outbox:
    """A single-writer queue of :class:`EventMessage` kept in one SQLite file.

    Thread-safe: the controller appends from reader threads while the uplink reads and
    acknowledges from its own thread; one lock serialises them on one connection.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._conn = open_local_db(
            path, _SCHEMA, what="outbox",
            hint="check that the data folder exists, is writable and is not on a full disk",
        )

    def append(self, event: EventMessage) -> EventMessage:
        """Commit ``event`` durably and return it with its ``edge_seq`` assigned."""
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                cursor = self._conn.execute(
                    "INSERT INTO outbox (event_id, body) VALUES (?, '')", (event.event_id,)
                )
                seq = int(cursor.lastrowid or 0)
                stored = event.model_copy(update={"edge_seq": seq})
                self._conn.execute(
                    "UPDATE outbox SET body = ? WHERE edge_seq = ?",
                    (stored.model_dump_json(), seq),
                )
                self._conn.execute("COMMIT")
            except sqlite3.Error as exc:
                self._rollback()
                raise StoreError(
                    f"cannot record event {event.event_id} in the outbox: {exc}",
                    hint="the disk may be full or the outbox file damaged",
                ) from exc
        return stored

    def pending(self, limit: int = 500) -> list[EventMessage]:
        """The oldest unacknowledged events, in recording order."""
        with self._lock:
            try:
                rows = self._conn.execute(
                    "SELECT body FROM outbox ORDER BY edge_seq LIMIT ?", (limit,)
                ).fetchall()
            except sqlite3.Error as exc:
                raise StoreError(f"cannot read the outbox: {exc}") from exc
        return [EventMessage.model_validate_json(body) for (body,) in rows]

    def acknowledge(self, event_ids: list[str]) -> int:
        """Delete events the hub has acknowledged (accepted or duplicate); return how many."""
        if not event_ids:
            return 0
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                cursor = self._conn.executemany(
                    "DELETE FROM outbox WHERE event_id = ?", [(i,) for i in event_ids]
                )
                self._conn.execute("COMMIT")
            except sqlite3.Error as exc:
                self._rollback()
                raise StoreError(f"cannot delete acknowledged events: {exc}") from exc
        return int(cursor.rowcount)

    def contains(self, event_id: str) -> bool:
        return self._scalar("SELECT COUNT(*) FROM outbox WHERE event_id = ?", (event_id,)) > 0

    def depth(self) -> int:
        return self._scalar("SELECT COUNT(*) FROM outbox", ())

    def _scalar(self, sql: str, params: tuple[str, ...]) -> int:
        with self._lock:
            try:
                (value,) = self._conn.execute(sql, params).fetchone()
            except sqlite3.Error as exc:
                raise StoreError(f"cannot read the outbox: {exc}") from exc
        return int(value)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def _rollback(self) -> None:
        if self._conn.in_transaction:
            self._conn.execute("ROLLBACK")
