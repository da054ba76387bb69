"""Hub fixtures: a running app on the ``db`` fixture (SQLite and PostgreSQL), and a small
world with an admin, a guard, a resident in a unit, and two gates."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from argon2 import PasswordHasher

with warnings.catch_warnings():
    # Starlette warns once, at import, that it prefers httpx2; the client works the same.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from doorward.domain.model import GateKind
from doorward.hub.app import create_app
from doorward.hub.schemas import GateCreate, PersonCreate, UnitCreate
from doorward.hub.services import accounts, gates, people
from doorward.hub.services.accounts import AuthUser
from doorward.hub.services.context import HubContext
from doorward.settings import Settings
from doorward.store.db import Database

__all__ = ["PASSWORD", "SYSTEM", "TestClient", "World"]

PASSWORD = "correct horse battery"
SYSTEM = AuthUser(id="system", username="test-setup", role="admin", person_id=None)


@dataclass
class World:
    client: TestClient
    ctx: HubContext
    tokens: dict[str, str]  # role -> bearer token
    resident_person_id: str
    unit_id: str

    def auth(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}


@pytest.fixture(autouse=True)
def _cheap_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    """Real argon2id, at the lowest cost: the tests check behaviour, not hash strength."""
    monkeypatch.setattr(accounts, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024,
                                                            parallelism=1))


@pytest.fixture
def hub_settings(tmp_path: Path) -> Settings:
    return Settings(environment="test", data_dir=tmp_path / "data", site_id="site-t")


@pytest.fixture
def client(db: Database, hub_settings: Settings) -> Iterator[TestClient]:
    app = create_app(hub_settings, database=db)
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def world(client: TestClient) -> World:
    ctx: HubContext = client.app.state.hub  # type: ignore[attr-defined]
    unit = people.create_unit(ctx, SYSTEM, UnitCreate(label="4B"))
    resident = people.create_person(
        ctx, SYSTEM, PersonCreate(name="Ana Example", role="resident", unit_id=unit.id)
    )
    accounts.create_user(ctx, "admin", PASSWORD, "admin")
    accounts.create_user(ctx, "guard", PASSWORD, "guard")
    accounts.create_user(ctx, "ana", PASSWORD, "resident", resident.id)
    turnstile = GateCreate(id="main", name="Main turnstile", kind=GateKind.TURNSTILE)
    gates.create_gate(ctx, SYSTEM, turnstile)
    gates.create_gate(ctx, SYSTEM, GateCreate(id="pool", name="Pool door"))
    tokens = {}
    for role, username in (("admin", "admin"), ("guard", "guard"), ("resident", "ana")):
        credentials = {"username": username, "password": PASSWORD}
        response = client.post("/api/v1/auth/login", json=credentials)
        assert response.status_code == 200, response.text
        tokens[role] = response.json()["token"]
    client.cookies.clear()  # each test chooses its identity explicitly
    return World(client, ctx, tokens, resident.id, unit.id)
