"""Weekly schedules across timezones, midnight, DST and holidays."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from doorward.domain.model import Schedule, WeeklyWindow
from doorward.domain.schedule import is_open, validate_schedule
from doorward.errors import InvalidInput

MON, TUE, WED, FRI, SAT = 0, 1, 2, 4, 5


def hm(hours: int, minutes: int = 0) -> int:
    return hours * 60 + minutes


def test_window_start_is_inclusive_end_exclusive() -> None:
    office = Schedule("s", (WeeklyWindow(WED, hm(8), hm(18)),))
    assert not is_open(office, datetime(2026, 3, 4, 7, 59, tzinfo=UTC))
    assert is_open(office, datetime(2026, 3, 4, 8, 0, tzinfo=UTC))
    assert is_open(office, datetime(2026, 3, 4, 17, 59, 59, tzinfo=UTC))
    assert not is_open(office, datetime(2026, 3, 4, 18, 0, tzinfo=UTC))
    assert not is_open(office, datetime(2026, 3, 5, 12, 0, tzinfo=UTC))  # Thursday


def test_windows_are_local_time_in_the_schedules_zone() -> None:
    # 08:00-18:00 in Sao Paulo (UTC-3) is 11:00-21:00 UTC.
    sao_paulo = Schedule("s", (WeeklyWindow(WED, hm(8), hm(18)),), timezone="America/Sao_Paulo")
    assert not is_open(sao_paulo, datetime(2026, 3, 4, 10, 30, tzinfo=UTC))
    assert is_open(sao_paulo, datetime(2026, 3, 4, 20, 30, tzinfo=UTC))
    # Tokyo (UTC+9): Wednesday 08:00 local is Tuesday 23:00 UTC.
    tokyo = Schedule("s", (WeeklyWindow(WED, hm(8), hm(18)),), timezone="Asia/Tokyo")
    assert is_open(tokyo, datetime(2026, 3, 3, 23, 0, tzinfo=UTC))
    assert not is_open(tokyo, datetime(2026, 3, 4, 10, 0, tzinfo=UTC))


def test_window_crossing_midnight_runs_into_the_next_day() -> None:
    night = Schedule("s", (WeeklyWindow(FRI, hm(22), hm(6)),))
    assert is_open(night, datetime(2026, 3, 6, 23, 0, tzinfo=UTC))  # Friday night
    assert is_open(night, datetime(2026, 3, 7, 5, 59, tzinfo=UTC))  # Saturday early
    assert not is_open(night, datetime(2026, 3, 7, 6, 0, tzinfo=UTC))
    assert not is_open(night, datetime(2026, 3, 6, 5, 0, tzinfo=UTC))  # Friday early: Thu's tail
    assert not is_open(night, datetime(2026, 3, 6, 21, 59, tzinfo=UTC))


def test_sunday_night_window_wraps_to_monday() -> None:
    sunday_night = Schedule("s", (WeeklyWindow(6, hm(23), hm(1)),))
    assert is_open(sunday_night, datetime(2026, 3, 9, 0, 30, tzinfo=UTC))  # Monday 00:30


def test_equal_start_and_end_is_a_full_day_from_start() -> None:
    day = Schedule("s", (WeeklyWindow(MON, hm(6), hm(6)),))
    assert is_open(day, datetime(2026, 3, 2, 6, 0, tzinfo=UTC))
    assert is_open(day, datetime(2026, 3, 3, 5, 59, tzinfo=UTC))
    assert not is_open(day, datetime(2026, 3, 3, 6, 0, tzinfo=UTC))


def test_holiday_closes_the_local_day_including_a_crossing_tail() -> None:
    night = Schedule(
        "s",
        (WeeklyWindow(FRI, hm(22), hm(6)), WeeklyWindow(SAT, hm(8), hm(12))),
        holidays=frozenset({date(2026, 3, 7)}),
    )
    assert is_open(night, datetime(2026, 3, 6, 23, 0, tzinfo=UTC))
    assert not is_open(night, datetime(2026, 3, 7, 1, 0, tzinfo=UTC))
    assert not is_open(night, datetime(2026, 3, 7, 9, 0, tzinfo=UTC))


def test_holiday_is_the_local_date_not_the_utc_date() -> None:
    # 2026-12-24 23:30 in New York is already Christmas Day in UTC.
    weekdays = tuple(WeeklyWindow(d, 0, 1440) for d in range(7))
    ny = Schedule(
        "s", weekdays, holidays=frozenset({date(2026, 12, 25)}), timezone="America/New_York"
    )
    assert is_open(ny, datetime(2026, 12, 25, 4, 30, tzinfo=UTC))
    assert not is_open(ny, datetime(2026, 12, 25, 5, 30, tzinfo=UTC))


def test_dst_spring_forward_follows_the_wall_clock() -> None:
    # Berlin jumps 02:00 -> 03:00 on Sunday 2026-03-29; 08:00 local is 06:00 UTC afterwards.
    berlin = Schedule("s", (WeeklyWindow(6, hm(8), hm(9)),), timezone="Europe/Berlin")
    assert is_open(berlin, datetime(2026, 3, 29, 6, 30, tzinfo=UTC))
    assert not is_open(berlin, datetime(2026, 3, 29, 7, 30, tzinfo=UTC))
    assert is_open(berlin, datetime(2026, 3, 22, 7, 30, tzinfo=UTC))  # a week before: UTC+1


def test_naive_time_and_bad_schedules_are_refused() -> None:
    with pytest.raises(InvalidInput, match="timezone-aware"):
        is_open(Schedule("s", ()), datetime(2026, 3, 4, 12, 0))
    with pytest.raises(InvalidInput, match="unknown timezone"):
        validate_schedule(Schedule("s", (), timezone="Mars/Olympus"))
    with pytest.raises(InvalidInput, match="weekday"):
        validate_schedule(Schedule("s", (WeeklyWindow(7, 0, 60),)))
    with pytest.raises(InvalidInput, match="end minute"):
        validate_schedule(Schedule("s", (WeeklyWindow(0, 0, 1441),)))


@given(
    st.integers(0, 6),
    st.integers(0, 1439),
    st.integers(1, 1440),
    st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
    ),
)
def test_a_window_and_its_weekly_complement_never_both_open(
    weekday: int, start: int, end: int, now: datetime
) -> None:
    window = Schedule("s", (WeeklyWindow(weekday, start, end),))
    minute_of_week = now.weekday() * 1440 + now.hour * 60 + now.minute
    length = (end - start) % 1440 or 1440
    expected = (minute_of_week - (weekday * 1440 + start)) % (7 * 1440) < length
    assert is_open(window, now) is expected
