"""The hub (a real ``doorward hub`` process with its MQTT bridge) is stopped while the edge
records 20,000 events, then restarted: the outbox drains into the log with none lost and
none duplicated, and the log's chain verifies. Killed (SIGKILL) or stopped (SIGTERM), on
SQLite and PostgreSQL."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from doorward.domain.model import CardData
from doorward.edge.readers import ReaderInput
from doorward.settings import Settings
from doorward.store.db import Database
from doorward.store.eventlog import EventLog
from doorward.store.eventlog_chain import load_chain_key
from doorward.store.eventlog_models import EventLogEntry
from doorward.transport.mqtt import EdgeMqttLink
from edge.conftest import CARD, Gate, Site

from .conftest import HubProcess, PrivateBroker, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.mqtt]
EVENTS = 20_000


def _logged_ids(database_url: str, site_id: str) -> tuple[list[str], int]:
    """Every event id in the log for the site (in chain order), and the distinct count."""
    db = Database(database_url)
    try:
        with db.read() as session:
            where = EventLogEntry.site_id == site_id
            ids = list(session.scalars(
                select(EventLogEntry.event_id).where(where).order_by(EventLogEntry.seq)))
            distinct = session.scalar(
                select(func.count(func.distinct(EventLogEntry.event_id))).where(where))
        return ids, int(distinct or 0)
    finally:
        db.dispose()


@pytest.mark.parametrize("stop_signal", [signal.SIGKILL, signal.SIGTERM], ids=["kill", "term"])
def test_hub_stopped_during_20000_events_then_restarted_loses_and_duplicates_nothing(
    database_url: str, site: Site, tmp_path: Path, private_broker: PrivateBroker,
    stop_signal: signal.Signals,
) -> None:
    hub = HubProcess(tmp_path / "hub", site.site_id, database_url, private_broker.url)
    hub.start()
    gate = Gate(site, tmp_path / "edge",
                link=EdgeMqttLink(private_broker.url, site.site_id, site.gate_id))
    controller = gate.controller
    controller.start()
    try:
        controller.apply_snapshot(site.full_snapshot())
        outbox = controller.outbox
        assert outbox is not None
        assert wait_for(lambda: outbox.depth() == 0, 30), "the hub never acknowledged"
        before, _ = _logged_ids(database_url, site.site_id)
        assert before, "edge_started should be in the log"

        # SIGKILL: a crash. SIGTERM: uvicorn shuts down gracefully, then re-raises the signal.
        assert hub.stop(stop_signal) == -stop_signal
        produced = []
        for n in range(EVENTS):
            number = CARD[1] if n % 2 else str(10_000_000 + n)  # granted, unknown, ...
            handled = controller.handle_input(ReaderInput("r1", "card",
                                                          card=CardData(CARD[0], number)))
            produced.append(handled.event.event_id)
        assert gate.relay.count("pulse") == EVENTS // 2
        assert outbox.depth() >= EVENTS

        hub.start()
        assert wait_for(lambda: outbox.depth() == 0, 150, 0.2), \
            f"{outbox.depth()} events still in the outbox"
    finally:
        controller.stop()
        hub.stop(signal.SIGTERM)

    after, distinct = _logged_ids(database_url, site.site_id)
    new = after[len(before):]
    assert len(new) == EVENTS, f"{len(new)} new entries, expected {EVENTS}"
    assert new == produced  # 0 lost, in the order the edge recorded them
    assert distinct == len(after)  # 0 duplicated
    settings = Settings(environment="test", data_dir=tmp_path / "hub", site_id=site.site_id)
    db = Database(database_url)
    try:
        report = EventLog(db, load_chain_key(settings)).verify(site.site_id)
    finally:
        db.dispose()
    assert report.ok and report.checked == len(after), report
    assert "Traceback" not in hub.log.read_text()
