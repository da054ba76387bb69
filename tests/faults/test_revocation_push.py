"""A card revoked through the hub API stops opening an online MQTT edge long before its next
heartbeat (600 s here): the hub pushes a resync to every gate. Runs on SQLite and PostgreSQL.
How fast is benchmarks/bench_revocation.py's job, not this test's."""

from __future__ import annotations

import os
import secrets
import warnings
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from doorward.domain.model import CardData, GateKind, Outcome
from doorward.edge.actuators.simulated import SimulatedRelay
from doorward.edge.controller import EdgeConfig, EdgeController, GateHardware
from doorward.edge.readers import ReaderInput
from doorward.edge.readers.simulated import SimulatedReader
from doorward.hub.app import create_app
from doorward.hub.schemas import CredentialIssue, GateCreate, PersonCreate
from doorward.hub.services import accounts, credentials, gates, people
from doorward.hub.services.accounts import AuthUser
from doorward.hub.services.context import HubContext
from doorward.settings import Settings
from doorward.store.db import Database
from doorward.transport.mqtt import EdgeMqttLink

from .conftest import wait_for

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # Starlette's one-off import warning about httpx
    from fastapi.testclient import TestClient

pytestmark = pytest.mark.mqtt
MQTT_URL = os.environ.get("DOORWARD_TEST_MQTT_URL", "mqtt://127.0.0.1:1883")
SYSTEM = AuthUser(id="system", username="fault-tests", role="admin", person_id=None)
PASSWORD = "correct horse battery"
CARD = ("wiegand26", "C0FFEE")


def test_api_revocation_is_pushed_to_an_online_mqtt_edge(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(accounts, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024,
                                                            parallelism=1))
    site_id = f"revoke-{secrets.token_hex(4)}"
    settings = Settings(environment="test", data_dir=tmp_path / "hub", site_id=site_id,
                        mqtt_url=MQTT_URL)
    with TestClient(create_app(settings, database=db)) as hub:
        ctx: HubContext = hub.app.state.hub  # type: ignore[attr-defined]
        gates.create_gate(ctx, SYSTEM, GateCreate(id="gate-r", name="Back door",
                                                  kind=GateKind.DOOR))
        rita = people.create_person(ctx, SYSTEM, PersonCreate(name="Rita Example"))
        card_id = credentials.issue_credential(ctx, SYSTEM, CredentialIssue(
            person_id=rita.id, kind="card", card_format=CARD[0], card_number=CARD[1])).id
        accounts.create_user(ctx, "admin", PASSWORD, "admin")
        login = hub.post("/api/v1/auth/login", json={"username": "admin", "password": PASSWORD})
        headers = {"Authorization": f"Bearer {login.json()['token']}"}
        hub.cookies.clear()
        assert wait_for(lambda: ctx.edge_push is not None, 5)

        config = EdgeConfig(site_id=site_id, gate_id="gate-r", data_dir=tmp_path / "edge",
                            pulse_seconds=0.1, heartbeat_seconds=600.0)
        edge = EdgeController(config, [SimulatedReader("r1")], GateHardware(SimulatedRelay()),
                              link=EdgeMqttLink(MQTT_URL, site_id, "gate-r"))
        edge.start()
        try:
            assert wait_for(lambda: edge.snapshot_version > 0, 10), "no snapshot"
            card = ReaderInput("r1", "card", card=CardData(*CARD))
            assert edge.handle_input(card).decision.granted
            version = edge.snapshot_version

            response = hub.post(f"/api/v1/credentials/{card_id}/revoke", headers=headers)
            assert response.status_code == 200, response.text
            assert wait_for(lambda: edge.snapshot_version > version, 10), \
                "the revocation waited for the edge's next heartbeat"
            refused = edge.handle_input(card).decision
            assert not refused.granted and refused.outcome is Outcome.REVOKED
        finally:
            edge.stop()
