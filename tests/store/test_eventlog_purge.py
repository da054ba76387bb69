"""EventLog.purge: old entries go, a signed checkpoint stays, and verify still means something."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, text

from doorward.errors import LogTampered
from doorward.store.db import Database
from doorward.store.eventlog import EventLog
from doorward.store.eventlog_models import EventLogCheckpoint

from .factories import ManualClock, make_event


@pytest.fixture
def aged(log: EventLog, clock: ManualClock) -> EventLog:
    """Site s1: entries 1-5 received on day 1, 6-10 on day 3; site s2: 2 entries on day 1."""
    log.append([make_event(i) for i in range(5)] + [make_event(i, site="s2") for i in range(2)])
    clock.advance(days=2)
    log.append([make_event(i) for i in range(5, 10)])
    return log


def _checkpoints(db: Database) -> list[EventLogCheckpoint]:
    with db.read() as session:
        return list(session.scalars(select(EventLogCheckpoint).order_by(EventLogCheckpoint.id)))


def test_purge_deletes_the_old_prefix_and_the_log_still_verifies(
    db: Database, aged: EventLog, clock: ManualClock
) -> None:
    report = aged.purge("s1", clock.now - timedelta(days=1))
    assert (report.purged, report.through_seq) == (5, 5)
    assert [e.seq for e in aged.events(site_id="s1", newest_first=False)] == [6, 7, 8, 9, 10]
    assert aged.count(site_id="s2") == 2  # other sites are untouched
    verified = aged.verify()
    assert verified.ok, verified
    assert verified.checked == 7
    (checkpoint,) = _checkpoints(db)
    assert (checkpoint.site_id, checkpoint.seq, checkpoint.purged_count) == ("s1", 5, 5)


def test_appends_after_a_purge_continue_the_chain(aged: EventLog, clock: ManualClock) -> None:
    aged.purge("s1", clock.now + timedelta(seconds=1))  # everything so far
    assert aged.count(site_id="s1") == 0
    assert aged.verify().ok
    aged.append([make_event(i) for i in range(10, 13)])
    assert [e.seq for e in aged.events(site_id="s1", newest_first=False)] == [11, 12, 13]
    assert aged.verify().ok


def test_every_purge_is_recorded_even_when_nothing_is_old_enough(
    db: Database, aged: EventLog, clock: ManualClock
) -> None:
    first = aged.purge("s1", clock.now - timedelta(days=1))
    second = aged.purge("s1", clock.now - timedelta(days=1))
    assert (first.purged, second.purged) == (5, 0)
    checkpoints = _checkpoints(db)
    assert [(c.seq, c.purged_count) for c in checkpoints] == [(5, 5), (5, 0)]
    assert checkpoints[1].prev_mac == checkpoints[0].mac
    assert aged.verify().ok


def test_tampering_after_the_checkpoint_is_still_caught(
    db: Database, aged: EventLog, clock: ManualClock
) -> None:
    aged.purge("s1", clock.now - timedelta(days=1))
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM eventlog_entries WHERE site_id = 's1' AND seq = 6"))
    report = aged.verify("s1")
    assert (report.ok, report.seq, report.problem) == (False, 6, "entry missing (deleted)")


def test_an_edited_checkpoint_is_refused(db: Database, aged: EventLog, clock: ManualClock) -> None:
    """Moving a checkpoint forward would hide deleted entries; its MAC stops that."""
    aged.purge("s1", clock.now - timedelta(days=1))
    with db.engine.begin() as conn:
        sixth = conn.execute(
            text("SELECT entry_hash FROM eventlog_entries WHERE site_id='s1' AND seq=6")
        ).scalar_one()
        conn.execute(text("DELETE FROM eventlog_entries WHERE site_id='s1' AND seq=6"))
        conn.execute(
            text("UPDATE eventlog_checkpoints SET seq = 6, entry_hash = :h, purged_count = 6"),
            {"h": sixth},
        )
    report = aged.verify("s1")
    assert (report.ok, report.seq, report.problem) == (False, 6, "checkpoint edited")


def test_a_deleted_checkpoint_is_caught(db: Database, aged: EventLog, clock: ManualClock) -> None:
    aged.purge("s1", clock.now - timedelta(days=1))
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM eventlog_checkpoints"))
    report = aged.verify("s1")
    assert (report.ok, report.seq, report.problem) == (False, 1, "entry missing (deleted)")


def test_purge_refuses_to_vouch_for_a_tampered_prefix(
    db: Database, aged: EventLog, clock: ManualClock
) -> None:
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE eventlog_entries SET outcome = 'x' WHERE site_id='s1' AND seq=2"))
    with pytest.raises(LogTampered, match="seq 2: entry edited"):
        aged.purge("s1", clock.now - timedelta(days=1))
    assert aged.count(site_id="s1") == 10  # nothing was deleted
    assert _checkpoints(db) == []


def test_purge_keeps_everything_from_the_first_recent_entry_on(
    aged: EventLog, clock: ManualClock
) -> None:
    """Only a prefix can go: an old entry behind a recent one waits for the next purge."""
    clock.advance(days=5)
    aged.append([make_event(20)])
    clock.now -= timedelta(days=30)  # a hub whose clock jumped back: an "old" entry at seq 12
    aged.append([make_event(21)])
    clock.now += timedelta(days=30)
    report = aged.purge("s1", clock.now - timedelta(days=1))
    assert report.through_seq == 10
    assert [e.seq for e in aged.events(site_id="s1", newest_first=False)] == [11, 12]
    assert aged.verify().ok
