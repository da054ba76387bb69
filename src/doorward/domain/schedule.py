"""Weekly access schedules, evaluated in the schedule's own timezone.

Rules:

- A window opens on ``weekday`` (0 = Monday) at ``start_minute`` (inclusive) and closes at
  ``end_minute`` (exclusive), in local wall-clock time of ``schedule.timezone``.
- A window may cross midnight: when ``end_minute <= start_minute`` it runs from
  ``start_minute`` to 24:00 on ``weekday`` and on from 00:00 to ``end_minute`` the next day.
  ``end_minute == start_minute`` is therefore a full 24 hours.
- A holiday closes its whole local calendar day, including the after-midnight tail of a
  window that began the evening before.
- Around DST changes the local wall clock decides: a window 02:00-03:00 is skipped on the
  spring-forward night and the repeated hour counts twice in autumn.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from doorward.domain.model import Schedule, WeeklyWindow
from doorward.errors import InvalidInput

__all__ = ["MINUTES_PER_DAY", "is_open", "validate_schedule"]

MINUTES_PER_DAY = 24 * 60


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidInput(
            f"unknown timezone {name!r}",
            hint="use an IANA name such as 'Europe/Berlin' or 'UTC'",
        ) from exc


def validate_schedule(schedule: Schedule) -> None:
    """Raise InvalidInput when a window or the timezone is out of range."""
    _zone(schedule.timezone)
    for window in schedule.windows:
        _check_window(schedule.id, window)


def _check_window(schedule_id: str, window: WeeklyWindow) -> None:
    if not 0 <= window.weekday <= 6:
        raise InvalidInput(
            f"schedule {schedule_id}: weekday {window.weekday} is not 0-6",
            hint="0 is Monday, 6 is Sunday",
        )
    if not 0 <= window.start_minute < MINUTES_PER_DAY:
        raise InvalidInput(
            f"schedule {schedule_id}: start minute {window.start_minute} is not 0-1439",
            hint="give minutes after local midnight",
        )
    if not 0 < window.end_minute <= MINUTES_PER_DAY:
        raise InvalidInput(
            f"schedule {schedule_id}: end minute {window.end_minute} is not 1-1440",
            hint="1440 means midnight at the end of the day",
        )


def is_open(schedule: Schedule, now: datetime) -> bool:
    """Whether ``schedule`` lets people through at ``now`` (an aware datetime)."""
    if now.tzinfo is None:
        raise InvalidInput("the time must be timezone-aware", hint="pass datetime.now(UTC)")
    local = now.astimezone(_zone(schedule.timezone))
    if local.date() in schedule.holidays:
        return False
    weekday = local.weekday()
    yesterday = (weekday - 1) % 7
    minute = local.hour * 60 + local.minute
    for window in schedule.windows:
        start, end = window.start_minute, window.end_minute
        if end > start:
            if window.weekday == weekday and start <= minute < end:
                return True
        elif window.weekday == weekday:
            if minute >= start:
                return True
        elif window.weekday == yesterday and minute < end:
            return True
    return False
