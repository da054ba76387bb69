"""The event log's read side: events by site, time, gate and kind; hourly aggregates for charts.

There is no query by person except :meth:`EventLogReads.events_for_subject`, which exists only
for a data subject's export of their own events.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, func, literal_column, select

from doorward.errors import InvalidInput
from doorward.store.db import Database
from doorward.store.eventlog_models import EventLogEntry, as_utc
from doorward.transport.messages import EventMessage

__all__ = ["EventLogReads", "HourlyCount", "LoggedEvent"]

_MAX_LIMIT = 10_000
_E = EventLogEntry


class LoggedEvent(NamedTuple):
    """One stored event, as the read API returns it (no hashes, no name: there is none)."""

    site_id: str
    seq: int
    event_id: str
    kind: str
    gate_id: str
    occurred_at: datetime
    edge_seq: int
    outcome: str
    reason: str
    credential_kind: str
    subject: str | None
    pass_id: str | None
    alarm: str | None
    detail: dict[str, str]
    received_at: datetime

    def to_message(self) -> EventMessage:
        fields = self._asdict()
        return EventMessage(**{k: fields[k] for k in EventMessage.model_fields})


#: The columns a LoggedEvent is read from, in its field order.
_READ_COLUMNS = tuple(_E.__table__.c[name] for name in LoggedEvent._fields)


class HourlyCount(NamedTuple):
    """Events at one gate in one UTC hour with one outcome."""

    gate_id: str
    hour: datetime
    outcome: str
    n: int


class EventLogReads:
    """Read methods of :class:`doorward.store.eventlog.EventLog`."""

    _db: Database

    def events(
        self,
        site_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        gate_id: str | None = None,
        kind: str | None = None,
        limit: int = 100,
        newest_first: bool = True,
    ) -> list[LoggedEvent]:
        """Events by site, time (``since <= occurred_at < until``), gate and kind."""
        order = (_E.occurred_at.desc(), _E.seq.desc()) if newest_first else (_E.occurred_at, _E.seq)
        query = (
            select(*_READ_COLUMNS)
            .where(*_filters(site_id, since, until, gate_id, kind, None))
            .order_by(*order)
            .limit(_check_limit(limit))
        )
        with self._db.read() as session:
            return [LoggedEvent(*row) for row in session.execute(query)]

    def count(
        self,
        site_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        gate_id: str | None = None,
        kind: str | None = None,
        outcome: str | None = None,
    ) -> int:
        query = (
            select(func.count())
            .select_from(_E)
            .where(*_filters(site_id, since, until, gate_id, kind, outcome))
        )
        with self._db.read() as session:
            return int(session.scalar(query) or 0)

    def hourly_counts(
        self, site_id: str, since: datetime, until: datetime, kind: str | None = "access"
    ) -> list[HourlyCount]:
        """Events per gate, UTC hour and outcome: the only shape the charts get."""
        if self._db.is_sqlite:
            hour: ColumnElement[Any] = func.strftime("%Y-%m-%d %H:00:00", _E.occurred_at)
        else:
            utc = _E.occurred_at.op("AT TIME ZONE")(literal_column("'UTC'"))
            hour = func.date_trunc("hour", utc)
        query = (
            select(_E.gate_id, hour.label("hour"), _E.outcome, func.count())
            .where(*_filters(site_id, since, until, None, kind, None))
            .group_by(_E.gate_id, hour, _E.outcome)
            .order_by(hour, _E.gate_id, _E.outcome)
        )
        with self._db.read() as session:
            rows = session.execute(query).all()
        return [HourlyCount(gate, _hour(value), outcome, n) for gate, value, outcome, n in rows]

    def events_for_subject(self, subject: str, limit: int = 1000) -> list[LoggedEvent]:
        """The events of one pseudonym, oldest first: ONLY for that person's own export."""
        query = (
            select(*_READ_COLUMNS)
            .where(_E.subject == subject)
            .order_by(_E.occurred_at, _E.site_id, _E.seq)
            .limit(_check_limit(limit))
        )
        with self._db.read() as session:
            return [LoggedEvent(*row) for row in session.execute(query)]


def _filters(
    site_id: str | None,
    since: datetime | None,
    until: datetime | None,
    gate_id: str | None,
    kind: str | None,
    outcome: str | None,
) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = []
    if site_id is not None:
        clauses.append(_E.site_id == site_id)
    if since is not None:
        clauses.append(_E.occurred_at >= as_utc(since))
    if until is not None:
        clauses.append(_E.occurred_at < as_utc(until))
    if gate_id is not None:
        clauses.append(_E.gate_id == gate_id)
    if kind is not None:
        clauses.append(_E.kind == kind)
    if outcome is not None:
        clauses.append(_E.outcome == outcome)
    return clauses


def _check_limit(limit: int) -> int:
    if not 1 <= limit <= _MAX_LIMIT:
        raise InvalidInput(
            f"limit must be between 1 and {_MAX_LIMIT}, got {limit}",
            hint="page through older events with `until`",
        )
    return limit


def _hour(value: str | datetime) -> datetime:
    if isinstance(value, str):  # SQLite's strftime gives text
        value = datetime.fromisoformat(value)
    return as_utc(value)
