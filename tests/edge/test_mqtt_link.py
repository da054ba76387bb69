"""Edge -> real Mosquitto -> HubMqttBridge -> ack -> outbox, and the way back for snapshots."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from doorward.domain.model import CardData, Outcome
from doorward.edge.readers import ReaderInput
from doorward.errors import ConfigError, TransportError
from doorward.transport.messages import Command, EventBatch, Heartbeat, IngestAck, SnapshotMessage
from doorward.transport.mqtt import EdgeMqttLink, HubMqttBridge, parse_mqtt_url

from .conftest import CARD, Gate, Site
from .tcp_proxy import TcpProxy

pytestmark = pytest.mark.mqtt
BROKER = os.environ.get("DOORWARD_TEST_MQTT_URL", "mqtt://127.0.0.1:1883")


class MemoryHub:
    """The hub's ingestion in memory: idempotent by event id, like the real one."""

    def __init__(self) -> None:
        self.events: dict[str, int] = {}
        self.calls = 0
        self.fail_first = 0
        self.heartbeats: list[Heartbeat] = []
        self._lock = threading.Lock()

    def ingest(self, batch: EventBatch) -> IngestAck:
        with self._lock:
            self.calls += 1
            accepted, duplicates = [], []
            for event in batch.events:
                if event.event_id in self.events:
                    duplicates.append(event.event_id)
                else:
                    self.events[event.event_id] = event.edge_seq
                    accepted.append(event.event_id)
            if self.fail_first > 0:
                self.fail_first -= 1
                raise RuntimeError("hub crashed after storing, before acking")
        return IngestAck(accepted=accepted, duplicates=duplicates)


