"""EventLog.append: chained per site, idempotent by event id, safe with concurrent appenders."""

from __future__ import annotations

import itertools
import threading
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from doorward.errors import ConfigError
from doorward.store.db import Database
from doorward.store.eventlog import GENESIS_HASH, EventLog
from doorward.store.eventlog_models import ChainHead, EventLogEntry

from .factories import CHAIN_KEY, make_event


def _chain(db: Database, site: str) -> list[EventLogEntry]:
    with db.read() as session:
        query = select(EventLogEntry).where(EventLogEntry.site_id == site)
        return list(session.scalars(query.order_by(EventLogEntry.seq)))


def test_entries_are_numbered_and_linked_per_site(db: Database, log: EventLog) -> None:
    batch = [make_event(i, site="s1") for i in range(3)]
    batch += [make_event(i, site="s2") for i in range(2)]
    ack = log.append(batch)
    assert ack.accepted == [e.event_id for e in batch]
    assert ack.duplicates == []
    for site, size in (("s1", 3), ("s2", 2)):
        chain = _chain(db, site)
        assert [e.seq for e in chain] == list(range(1, size + 1))
        assert chain[0].prev_hash == GENESIS_HASH
        assert all(b.prev_hash == a.entry_hash for a, b in itertools.pairwise(chain))
        assert len({e.entry_hash for e in chain}) == size
    with db.read() as session:
        heads = dict(session.execute(select(ChainHead.site_id, ChainHead.last_seq)).all())
    assert heads == {"s1": 3, "s2": 2}
    assert log.verify().ok


def test_a_resent_batch_is_acknowledged_and_not_stored_twice(db: Database, log: EventLog) -> None:
    first = [make_event(i) for i in range(4)]
    assert log.append(first).accepted == [e.event_id for e in first]
    again = [*first[2:], make_event(4)]
    ack = log.append(again)
    assert ack.accepted == ["evt-s1-000004"]
    assert ack.duplicates == ["evt-s1-000002", "evt-s1-000003"]
    assert [e.seq for e in _chain(db, "s1")] == [1, 2, 3, 4, 5]
    assert log.count() == 5


def test_a_duplicate_within_one_batch_is_stored_once(log: EventLog) -> None:
    event = make_event(1)
    ack = log.append([event, make_event(2), event])
    assert ack.accepted == ["evt-s1-000001", "evt-s1-000002"]
    assert ack.duplicates == ["evt-s1-000001"]
    assert log.count() == 2
    assert log.verify().ok


def test_an_empty_batch_does_nothing(log: EventLog) -> None:
    ack = log.append([])
    assert (ack.accepted, ack.duplicates) == ([], [])
    assert log.verify().checked == 0


def test_fields_come_back_as_sent_in_utc(log: EventLog) -> None:
    local = timezone(timedelta(hours=2))
    sent = make_event(7, occurred_at=datetime(2026, 3, 1, 10, 30, 0, 123456, tzinfo=local))
    log.append([sent])
    (stored,) = log.events()
    assert stored.occurred_at == datetime(2026, 3, 1, 8, 30, 0, 123456, tzinfo=UTC)
    assert stored.occurred_at.tzinfo == UTC
    assert stored.to_message() == sent
    assert stored.seq == 1
    assert stored.received_at == datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def test_a_short_chain_key_is_refused(db: Database) -> None:
    with pytest.raises(ConfigError, match="at least 32"):
        EventLog(db, b"too short")


def test_concurrent_appenders_keep_one_correct_chain(db: Database) -> None:
    """Four appenders, each with its own engine (like separate hub processes), overlapping ids."""
    threads_count, batches, per_batch = 4, 5, 20
    errors: list[BaseException] = []
    acks: list[tuple[list[str], list[str]]] = []
    lock = threading.Lock()
    start = threading.Barrier(threads_count)

    def appender(worker: int) -> None:
        database = Database(db.url)
        log = EventLog(database, CHAIN_KEY)
        try:
            start.wait()
            for b in range(batches):
                # Workers 0/1 and 2/3 send the same events: every id reaches the hub twice.
                base = (worker // 2) * 1000 + b * per_batch
                site = "s1" if b % 2 == 0 else "s2"
                ack = log.append([make_event(base + i, site=site) for i in range(per_batch)])
                with lock:
                    acks.append((ack.accepted, ack.duplicates))
        except BaseException as exc:
            errors.append(exc)
        finally:
            database.dispose()

    threads = [threading.Thread(target=appender, args=(w,)) for w in range(threads_count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    accepted = [i for a, _ in acks for i in a]
    duplicates = [i for _, d in acks for i in d]
    unique_ids = threads_count // 2 * batches * per_batch
    assert len(accepted) == len(set(accepted)) == unique_ids
    assert set(duplicates) == set(accepted)
    log = EventLog(db, CHAIN_KEY)
    assert log.count() == unique_ids
    report = log.verify()
    assert report.ok, report
    assert report.checked == unique_ids
    pairs = threads_count // 2
    per_site = {"s1": pairs * 3 * per_batch, "s2": pairs * 2 * per_batch}  # batches 0,2,4 / 1,3
    for site, size in per_site.items():
        assert [e.seq for e in _chain(db, site)] == list(range(1, size + 1))


def test_the_same_event_id_sent_for_two_sites_at_once_is_stored_once(db: Database) -> None:
    """Different sites lock different chain heads; the unique event id still decides."""
    ids = [make_event(i).event_id for i in range(50)]
    acks: dict[str, tuple[list[str], list[str]]] = {}
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def appender(site: str) -> None:
        database = Database(db.url)
        try:
            batch = [
                make_event(i, site=site).model_copy(update={"event_id": ids[i]}) for i in range(50)
            ]
            start.wait()
            ack = EventLog(database, CHAIN_KEY).append(batch)
            acks[site] = (ack.accepted, ack.duplicates)
        except BaseException as exc:
            errors.append(exc)
        finally:
            database.dispose()

    threads = [threading.Thread(target=appender, args=(s,)) for s in ("s1", "s2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    for accepted, duplicates in acks.values():
        assert sorted(accepted + duplicates) == sorted(ids)
    assert sorted(acks["s1"][0] + acks["s2"][0]) == sorted(ids)
    log = EventLog(db, CHAIN_KEY)
    assert log.count() == 50
    assert log.verify().ok
