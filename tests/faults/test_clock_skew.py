"""An edge whose clock is 5 minutes off (see docs/edge.md, "Clock skew").

- Signed mobile keys are accepted within ``token_skew_steps`` 30-second steps of the edge's
  clock (default 1: +-30..60 s). At +-5 minutes a genuine, current key is refused
  (``invalid_token``) until the clock is fixed, unless the site widens the tolerance.
- Pass windows are judged on the edge's clock, with no tolerance: the window shifts by the
  skew (a fast clock ends a pass early, a slow one keeps it open late).
- Events reach the hub in the order they were recorded (``edge_seq``), even when
  ``occurred_at`` goes backwards after the clock is corrected.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from doorward.domain.memory import AccessPolicy
from doorward.domain.mobile_key import current_step, issue_mobile_token
from doorward.domain.model import CardData, Outcome
from doorward.edge.actuators.simulated import SimulatedRelay
from doorward.edge.controller import EdgeConfig, EdgeController, GateHardware
from doorward.edge.readers import ReaderInput
from doorward.edge.readers.simulated import SimulatedReader
from doorward.store.db import Database
from doorward.store.eventlog import EventLog
from doorward.transport.mqtt import EdgeMqttLink, HubMqttBridge
from edge.conftest import CARD, PASS_CODE, Site

from .conftest import wait_for

MQTT_URL = os.environ.get("DOORWARD_TEST_MQTT_URL", "mqtt://127.0.0.1:1883")
FIVE_MINUTES = timedelta(minutes=5)


class SkewedClock:
    """The edge's wall clock: the real time plus an offset the test moves."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


def _edge(site: Site, data_dir: Path, clock: SkewedClock, *, skew_steps: int = 1,
          link: EdgeMqttLink | None = None) -> EdgeController:
    config = EdgeConfig(site_id=site.site_id, gate_id=site.gate_id, data_dir=data_dir,
                        pulse_seconds=0.1, ack_timeout_seconds=1.0,
                        policy=AccessPolicy(token_skew_steps=skew_steps))
    controller = EdgeController(config, [SimulatedReader("r1")],
                                GateHardware(SimulatedRelay()), link=link, clock=clock)
    controller.start()
    return controller


@pytest.fixture
def clock() -> SkewedClock:
    return SkewedClock()


@pytest.fixture
def edge(site: Site, tmp_path: Path, clock: SkewedClock) -> Iterator[EdgeController]:
    controller = _edge(site, tmp_path / "edge", clock)
    controller.apply_snapshot(site.full_snapshot())
    try:
        yield controller
    finally:
        controller.stop()


def _mobile(controller: EdgeController, site: Site, step: int) -> Outcome:
    token = issue_mobile_token(site.keys, "cred-mobile", step)
    return controller.handle_input(ReaderInput("r1", "token", token=token)).decision.outcome


@pytest.mark.parametrize("offset", [FIVE_MINUTES, -FIVE_MINUTES])
def test_a_current_mobile_key_is_refused_at_five_minutes_skew_with_the_default_tolerance(
    edge: EdgeController, site: Site, clock: SkewedClock, offset: timedelta
) -> None:
    clock.offset = offset
    # The phone's key for the real current step: 10 steps away from the edge's clock.
    assert _mobile(edge, site, current_step(datetime.now(UTC))) is Outcome.INVALID_TOKEN
    handled = edge.handle_input(ReaderInput("r1", "token", token=issue_mobile_token(
        site.keys, "cred-mobile", current_step(datetime.now(UTC)))))
    assert "check the phone's clock" in handled.decision.reason
    # Inside the tolerance (the real step +-1 of the edge's) it opens again.
    clock.offset = offset / 15  # 20 s: within one step either way
    assert _mobile(edge, site, current_step(datetime.now(UTC))) is Outcome.GRANTED


