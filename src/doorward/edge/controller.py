"""The edge controller: one daemon beside one gate, deciding offline.

For each presentation: reader input -> :class:`AccessRequest` -> ``decide()`` against the
local snapshot -> the event is committed to the outbox -> relay pulse and reader feedback.
The outbox commit comes first, so nothing the gate did is ever missing from the log.

Safety rules kept here:

- losing the hub or the broker never moves the relay; only a grant, a request-to-exit,
  the fire input or an explicit hub command does;
- the fire input holds the gate open at once (fail-safe egress) and is logged;
- alarms (door forced, held open, tailgating, reader offline) name the gate and counts,
  never a person.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Literal

from doorward.domain import model as m
from doorward.domain.alarms import DoorMonitor, TailgateCounter
from doorward.domain.decide import decide
from doorward.domain.memory import AccessMemory
from doorward.edge.config import EdgeConfig, GateHardware
from doorward.edge.face_check import EdgeFaceCheck, apply_face_step
from doorward.edge.outbox import Outbox
from doorward.edge.readers import Feedback, Reader, ReaderInput, to_access_request
from doorward.edge.sensors import GateSensors
from doorward.edge.snapshot_cache import ApplyResult, SnapshotCache
from doorward.edge.uplink import Uplink
from doorward.errors import DoorwardError
from doorward.transport.link import EdgeLink
from doorward.transport.messages import Command, EventMessage, Heartbeat, SnapshotMessage

__all__ = ["EdgeConfig", "EdgeController", "GateHardware", "Handled", "to_access_request"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Handled:
    decision: m.Decision
    event: EventMessage


class EdgeController(GateSensors):
    """Runs one gate. ``start()`` and ``stop()`` undo each other."""

    def __init__(
        self,
        config: EdgeConfig,
        readers: list[Reader],
        hardware: GateHardware,
        *,
        link: EdgeLink | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        face: EdgeFaceCheck | None = None,
    ) -> None:
        self.config = config
        self.edge_id = config.edge_id or config.gate_id
        self.readers = readers
        self.hardware = hardware
        self.clock = clock
        self._link = link
        self.face = face  # the 1:1 face step for decisions that need it (fails closed if None)
        self._lock = threading.RLock()  # one decision at a time: memory and edge_seq order
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._undo: list[Callable[[], None]] = []
        self._running = False
        self._subscribed = False
        self._lockdown = False
        self._fire = False
        self._reader_alarmed: dict[str, bool] = {}
        self._reader_seen: dict[str, float] = {}
        self.outbox: Outbox | None = None
        self.cache: SnapshotCache | None = None
        self.uplink: Uplink | None = None
        self.memory = AccessMemory(policy=config.policy)
        self._door: DoorMonitor | None = None
        self._tailgate: TailgateCounter | None = None

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> None:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> None:
        data = self.config.data_dir
        self.outbox = Outbox(data / "outbox.sqlite3")
        self._undo.append(self._close_outbox)
        self.cache = SnapshotCache(data / "snapshot.sqlite3")
        self._undo.append(self._close_cache)
        saved = self.cache.load_memory()
        if saved is not None:
            self.memory = AccessMemory.from_dict(saved)
        self._rebuild_monitors()
        hw = self.hardware
        if not self._subscribed:  # inputs have no unsubscribe; handlers check _running
            self._subscribed = True
            for source, handler in (
                (hw.door_contact, self._on_door_contact),
                (hw.exit_button, self._on_exit_button),
                (hw.fire_input, self._on_fire_input),
            ):
                if source is not None:
                    source.subscribe(handler)
            if hw.beam is not None:
                hw.beam.subscribe(self._on_passage)
        self._running = True
        self._undo.append(self._mark_stopped)
        for reader in self.readers:
            reader.start()
            self._undo.append(reader.stop)
            self._reader_seen[reader.reader_id] = time.monotonic()
            self._spawn(f"reader-{reader.reader_id}", _bind(self._read_loop, reader))
        self._spawn("edge-monitor", self._monitor_loop)
        if hw.fire_input is not None and hw.fire_input.active:
            self._on_fire_input(True)  # started during a fire: open at once
        if self._link is not None:
            self.uplink = Uplink(
                self._link,
                self.outbox,
                edge_id=self.edge_id,
                heartbeat=self.heartbeat,
                snapshot_version=lambda: self.cache.version if self.cache else 0,
                on_snapshot=self._apply_from_hub,
                on_command=self.apply_command,
                ack_timeout=self.config.ack_timeout_seconds,
                heartbeat_seconds=self.config.heartbeat_seconds,
            )
            self.uplink.start()
            self._undo.append(self.uplink.stop)
        self._record("system", outcome="edge_started", reason=f"snapshot v{self.snapshot_version}")

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(5)
        self._threads.clear()
        while self._undo:
            undo = self._undo.pop()
            try:
                undo()
            except Exception:  # keep undoing the rest
                log.exception("stopping the edge: %s failed", undo)
        self._stop.clear()

    def _mark_stopped(self) -> None:
        self._running = False

    def _close_outbox(self) -> None:
        outbox, self.outbox = self.outbox, None
        if outbox is not None:
            outbox.close()

    def _close_cache(self) -> None:
        cache, self.cache = self.cache, None
        if cache is not None:
            cache.close()

    def _spawn(self, name: str, target: Callable[[], None]) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    # -- state ----------------------------------------------------------------------------
    @property
    def snapshot_version(self) -> int:
        return self.cache.version if self.cache else 0

    @property
    def lockdown(self) -> bool:
        snap = self.cache.snapshot if self.cache else None
        return self._lockdown or bool(snap and snap.lockdown)

    @property
    def fire(self) -> bool:
        return self._fire

    def heartbeat(self) -> Heartbeat:
        return Heartbeat(
            edge_id=self.edge_id,
            gate_id=self.config.gate_id,
            sent_at=self.clock(),
            snapshot_version=self.snapshot_version,
            outbox_depth=self.outbox.depth() if self.outbox else 0,
            readers_online={r.reader_id: r.online for r in self.readers},
            door=_door_state(self.hardware),
            lockdown=self.lockdown,
            fire=self._fire,
        )

    # -- access decisions -----------------------------------------------------------------
    def handle_input(self, presented: ReaderInput) -> Handled:
        """Decide, commit the event, then drive the relay and the reader's feedback."""
        request = to_access_request(self.config.gate_id, presented)
        with self._lock:
            now = self.clock()
            snapshot = self.cache.snapshot if self.cache else None
            if snapshot is None:
                decision = m.Decision(
                    granted=False,
                    outcome=m.Outcome.UNKNOWN_CREDENTIAL,
                    reason="this gate has no snapshot from the hub yet",
                    gate_id=self.config.gate_id,
                    credential_kind=request.kind,
                )
            else:
                if self._lockdown and not snapshot.lockdown:
                    snapshot = replace(snapshot, lockdown=True)
                decision = decide(request, snapshot, now, self.memory)
                decision = apply_face_step(self.face, self.cache, decision, presented)
                self.memory.remember(request, decision, now)
                if _changes_memory(request, decision):
                    self._save_memory()
            event = self._record(
                "access",
                outcome=decision.outcome.value,
                reason=decision.reason,
                credential_kind=decision.credential_kind.value,
                subject=decision.subject,
                pass_id=decision.pass_id,
                alarm=decision.alarm,
                detail={"reader": presented.reader_id},
                at=now,
            )
            if decision.granted:
                if self._door is not None:
                    self._door.grant(now)
                if self._tailgate is not None:
                    self._tailgate.grant(now)
                self._drive(lambda: self.hardware.relay.pulse(self.config.pulse_seconds))
        reader = next((r for r in self.readers if r.reader_id == presented.reader_id), None)
        if reader is not None:
            signal = Feedback.GRANTED if decision.granted else Feedback.DENIED
            self._drive(lambda: reader.feedback(signal))
        return Handled(decision, event)

    def _read_loop(self, reader: Reader) -> None:
        while not self._stop.is_set():
            try:
                presented = reader.read(0.2)
                if presented is not None:
                    self.handle_input(presented)
            except DoorwardError as exc:
                log.error("reader %s: %s", reader.reader_id, exc)
            except Exception:  # a bug must not silence a gate's reader
                log.exception("reader %s loop", reader.reader_id)
                self._stop.wait(0.5)

    # -- hub messages ---------------------------------------------------------------------
    def apply_snapshot(self, message: SnapshotMessage) -> ApplyResult:
        if self.cache is None:
            return ApplyResult.STALE
        try:
            with self._lock:
                result = self.cache.apply(message)
                if result is ApplyResult.APPLIED:
                    self._rebuild_monitors()
        except DoorwardError as exc:
            self._record("system", outcome="snapshot_rejected", reason=exc.message)
            return ApplyResult.STALE
        if result is ApplyResult.NEEDS_RESYNC and self.uplink is not None:
            self.uplink.request_resync()
        return result

    def _apply_from_hub(self, message: SnapshotMessage) -> None:
        self.apply_snapshot(message)

    def apply_command(self, command: Command) -> None:
        if command.gate_id not in (None, self.config.gate_id):
            return
        name = command.command
        if name in ("lockdown", "release_lockdown"):
            self._lockdown = name == "lockdown"
            if self.uplink is not None:
                # The snapshot carries the site's lockdown too: fetch it now, so a release
                # is not overridden by a snapshot that still says "lockdown"; tell the hub.
                self.uplink.request_resync()
                self.uplink.beat_now()
        elif name == "manual_open":
            self._drive(lambda: self.hardware.relay.pulse(self.config.pulse_seconds))
            if self._door is not None:
                self._door.grant(self.clock())
        elif name == "fire":
            self._on_fire_input(True, source="hub")
            return
        elif name == "fire_clear":
            self._on_fire_input(False, source="hub")
            return
        elif name == "resync" and self.uplink is not None:
            self.uplink.request_resync()
        self._record("system", outcome=name, reason=command.reason)

    # -- helpers --------------------------------------------------------------------------
    def _record(self, kind: str, *, at: datetime | None = None, **fields: object) -> EventMessage:
        """Commit one event to the outbox (durably) and wake the uplink."""
        if self.outbox is None:
            raise DoorwardError("the edge is not started", hint="call start() first")
        event = EventMessage(
            event_id=secrets.token_hex(16),
            site_id=self.config.site_id,
            gate_id=self.config.gate_id,
            kind=kind,  # type: ignore[arg-type]
            occurred_at=at or self.clock(),
            edge_seq=0,
            **fields,  # type: ignore[arg-type]
        )
        with self._lock:
            stored = self.outbox.append(event)
        if self.uplink is not None:
            self.uplink.notify()
        return stored

    def _drive(self, action: Callable[[], None]) -> None:
        try:
            action()
        except DoorwardError as exc:
            log.error("gate hardware: %s", exc)
            self._record("system", outcome="device_error", reason=exc.message)

    def _save_memory(self) -> None:
        if self.cache is not None:
            self.cache.save_memory(self.memory.to_dict())


def _changes_memory(request: m.AccessRequest, decision: m.Decision) -> bool:
    keypad = request.kind is m.CredentialKind.PIN or bool(request.pass_code)
    if not decision.granted:
        return keypad
    return bool(
        decision.token_step is not None
        or decision.pass_id is not None
        or decision.antipassback_direction is not None
    )


def _door_state(hardware: GateHardware) -> Literal["open", "closed", "unknown"]:
    contact = hardware.door_contact
    if contact is None:
        return "unknown"
    return "open" if contact.active else "closed"


def _bind(loop: Callable[[Reader], None], reader: Reader) -> Callable[[], None]:
    return lambda: loop(reader)
