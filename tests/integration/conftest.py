"""A hub served by uvicorn on a real 127.0.0.1 port (over the ``db`` fixture: SQLite and
PostgreSQL), and real edge controllers with simulated readers and hardware connected to it
over the HTTP link with their own edge tokens."""

from __future__ import annotations

import socket
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import uvicorn
from argon2 import PasswordHasher

from doorward.domain.model import GateKind
from doorward.edge.actuators.simulated import (
    SimulatedInput,
    SimulatedPassageCounter,
    SimulatedRelay,
)
from doorward.edge.controller import EdgeConfig, EdgeController, GateHardware
from doorward.edge.readers.simulated import SimulatedReader
from doorward.hub import web
from doorward.hub.app import create_app
from doorward.hub.schemas import CredentialIssue, GateCreate, PersonCreate
from doorward.hub.services import accounts, credentials, gates, people
from doorward.hub.services.accounts import AuthUser
from doorward.hub.services.context import HubContext
from doorward.settings import Settings
from doorward.store.db import Database
from doorward.transport.http import HttpEdgeLink

SYSTEM = AuthUser(id="system", username="test-setup", role="admin", person_id=None)
PASSWORD = "correct horse battery"
RESIDENT_CARD = ("wiegand26", "A1B2C3")
RESPONDER_CARD = ("wiegand26", "F00D01")
GATES = ("gate-a", "gate-b", "gate-c")
OFFLINE_SECONDS = 2


def wait_for(check: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.02)
    return check()


@pytest.fixture(autouse=True)
def _cheap_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    """Real argon2id at the lowest cost: the tests check behaviour, not hash strength."""
    monkeypatch.setattr(accounts, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024,
                                                            parallelism=1))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Edge:
    gate_id: str
    controller: EdgeController
    reader: SimulatedReader
    relay: SimulatedRelay
    door: SimulatedInput
    fire: SimulatedInput
    beam: SimulatedPassageCounter


@dataclass
class LiveSite:
    ctx: HubContext
    url: str
    tmp: Path
    edges: dict[str, Edge] = field(default_factory=dict)

    def start_edge(self, gate_id: str) -> Edge:
        edge_id, token = accounts.create_edge_token(self.ctx, SYSTEM, gate_id)
        reader, relay = SimulatedReader(f"{gate_id}-r"), SimulatedRelay()
        door, fire, beam = SimulatedInput(), SimulatedInput(), SimulatedPassageCounter()
        config = EdgeConfig(site_id=self.ctx.site_id, gate_id=gate_id, edge_id=edge_id,
                            data_dir=self.tmp / "edge" / gate_id, pulse_seconds=0.2,
                            heartbeat_seconds=0.5)
        hardware = GateHardware(relay, door_contact=door, fire_input=fire, beam=beam)
        controller = EdgeController(config, [reader], hardware,
                                    link=HttpEdgeLink(self.url, gate_id, token))
        controller.start()
        edge = Edge(gate_id, controller, reader, relay, door, fire, beam)
        self.edges[gate_id] = edge
        assert wait_for(lambda: controller.snapshot_version > 0), "no snapshot reached the edge"
        return edge

    def stop_edge(self, gate_id: str) -> None:
        self.edges.pop(gate_id).controller.stop()

    def login(self, username: str) -> dict[str, str]:
        import httpx

        response = httpx.post(f"{self.url}/api/v1/auth/login",
                              json={"username": username, "password": PASSWORD})
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['token']}"}


def _populate(ctx: HubContext) -> None:
    for gate_id in GATES:
        gates.create_gate(ctx, SYSTEM, GateCreate(id=gate_id, name=gate_id.title(),
                                                  kind=GateKind.DOOR))
    resident = people.create_person(ctx, SYSTEM, PersonCreate(name="Ana Example"))
    guard = people.create_person(ctx, SYSTEM, PersonCreate(name="Gus Guard", role="guard"))
    credentials.issue_credential(ctx, SYSTEM, CredentialIssue(
        person_id=resident.id, kind="card", card_format=RESIDENT_CARD[0],
        card_number=RESIDENT_CARD[1]))
    credentials.issue_credential(ctx, SYSTEM, CredentialIssue(
        person_id=guard.id, kind="card", card_format=RESPONDER_CARD[0],
        card_number=RESPONDER_CARD[1], responder=True))
    accounts.create_user(ctx, "guard", PASSWORD, "guard", guard.id)
    accounts.create_user(ctx, "admin", PASSWORD, "admin")


@pytest.fixture
def live_site(db: Database, tmp_path: Path) -> Iterator[LiveSite]:
    port = _free_port()
    settings = Settings(environment="test", data_dir=tmp_path / "hub", site_id="site-i",
                        edge_offline_seconds=OFFLINE_SECONDS)
    app = create_app(settings, database=db)
    web.install(app)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                            access_log=False, lifespan="on")
    server = uvicorn.Server(config)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # websockets' legacy import
        thread = threading.Thread(target=server.run, name="test-hub", daemon=True)
        thread.start()
    assert wait_for(lambda: server.started, 30), "the hub did not start"
    ctx: HubContext = app.state.hub
    _populate(ctx)
    site = LiveSite(ctx, f"http://127.0.0.1:{port}", tmp_path)
    try:
        yield site
    finally:
        for gate_id in list(site.edges):
            site.stop_edge(gate_id)
        server.should_exit = True
        thread.join(30)
