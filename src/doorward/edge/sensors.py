"""Gate sensors and monitors for the edge controller: fire input, door contact, exit button,
beam counter, reader health, and the alarm state machines they feed.

A mixin of :class:`doorward.edge.controller.EdgeController`, kept apart so each module stays
readable. Alarms name the gate and counts, never a person.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime

from doorward.domain.alarms import Alarm, DoorMonitor, TailgateCounter
from doorward.domain.memory import AccessMemory
from doorward.edge.config import EdgeConfig, GateHardware
from doorward.edge.readers import Reader
from doorward.edge.snapshot_cache import SnapshotCache
from doorward.edge.uplink import Uplink
from doorward.transport.messages import EventMessage

__all__ = ["GateSensors"]


class GateSensors:
    """Sensor handlers; the controller provides the state and ``_record``/``_drive``."""

    config: EdgeConfig
    hardware: GateHardware
    readers: list[Reader]
    clock: Callable[[], datetime]
    memory: AccessMemory
    cache: SnapshotCache | None
    uplink: Uplink | None
    _lock: threading.RLock
    _stop: threading.Event
    _running: bool
    _fire: bool
    _door: DoorMonitor | None
    _tailgate: TailgateCounter | None
    _reader_alarmed: dict[str, bool]
    _reader_seen: dict[str, float]

    def _record(self, kind: str, *, at: datetime | None = None, **fields: object) -> EventMessage:
        raise NotImplementedError

    def _drive(self, action: Callable[[], None]) -> None:
        raise NotImplementedError

    # -- sensors --------------------------------------------------------------------------
    def _on_fire_input(self, active: bool, source: str = "input") -> None:
        """``source`` is "input" (this gate's fire input) or "hub" (a fire elsewhere on the
        site, relayed): the hub relays only the first kind, so relays never echo."""
        if not self._running or active == self._fire:
            return
        self._fire = active
        detail = {"source": source}
        if active:
            # Life safety first: egress opens whatever the lockdown or the link says.
            self._drive(self.hardware.relay.hold_open)
            reason = "fire input" if source == "input" else "fire elsewhere on the site"
            self._record("alarm", alarm="fire", outcome="egress_opened", reason=reason,
                         detail=detail)
        else:
            self._drive(self.hardware.relay.release_hold)
            self._record("system", outcome="fire_cleared", reason="gate locked again",
                         detail=detail)
        if self.uplink is not None:
            self.uplink.beat_now()

    def _on_door_contact(self, is_open: bool) -> None:
        if not self._running:
            return
        now = self.clock()
        alarms: list[Alarm] = []
        with self._lock:
            door = self._door
            if door is not None:
                alarms = door.contact_opened(now) if is_open else door.contact_closed(now)
        self._record("door", outcome="opened" if is_open else "closed")
        self._raise(alarms)

    def _on_exit_button(self, pressed: bool) -> None:
        if not self._running or not pressed:
            return
        if self._door is not None:
            with self._lock:
                self._door.request_to_exit(self.clock())
        self._drive(lambda: self.hardware.relay.pulse(self.config.pulse_seconds))
        self._record("door", outcome="request_to_exit")

    def _on_passage(self) -> None:
        if not self._running or self._tailgate is None:
            return
        with self._lock:
            alarms = self._tailgate.passage(self.clock())
        self._raise(alarms)

    def _monitor_loop(self) -> None:
        last_prune = time.monotonic()
        while not self._stop.wait(0.25):
            now = self.clock()
            if self._door is not None:
                with self._lock:
                    alarms = self._door.tick(now)
                self._raise(alarms)
            self._watch_readers()
            if time.monotonic() - last_prune > 60:
                with self._lock:
                    self.memory.prune(now)
                last_prune = time.monotonic()

    def _watch_readers(self) -> None:
        threshold = self.config.reader_offline_alarm_seconds
        for reader in self.readers:
            rid = reader.reader_id
            if reader.online:
                self._reader_seen[rid] = time.monotonic()
                if self._reader_alarmed.pop(rid, False):
                    self._record("system", outcome="reader_online", detail={"reader": rid})
            elif not self._reader_alarmed.get(rid) and (
                time.monotonic() - self._reader_seen.get(rid, 0.0) > threshold
            ):
                self._reader_alarmed[rid] = True
                # Offline beyond the grace period: unplugged, cut, or a wrong secure-channel key.
                self._record(
                    "alarm",
                    alarm="reader_offline",
                    reason="reader not answering over the secure channel (possible tamper)",
                    detail={"reader": rid},
                )

    def _raise(self, alarms: list[Alarm]) -> None:
        for alarm in alarms:
            self._record(
                "alarm",
                alarm=alarm.kind.value,
                detail={k: str(v) for k, v in alarm.detail.items()},
                at=alarm.at,
            )

    def _rebuild_monitors(self) -> None:
        snap = self.cache.snapshot if self.cache else None
        gate = snap.gates.get(self.config.gate_id) if snap else None
        if gate is None:
            self._door = self._tailgate = None
        elif self._door is None or self._door.gate != gate:
            self._door, self._tailgate = DoorMonitor(gate), TailgateCounter(gate)
