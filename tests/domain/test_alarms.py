"""Door forced, held open and tailgating: gate ids and counts, never a person."""

from __future__ import annotations

from datetime import timedelta

from doorward.domain.alarms import AlarmKind, DoorMonitor, TailgateCounter
from doorward.domain.model import Gate, GateKind

from .conftest import NOW

DOOR = Gate("d1", "site-1", "Lobby door", held_open_seconds=30)
TURNSTILE = Gate("t1", "site-1", "Turnstile", kind=GateKind.TURNSTILE, tailgate_window_seconds=5)


def s(seconds: float) -> timedelta:
    return timedelta(seconds=seconds)


def test_opening_after_a_grant_is_quiet_and_without_one_is_forced() -> None:
    door = DoorMonitor(DOOR, unlock_seconds=5)
    door.grant(NOW)
    assert door.contact_opened(NOW + s(2)) == []
    assert door.contact_closed(NOW + s(4)) == []
    # The grant was used by that opening: the next one is forced.
    (alarm,) = door.contact_opened(NOW + s(6))
    assert alarm.kind is AlarmKind.DOOR_FORCED and alarm.gate_id == "d1"
    assert alarm.at == NOW + s(6)


def test_grant_expires_after_the_unlock_time() -> None:
    door = DoorMonitor(DOOR, unlock_seconds=5)
    door.grant(NOW)
    assert door.contact_opened(NOW + s(5)) == []
    door.contact_closed(NOW + s(6))
    door.grant(NOW + s(10))
    assert [a.kind for a in door.contact_opened(NOW + s(15.5))] == [AlarmKind.DOOR_FORCED]


def test_request_to_exit_authorizes_an_opening() -> None:
    door = DoorMonitor(DOOR)
    door.request_to_exit(NOW)
    assert door.contact_opened(NOW + s(1)) == []


def test_contact_bounce_is_not_a_second_opening() -> None:
    door = DoorMonitor(DOOR)
    door.grant(NOW)
    assert door.contact_opened(NOW) == [] and door.contact_opened(NOW + s(0.1)) == []
    assert door.is_open


def test_held_open_fires_once_after_the_limit() -> None:
    door = DoorMonitor(DOOR)
    door.grant(NOW)
    door.contact_opened(NOW)
    assert door.tick(NOW + s(30)) == []
    (alarm,) = door.tick(NOW + s(31))
    assert alarm.kind is AlarmKind.HELD_OPEN and alarm.detail == {
        "open_seconds": 31,
        "limit_seconds": 30,
    }
    assert door.tick(NOW + s(60)) == []
    assert door.contact_closed(NOW + s(61)) == [] and not door.is_open


def test_held_open_is_noticed_on_close_without_a_tick() -> None:
    door = DoorMonitor(DOOR)
    door.grant(NOW)
    door.contact_opened(NOW)
    assert [a.kind for a in door.contact_closed(NOW + s(45))] == [AlarmKind.HELD_OPEN]


def test_each_grant_covers_one_passage() -> None:
    counter = TailgateCounter(TURNSTILE)
    counter.grant(NOW)
    assert counter.passage(NOW + s(1)) == []
    (alarm,) = counter.passage(NOW + s(2))
    assert alarm.kind is AlarmKind.TAILGATING and alarm.gate_id == "t1"
    assert alarm.detail == {"passages": 2, "grants": 1, "window_seconds": 5}


def test_two_grants_two_passages_is_fine() -> None:
    counter = TailgateCounter(TURNSTILE)
    counter.grant(NOW)
    counter.grant(NOW + s(1))
    assert counter.passage(NOW + s(2)) == [] and counter.passage(NOW + s(3)) == []


def test_a_grant_older_than_the_window_covers_nothing() -> None:
    counter = TailgateCounter(TURNSTILE)
    counter.grant(NOW)
    assert counter.passage(NOW + s(5)) == []
    counter.grant(NOW + s(10))
    alarms = counter.passage(NOW + s(15.5))
    assert [a.detail["grants"] for a in alarms] == [0]


def test_alarms_carry_no_person_data() -> None:
    counter = TailgateCounter(TURNSTILE)
    (alarm,) = counter.passage(NOW)
    assert set(alarm.__slots__) == {"kind", "gate_id", "at", "detail"}
    assert set(alarm.detail) <= {"passages", "grants", "window_seconds"}
