"""No hash, key or salt ever leaves the hub in an API response (edges get only what they need)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import select

from doorward.store.eventlog import load_or_create_chain_key
from doorward.store.models import SubjectMapRow

from .conftest import PASSWORD, World


def _forms(raw: bytes) -> list[str]:
    return [raw.hex(), raw.hex().upper(), base64.b64encode(raw).decode().rstrip("="),
            base64.urlsafe_b64encode(raw).decode().rstrip("=")]


def test_no_secret_or_hash_in_any_response(world: World) -> None:
    seen: list[tuple[str, str]] = []

    def record(response: httpx.Response) -> None:
        response.read()
        seen.append((str(response.request.url.path), response.text))

    client = world.client
    client.event_hooks["response"].append(record)
    admin, resident = world.auth("admin"), world.auth("resident")
    client.post("/api/v1/auth/login", json={"username": "admin", "password": PASSWORD})
    client.get("/api/v1/auth/me", headers=admin)
    person = world.resident_person_id
    client.post("/api/v1/credentials", json={"person_id": person, "kind": "pin", "pin": "918273"},
                headers=admin)
    client.post("/api/v1/credentials", json={"person_id": person, "kind": "mobile"},
                headers=admin)
    client.get("/api/v1/credentials", headers=admin)
    client.get(f"/api/v1/people/{person}", headers=admin)
    client.get("/api/v1/people", headers=admin)
    client.get("/api/v1/credentials/mobile/token", headers=resident)
    now = datetime.now(UTC)
    client.post("/api/v1/passes", headers=resident, json={
        "visitor_name": "Fia", "valid_from": now.isoformat(),
        "valid_until": (now + timedelta(hours=2)).isoformat()})
    client.get("/api/v1/passes", headers=resident)
    client.get("/api/v1/events", headers=world.auth("guard"))
    client.get("/api/v1/openapi.json")
    token = client.post("/api/v1/gates/main/edge-token", headers=admin).json()["token"]
    edge = {"Authorization": f"Bearer {token}"}
    client.get("/api/v1/edge/snapshot?gate_id=main", headers=edge)

    ctx = world.ctx
    with ctx.db.read() as session:
        salts = [bytes.fromhex(s) for s in session.scalars(select(SubjectMapRow.salt))]
    never_anywhere = [ctx.keys.private_bytes(), ctx.pseudonym_key,
                      load_or_create_chain_key(ctx.settings), *salts]
    assert len(seen) == 14
    for path, body in seen:
        for secret in never_anywhere:
            for form in _forms(secret):
                assert form not in body, f"a secret leaked from {path}"
        assert "918273" not in body, path
        if path != "/api/v1/edge/snapshot":
            # The edge needs PIN hashes to check PINs offline; nobody else ever sees one.
            assert "$argon2" not in body, path
            assert ctx.pass_code_key.hex() not in body, path
