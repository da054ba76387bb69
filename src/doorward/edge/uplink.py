"""The uplink: forwards the outbox to the hub, sends heartbeats, keeps the snapshot fresh.

At-least-once: a batch stays in the outbox until the hub's ack names its events. If no ack
arrives within ``ack_timeout`` (lost publish, hub restart, broker failover), the same events
are sent again; the hub ingests by event id, so the resend is acknowledged as duplicates.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from doorward.edge.outbox import Outbox
from doorward.errors import DoorwardError
from doorward.transport.link import EdgeLink, LinkHandlers
from doorward.transport.messages import Command, EventBatch, Heartbeat, IngestAck, SnapshotMessage

__all__ = ["Uplink"]

log = logging.getLogger(__name__)


class Uplink:
    """One thread that drains the outbox through an :class:`EdgeLink`."""

    def __init__(
        self,
        link: EdgeLink,
        outbox: Outbox,
        *,
        edge_id: str,
        heartbeat: Callable[[], Heartbeat],
        snapshot_version: Callable[[], int],
        on_snapshot: Callable[[SnapshotMessage], None],
        on_command: Callable[[Command], None],
        batch_size: int = 500,
        ack_timeout: float = 5.0,
        heartbeat_seconds: float = 30.0,
        snapshot_poll_seconds: float = 10.0,
    ) -> None:
        self.link = link
        self.outbox = outbox
        self.edge_id = edge_id
        self.batch_size = batch_size
        self.ack_timeout = ack_timeout
        self.heartbeat_seconds = heartbeat_seconds
        self.snapshot_poll_seconds = snapshot_poll_seconds
        self.acked = 0
        self.resends = 0
        self._heartbeat = heartbeat
        self._version = snapshot_version
        self._on_snapshot = on_snapshot
        self._on_command = on_command
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._inflight: set[str] = set()
        self._sent_at = 0.0
        self._thread: threading.Thread | None = None
        self._resync = threading.Event()
        self._beat = threading.Event()

    def start(self) -> None:
        self._stop.clear()
        self.link.start(
            LinkHandlers(
                on_ack=self._on_ack,
                on_snapshot=self._on_snapshot,
                on_command=self._on_command,
                on_connected=self._on_connected,
            )
        )
        self._thread = threading.Thread(target=self._run, name="edge-uplink", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None
        self.link.stop()

    def notify(self) -> None:
        """An event was written: forward it now rather than at the next tick."""
        self._wake.set()

    def request_resync(self) -> None:
        """Ask the hub for a full snapshot at the next chance."""
        self._resync.set()
        self._wake.set()

    def beat_now(self) -> None:
        """Send a heartbeat at the next chance (the gate's lockdown or fire state changed)."""
        self._beat.set()
        self._wake.set()

    # handlers (the link's thread) -----------------------------------------------------
    def _on_ack(self, ack: IngestAck) -> None:
        ids = [*ack.accepted, *ack.duplicates]
        try:
            self.acked += self.outbox.acknowledge(ids)
        except DoorwardError:
            log.exception("cannot delete acknowledged events; they will be resent")
            return
        with self._lock:
            self._inflight.difference_update(ids)
            drained = not self._inflight
        if drained:
            self._wake.set()

    def _on_connected(self, connected: bool) -> None:
        with self._lock:
            self._inflight.clear()  # whatever was in flight is resent after a reconnect
        if connected:
            self._resync.set()  # tell the hub our version, so it can send what we missed
        self._wake.set()

    # the loop -------------------------------------------------------------------------
    def _run(self) -> None:
        next_heartbeat = 0.0
        next_poll = 0.0
        backoff = 1.0
        while not self._stop.is_set():
            self._wake.wait(0.5)
            self._wake.clear()
            if self._stop.is_set() or not self.link.connected:
                continue
            now = time.monotonic()
            try:
                if self._resync.is_set():
                    self._resync.clear()
                    if self.link.polls_snapshots:
                        self.link.request_snapshot(self._version())
                        next_poll = now + self.snapshot_poll_seconds
                    else:  # a pushing hub answers the version in our heartbeat
                        self.link.send_heartbeat(self._heartbeat())
                        next_heartbeat = now + self.heartbeat_seconds
                if self.link.polls_snapshots and now >= next_poll:
                    self.link.request_snapshot(self._version())
                    next_poll = now + self.snapshot_poll_seconds
                if now >= next_heartbeat or self._beat.is_set():
                    self._beat.clear()
                    self.link.send_heartbeat(self._heartbeat())
                    next_heartbeat = now + self.heartbeat_seconds
                self._forward(now)
                if self.link.polls_snapshots:  # a pushing transport delivers commands itself
                    self.link.poll_commands()
                backoff = 1.0
            except DoorwardError as exc:
                # One failure is often a blip (a hub restarting); warn once it repeats.
                level = logging.INFO if backoff == 1.0 else logging.WARNING
                log.log(level, "uplink: %s (retrying in %.0f s)", exc, backoff)
                self._resync.set()  # whatever we missed meanwhile
                self._stop.wait(backoff)  # the link is down; the hub is not hammered
                backoff = min(backoff * 2, 30.0)

    def _forward(self, now: float) -> None:
        with self._lock:
            waiting = bool(self._inflight) and now - self._sent_at < self.ack_timeout
            if waiting:
                return
            if self._inflight:
                self.resends += 1
        events = self.outbox.pending(self.batch_size)
        if not events:
            return
        with self._lock:
            self._inflight = {e.event_id for e in events}
            self._sent_at = now
        self.link.send_events(EventBatch(edge_id=self.edge_id, events=events))
