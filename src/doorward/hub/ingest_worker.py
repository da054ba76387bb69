"""A hub ingest worker: one of several processes that share the edges' events through MQTT.

Each worker joins the broker's shared subscription ``$share/<group>/doorward/<site>/+/events``
so the broker hands every published batch to exactly one worker of the group; more workers
means more ingest capacity, on one machine or many, all writing to the same PostgreSQL.

Unlike :class:`doorward.transport.mqtt.HubMqttBridge`, which stores and acknowledges one
message at a time in paho's network thread, a worker queues what arrives and a writer thread
stores everything queued in ONE :meth:`EventLog.append` transaction (group commit): at low load
a batch is stored alone and at once, under load many edges' batches share a commit. The
per-site hash chain stays correct because ``append`` locks each site's chain head
(``FOR UPDATE``) for the length of the transaction. Acks go out only after the commit, one per
received message, to the gate it came from; an edge deletes events only when acked.

A message whose events name another site or gate than the topic it was published on is
dropped without an ack: with per-edge broker ACLs, the topic is the edge's identity.
"""

from __future__ import annotations

import logging
import queue
import secrets
import ssl
import threading
import time
from array import array
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from pydantic import ValidationError

from doorward.errors import DoorwardError, TransportError
from doorward.store.eventlog import EventLog
from doorward.transport.messages import EventBatch, IngestAck
from doorward.transport.mqtt import parse_mqtt_url, topic

__all__ = ["IngestStats", "IngestWorker", "IngestWorkerConfig"]

log = logging.getLogger(__name__)
QOS = 1


@dataclass(frozen=True, slots=True)
class IngestWorkerConfig:
    mqtt_url: str
    #: Workers with the same group split the events; another group gets its own copy.
    share_group: str = "hub"
    #: Site ids to ingest; ("+",) for every site on the broker.
    sites: tuple[str, ...] = ("+",)
    #: Most events stored in one transaction.
    max_batch_events: int = 2000
    #: Extra time to wait for more messages before a commit (0: commit what is queued).
    #: Fewer, larger commits: less CPU, and less waiting between workers for chain heads.
    linger_seconds: float = 0.02
    ca_file: str | None = None


_COUNTERS = ("messages", "commits", "accepted", "duplicates", "rejected_messages",
             "failed_messages")


