"""Garbage through the real Mosquitto broker to the hub's bridge: every malformed message is
dropped, nothing is stored, and the bridge still ingests and acknowledges a genuine batch."""

from __future__ import annotations

import os
import random
import secrets
import threading
import time
from datetime import UTC, datetime

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from doorward.store.db import Database
from doorward.store.eventlog import EventLog
from doorward.transport.messages import EventBatch, EventMessage, IngestAck
from doorward.transport.mqtt import HubMqttBridge, parse_mqtt_url

pytestmark = pytest.mark.mqtt
BROKER = os.environ.get("DOORWARD_TEST_MQTT_URL", "mqtt://127.0.0.1:1883")


def _garbage(rng: random.Random, genuine: bytes) -> bytes:
    choice = rng.randrange(4)
    if choice == 0:
        return rng.randbytes(rng.randrange(0, 400))
    if choice == 1:
        cut = rng.randrange(len(genuine))
        return genuine[:cut]
    if choice == 2:
        spot = rng.randrange(len(genuine))
        return genuine[:spot] + b"\xff" + genuine[spot:]  # never valid UTF-8
    return b'{"edge_id": "x", "events": [{"event_id": 1}]}'


def test_the_bridge_survives_garbage_on_the_real_broker(db: Database) -> None:
    site = f"fz{secrets.token_hex(3)}"
    log = EventLog(db, secrets.token_bytes(32))
    acked = threading.Event()

    def ingest(batch: EventBatch) -> IngestAck:
        return log.append(batch.events)

    bridge = HubMqttBridge(BROKER, site, ingest, share_group=f"g{secrets.token_hex(3)}")
    target = parse_mqtt_url(BROKER)
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"fuzz-{site}")
    client.on_message = lambda _c, _u, _m: acked.set()
    bridge.start()
    try:
        assert bridge.wait_connected(10)
        client.connect(target.host, target.port)
        client.loop_start()
        client.subscribe(f"doorward/{site}/main/acks", qos=1)
        event = EventMessage(event_id=f"ev-{secrets.token_hex(8)}", site_id=site,
                             gate_id="main", kind="access", occurred_at=datetime.now(UTC),
                             edge_seq=1, outcome="granted")
        genuine = EventBatch(edge_id="edge-main", events=[event]).model_dump_json().encode()
        rng = random.Random(20261126)
        for _ in range(60):
            client.publish(f"doorward/{site}/main/events", _garbage(rng, genuine), qos=1)
        time.sleep(0.5)
        assert log.count(site_id=site) == 0 and not acked.is_set()
        client.publish(f"doorward/{site}/main/events", genuine, qos=1)
        assert acked.wait(10), "the bridge stopped answering after the garbage"
        assert log.count(site_id=site) == 1 and log.verify(site).ok
    finally:
        client.loop_stop()
        client.disconnect()
        bridge.stop()
