"""The tamper-evident event log: append-only, hash-chained per site, purged behind checkpoints.

Each entry commits to the one before it: ``entry_hash = HMAC-SHA256(chain_key, prev_hash ||
canonical JSON of the entry)``. The key lives in the data folder, not in the database, so
someone with only database access can neither edit an entry nor re-forge the chain after it.
:meth:`EventLog.verify` walks each site's chain and names the first bad entry and what is
wrong with it. :meth:`EventLog.purge` deletes the oldest entries and leaves a signed checkpoint
where the chain now starts, so the log still verifies after retention has run.

There is no query by person except :meth:`EventLog.events_for_subject`, which exists only for
a data subject's export of their own events; charts use :meth:`EventLog.hourly_counts`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

import psycopg
from psycopg.types.json import Json
from sqlalchemy import (
    CursorResult,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from doorward.errors import ConfigError, StoreError
from doorward.store.db import Database
from doorward.store.eventlog_chain import (
    CHAIN_KEY_BYTES,
    GENESIS_HASH,
    ChainWalker,
    VerifyReport,
    checkpoint_mac,
    entry_hash,
    head_mac,
    load_chain_key,
    load_or_create_chain_key,
)
from doorward.store.eventlog_models import ChainHead, EventLogCheckpoint, EventLogEntry, as_utc
from doorward.store.eventlog_reads import EventLogReads, HourlyCount, LoggedEvent
from doorward.transport.messages import EventMessage, IngestAck

__all__ = [
    "GENESIS_HASH",
    "EventLog",
    "HourlyCount",
    "LoggedEvent",
    "PurgeReport",
    "VerifyReport",
    "load_chain_key",
    "load_or_create_chain_key",
]

_APPEND_ATTEMPTS = 3

_E = EventLogEntry


#: Every column of an entry, in table order (the COPY column list on PostgreSQL).
_COLUMN_NAMES = tuple(column.name for column in _E.__table__.columns)


@dataclass(frozen=True)
class PurgeReport:
    site_id: str
    purged: int
    #: The chain now starts after this seq (the checkpoint's seq).
    through_seq: int
    checkpoint_id: int


class EventLog(EventLogReads):
    """Append, verify, purge and read the event log kept in ``db``.

    ``chain_key`` is the secret HMAC key (at least 32 bytes) from :func:`load_chain_key`.
    ``clock`` returns the current UTC time; tests pass their own.
    """

    def __init__(
        self,
        db: Database,
        chain_key: bytes,
        *,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        if len(chain_key) < CHAIN_KEY_BYTES:
            raise ConfigError(
                f"the event log chain key is {len(chain_key)} bytes; it must be at least 32",
                hint="use load_or_create_chain_key(settings) to get a proper key",
            )
        self._db = db
        self._key = chain_key
        self._clock = clock or (lambda: datetime.now(UTC))

    # ----------------------------------------------------------------------------- append

    def append(self, events: Sequence[EventMessage]) -> IngestAck:
        """Store ``events`` in one transaction; an event id already stored is a duplicate.

        Idempotent: re-sending a batch stores nothing twice and acknowledges everything. Safe
        to call from several threads and from several processes on the same database.
        """
        if not events:
            return IngestAck(accepted=[], duplicates=[])
        for attempt in range(1, _APPEND_ATTEMPTS + 1):
            try:
                return self._append_once(events)
            except StoreError as exc:
                # Another appender stored one of these ids (for another site) first; the next
                # attempt sees it as a duplicate.
                if not _is_unique_violation(exc.__cause__) or attempt == _APPEND_ATTEMPTS:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _append_once(self, events: Sequence[EventMessage]) -> IngestAck:
        first_seen: dict[str, EventMessage] = {}
        repeats: list[str] = []
        for event in events:
            if event.event_id in first_seen:
                repeats.append(event.event_id)
            else:
                first_seen[event.event_id] = event
        sites = sorted({e.site_id for e in first_seen.values()})
        with self._db.write() as session:
            heads = self._lock_heads(session, sites)
            stored = set(
                session.scalars(select(_E.event_id).where(_E.event_id.in_(list(first_seen))))
            )
            received_at = self._clock()
            rows: list[dict[str, Any]] = []
            for event in first_seen.values():
                if event.event_id in stored:
                    continue
                last_seq, last_hash = heads[event.site_id]
                values = event.model_dump()
                values["occurred_at"] = as_utc(values["occurred_at"])
                values.update(seq=last_seq + 1, received_at=received_at, prev_hash=last_hash)
                values["entry_hash"] = entry_hash(self._key, last_hash, values)
                heads[event.site_id] = (last_seq + 1, values["entry_hash"])
                rows.append(values)
            if rows:
                self._insert_rows(session, rows)
                for site in sorted({row["site_id"] for row in rows}):
                    last_seq, last_hash = heads[site]
                    session.execute(
                        update(ChainHead)
                        .where(ChainHead.site_id == site)
                        .values(
                            last_seq=last_seq,
                            last_hash=last_hash,
                            head_mac=head_mac(self._key, site, last_seq, last_hash),
                        )
                    )
        accepted = [row["event_id"] for row in rows]
        duplicates = [e for e in first_seen if e in stored] + repeats
        return IngestAck(accepted=accepted, duplicates=list(dict.fromkeys(duplicates)))

    def _insert_rows(self, session: Session, rows: list[dict[str, Any]]) -> None:
        if self._db.is_sqlite:
            session.execute(insert(_E), rows)
            return
        # COPY: 2.5x executemany for 500-event batches (docs/benchmarks.md, Event log append).
        copy_sql = f"COPY {_E.__tablename__} ({', '.join(_COLUMN_NAMES)}) FROM STDIN"
        dbapi = cast("psycopg.Connection[Any]", session.connection().connection.dbapi_connection)
        try:
            with dbapi.cursor() as cursor, cursor.copy(copy_sql) as copy:
                for row in rows:
                    copy.write_row(
                        [Json(row[c]) if c == "detail" else row[c] for c in _COLUMN_NAMES]
                    )
        except psycopg.Error as exc:
            raise StoreError(f"storing events failed: {exc.__class__.__name__}: {exc}") from exc

    def _lock_heads(self, session: Session, sites: list[str]) -> dict[str, tuple[int, str]]:
        """Create missing chain heads, then lock them (in site order, so no deadlocks)."""
        dialect = postgresql if not self._db.is_sqlite else sqlite
        new_heads = [
            {
                "site_id": site,
                "last_seq": 0,
                "last_hash": GENESIS_HASH,
                "head_mac": head_mac(self._key, site, 0, GENESIS_HASH),
            }
            for site in sites
        ]
        session.execute(
            dialect.insert(ChainHead)
            .values(new_heads)
            .on_conflict_do_nothing(index_elements=["site_id"])
        )
        # FOR UPDATE serialises appenders on PostgreSQL; SQLite's single writer already does.
        locked = session.execute(
            select(ChainHead.site_id, ChainHead.last_seq, ChainHead.last_hash)
            .where(ChainHead.site_id.in_(sites))
            .order_by(ChainHead.site_id)
            .with_for_update()
        )
        return {site: (seq, digest) for site, seq, digest in locked}

    # ----------------------------------------------------------------------------- verify

    def verify(self, site_id: str | None = None) -> VerifyReport:
        """Walk each site's chain (or only ``site_id``'s) and report the first bad entry.

        Tampering is reported, not raised; call ``report.raise_if_tampered()`` for an error.
        """
        with self._db.read() as session:
            if not self._db.is_sqlite:
                # One snapshot for the whole walk, so concurrent appends are not "inserted".
                session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
            walker = ChainWalker(session, self._key)
            if site_id is not None:
                sites = [site_id]
            else:
                found: set[str] = set()
                for table in (ChainHead, EventLogCheckpoint, _E):
                    found.update(session.scalars(select(table.site_id).distinct()))
                sites = sorted(found)
            checked = 0
            for site in sites:
                report = walker.verify_site(site)
                checked += report.checked
                if not report.ok:
                    return VerifyReport(False, checked, site, report.seq, report.problem)
            return VerifyReport(True, checked)

    # ------------------------------------------------------------------------------ purge

    def purge(self, site_id: str, before: datetime) -> PurgeReport:
        """Delete ``site_id``'s oldest entries received before ``before``, behind a checkpoint.

        Only a prefix of the chain can go, so this deletes entries from the start of the chain
        up to (not including) the first one received at or after ``before``. The part to be
        deleted is verified first: a tampered prefix raises ``LogTampered`` and nothing is
        deleted, so a checkpoint never vouches for a forged entry. Every purge, even one that
        deletes nothing, leaves a signed checkpoint row: that table is the record of purges.
        """
        before = as_utc(before)
        with self._db.write() as session:
            self._lock_heads(session, [site_id])
            walker = ChainWalker(session, self._key)
            start_seq, start_hash, prev_mac = walker.checkpoint_start(site_id)
            first_kept = session.scalar(
                select(func.min(_E.seq)).where(
                    _E.site_id == site_id, _E.seq > start_seq, _E.received_at >= before
                )
            )
            last_seq = session.scalar(
                select(func.max(_E.seq)).where(_E.site_id == site_id, _E.seq > start_seq)
            )
            through = start_seq
            if last_seq is not None:
                through = last_seq if first_kept is None else first_kept - 1
            through_hash = start_hash
            if through > start_seq:
                through_hash = walker.verify_prefix(site_id, start_seq, start_hash, through)
            deleted = session.execute(delete(_E).where(_E.site_id == site_id, _E.seq <= through))
            purged = cast("CursorResult[Any]", deleted).rowcount
            values: dict[str, Any] = {
                "site_id": site_id,
                "seq": through,
                "entry_hash": through_hash,
                "purged_count": purged,
                "purged_before": before,
                "created_at": self._clock(),
                "prev_mac": prev_mac,
            }
            values["mac"] = checkpoint_mac(self._key, values)
            checkpoint_id = session.execute(
                insert(EventLogCheckpoint).values(values).returning(EventLogCheckpoint.id)
            ).scalar_one()
        return PurgeReport(site_id, purged, through, checkpoint_id)

def _is_unique_violation(exc: BaseException | None) -> bool:
    return isinstance(exc, IntegrityError | psycopg.IntegrityError)
