"""The MQTT transport for fleets of edges (paho-mqtt 2), and the hub's side of it.

Topics, all QoS 1, per site and gate::

    doorward/<site>/<gate>/events     edge -> hub   EventBatch
    doorward/<site>/<gate>/acks       hub -> edge   IngestAck
    doorward/<site>/<gate>/snapshot   hub -> edge   SnapshotMessage
    doorward/<site>/<gate>/commands   hub -> edge   Command
    doorward/<site>/<gate>/heartbeat  edge -> hub   Heartbeat

The hub subscribes through a shared subscription (``$share/hub/...``) so several hub
replicas split the edges' events between them. The broker accepting a publish proves
nothing: an edge deletes an event only when the hub's :class:`IngestAck` names it.
paho reconnects by itself with backoff; the uplink resends from the outbox afterwards.
"""

from __future__ import annotations

import logging
import secrets
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from pydantic import ValidationError

from doorward.errors import ConfigError, TransportError
from doorward.transport.link import LinkHandlers
from doorward.transport.messages import (
    Command,
    EventBatch,
    Heartbeat,
    IngestAck,
    SnapshotMessage,
)

__all__ = ["EdgeMqttLink", "HubMqttBridge", "MqttTarget", "parse_mqtt_url", "topic"]

log = logging.getLogger(__name__)
QOS = 1
RECONNECT_MIN_SECONDS = 1
RECONNECT_MAX_SECONDS = 30


@dataclass(frozen=True, slots=True)
class MqttTarget:
    host: str
    port: int
    tls: bool = False
    username: str | None = None
    password: str | None = None


def parse_mqtt_url(url: str) -> MqttTarget:
    """``mqtt://[user:pass@]host[:1883]`` or ``mqtts://...`` (TLS, default port 8883)."""
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
        raise ConfigError(
            f"{url!r} is not an MQTT URL",
            hint="use mqtt://host:1883, or mqtts://user:password@host:8883 for TLS",
        )
    tls = parts.scheme == "mqtts"
    try:
        port = parts.port or (8883 if tls else 1883)
    except ValueError as exc:
        raise ConfigError(
            f"{url!r} has an invalid port", hint="use a port from 1 to 65535"
        ) from exc
    return MqttTarget(
        host=parts.hostname,
        port=port,
        tls=tls,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


def topic(site_id: str, gate_id: str, channel: str) -> str:
    return f"doorward/{site_id}/{gate_id}/{channel}"


def _client(client_id: str, target: MqttTarget, ca_file: str | None) -> paho.Client:
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True)
    if target.username:
        client.username_pw_set(target.username, target.password)
    if target.tls:
        client.tls_set(ca_certs=ca_file, tls_version=ssl.PROTOCOL_TLS_CLIENT)
    client.reconnect_delay_set(RECONNECT_MIN_SECONDS, RECONNECT_MAX_SECONDS)
    return client


def _publish(client: paho.Client, name: str, payload: str, connected: bool) -> None:
    if not connected:
        raise TransportError(
            f"not connected to the MQTT broker; {name} not sent",
            hint="the edge keeps working and resends when the broker is back",
        )
    try:
        info = client.publish(name, payload, qos=QOS)
    except (ValueError, OSError) as exc:
        raise TransportError(f"cannot publish to {name}: {exc}") from exc
    if info.rc != paho.MQTT_ERR_SUCCESS:
        raise TransportError(f"cannot publish to {name}: {paho.error_string(info.rc)}")


def _start(client: paho.Client, target: MqttTarget) -> None:
    try:
        # connect_async: an edge must start (and decide offline) even with the broker down.
        client.connect_async(target.host, target.port, keepalive=15)
        client.loop_start()
    except (OSError, ValueError) as exc:
        raise TransportError(f"cannot start the MQTT client for {target.host}: {exc}") from exc


def _stop(client: paho.Client) -> None:
    client.disconnect()
    client.loop_stop()
    # paho closes its socket and its wake-up socket pair only in __del__, which a reference
    # cycle can postpone past interpreter shutdown; close them now (paho 2.x).
    reset = getattr(client, "_reset_sockets", None)
    if callable(reset):
        reset()


class _MqttEndpoint:
    """What both ends share: one paho client, its connected flag, and stop()."""

    _client: paho.Client
    _connected: threading.Event

    def stop(self) -> None:
        _stop(self._client)
        self._connected.clear()

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def wait_connected(self, timeout: float) -> bool:
        return self._connected.wait(timeout)


