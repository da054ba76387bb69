"""Several ``doorward hub-worker`` processes share one PostgreSQL through an MQTT shared
subscription: real edges (Outbox + Uplink + EdgeMqttLink) send a few hundred events and every
one is stored exactly once, in per-site hash chains that verify, even when a worker is killed.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from doorward.edge.outbox import Outbox
from doorward.edge.uplink import Uplink
from doorward.hub.ingest_worker import IngestWorker, IngestWorkerConfig
from doorward.settings import Settings
from doorward.sim.fleet import close_mqtt_client, mqtt_client
from doorward.sim.soak import worker_command
from doorward.store.db import Database
from doorward.store.eventlog import EventLog, load_or_create_chain_key
from doorward.store.eventlog_models import EventLogEntry
from doorward.transport.messages import EventBatch, EventMessage, Heartbeat
from doorward.transport.mqtt import EdgeMqttLink, parse_mqtt_url, topic

from .conftest import BROKER

pytestmark = [pytest.mark.mqtt, pytest.mark.postgres]


def wait_for(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


@dataclass
class RealEdge:
    """One gate as the edge runs it: its own outbox file, uplink and MQTT link."""

    site_id: str
    gate_id: str
    outbox: Outbox
    uplink: Uplink

    @classmethod
    def start(cls, site_id: str, gate_id: str, folder: Path) -> RealEdge:
        outbox = Outbox(folder / f"{site_id}-{gate_id}.sqlite3")
        link = EdgeMqttLink(BROKER, site_id, gate_id)
        uplink = Uplink(
            link, outbox, edge_id=gate_id,
            heartbeat=lambda: Heartbeat(edge_id=gate_id, gate_id=gate_id,
                                        sent_at=datetime.now(UTC), snapshot_version=0,
                                        outbox_depth=outbox.depth()),
            snapshot_version=lambda: 0, on_snapshot=lambda _s: None, on_command=lambda _c: None,
            batch_size=20, ack_timeout=1.0,
        )
        uplink.start()
        assert link.wait_connected(10), "the edge cannot reach the broker"
        return cls(site_id, gate_id, outbox, uplink)

    def record(self, n: int) -> None:
        event = EventMessage(
            event_id=secrets.token_hex(16), site_id=self.site_id, gate_id=self.gate_id,
            kind="access", occurred_at=datetime.now(UTC), edge_seq=0, outcome="granted",
            credential_kind="card", subject=f"subject-{n % 7}",
        )
        self.outbox.append(event)
        self.uplink.notify()

    def stop(self) -> None:
        self.uplink.stop()
        self.outbox.close()


class Workers:
    def __init__(self, postgres_url: str, data_dir: Path, sites: list[str], count: int) -> None:
        command = worker_command(BROKER, postgres_url, data_dir, f"t{secrets.token_hex(3)}",
                                 sites)
        self.procs = [
            subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(count)
        ]
        for proc in self.procs:
            assert proc.stdout is not None
            line = proc.stdout.readline().strip()
            assert line == "ready", proc.stderr.read() if proc.stderr else line

    def stop(self) -> list[dict[str, int]]:
        stats = []
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
            out, _ = proc.communicate(timeout=30)
            stats += [json.loads(line) for line in out.splitlines() if line.startswith("{")]
        return stats


@pytest.fixture
def migrated(postgres_url: str, tmp_path: Path) -> Iterator[tuple[Database, EventLog]]:
    db = Database(postgres_url)
    db.migrate()
    key = load_or_create_chain_key(Settings(data_dir=tmp_path / "hub"))
    try:
        yield db, EventLog(db, key)
    finally:
        db.dispose()


def _edges(tmp_path: Path, sites: list[str], gates: int) -> list[RealEdge]:
    return [RealEdge.start(site, f"gate-{g}", tmp_path / "edges")
            for site in sites for g in range(gates)]


def _record_concurrently(edges: list[RealEdge], per_edge: int, pause: float = 0.002) -> None:
    def run(edge: RealEdge) -> None:
        for n in range(per_edge):
            edge.record(n)
            time.sleep(pause)

    threads = [threading.Thread(target=run, args=(edge,)) for edge in edges]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _stored_per_gate(db: Database) -> dict[tuple[str, str], tuple[int, int, int]]:
    e = EventLogEntry
    query = select(e.site_id, e.gate_id, func.count(), func.count(func.distinct(e.edge_seq)),
                   func.max(e.edge_seq)).group_by(e.site_id, e.gate_id)
    with db.read() as session:
        return {(s, g): (n, d, m) for s, g, n, d, m in session.execute(query)}


def test_two_workers_store_every_event_once_and_chains_verify(
    migrated: tuple[Database, EventLog], postgres_url: str, tmp_path: Path
) -> None:
    db, log = migrated
    sites = [f"w{secrets.token_hex(3)}-a", f"w{secrets.token_hex(3)}-b"]
    workers = Workers(postgres_url, tmp_path / "hub", sites, count=2)
    edges = _edges(tmp_path, sites, gates=3)
    try:
        _record_concurrently(edges, per_edge=60)
        assert wait_for(lambda: all(e.outbox.depth() == 0 for e in edges), 60)
    finally:
        for edge in edges:
            edge.stop()
        stats = workers.stop()
    stored = _stored_per_gate(db)
    assert stored == {(e.site_id, e.gate_id): (60, 60, 60) for e in edges}  # 0 lost, 0 twice
    assert log.count() == 360
    report = log.verify()
    assert report.ok, report.summary()
    assert report.checked == 360
    # The broker split the work: both workers stored some, and together exactly all.
    assert len(stats) == 2 and all(s["accepted"] > 0 for s in stats)
    assert sum(s["accepted"] for s in stats) == 360


def test_a_killed_worker_loses_nothing_and_duplicates_nothing(
    migrated: tuple[Database, EventLog], postgres_url: str, tmp_path: Path
) -> None:
    db, log = migrated
    sites = [f"k{secrets.token_hex(3)}"]
    workers = Workers(postgres_url, tmp_path / "hub", sites, count=2)
    edges = _edges(tmp_path, sites, gates=4)
    try:
        killer = threading.Timer(0.5, lambda: os.kill(workers.procs[0].pid, signal.SIGKILL))
        killer.start()
        began = time.monotonic()
        _record_concurrently(edges, per_edge=75, pause=0.02)  # 1.5 s or more
        assert time.monotonic() - began > 0.5, "the worker must die while edges still record"
        killer.join()
        # Whatever the dead worker held unacked is resent (ack timeout 1 s) to the survivor.
        assert wait_for(lambda: all(e.outbox.depth() == 0 for e in edges), 60)
    finally:
        for edge in edges:
            edge.stop()
        workers.stop()
    assert workers.procs[0].returncode == -signal.SIGKILL
    assert _stored_per_gate(db) == {(e.site_id, e.gate_id): (75, 75, 75) for e in edges}
    report = log.verify()
    assert report.ok and report.checked == 300, report.summary()


def test_a_batch_for_another_gate_is_dropped_unacked(
    migrated: tuple[Database, EventLog]
) -> None:
    """With per-edge broker logins the topic is the edge's identity; the events must match it."""
    _, log = migrated
    site = f"x{secrets.token_hex(3)}"
    worker = IngestWorker(log, IngestWorkerConfig(BROKER, share_group=f"x{secrets.token_hex(3)}",
                                                  sites=(site,)))
    spy = mqtt_client(parse_mqtt_url(BROKER), "ack-spy")
    acks: list[str] = []
    spy.on_message = lambda _c, _u, m: acks.append(m.topic)
    spy.on_connect = lambda c, *_: c.subscribe(f"doorward/{site}/+/acks", qos=1)
    target = parse_mqtt_url(BROKER)
    spy.connect(target.host, target.port)
    spy.loop_start()
    worker.start()
    try:
        assert worker.wait_connected(10)
        time.sleep(0.3)

        def batch(gate: str) -> str:
            event = EventMessage(event_id=secrets.token_hex(16), site_id=site, gate_id=gate,
                                 kind="access", occurred_at=datetime.now(UTC), edge_seq=1)
            return EventBatch(edge_id=gate, events=[event]).model_dump_json()

        spy.publish(topic(site, "gate-b", "events"), batch("gate-a"), qos=1)  # forged
        spy.publish(topic(site, "gate-b", "events"), b"{not json", qos=1)  # malformed
        spy.publish(topic(site, "gate-b", "events"), batch("gate-b"), qos=1)  # genuine
        assert wait_for(lambda: worker.stats.accepted == 1 and len(acks) == 1, 10)
        time.sleep(0.3)
    finally:
        worker.stop()
        close_mqtt_client(spy)
    assert acks == [topic(site, "gate-b", "acks")]
    assert worker.stats.rejected_messages == 2
    assert log.count(site_id=site) == 1
    assert [e.gate_id for e in log.events(site_id=site)] == ["gate-b"]
