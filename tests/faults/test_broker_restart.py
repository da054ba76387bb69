"""Our own Mosquitto is killed and restarted while an edge streams events to the hub's MQTT
bridge (wired to the real EventLog): every event arrives exactly once, in the edge's order,
and the outbox drains. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import secrets
import threading
import time
from pathlib import Path

import pytest

from doorward.domain.model import CardData
from doorward.edge.readers import ReaderInput
from doorward.store.db import Database
from doorward.store.eventlog import EventLog
from doorward.transport.mqtt import EdgeMqttLink, HubMqttBridge
from edge.conftest import CARD, Gate, Site

from .conftest import PrivateBroker, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.mqtt]


def test_broker_killed_and_restarted_mid_stream_loses_and_duplicates_nothing(
    db: Database, site: Site, tmp_path: Path, private_broker: PrivateBroker
) -> None:
    eventlog = EventLog(db, secrets.token_bytes(32))
    bridge = HubMqttBridge(private_broker.url, site.site_id,
                           lambda batch: eventlog.append(batch.events))
    bridge.start()
    gate = Gate(site, tmp_path / "edge",
                link=EdgeMqttLink(private_broker.url, site.site_id, site.gate_id))
    controller = gate.controller
    produced: list[str] = []
    stop = threading.Event()

    def stream() -> None:  # a busy gate: a presentation every 2 ms until told to stop
        n = 0
        while not stop.is_set():
            n += 1
            number = CARD[1] if n % 3 else str(90_000_000 + n)
            handled = controller.handle_input(ReaderInput("r1", "card",
                                                          card=CardData(CARD[0], number)))
            produced.append(handled.event.event_id)
            time.sleep(0.002)

    producer = threading.Thread(target=stream, name="busy-gate")
    try:
        assert bridge.wait_connected(10)
        controller.start()
        controller.apply_snapshot(site.full_snapshot())
        outbox = controller.outbox
        assert outbox is not None
        producer.start()
        time.sleep(1.0)
        logged_before_kill = eventlog.count(site_id=site.site_id)
        assert logged_before_kill > 0, "nothing flowed before the broker was killed"
        private_broker.kill()
        link = controller.uplink.link  # type: ignore[union-attr]
        assert wait_for(lambda: not link.connected, 10), "the edge never noticed the broker died"
        time.sleep(1.0)  # events pile up in the outbox; both sides try to reconnect
        assert outbox.depth() > 20, "the outbox did not hold the events while the broker was down"
        private_broker.start()
        time.sleep(1.0)
        stop.set()
        producer.join(10)
        assert wait_for(lambda: outbox.depth() == 0, 60, 0.1), \
            f"{outbox.depth()} events still in the outbox"
        assert private_broker.starts == 2
    finally:
        stop.set()
        if producer.is_alive():
            producer.join(10)
        controller.stop()
        bridge.stop()

    logged = [e.event_id for e in eventlog.events(site_id=site.site_id, limit=10_000,
                                                  newest_first=False)
              if e.kind == "access"]
    logged_by_seq = sorted(eventlog.events(site_id=site.site_id, limit=10_000),
                           key=lambda e: e.seq)
    access_by_seq = [e.event_id for e in logged_by_seq if e.kind == "access"]
    assert len(produced) > 200
    assert len(logged) == len(set(logged)) == len(produced)  # exactly once each
    assert access_by_seq == produced  # and in the order the edge recorded them
    assert eventlog.verify(site.site_id).ok