@dataclass(slots=True)
class IngestStats:
    """Counters, and where a message's time in the worker goes (for the soak benchmark)."""

    messages: int = 0
    commits: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected_messages: int = 0
    failed_messages: int = 0
    #: Per message: seconds from arrival to the start of its commit.
    queue_wait: array[float] = field(default_factory=lambda: array("d"))
    #: Per commit: seconds in EventLog.append, and how many events it stored.
    commit_seconds: array[float] = field(default_factory=lambda: array("d"))
    commit_events: array[int] = field(default_factory=lambda: array("l"))

    def as_dict(self) -> dict[str, float | int | None]:
        out: dict[str, float | int | None] = {name: getattr(self, name) for name in _COUNTERS}
        for name, values, scale in (
            ("queue_wait_ms", self.queue_wait, 1000.0),
            ("commit_ms", self.commit_seconds, 1000.0),
            ("events_per_commit", self.commit_events, 1.0),
        ):
            ordered = sorted(values)
            for pct in (50, 99):
                at = min(len(ordered) - 1, len(ordered) * pct // 100)
                out[f"{name}_p{pct}"] = round(ordered[at] * scale, 2) if ordered else None
        return out


class _Received(NamedTuple):
    site_id: str
    gate_id: str
    batch: EventBatch
    arrived: float  # monotonic


_STOP = object()


class IngestWorker:
    """Consume events from the shared subscription and store them in ``eventlog``."""

    def __init__(self, eventlog: EventLog, config: IngestWorkerConfig) -> None:
        self.config = config
        self.stats = IngestStats()
        self._eventlog = eventlog
        self._target = parse_mqtt_url(config.mqtt_url)
        self._queue: queue.Queue[object] = queue.Queue()
        self._connected = threading.Event()
        self._writer: threading.Thread | None = None
        self._client = paho.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"doorward-ingest-{secrets.token_hex(4)}",
            clean_session=True,
        )
        if self._target.username:
            self._client.username_pw_set(self._target.username, self._target.password)
        if self._target.tls:
            self._client.tls_set(ca_certs=config.ca_file, tls_version=ssl.PROTOCOL_TLS_CLIENT)
        # Acks for a whole commit are published at once; do not queue them behind a cap.
        self._client.max_queued_messages_set(0)
        self._client.max_inflight_messages_set(1000)
        self._client.reconnect_delay_set(1, 30)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message

    @property
    def subscriptions(self) -> list[str]:
        group = self.config.share_group
        return [f"$share/{group}/doorward/{site}/+/events" for site in self.config.sites]

    # start / stop ---------------------------------------------------------------------
    def start(self) -> None:
        self._writer = threading.Thread(target=self._write_loop, name="ingest-writer", daemon=True)
        self._writer.start()
        try:
            self._client.connect_async(self._target.host, self._target.port, keepalive=15)
            self._client.loop_start()
        except (OSError, ValueError) as exc:
            self._stop_writer()
            raise TransportError(
                f"cannot start the ingest worker's MQTT client for {self._target.host}: {exc}"
            ) from exc

    def wait_connected(self, timeout: float) -> bool:
        return self._connected.wait(timeout)

    def stop(self) -> None:
        """Stop taking messages, store and ack what was already received, then disconnect."""
        if self._connected.is_set():
            self._client.unsubscribe(self.subscriptions)
            time.sleep(0.2)  # let messages the broker already sent us arrive
        self._stop_writer()
        self._client.disconnect()
        self._client.loop_stop()
        # paho closes its sockets only in __del__, which a reference cycle can postpone.
        reset = getattr(self._client, "_reset_sockets", None)
        if callable(reset):
            reset()
        self._connected.clear()

    def _stop_writer(self) -> None:
        if self._writer is not None:
            self._queue.put(_STOP)
            self._writer.join(30)
            self._writer = None

    # paho callbacks (its network thread) ----------------------------------------------
    def _on_connect(
        self, client: paho.Client, _u: object, _f: object, reason: Any, _p: object
    ) -> None:
        if getattr(reason, "is_failure", False):
            log.warning("the MQTT broker refused the ingest worker: %s", reason)
            return
        client.subscribe([(name, QOS) for name in self.subscriptions])
        self._connected.set()

    def _on_disconnect(self, _c: object, _u: object, _f: object, _r: object, _p: object) -> None:
        self._connected.clear()

    def _on_message(self, _c: object, _u: object, message: paho.MQTTMessage) -> None:
        parts = message.topic.split("/")
        if len(parts) != 4 or parts[3] != "events":
            return
        site_id, gate_id = parts[1], parts[2]
        try:
            batch = EventBatch.model_validate_json(message.payload)
        except ValidationError as exc:
            self.stats.rejected_messages += 1
            log.warning(
                "dropped a malformed batch from %s/%s: %s", site_id, gate_id, exc.errors()[:1]
            )
            return
        strays = [e.event_id for e in batch.events if (e.site_id, e.gate_id) != (site_id, gate_id)]
        if strays:
            self.stats.rejected_messages += 1
            log.warning(
                "dropped a batch on %s/%s carrying events of another gate (%s...)",
                site_id, gate_id, strays[0],
            )
            return
        self.stats.messages += 1
        self._queue.put(_Received(site_id, gate_id, batch, time.monotonic()))

    # the writer -----------------------------------------------------------------------
    def _write_loop(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is _STOP:
                return
            assert isinstance(first, _Received)
            group = [first]
            size = len(first.batch.events)
            deadline = time.monotonic() + self.config.linger_seconds
            while size < self.config.max_batch_events:
                try:
                    wait = deadline - time.monotonic()
                    item = self._queue.get(timeout=wait) if wait > 0 else self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    stopping = True  # store what we hold, then end
                    break
                assert isinstance(item, _Received)
                group.append(item)
                size += len(item.batch.events)
            self._store(group)

    def _store(self, group: list[_Received]) -> None:
        began = time.monotonic()
        events = [e for item in group for e in item.batch.events]
        try:
            ack = self._eventlog.append(events)
        except DoorwardError as exc:
            if len(group) == 1:
                self.stats.failed_messages += 1
                log.warning("cannot store a batch from %s/%s: %s", group[0].site_id,
                            group[0].gate_id, exc)
                return  # no ack: the edge keeps the events and resends them
            # One bad message must not hold back the others: store them one by one.
            for item in group:
                self._store([item])
            return
        self.stats.commit_seconds.append(time.monotonic() - began)
        self.stats.commit_events.append(len(events))
        self.stats.queue_wait.extend(began - item.arrived for item in group)
        self.stats.commits += 1
        self.stats.accepted += len(ack.accepted)
        self.stats.duplicates += len(ack.duplicates)
        self._publish_acks(group, set(ack.accepted))

    def _publish_acks(self, group: list[_Received], accepted: set[str]) -> None:
        for item in group:
            ids = list(dict.fromkeys(e.event_id for e in item.batch.events))
            mine = [i for i in ids if i in accepted]
            accepted.difference_update(mine)  # an id sent twice in one commit is accepted once
            reply = IngestAck(accepted=mine, duplicates=[i for i in ids if i not in mine])
            info = self._client.publish(
                topic(item.site_id, item.gate_id, "acks"), reply.model_dump_json(), qos=QOS
            )
            if info.rc != paho.MQTT_ERR_SUCCESS:
                log.warning("cannot ack %s/%s: %s", item.site_id, item.gate_id,
                            paho.error_string(info.rc))