def test_a_site_may_widen_the_tolerance_to_cover_five_minutes(
    site: Site, tmp_path: Path, clock: SkewedClock
) -> None:
    clock.offset = FIVE_MINUTES
    controller = _edge(site, tmp_path / "wide", clock, skew_steps=10)
    try:
        controller.apply_snapshot(site.full_snapshot())
        now_step = current_step(datetime.now(UTC))
        assert _mobile(controller, site, now_step) is Outcome.GRANTED
        # Still one use per step: the same step again is a replay. 5 min is the edge of
        # the widest window (10 steps): one step older is refused.
        assert _mobile(controller, site, now_step) is Outcome.REPLAYED_TOKEN
        assert _mobile(controller, site, now_step - 1) is Outcome.INVALID_TOKEN
    finally:
        controller.stop()


def _typed_pass(controller: EdgeController) -> Outcome:
    return controller.handle_input(ReaderInput("r1", "keypad", keys=PASS_CODE)).decision.outcome


def test_pass_windows_shift_with_the_edge_clock(
    edge: EdgeController, site: Site, clock: SkewedClock
) -> None:
    now = datetime.now(UTC)
    ends_soon = site.visitor_pass().model_copy(update={
        "valid_from": now - timedelta(hours=1), "valid_until": now + timedelta(minutes=2),
        "max_uses": 10})
    edge.apply_snapshot(site.full_snapshot(version=2, passes=[ends_soon]))
    assert _typed_pass(edge) is Outcome.GRANTED
    clock.offset = FIVE_MINUTES  # a fast clock ends the visit 5 minutes early
    assert _typed_pass(edge) is Outcome.EXPIRED

    ended = ends_soon.model_copy(update={"valid_until": now - timedelta(minutes=2)})
    edge.apply_snapshot(site.full_snapshot(version=3, passes=[ended]))
    clock.offset = timedelta(0)
    assert _typed_pass(edge) is Outcome.EXPIRED
    clock.offset = -FIVE_MINUTES  # a slow clock keeps an ended pass open (the documented risk)
    assert _typed_pass(edge) is Outcome.GRANTED

    starts_later = ends_soon.model_copy(update={
        "valid_from": now + timedelta(minutes=2), "valid_until": now + timedelta(hours=1)})
    edge.apply_snapshot(site.full_snapshot(version=4, passes=[starts_later]))
    assert _typed_pass(edge) is Outcome.NOT_YET_VALID
    clock.offset = FIVE_MINUTES  # and a fast one lets a visitor in before the window
    assert _typed_pass(edge) is Outcome.GRANTED


@pytest.mark.mqtt
def test_events_keep_their_recorded_order_at_the_hub_when_the_clock_goes_back(
    db: Database, site: Site, tmp_path: Path, clock: SkewedClock
) -> None:
    eventlog = EventLog(db, secrets.token_bytes(32))
    bridge = HubMqttBridge(MQTT_URL, site.site_id, lambda batch: eventlog.append(batch.events))
    bridge.start()
    clock.offset = FIVE_MINUTES
    controller = _edge(site, tmp_path / "edge", clock,
                       link=EdgeMqttLink(MQTT_URL, site.site_id, site.gate_id))
    try:
        assert bridge.wait_connected(10)
        controller.apply_snapshot(site.full_snapshot())
        card = ReaderInput("r1", "card", card=CardData(*CARD))
        recorded = [controller.handle_input(card).event for _ in range(5)]
        clock.offset = timedelta(0)  # NTP steps the clock back 5 minutes
        recorded += [controller.handle_input(card).event for _ in range(5)]
        assert recorded[5].occurred_at < recorded[4].occurred_at
        outbox = controller.outbox
        assert outbox is not None
        assert wait_for(lambda: outbox.depth() == 0, 15), "the outbox did not drain"
    finally:
        controller.stop()
        bridge.stop()

    logged = [e for e in sorted(eventlog.events(site_id=site.site_id, limit=100),
                                key=lambda e: e.seq) if e.kind == "access"]
    assert [e.event_id for e in logged] == [e.event_id for e in recorded]
    edge_seqs = [e.edge_seq for e in logged]
    assert edge_seqs == sorted(edge_seqs) and len(set(edge_seqs)) == len(edge_seqs)
    # occurred_at is kept as the edge recorded it (not rewritten), so it goes back by ~5 min.
    assert logged[5].occurred_at < logged[4].occurred_at - timedelta(minutes=4)
    assert eventlog.verify(site.site_id).ok
