"""Simulated gate hardware: the only fakes in Doorward, standing where devices would be."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["RelayAction", "SimulatedInput", "SimulatedPassageCounter", "SimulatedRelay"]


@dataclass(frozen=True, slots=True)
class RelayAction:
    action: str  # "pulse", "hold_open" or "release_hold"
    at: float  # time.monotonic()
    seconds: float = 0.0


class SimulatedRelay:
    """Records every command; ``is_open`` says whether the strike is released right now."""

    def __init__(self) -> None:
        self.actions: list[RelayAction] = []
        self._held = False
        self._open_until = 0.0
        self._lock = threading.Lock()
        self.opened = threading.Event()  # set on every release, for tests to wait on

    def pulse(self, seconds: float) -> None:
        now = time.monotonic()
        with self._lock:
            self.actions.append(RelayAction("pulse", now, seconds))
            self._open_until = max(self._open_until, now + seconds)
        self.opened.set()

    def hold_open(self) -> None:
        with self._lock:
            self.actions.append(RelayAction("hold_open", time.monotonic()))
            self._held = True
        self.opened.set()

    def release_hold(self) -> None:
        with self._lock:
            self.actions.append(RelayAction("release_hold", time.monotonic()))
            self._held = False

    @property
    def is_open(self) -> bool:
        with self._lock:
            return self._held or time.monotonic() < self._open_until

    def count(self, action: str) -> int:
        with self._lock:
            return sum(1 for a in self.actions if a.action == action)


class SimulatedInput:
    """A door contact, request-to-exit button or fire input that a test or the demo sets."""

    def __init__(self, active: bool = False) -> None:
        self._active = active
        self._callbacks: list[Callable[[bool], None]] = []

    @property
    def active(self) -> bool:
        return self._active

    def subscribe(self, callback: Callable[[bool], None]) -> None:
        self._callbacks.append(callback)

    def set(self, active: bool) -> None:
        changed = active != self._active
        self._active = active
        if changed:
            for callback in list(self._callbacks):
                callback(active)


class SimulatedPassageCounter:
    """A beam counter: ``pass_through(n)`` reports ``n`` people crossing."""

    def __init__(self) -> None:
        self._callbacks: list[Callable[[], None]] = []

    def subscribe(self, callback: Callable[[], None]) -> None:
        self._callbacks.append(callback)

    def pass_through(self, people: int = 1) -> None:
        for _ in range(people):
            for callback in list(self._callbacks):
                callback()