class EdgeMqttLink(_MqttEndpoint):
    """An :class:`~doorward.transport.link.EdgeLink` over MQTT for one gate."""

    polls_snapshots = False

    def __init__(
        self, url: str, site_id: str, gate_id: str, *, edge_id: str = "", ca_file: str | None = None
    ) -> None:
        self.target = parse_mqtt_url(url)
        self.site_id, self.gate_id = site_id, gate_id
        self.edge_id = edge_id or gate_id
        self._client = _client(f"doorward-edge-{site_id}-{gate_id}", self.target, ca_file)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message
        self._handlers = LinkHandlers()
        self._connected = threading.Event()

    def start(self, handlers: LinkHandlers) -> None:
        self._handlers = handlers
        _start(self._client, self.target)

    def send_events(self, batch: EventBatch) -> None:
        name = topic(self.site_id, self.gate_id, "events")
        _publish(self._client, name, batch.model_dump_json(), self.connected)

    def send_heartbeat(self, heartbeat: Heartbeat) -> None:
        name = topic(self.site_id, self.gate_id, "heartbeat")
        _publish(self._client, name, heartbeat.model_dump_json(), self.connected)

    def poll_commands(self) -> None:
        """Nothing to poll: the hub pushes commands on the ``commands`` topic."""

    def request_snapshot(self, since_version: int) -> None:
        """Over MQTT the ask is a heartbeat: the hub answers a version it disagrees with."""
        self.send_heartbeat(
            Heartbeat(
                edge_id=self.edge_id,
                gate_id=self.gate_id,
                sent_at=datetime.now(UTC),
                snapshot_version=since_version,
                outbox_depth=0,
            )
        )

    # paho callbacks (its network thread) ----------------------------------------------
    def _on_connect(
        self, client: paho.Client, _u: object, _f: object, reason: object, _p: object
    ) -> None:
        if getattr(reason, "is_failure", False):
            log.warning("MQTT broker refused the edge: %s", reason)
            return
        for channel in ("acks", "snapshot", "commands"):
            client.subscribe(topic(self.site_id, self.gate_id, channel), qos=QOS)
        self._connected.set()
        self._handlers.on_connected(True)

    def _on_disconnect(self, _c: object, _u: object, _f: object, _r: object, _p: object) -> None:
        if self._connected.is_set():
            self._connected.clear()
            self._handlers.on_connected(False)

    def _on_message(self, _c: object, _u: object, message: paho.MQTTMessage) -> None:
        channel = message.topic.rsplit("/", 1)[-1]
        try:
            if channel == "acks":
                self._handlers.on_ack(IngestAck.model_validate_json(message.payload))
            elif channel == "snapshot":
                self._handlers.on_snapshot(SnapshotMessage.model_validate_json(message.payload))
            elif channel == "commands":
                self._handlers.on_command(Command.model_validate_json(message.payload))
        except ValidationError as exc:
            log.warning("dropped a malformed %s message: %s", channel, exc.errors()[:1])
        except Exception:  # a handler bug must not kill paho's network thread
            log.exception("handling an MQTT %s message failed", channel)


class HubMqttBridge(_MqttEndpoint):
    """The hub's side: ingest events from every gate of a site, answer with acks.

    ``ingest`` is the hub's idempotent event ingestion; the ack it returns is published to
    the gate the batch came from. A batch or heartbeat naming a gate other than its topic's
    is refused (logged, counted in ``refused``, never ingested nor acknowledged).
    ``on_heartbeat(gate_id, heartbeat)`` lets the hub store the heartbeat and answer a
    snapshot version it disagrees with (``publish_snapshot``).
    """

    def __init__(
        self,
        url: str,
        site_id: str,
        ingest: Callable[[EventBatch], IngestAck],
        *,
        on_heartbeat: Callable[[str, Heartbeat], None] | None = None,
        share_group: str = "hub",
        ca_file: str | None = None,
    ) -> None:
        self.target = parse_mqtt_url(url)
        self.site_id = site_id
        self._ingest = ingest
        self._on_heartbeat = on_heartbeat
        self._share = share_group
        client_id = f"doorward-hub-{site_id}-{secrets.token_hex(4)}"
        self._client = _client(client_id, self.target, ca_file)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message
        self._connected = threading.Event()
        self.refused = 0  # messages whose gate did not match their topic

    def start(self) -> None:
        _start(self._client, self.target)

    def publish_snapshot(self, gate_id: str, snapshot: SnapshotMessage) -> None:
        name = topic(self.site_id, gate_id, "snapshot")
        _publish(self._client, name, snapshot.model_dump_json(), self.connected)

    def publish_command(self, gate_id: str, command: Command) -> None:
        name = topic(self.site_id, gate_id, "commands")
        _publish(self._client, name, command.model_dump_json(), self.connected)

    def _on_connect(
        self, client: paho.Client, _u: object, _f: object, reason: object, _p: object
    ) -> None:
        if getattr(reason, "is_failure", False):
            log.warning("MQTT broker refused the hub bridge: %s", reason)
            return
        for channel in ("events", "heartbeat"):
            client.subscribe(f"$share/{self._share}/doorward/{self.site_id}/+/{channel}", qos=QOS)
        self._connected.set()

    def _on_disconnect(self, _c: object, _u: object, _f: object, _r: object, _p: object) -> None:
        self._connected.clear()

    def _on_message(self, client: paho.Client, _u: object, message: paho.MQTTMessage) -> None:
        parts = message.topic.split("/")
        if len(parts) != 4:
            return
        gate_id, channel = parts[2], parts[3]
        try:
            if channel == "events":
                batch = EventBatch.model_validate_json(message.payload)
                strays = sorted({e.gate_id for e in batch.events if e.gate_id != gate_id})
                if strays:
                    # Each edge's broker ACL covers only its own gate's topics; a batch naming
                    # another gate is misconfigured or forged. No ack: nothing is stored.
                    log.warning("refused events for gate(s) %s sent on gate %s's topic",
                                ", ".join(strays), gate_id)
                    self.refused += 1
                    return
                ack = self._ingest(batch)
                client.publish(topic(self.site_id, gate_id, "acks"), ack.model_dump_json(), qos=QOS)
            elif channel == "heartbeat" and self._on_heartbeat is not None:
                beat = Heartbeat.model_validate_json(message.payload)
                if beat.gate_id != gate_id:
                    log.warning("refused a heartbeat for gate %s sent on gate %s's topic",
                                beat.gate_id, gate_id)
                    self.refused += 1
                    return
                self._on_heartbeat(gate_id, beat)
        except ValidationError as exc:
            log.warning(
                "dropped a malformed %s message from %s: %s", channel, gate_id, exc.errors()[:1]
            )
        except Exception:  # no ack: the edge keeps the events and resends them
            log.exception("ingesting events from gate %s failed", gate_id)
