"""Alarm rules as pure state machines: fed timestamped sensor events, they return alarms.

No clocks and no I/O: the edge passes ``now`` with every event and calls ``tick(now)``
periodically. Alarms name a gate and counts, never a person.

- :class:`DoorMonitor`: *door forced* when the contact opens without a grant or a
  request-to-exit in the last ``unlock_seconds``; *held open* once per opening when it stays
  open longer than ``gate.held_open_seconds``.
- :class:`TailgateCounter`: each grant lets one passage through within
  ``gate.tailgate_window_seconds``; a beam passage with no such grant left is *tailgating*.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from doorward.domain.model import Gate

__all__ = ["Alarm", "AlarmKind", "DoorMonitor", "TailgateCounter"]


class AlarmKind(StrEnum):
    DOOR_FORCED = "door_forced"
    HELD_OPEN = "held_open"
    TAILGATING = "tailgating"


@dataclass(frozen=True, slots=True)
class Alarm:
    kind: AlarmKind
    gate_id: str
    at: datetime
    detail: dict[str, int] = field(default_factory=dict)  # counts and seconds only


class DoorMonitor:
    """Watches one door's contact against its grants and request-to-exit button."""

    def __init__(self, gate: Gate, *, unlock_seconds: float = 5.0) -> None:
        self.gate = gate
        self._unlock = timedelta(seconds=unlock_seconds)
        self._held = timedelta(seconds=gate.held_open_seconds)
        self._authorized_until: datetime | None = None
        self._opened_at: datetime | None = None
        self._held_alarm_raised = False

    @property
    def is_open(self) -> bool:
        return self._opened_at is not None

    def grant(self, now: datetime) -> None:
        """A decision granted access: the door may open within ``unlock_seconds``."""
        self._authorized_until = now + self._unlock

    def request_to_exit(self, now: datetime) -> None:
        """The exit button was pressed: same as a grant for the contact."""
        self.grant(now)

    def contact_opened(self, now: datetime) -> list[Alarm]:
        if self._opened_at is not None:
            return []  # a repeated "open" from a bouncing contact is not a new opening
        self._opened_at = now
        self._held_alarm_raised = False
        authorized = self._authorized_until is not None and now <= self._authorized_until
        self._authorized_until = None  # one authorization, one opening
        if authorized:
            return []
        return [Alarm(AlarmKind.DOOR_FORCED, self.gate.id, now)]

    def contact_closed(self, now: datetime) -> list[Alarm]:
        alarms = self.tick(now)
        self._opened_at = None
        return alarms

    def tick(self, now: datetime) -> list[Alarm]:
        """Call periodically: raises *held open* once when the door stays open too long."""
        if self._opened_at is None or self._held_alarm_raised:
            return []
        open_for = now - self._opened_at
        if open_for <= self._held:
            return []
        self._held_alarm_raised = True
        detail = {
            "open_seconds": int(open_for.total_seconds()),
            "limit_seconds": self.gate.held_open_seconds,
        }
        return [Alarm(AlarmKind.HELD_OPEN, self.gate.id, now, detail)]


class TailgateCounter:
    """Compares beam passages with grants at one turnstile or door."""

    def __init__(self, gate: Gate) -> None:
        self.gate = gate
        self._window = timedelta(seconds=gate.tailgate_window_seconds)
        self._unused_grants: deque[datetime] = deque()
        self._recent_grants: deque[datetime] = deque()
        self._recent_passages: deque[datetime] = deque()

    def grant(self, now: datetime) -> None:
        self._unused_grants.append(now)
        self._recent_grants.append(now)

    def passage(self, now: datetime) -> list[Alarm]:
        """One person crossed the beam. Returns a tailgating alarm if no grant covers it."""
        self._expire(now)
        self._recent_passages.append(now)
        if self._unused_grants:
            self._unused_grants.popleft()
            return []
        detail = {
            "passages": len(self._recent_passages),
            "grants": len(self._recent_grants),
            "window_seconds": self.gate.tailgate_window_seconds,
        }
        return [Alarm(AlarmKind.TAILGATING, self.gate.id, now, detail)]

    def _expire(self, now: datetime) -> None:
        oldest = now - self._window
        for times in (self._unused_grants, self._recent_grants, self._recent_passages):
            while times and times[0] < oldest:
                times.popleft()
