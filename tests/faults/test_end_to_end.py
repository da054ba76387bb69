"""Issue 3, end to end: a card read by libosdp's own PeripheralDevice (a virtual reader over a
socketpair, secure channel enforced with a random SCBK) opens the simulated turnstile through
a real EdgeController, and the event reaches the real hub (create_app with its MQTT bridge)
over the real Mosquitto. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import secrets
import warnings
from pathlib import Path

import osdp
import pytest
from argon2 import PasswordHasher

from doorward.domain.model import GateKind
from doorward.edge.actuators.simulated import SimulatedRelay
from doorward.edge.controller import EdgeConfig, EdgeController, GateHardware
from doorward.hub.app import create_app
from doorward.hub.schemas import CredentialIssue, GateCreate, PersonCreate
from doorward.hub.services import accounts, credentials, gates, people
from doorward.hub.services.accounts import AuthUser
from doorward.hub.services.context import HubContext
from doorward.settings import Settings
from doorward.store.db import Database
from doorward.transport.mqtt import EdgeMqttLink
from edge.test_osdp_reader import Link

from .conftest import wait_for

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # Starlette's one-off import warning about httpx
    from fastapi.testclient import TestClient

pytestmark = pytest.mark.mqtt
MQTT_URL = os.environ.get("DOORWARD_TEST_MQTT_URL", "mqtt://127.0.0.1:1883")
SYSTEM = AuthUser(id="system", username="fault-tests", role="admin", person_id=None)
CARD_NUMBER = 1234567
GATE = "turnstile-1"


@pytest.fixture(autouse=True)
def _cheap_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(accounts, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024,
                                                            parallelism=1))


def test_osdp_card_read_opens_the_turnstile_and_the_event_reaches_the_hub_over_mqtt(
    db: Database, tmp_path: Path
) -> None:
    site_id = f"e2e-{secrets.token_hex(4)}"
    settings = Settings(environment="test", data_dir=tmp_path / "hub", site_id=site_id,
                        mqtt_url=MQTT_URL)
    link = Link(tmp_path)  # a fresh random SCBK, shared by the panel and the virtual reader
    turnstile = SimulatedRelay()
    with TestClient(create_app(settings, database=db)) as hub:
        ctx: HubContext = hub.app.state.hub  # type: ignore[attr-defined]
        gates.create_gate(ctx, SYSTEM, GateCreate(id=GATE, name="Lobby turnstile",
                                                  kind=GateKind.TURNSTILE))
        ana = people.create_person(ctx, SYSTEM, PersonCreate(name="Ana Example"))
        credentials.issue_credential(ctx, SYSTEM, CredentialIssue(
            person_id=ana.id, kind="card", card_format="wiegand26",
            card_number=str(CARD_NUMBER)))
        assert wait_for(lambda: ctx.edge_push is not None, 5), "the hub's bridge did not start"
        config = EdgeConfig(site_id=site_id, gate_id=GATE, data_dir=tmp_path / "edge",
                            pulse_seconds=0.2, heartbeat_seconds=1.0, ack_timeout_seconds=1.0)
        controller = EdgeController(config, [link.reader], GateHardware(turnstile),
                                    link=EdgeMqttLink(MQTT_URL, site_id, GATE))
        controller.start()
        try:
            # The hub answers the edge's first heartbeat (version 0) with a full snapshot.
            assert wait_for(lambda: controller.snapshot_version > 0, 10), "no snapshot"
            assert wait_for(lambda: link.reader.online, 10), "the reader never came online"
            assert link.virtual.wait_secure(), "no secure channel with the virtual reader"

            link.virtual.swipe(CARD_NUMBER)
            assert wait_for(lambda: turnstile.count("pulse") == 1, 5), turnstile.actions
            link.virtual.swipe(7654321)  # never issued: refused, the turnstile stays shut

            def logged() -> list[tuple[str, str, str]]:
                return [(e.gate_id, e.kind, e.outcome)
                        for e in ctx.eventlog.events(site_id=site_id, kind="access",
                                                     newest_first=False)]

            assert wait_for(lambda: len(logged()) == 2, 10), logged()
            assert logged() == [(GATE, "access", "granted"),
                                (GATE, "access", "unknown_credential")]
            granted = ctx.eventlog.events(site_id=site_id, kind="access", limit=10)[-1]
            assert granted.subject and "Ana" not in granted.subject  # pseudonymous
            assert turnstile.count("pulse") == 1
            # The green LED went out over the same secure channel.
            leds = [c for c in link.virtual.commands(timeout=0.5)
                    if c["command"] == osdp.Command.LED]
            assert leds, "no LED command reached the reader"
            assert controller.outbox is not None
            assert wait_for(lambda: controller.outbox is not None
                            and controller.outbox.depth() == 0, 10), "the outbox did not drain"
            assert ctx.eventlog.verify(site_id).ok
        finally:
            controller.stop()
            link.close()
