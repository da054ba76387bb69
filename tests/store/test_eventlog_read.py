"""The event log's read API: by site, time and gate, counts, hourly aggregates, own export."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from doorward.errors import InvalidInput
from doorward.store.eventlog import EventLog, HourlyCount

from .factories import START, make_event


@pytest.fixture
def traffic(log: EventLog) -> EventLog:
    at = START  # 08:00
    log.append(
        [
            make_event(1, gate="g1", occurred_at=at + timedelta(minutes=5)),
            make_event(2, gate="g1", occurred_at=at + timedelta(minutes=50), outcome="denied"),
            make_event(3, gate="g2", occurred_at=at + timedelta(minutes=55), subject="pseudo-b"),
            make_event(4, gate="g1", occurred_at=at + timedelta(hours=1, minutes=1)),
            make_event(5, gate="g1", occurred_at=at + timedelta(hours=1, minutes=2), kind="alarm"),
            make_event(6, site="s2", gate="g9", occurred_at=at + timedelta(minutes=1)),
        ]
    )
    return log


def test_events_filter_by_site_time_gate_and_kind(traffic: EventLog) -> None:
    ids = [e.event_id[-1] for e in traffic.events(site_id="s1")]
    assert ids == ["5", "4", "3", "2", "1"]  # newest first
    window = traffic.events(since=START + timedelta(minutes=50), until=START + timedelta(hours=1))
    assert [e.event_id[-1] for e in window] == ["3", "2"]  # since inclusive, until exclusive
    assert [e.event_id[-1] for e in traffic.events(gate_id="g1", kind="access")] == ["4", "2", "1"]
    assert [e.event_id[-1] for e in traffic.events(limit=2, newest_first=False)] == ["6", "1"]


def test_count_uses_the_same_filters(traffic: EventLog) -> None:
    assert traffic.count() == 6
    assert traffic.count(site_id="s1", gate_id="g1") == 4
    assert traffic.count(site_id="s1", outcome="denied") == 1
    assert traffic.count(since=START + timedelta(hours=1)) == 2


def test_hourly_counts_aggregate_by_gate_hour_and_outcome(traffic: EventLog) -> None:
    rows = traffic.hourly_counts("s1", START, START + timedelta(hours=2))
    eight, nine = START, START + timedelta(hours=1)
    assert rows == [
        HourlyCount("g1", eight, "denied", 1),
        HourlyCount("g1", eight, "granted", 1),
        HourlyCount("g2", eight, "granted", 1),
        HourlyCount("g1", nine, "granted", 1),  # the alarm at 09:02 is not an access event
    ]
    assert all(r.hour.tzinfo == UTC for r in rows)
    everything = traffic.hourly_counts("s1", START, START + timedelta(hours=2), kind=None)
    assert sum(r.n for r in everything) == 5


def test_hourly_counts_carry_no_person_level_field(traffic: EventLog) -> None:
    assert HourlyCount._fields == ("gate_id", "hour", "outcome", "n")


def test_a_subject_can_export_their_own_events_only(traffic: EventLog) -> None:
    mine = traffic.events_for_subject("pseudo-b")
    assert [(e.event_id, e.subject) for e in mine] == [("evt-s1-000003", "pseudo-b")]
    assert len(traffic.events_for_subject("pseudonym-a")) == 5
    assert traffic.events_for_subject("nobody") == []


@pytest.mark.parametrize("limit", [0, -1, 10_001])
def test_an_unreasonable_limit_is_invalid_input(traffic: EventLog, limit: int) -> None:
    with pytest.raises(InvalidInput, match="limit must be between"):
        traffic.events(limit=limit)


def test_naive_datetimes_in_filters_are_utc(traffic: EventLog) -> None:
    naive = datetime(2026, 3, 1, 9, 0)
    assert traffic.count(site_id="s1", since=naive) == 2
