"""With DOORWARD_MQTT_URL set, the hub ingests edge events over a real Mosquitto and answers a
stale heartbeat with a snapshot."""

from __future__ import annotations

import os
import queue
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from doorward.hub.app import create_app
from doorward.hub.schemas import GateCreate
from doorward.hub.services import gates
from doorward.settings import Settings
from doorward.store.db import Database
from doorward.transport.messages import (
    EventBatch,
    EventMessage,
    Heartbeat,
    IngestAck,
    SnapshotMessage,
)
from doorward.transport.mqtt import parse_mqtt_url

from .conftest import SYSTEM, TestClient

pytestmark = pytest.mark.mqtt
MQTT_URL = os.environ.get("DOORWARD_TEST_MQTT_URL", "mqtt://127.0.0.1:1883")


@pytest.fixture
def edge_side() -> Iterator[tuple[paho.Client, queue.Queue[tuple[str, bytes]]]]:
    target = parse_mqtt_url(MQTT_URL)
    inbox: queue.Queue[tuple[str, bytes]] = queue.Queue()
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"test-{secrets.token_hex(4)}")
    client.on_message = lambda _c, _u, m: inbox.put((m.topic, bytes(m.payload)))
    client.connect(target.host, target.port)
    client.loop_start()
    try:
        yield client, inbox
    finally:
        client.disconnect()
        client.loop_stop()


def test_events_and_heartbeats_over_mqtt(
    db: Database, tmp_path: Path, edge_side: tuple[paho.Client, queue.Queue[tuple[str, bytes]]]
) -> None:
    site = f"mqtt-{secrets.token_hex(4)}"
    settings = Settings(environment="test", data_dir=tmp_path, site_id=site, mqtt_url=MQTT_URL)
    client, inbox = edge_side
    client.subscribe(f"doorward/{site}/door-1/#", qos=1)
    with TestClient(create_app(settings, database=db)) as hub:
        ctx = hub.app.state.hub  # type: ignore[attr-defined]
        gates.create_gate(ctx, SYSTEM, GateCreate(id="door-1", name="Door 1"))
        event = EventMessage(event_id="mqtt-evt-0001", site_id=site, gate_id="door-1",
                             kind="access", occurred_at=datetime.now(UTC), edge_seq=1,
                             outcome="granted", credential_kind="card")
        batch = EventBatch(edge_id="edge-1", events=[event]).model_dump_json()
        acks: list[IngestAck] = []
        snapshots: list[SnapshotMessage] = []
        for attempt in range(40):  # the bridge subscribes asynchronously after start
            if attempt % 10 == 0 and not acks:
                client.publish(f"doorward/{site}/door-1/events", batch, qos=1)
            if attempt % 10 == 0 and not snapshots:
                beat = Heartbeat(edge_id="edge-1", gate_id="door-1", sent_at=datetime.now(UTC),
                                 snapshot_version=0, outbox_depth=0)
                client.publish(f"doorward/{site}/door-1/heartbeat", beat.model_dump_json(), qos=1)
            try:
                name, payload = inbox.get(timeout=0.5)
            except queue.Empty:
                continue
            if name.endswith("/acks"):
                acks.append(IngestAck.model_validate_json(payload))
            elif name.endswith("/snapshot"):
                snapshots.append(SnapshotMessage.model_validate_json(payload))
            if acks and snapshots:
                break
        assert acks and acks[0].accepted + acks[0].duplicates == ["mqtt-evt-0001"]
        assert [e.event_id for e in ctx.eventlog.events(site_id=site)] == ["mqtt-evt-0001"]
        assert snapshots and snapshots[0].full and [g.id for g in snapshots[0].gates] == ["door-1"]
