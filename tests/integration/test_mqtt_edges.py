"""The hub's MQTT bridge on a real Mosquitto: a batch or heartbeat naming another gate than
its topic's is refused; heartbeats are stored like HTTPS ones; commands are pushed."""

from __future__ import annotations

import os
import queue
import secrets
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from doorward.hub.app import create_app
from doorward.hub.schemas import GateCreate
from doorward.hub.services import edge_health, gates
from doorward.hub.services.context import HubContext
from doorward.settings import Settings
from doorward.store.db import Database
from doorward.transport.messages import Command, EventBatch, EventMessage, Heartbeat, IngestAck
from doorward.transport.mqtt import parse_mqtt_url

from .conftest import SYSTEM, wait_for

with warnings.catch_warnings():
    # Starlette warns once, at import, that it prefers httpx2; the client works the same.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

pytestmark = pytest.mark.mqtt
MQTT_URL = os.environ.get("DOORWARD_TEST_MQTT_URL", "mqtt://127.0.0.1:1883")

Inbox = queue.Queue[tuple[str, bytes]]


@pytest.fixture
def edge_side() -> Iterator[tuple[paho.Client, Inbox]]:
    target = parse_mqtt_url(MQTT_URL)
    inbox: Inbox = queue.Queue()
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"test-{secrets.token_hex(4)}")
    client.on_message = lambda _c, _u, m: inbox.put((m.topic, bytes(m.payload)))
    client.connect(target.host, target.port)
    client.loop_start()
    try:
        yield client, inbox
    finally:
        client.disconnect()
        client.loop_stop()


def _events(site: str, gate: str, n: int = 2) -> EventBatch:
    now = datetime.now(UTC)
    return EventBatch(edge_id="edge-x", events=[
        EventMessage(event_id=secrets.token_hex(16), site_id=site, gate_id=gate, kind="door",
                     occurred_at=now, edge_seq=i, outcome="opened")
        for i in range(n)
    ])


def _next(inbox: Inbox, suffix: str, timeout: float) -> bytes | None:
    try:
        while True:
            name, payload = inbox.get(timeout=timeout)
            if name.endswith(suffix):
                return payload
    except queue.Empty:
        return None


def test_bridge_refuses_a_gate_off_its_topic_stores_heartbeats_and_pushes_commands(
    db: Database, tmp_path: Path, edge_side: tuple[paho.Client, Inbox]
) -> None:
    site = f"mqtt-{secrets.token_hex(4)}"
    settings = Settings(environment="test", data_dir=tmp_path, site_id=site, mqtt_url=MQTT_URL)
    client, inbox = edge_side
    client.subscribe(f"doorward/{site}/gate-a/#", qos=1)
    with TestClient(create_app(settings, database=db)) as hub:
        ctx: HubContext = hub.app.state.hub  # type: ignore[attr-defined]
        for gate_id in ("gate-a", "gate-b"):
            gates.create_gate(ctx, SYSTEM, GateCreate(id=gate_id, name=gate_id))
        assert wait_for(lambda: ctx.edge_push is not None)

        # gate-a's topic carrying gate-b's events: refused, not stored, not acknowledged.
        forged = _events(site, "gate-b")
        forged.events.append(_events(site, "gate-a", 1).events[0])
        client.publish(f"doorward/{site}/gate-a/events", forged.model_dump_json(), qos=1)
        assert _next(inbox, "/acks", 1.5) is None
        assert ctx.eventlog.events(site_id=site, limit=10) == []

        honest = _events(site, "gate-a")
        client.publish(f"doorward/{site}/gate-a/events", honest.model_dump_json(), qos=1)
        ack = _next(inbox, "/acks", 5)
        assert ack is not None
        assert IngestAck.model_validate_json(ack).accepted == [e.event_id for e in honest.events]
        assert len(ctx.eventlog.events(site_id=site, limit=10)) == 2

        # Heartbeats: another gate's on this topic is refused; our own is stored.
        now = datetime.now(UTC)
        stray = Heartbeat(edge_id="e", gate_id="gate-b", sent_at=now, snapshot_version=0,
                          outbox_depth=0)
        client.publish(f"doorward/{site}/gate-a/heartbeat", stray.model_dump_json(), qos=1)
        own = Heartbeat(edge_id="edge-a", gate_id="gate-a", sent_at=now, snapshot_version=0,
                        outbox_depth=3, door="open", lockdown=False, fire=False)
        client.publish(f"doorward/{site}/gate-a/heartbeat", own.model_dump_json(), qos=1)
        assert wait_for(lambda: "gate-a" in edge_health.edge_statuses(ctx))
        statuses = edge_health.edge_statuses(ctx)
        assert set(statuses) == {"gate-a"}
        assert (statuses["gate-a"].outbox_depth, statuses["gate-a"].door) == (3, "open")

        # A lockdown is pushed at once on the commands topic.
        edge_health.set_lockdown(ctx, "guard", True, "drill: lockdown over MQTT")
        pushed = _next(inbox, "/commands", 5)
        assert pushed is not None
        command = Command.model_validate_json(pushed)
        assert (command.command, command.gate_id) == ("lockdown", "gate-a")
