"""A fleet of simulated edges over a real MQTT broker, many logical edges per process.

Each logical edge is a gate with its own durable :class:`~doorward.edge.outbox.Outbox` file,
its own topics (``doorward/<site>/<gate>/...``) and the edge's delivery rule: an event leaves
the outbox only when the hub's ack names it; with nothing acked within ``ack_timeout`` the
same events are sent again (the hub ingests by event id).

Why not one :class:`~doorward.edge.uplink.Uplink` and one MQTT connection per edge: on two
cores, a thousand paho network threads and a thousand uplink threads cost more than the
traffic. So one process hosts a few hundred edges behind ONE broker connection, and a few
"shard" threads each drive a slice of them. The outbox writes stay one SQLite file per edge
with ``synchronous=FULL``; the shards exist so that those fsyncs overlap.

A process is driven by :func:`run_fleet_process` (a ``multiprocessing`` target) and talks to
its parent over a pipe: ``("ready",)``, then progress, then ``("result", FleetResult)``.
"""

from __future__ import annotations

import heapq
import logging
import queue
import random
import secrets
import ssl
import sys
import threading
import time
from array import array
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from pydantic import ValidationError

from doorward.edge.outbox import Outbox
from doorward.sim.fleet_traffic import FleetLayout, GatePlace, day_rate_factor, draw_event
from doorward.transport.messages import EventBatch, EventMessage, IngestAck, SnapshotMessage
from doorward.transport.mqtt import MqttTarget, parse_mqtt_url, topic

__all__ = [
    "FleetProcessConfig", "FleetResult", "close_mqtt_client", "mqtt_client", "run_fleet_process",
]

log = logging.getLogger(__name__)
QOS = 1
_SCAN_SECONDS = 0.25


def mqtt_client(target: MqttTarget, name: str, ca_file: str | None = None) -> paho.Client:
    """A paho client that may have many QoS 1 messages in flight (one per edge, at least)."""
    client = paho.Client(
        CallbackAPIVersion.VERSION2, client_id=f"{name}-{secrets.token_hex(4)}", clean_session=True
    )
    if target.username:
        client.username_pw_set(target.username, target.password)
    if target.tls:
        client.tls_set(ca_certs=ca_file, tls_version=ssl.PROTOCOL_TLS_CLIENT)
    client.max_inflight_messages_set(2000)
    client.max_queued_messages_set(0)
    client.reconnect_delay_set(1, 30)
    return client


def close_mqtt_client(client: paho.Client) -> None:
    """Disconnect, stop the network thread, and close paho's sockets now, not in __del__
    (which a reference cycle can postpone past the end of a test or the interpreter)."""
    client.disconnect()
    client.loop_stop()
    reset = getattr(client, "_reset_sockets", None)
    if callable(reset):
        reset()


@dataclass(frozen=True)
class FleetProcessConfig:
    mqtt_url: str
    layout: FleetLayout
    edge_indexes: tuple[int, ...]
    outbox_dir: str
    rate_per_edge: float = 1.0
    duration_seconds: float = 60.0
    #: "flat": the same rate all run; "day": a day compressed into the run, with peaks.
    profile: str = "flat"
    shards: int = 16
    batch_size: int = 200
    ack_timeout: float = 5.0
    drain_seconds: float = 60.0
    seed: int = 1
    ca_file: str | None = None


@dataclass
class FleetResult:
    edges: int = 0
    generated: dict[str, int] = field(default_factory=dict)  # gate id -> events recorded
    acked: int = 0
    resends: int = 0
    duplicate_acks: int = 0
    left_in_outboxes: int = 0
    #: Seconds from an event's recording at the edge to its ack arriving there.
    latencies: array[float] = field(default_factory=lambda: array("d"))
    #: Seconds each Outbox.append took (the fsync an edge does before anything else).
    append_seconds: array[float] = field(default_factory=lambda: array("d"))
    #: Seconds from recording to the first publish of an event (waiting behind a batch).
    publish_wait: array[float] = field(default_factory=lambda: array("d"))
    #: gate id -> {credential id: wall time the edge applied its revocation}
    revocations_applied: dict[str, dict[str, float]] = field(default_factory=dict)
    snapshots_applied: int = 0


#: (channel, edge, payload, wall time it arrived)
_Inbound = tuple[str, "_Edge", bytes, float]


class _Edge:
    __slots__ = (
        "acked", "credentials", "generated", "inflight", "outbox", "place", "recorded_at",
        "revocations_applied", "revoked", "sent_at", "shard", "unsent_since",
    )

    def __init__(self, place: GatePlace, outbox: Outbox, layout: FleetLayout, shard: int) -> None:
        self.place = place
        self.outbox = outbox
        self.shard = shard
        self.credentials = layout.credentials(place.site_id)
        self.revoked: set[str] = set()
        self.inflight: set[str] = set()
        self.sent_at = 0.0
        self.recorded_at: dict[str, float] = {}
        self.unsent_since: dict[str, float] = {}  # never published yet
        self.generated = 0
        self.acked = 0
        self.revocations_applied: dict[str, float] = {}

    @property
    def unacked(self) -> int:
        return self.generated - self.acked