def wait_for(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


@pytest.fixture
def hub(site: Site) -> Iterator[tuple[HubMqttBridge, MemoryHub]]:
    memory = MemoryHub()
    bridge = HubMqttBridge(
        BROKER,
        site.site_id,
        memory.ingest,
        on_heartbeat=lambda gate, hb: memory.heartbeats.append(hb),
    )
    bridge.start()
    assert bridge.wait_connected(5), "no Mosquitto on 127.0.0.1:1883"
    try:
        yield bridge, memory
    finally:
        bridge.stop()


def mqtt_gate(site: Site, tmp_path: Path, url: str = BROKER) -> Gate:
    gate = Gate(site, tmp_path / "edge", link=EdgeMqttLink(url, site.site_id, site.gate_id))
    gate.controller.start()
    return gate


def card(number: str = CARD[1]) -> ReaderInput:
    return ReaderInput("r1", "card", card=CardData(CARD[0], number))


def depth(gate: Gate) -> int:
    assert gate.controller.outbox is not None
    return gate.controller.outbox.depth()


def test_event_round_trip_deletes_from_outbox_only_on_hub_ack(
    site: Site, tmp_path: Path, hub: tuple[HubMqttBridge, MemoryHub]
) -> None:
    _, memory = hub
    gate = mqtt_gate(site, tmp_path)
    try:
        gate.controller.apply_snapshot(site.full_snapshot())
        handled = [gate.controller.handle_input(card()) for _ in range(20)]
        assert wait_for(lambda: depth(gate) == 0, 10)
        ids = [h.event.event_id for h in handled]
        assert set(ids) <= set(memory.events)
        seqs = [memory.events[i] for i in ids]
        assert seqs == sorted(seqs)
    finally:
        gate.controller.stop()


def test_lost_ack_is_resent_and_acknowledged_as_duplicate(
    site: Site, tmp_path: Path, hub: tuple[HubMqttBridge, MemoryHub]
) -> None:
    _, memory = hub
    memory.fail_first = 1
    gate = mqtt_gate(site, tmp_path)
    try:
        gate.controller.apply_snapshot(site.full_snapshot())
        gate.controller.handle_input(card())
        assert wait_for(lambda: depth(gate) == 0, 10)
        assert memory.calls >= 2  # the first batch was stored but never acked
        assert gate.controller.uplink is not None and gate.controller.uplink.resends >= 1
        assert len(memory.events) == len(set(memory.events))
    finally:
        gate.controller.stop()


def test_snapshot_and_revocation_arrive_over_mqtt(
    site: Site, tmp_path: Path, hub: tuple[HubMqttBridge, MemoryHub]
) -> None:
    bridge, memory = hub
    gate = mqtt_gate(site, tmp_path)
    try:
        # A fresh edge announces version 0; the hub answers with a full snapshot.
        assert wait_for(lambda: any(h.snapshot_version == 0 for h in memory.heartbeats), 5)
        bridge.publish_snapshot(site.gate_id, site.full_snapshot(version=3))
        assert wait_for(lambda: gate.controller.snapshot_version == 3, 5)
        assert gate.controller.handle_input(card()).decision.granted
        revoke = SnapshotMessage(
            site_id=site.site_id,
            version=4,
            base_version=3,
            full=False,
            hub_public_key=site.keys.public_bytes().hex(),
            removed_credentials=["cred-card"],
        )
        bridge.publish_snapshot(site.gate_id, revoke)
        assert wait_for(lambda: gate.controller.snapshot_version == 4, 5)
        assert gate.controller.handle_input(card()).decision.outcome is Outcome.UNKNOWN_CREDENTIAL
        bridge.publish_command(
            site.gate_id, Command(command="lockdown", issued_at=datetime.now(UTC))
        )
        assert wait_for(lambda: gate.controller.lockdown, 5)
        # A delta over a version the edge lacks makes it ask again with its own version.
        memory.heartbeats.clear()
        gap = revoke.model_copy(update={"version": 9, "base_version": 8})
        bridge.publish_snapshot(site.gate_id, gap)
        assert wait_for(lambda: any(h.snapshot_version == 4 for h in memory.heartbeats), 5)
        assert gate.controller.snapshot_version == 4
    finally:
        gate.controller.stop()


@pytest.mark.slow
def test_broker_loss_never_unlocks_and_forwarding_resumes(
    site: Site, tmp_path: Path, hub: tuple[HubMqttBridge, MemoryHub]
) -> None:
    _, memory = hub
    target = parse_mqtt_url(BROKER)
    proxy = TcpProxy((target.host, target.port))
    proxy.start()
    gate = mqtt_gate(site, tmp_path, proxy.url)
    try:
        gate.controller.apply_snapshot(site.full_snapshot())
        link = gate.controller.uplink.link  # type: ignore[union-attr]
        assert wait_for(lambda: link.connected, 5)
        proxy.cut()
        assert wait_for(lambda: not link.connected, 20)
        time.sleep(1.0)
        assert gate.relay.actions == [], "losing the broker moved the relay"
        denied = gate.controller.handle_input(card("31337"))
        granted = gate.controller.handle_input(card())
        assert not denied.decision.granted and granted.decision.granted
        assert gate.relay.count("pulse") == 1 and gate.relay.count("hold_open") == 0
        assert depth(gate) >= 2
        with pytest.raises(TransportError):
            link.send_heartbeat(gate.controller.heartbeat())
        proxy.restore()
        assert wait_for(lambda: depth(gate) == 0, 20), "the outbox was not resent"
        assert {denied.event.event_id, granted.event.event_id} <= set(memory.events)
        assert gate.relay.count("pulse") == 1
    finally:
        gate.controller.stop()
        proxy.cut()


def test_mqtt_urls_are_checked() -> None:
    secure = parse_mqtt_url("mqtts://edge%2F1:s3cret@broker.example:8884")
    assert (secure.host, secure.port, secure.tls) == ("broker.example", 8884, True)
    assert (secure.username, secure.password) == ("edge/1", "s3cret")
    assert parse_mqtt_url("mqtt://localhost").port == 1883
    with pytest.raises(ConfigError):
        parse_mqtt_url("http://localhost:1883")


def test_two_hub_replicas_share_the_events(site: Site, tmp_path: Path) -> None:
    """$share/hub: each event reaches one replica, none is lost, heartbeats carry status."""
    first, second = MemoryHub(), MemoryHub()
    bridges = [HubMqttBridge(BROKER, site.site_id, hub.ingest) for hub in (first, second)]
    for bridge in bridges:
        bridge.start()
    gate = None
    try:
        assert all(b.wait_connected(5) for b in bridges)
        time.sleep(0.3)  # both shared subscriptions in place
        gate = mqtt_gate(site, tmp_path)
        gate.controller.apply_snapshot(site.full_snapshot())
        for _ in range(30):
            gate.controller.handle_input(card())
            time.sleep(0.01)
        assert wait_for(lambda: depth(gate) == 0, 10)
        assert not set(first.events) & set(second.events)
        assert first.calls and second.calls, "one replica got every batch"
        assert len(first.events) + len(second.events) >= 31  # 30 access + edge_started
        heartbeat = gate.controller.heartbeat()
        assert heartbeat.readers_online == {"r1": True} and heartbeat.outbox_depth == 0
    finally:
        if gate is not None:
            gate.controller.stop()
        for bridge in bridges:
            bridge.stop()
