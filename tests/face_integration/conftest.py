"""Face wired through: the hub API (SQLite and PostgreSQL), its snapshots, and an edge.

A small world: a face-enabled site, a resident ("ana") with a card, a mobile key and a PIN,
a second resident ("ben"), a gate that requires face ("main") and one that does not
("pool"). Photos come from ``../shared/faces`` and are sent to the API as the phone would:
base64 JPEG bytes in the request body. The engine caches embeddings by frame *content*, so
the same photo decoded twice is embedded once (the tests stay quick on 2 cores).
"""

from __future__ import annotations

import base64
import hashlib
import os
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from argon2 import PasswordHasher

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # Starlette's one-time import notice about httpx
    from fastapi.testclient import TestClient

from doorward.domain.model import GateKind
from doorward.face import FaceEngine, new_unlock_secret
from doorward.face.calibrate import load_frame
from doorward.face.embed import Embedding, Frame
from doorward.hub.app import create_app
from doorward.hub.schemas import CredentialIssue, GateCreate, PersonCreate, UnitCreate
from doorward.hub.services import accounts, credentials, gates, people
from doorward.hub.services.accounts import AuthUser
from doorward.hub.services.context import HubContext
from doorward.hub.web import policy
from doorward.hub.web.rendering import PageUser
from doorward.settings import Settings
from doorward.store.db import Database

_DEFAULT_FACES = Path(__file__).resolve().parents[2] / ".." / "shared" / "faces"
FACES = Path(os.environ.get("DOORWARD_FACES_DIR", _DEFAULT_FACES)).resolve() / "people"
PASSWORD = "correct horse battery"
SYSTEM = AuthUser(id="system", username="test-setup", role="admin", person_id=None)
CARD = ("wiegand26", "00A1B2C3")
PIN = "2580"
ANA_ENROL = ("person02/img26.jpg", "person02/img42.jpg", "person02/img45.jpg")
ANA_AT_GATE = ("person02/img44.jpg", "person02/img46.jpg", "person02/img28.jpg")
IMPOSTOR = ("person05/img13.jpg", "person05/img14.jpg", "person05/img15.jpg")


class ContentCachingEngine(FaceEngine):
    """The real engine; remembers each embedding by the frame's bytes."""

    def __init__(self) -> None:
        super().__init__()
        self._cache: dict[bytes, Embedding] = {}

    def embed_frame(self, frame: Frame) -> Embedding:
        key = hashlib.sha256(frame.tobytes()).digest() + str(frame.shape).encode()
        if key not in self._cache:
            self._cache[key] = super().embed_frame(frame)
        return self._cache[key].copy()


@pytest.fixture(scope="session")
def engine() -> ContentCachingEngine:
    if not FACES.is_dir():
        pytest.fail(f"no shared face photos at {FACES} (set DOORWARD_FACES_DIR)")
    return ContentCachingEngine()


def photo_b64(name: str) -> str:
    return base64.b64encode((FACES / name).read_bytes()).decode()


def photo(name: str) -> Frame:
    return load_frame(FACES / name)


@dataclass
class World:
    client: TestClient
    ctx: HubContext
    tokens: dict[str, str]
    ana: str  # person ids
    ben: str
    card: str  # ana's credential ids
    mobile: str
    pin: str
    pin_id: str
    ben_card: str

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def consent(self, who: str = "ana") -> None:
        response = self.client.post("/api/v1/face/consent", json={}, headers=self.auth(who))
        assert response.status_code == 201, response.text

    def enrol(self, credential_id: str, secret: bytes, photos: tuple[str, ...] = ANA_ENROL,
              who: str = "ana") -> dict[str, object]:
        body = {"credential_id": credential_id,
                "unlock_secret": base64.b64encode(secret).decode(),
                "captures": [photo_b64(p) for p in photos]}
        response = self.client.post("/api/v1/face/enrolment", json=body, headers=self.auth(who))
        assert response.status_code == 201, response.text
        return dict(response.json())


@pytest.fixture(autouse=True)
def _cheap_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(accounts, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024,
                                                            parallelism=1))


@pytest.fixture
def hub_settings(tmp_path: Path) -> Settings:
    return Settings(environment="test", data_dir=tmp_path / "data", site_id="site-f")


@pytest.fixture
def client(
    db: Database, hub_settings: Settings, engine: ContentCachingEngine
) -> Iterator[TestClient]:
    app = create_app(hub_settings, database=db)
    app.state.face_engine = engine
    with TestClient(app) as test_client:
        yield test_client


def _issue(ctx: HubContext, person: str, kind: str, **extra: object) -> tuple[str, str]:
    issued = credentials.issue_credential(
        ctx, SYSTEM, CredentialIssue(person_id=person, kind=kind, **extra)  # type: ignore[arg-type]
    )
    return issued.id, issued.pin_id or ""


@pytest.fixture
def world(client: TestClient) -> World:
    ctx: HubContext = client.app.state.hub  # type: ignore[attr-defined]
    unit = people.create_unit(ctx, SYSTEM, UnitCreate(label="4B"))
    ana = people.create_person(ctx, SYSTEM, PersonCreate(name="Ana", role="resident",
                                                         unit_id=unit.id))
    ben = people.create_person(ctx, SYSTEM, PersonCreate(name="Ben", role="resident",
                                                         unit_id=unit.id))
    gates.create_gate(ctx, SYSTEM, GateCreate(id="main", name="Main turnstile",
                                              kind=GateKind.TURNSTILE, requires_face=True))
    gates.create_gate(ctx, SYSTEM, GateCreate(id="pool", name="Pool door"))
    card, _ = _issue(ctx, ana.id, "card", card_format=CARD[0], card_number=CARD[1])
    mobile, _ = _issue(ctx, ana.id, "mobile")
    pin, pin_id = _issue(ctx, ana.id, "pin", pin=PIN)
    ben_card, _ = _issue(ctx, ben.id, "card", card_format=CARD[0], card_number="00B0B0B0")
    admin = PageUser("system", "test-admin", "admin", None, "")
    policy.set_face_switch(ctx, admin, True, "DPIA-2026-07", "Data protection lead")
    tokens = {}
    for who, person in (("ana", ana.id), ("ben", ben.id)):
        accounts.create_user(ctx, who, PASSWORD, "resident", person)
        response = client.post("/api/v1/auth/login", json={"username": who,
                                                            "password": PASSWORD})
        assert response.status_code == 200, response.text
        tokens[who] = response.json()["token"]
    client.cookies.clear()
    return World(client, ctx, tokens, ana.id, ben.id, card, mobile, pin, pin_id, ben_card)


@pytest.fixture
def secret() -> bytes:
    """What Ana's phone draws and keeps; the hub sees it once, at enrolment."""
    return new_unlock_secret()