class FleetProcess:
    """The edges of one process, one broker connection, ``shards`` driving threads."""

    def __init__(self, config: FleetProcessConfig) -> None:
        self.config = config
        self.result = FleetResult(edges=len(config.edge_indexes))
        self._target = parse_mqtt_url(config.mqtt_url)
        self._client = mqtt_client(self._target, "doorward-fleet", config.ca_file)
        self._client.on_connect = self._on_connect
        self._client.on_message = self._on_message
        self._connected = threading.Event()
        self._edges: dict[tuple[str, str], _Edge] = {}
        self._inboxes = [queue.Queue[_Inbound]() for _ in range(config.shards)]
        self._lock = threading.Lock()  # guards the result's shared counters
        folder = Path(config.outbox_dir)
        for n, index in enumerate(config.edge_indexes):
            place = config.layout.gate(index)
            outbox = Outbox(folder / f"{place.gate_id}.sqlite3")
            self._edges[(place.site_id, place.gate_id)] = _Edge(
                place, outbox, config.layout, n % config.shards
            )

    # broker -----------------------------------------------------------------------------
    def connect(self, timeout: float = 30.0) -> bool:
        self._client.connect_async(self._target.host, self._target.port, keepalive=30)
        self._client.loop_start()
        return self._connected.wait(timeout)

    def close(self) -> None:
        close_mqtt_client(self._client)
        for edge in self._edges.values():
            edge.outbox.close()

    def _on_connect(
        self, client: paho.Client, _u: object, _f: object, reason: Any, _p: object
    ) -> None:
        if getattr(reason, "is_failure", False):
            log.warning("the broker refused the fleet process: %s", reason)
            return
        wanted = [
            (topic(site, gate, channel), QOS)
            for site, gate in self._edges
            for channel in ("acks", "snapshot")
        ]
        for start in range(0, len(wanted), 500):
            client.subscribe(wanted[start : start + 500])
        # What was in flight when a connection dropped is resent after ack_timeout.
        self._connected.set()

    def _on_message(self, _c: object, _u: object, message: paho.MQTTMessage) -> None:
        arrived = time.time()
        parts = message.topic.split("/")
        edge = self._edges.get((parts[1], parts[2])) if len(parts) == 4 else None
        if edge is not None:
            self._inboxes[edge.shard].put((parts[3], edge, bytes(message.payload), arrived))

    # the run ----------------------------------------------------------------------------
    def run(self, start_at: float) -> FleetResult:
        """Record traffic from ``start_at`` for the configured duration, then drain."""
        threads = [
            threading.Thread(target=self._shard_loop, args=(n, start_at), name=f"fleet-shard-{n}")
            for n in range(self.config.shards)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.result.left_in_outboxes = sum(e.outbox.depth() for e in self._edges.values())
        for edge in self._edges.values():
            self.result.generated[edge.place.gate_id] = edge.generated
            if edge.revocations_applied:
                self.result.revocations_applied[edge.place.gate_id] = edge.revocations_applied
        return self.result

    def progress(self) -> tuple[int, int]:
        edges = self._edges.values()
        return sum(e.generated for e in edges), sum(e.acked for e in edges)

    def _shard_loop(self, shard: int, start_at: float) -> None:
        config = self.config
        rng = random.Random(f"{config.seed}-{shard}-{config.edge_indexes[:1]}")
        edges = [e for e in self._edges.values() if e.shard == shard]
        end_at = start_at + config.duration_seconds
        drain_until = end_at + config.drain_seconds
        # Spread first events over one mean interval, so edges do not fire in step.
        due = [(start_at + rng.expovariate(config.rate_per_edge), n) for n in range(len(edges))]
        heapq.heapify(due)
        inbox = self._inboxes[shard]
        next_scan = 0.0
        while True:
            now = time.time()
            while due and due[0][0] <= now and now < end_at:
                _, n = heapq.heappop(due)
                self._record(edges[n], rng, now)
                heapq.heappush(due, (now + self._interval(rng, now, start_at), n))
            if now >= next_scan:
                self._scan(edges, now)
                next_scan = now + _SCAN_SECONDS
            if now >= end_at and (now >= drain_until or all(e.unacked == 0 for e in edges)):
                return
            wake = min(next_scan, due[0][0] if due and now < end_at else next_scan)
            try:
                item = inbox.get(timeout=max(0.0, wake - time.time()))
            except queue.Empty:
                continue
            self._handle(item)
            while True:  # everything else that is queued, before recording more
                try:
                    self._handle(inbox.get_nowait())
                except queue.Empty:
                    break

    def _interval(self, rng: random.Random, now: float, start_at: float) -> float:
        rate = self.config.rate_per_edge
        if self.config.profile == "day":
            elapsed = (now - start_at) / self.config.duration_seconds
            rate *= max(day_rate_factor(elapsed), 0.05)
        return rng.expovariate(rate)

    def _record(self, edge: _Edge, rng: random.Random, now: float) -> None:
        fields = draw_event(rng, edge.credentials, edge.revoked, datetime.fromtimestamp(now, UTC))
        event = EventMessage(
            event_id=secrets.token_hex(16),
            site_id=edge.place.site_id,
            gate_id=edge.place.gate_id,
            edge_seq=0,
            **fields,  # type: ignore[arg-type]
        )
        edge.outbox.append(event)  # durable before anything else happens
        self.result.append_seconds.append(time.time() - now)
        edge.recorded_at[event.event_id] = edge.unsent_since[event.event_id] = now
        edge.generated += 1
        if not edge.inflight:
            self._forward(edge, now)

    def _forward(self, edge: _Edge, now: float) -> None:
        if not self._connected.is_set():
            return
        events = edge.outbox.pending(self.config.batch_size)
        if not events:
            return
        edge.inflight = {e.event_id for e in events}
        edge.sent_at = now = time.time()
        firsts = [edge.unsent_since.pop(i) for i in edge.inflight if i in edge.unsent_since]
        self.result.publish_wait.extend([now - t for t in firsts])
        batch = EventBatch(edge_id=edge.place.gate_id, events=events)
        name = topic(edge.place.site_id, edge.place.gate_id, "events")
        info = self._client.publish(name, batch.model_dump_json(), qos=QOS)
        if info.rc != paho.MQTT_ERR_SUCCESS:
            edge.inflight = set()  # not sent: the next scan tries again

    def _scan(self, edges: list[_Edge], now: float) -> None:
        """Resend what was not acked in time; send what waits behind nothing."""
        for edge in edges:
            if edge.inflight and now - edge.sent_at > self.config.ack_timeout:
                with self._lock:
                    self.result.resends += 1
                edge.inflight = set()
            if not edge.inflight and edge.unacked > 0:
                self._forward(edge, now)

    def _handle(self, item: _Inbound) -> None:
        channel, edge, payload, arrived = item
        try:
            if channel == "acks":
                self._on_ack(edge, IngestAck.model_validate_json(payload), arrived)
            elif channel == "snapshot":
                self._on_snapshot(edge, SnapshotMessage.model_validate_json(payload))
        except ValidationError as exc:
            log.warning("dropped a malformed %s message: %s", channel, exc.errors()[:1])

    def _on_ack(self, edge: _Edge, ack: IngestAck, arrived: float) -> None:
        ids = [*ack.accepted, *ack.duplicates]
        deleted = edge.outbox.acknowledge(ids)
        edge.acked += deleted
        latencies = []
        for event_id in ids:
            recorded = edge.recorded_at.pop(event_id, None)
            if recorded is not None:  # the first ack of an event; resends ack it again
                latencies.append(arrived - recorded)
        with self._lock:
            self.result.acked += deleted
            self.result.duplicate_acks += len(ack.duplicates)
            self.result.latencies.extend(latencies)
        edge.inflight.difference_update(ids)
        if not edge.inflight:
            self._forward(edge, time.time())

    def _on_snapshot(self, edge: _Edge, snapshot: SnapshotMessage) -> None:
        if snapshot.site_id != edge.place.site_id:
            return
        applied = time.time()
        # Revoked, or no longer at this gate at all: either way the gate now denies it.
        gone = [c.id for c in snapshot.credentials if c.revoked]
        for credential_id in [*gone, *snapshot.removed_credentials]:
            if credential_id not in edge.revoked:
                edge.revoked.add(credential_id)
                edge.revocations_applied[credential_id] = applied
        with self._lock:
            self.result.snapshots_applied += 1


def run_fleet_process(config: FleetProcessConfig, conn: Connection) -> None:
    """The body of one fleet process: connect, say ready, wait for "go", run, report."""
    logging.basicConfig(level=logging.WARNING)
    # Many threads share one GIL here; a shorter switch interval lets paho's network thread
    # stamp an ack's arrival without waiting out a shard's 5 ms slice.
    sys.setswitchinterval(0.001)
    fleet = FleetProcess(config)
    try:
        if not fleet.connect():
            conn.send(("error", f"cannot reach the MQTT broker at {config.mqtt_url}"))
            return
        conn.send(("ready",))
        message = conn.recv()
        if message[0] != "go":
            return
        start_at = float(message[1])
        done = threading.Event()

        def report_progress() -> None:
            while not done.wait(1.0):
                conn.send(("progress", *fleet.progress()))

        reporter = threading.Thread(target=report_progress, name="fleet-progress", daemon=True)
        reporter.start()
        result = fleet.run(start_at)
        done.set()
        reporter.join()
        conn.send(("result", result))
    finally:
        fleet.close()
        conn.close()
