"""Privacy fixtures: the hub's ``world`` (admin, guard, resident Ana, gates) on SQLite and
PostgreSQL, with the web pages installed too, plus a second resident (Bruno) in another unit.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from doorward.hub import web
from doorward.hub.app import create_app
from doorward.hub.schemas import PersonCreate, UnitCreate
from doorward.hub.services import accounts, people
from doorward.settings import Settings
from doorward.store.db import Database
from doorward.store.eventlog import EventLog, load_chain_key
from doorward.transport.messages import EventMessage

__all__ = ["PASSWORD", "SYSTEM", "Neighbour", "TestClient", "World", "append_events", "days_ago"]
from hub.conftest import (  # noqa: F401 (fixtures re-used from the hub's tests)
    PASSWORD,
    SYSTEM,
    TestClient,
    World,
    _cheap_argon2,
    hub_settings,
    world,
)


@pytest.fixture
def client(db: Database, hub_settings: Settings) -> Iterator[TestClient]:  # noqa: F811
    """The hub's API and its web pages, over one migrated database."""
    app = create_app(hub_settings, database=db)
    web.install(app)
    with TestClient(app) as test_client:
        yield test_client


@dataclass
class Neighbour:
    person_id: str
    token: str

    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture
def bruno(world: World) -> Neighbour:  # noqa: F811
    unit = people.create_unit(world.ctx, SYSTEM, UnitCreate(label="7A"))
    person = people.create_person(
        world.ctx, SYSTEM, PersonCreate(name="Bruno Sample", role="resident", unit_id=unit.id))
    accounts.create_user(world.ctx, "bruno", PASSWORD, "resident", person.id)
    response = world.client.post("/api/v1/auth/login",
                                 json={"username": "bruno", "password": PASSWORD})
    assert response.status_code == 200, response.text
    world.client.cookies.clear()
    return Neighbour(person.id, response.json()["token"])


def append_events(world: World, subject: str | None, n: int, received_at: datetime,  # noqa: F811
                  gate: str = "main") -> list[str]:
    """Append ``n`` access events as if they had reached the hub at ``received_at``."""
    ctx = world.ctx
    log = EventLog(ctx.db, load_chain_key(ctx.settings), clock=lambda: received_at)
    events = [
        EventMessage(event_id=f"ev-{secrets.token_hex(12)}",
                     site_id=ctx.site_id, gate_id=gate, kind="access",
                     occurred_at=received_at - timedelta(seconds=i), edge_seq=i + 1,
                     outcome="granted", reason="", credential_kind="card", subject=subject)
        for i in range(n)
    ]
    log.append(events)
    return [e.event_id for e in events]


def days_ago(days: float) -> datetime:
    return datetime.now(UTC) - timedelta(days=days)
