"""Edge endpoints: idempotent ingest, and snapshots full and delta."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from doorward.store.eventlog_models import EventLogEntry
from doorward.transport.messages import SnapshotMessage

from .conftest import World


def _edge(world: World, gate: str = "main") -> dict[str, str]:
    response = world.client.post(f"/api/v1/gates/{gate}/edge-token", headers=world.auth("admin"))
    assert response.status_code == 201
    return {"Authorization": f"Bearer {response.json()['token']}"}


def _event(event_id: str, gate: str = "main", seq: int = 1) -> dict[str, Any]:
    return {
        "event_id": event_id, "site_id": "site-t", "gate_id": gate, "kind": "access",
        "occurred_at": datetime.now(UTC).isoformat(), "edge_seq": seq, "outcome": "granted",
        "reason": "card accepted", "credential_kind": "card", "subject": "ab" * 16,
    }


def _stored(world: World) -> int:
    with world.ctx.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(EventLogEntry)) or 0)


def test_ingest_is_idempotent_by_event_id(world: World) -> None:
    edge = _edge(world)
    batch = {"edge_id": "e1", "events": [_event("evt-00000001"), _event("evt-00000002", seq=2)]}
    first = world.client.post("/api/v1/edge/events", json=batch, headers=edge)
    assert first.status_code == 200, first.text
    assert first.json() == {"accepted": ["evt-00000001", "evt-00000002"], "duplicates": []}
    again = world.client.post("/api/v1/edge/events", json=batch, headers=edge)
    assert again.json() == {"accepted": [], "duplicates": ["evt-00000001", "evt-00000002"]}
    assert _stored(world) == 2


def test_an_edge_may_not_report_another_gate(world: World) -> None:
    edge = _edge(world, "main")
    batch = {"edge_id": "e1", "events": [_event("evt-00000009", gate="pool")]}
    response = world.client.post("/api/v1/edge/events", json=batch, headers=edge)
    assert response.status_code == 403
    assert _stored(world) == 0
    snapshot = world.client.get("/api/v1/edge/snapshot?gate_id=pool", headers=edge)
    assert snapshot.status_code == 403


def _snapshot(world: World, edge: dict[str, str], since: int = 0) -> SnapshotMessage:
    response = world.client.get(f"/api/v1/edge/snapshot?gate_id=main&since={since}",
                                headers=edge)
    assert response.status_code == 200, response.text
    return SnapshotMessage.model_validate(response.json())


def _issue(world: World, **body: Any) -> dict[str, Any]:
    response = world.client.post("/api/v1/credentials",
                                 json={"person_id": world.resident_person_id, **body},
                                 headers=world.auth("admin"))
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def test_full_snapshot_then_a_delta_carrying_a_revocation(world: World) -> None:
    edge = _edge(world)
    card = _issue(world, kind="card", card_format="wiegand26", card_number="AB12")
    pool_only = _issue(world, kind="card", card_format="wiegand26", card_number="CD34",
                       gates=["pool"])
    full = _snapshot(world, edge)
    assert full.full is True and full.base_version == 0
    assert [g.id for g in full.gates] == ["main"]
    assert [c.id for c in full.credentials] == [card["id"]]  # the pool-only card is not here
    assert len(bytes.fromhex(full.hub_public_key)) == 32
    assert full.credentials[0].subject and "Ana" not in full.model_dump_json()

    unchanged = _snapshot(world, edge, since=full.version)
    assert unchanged.full is False and unchanged.credentials == [] and unchanged.gates == []

    world.client.post(f"/api/v1/credentials/{card['id']}/revoke", headers=world.auth("admin"))
    delta = _snapshot(world, edge, since=full.version)
    assert delta.full is False and delta.base_version == full.version
    assert delta.version > full.version
    assert [(c.id, c.revoked) for c in delta.credentials] == [(card["id"], True)]
    assert pool_only["id"] not in {c.id for c in delta.credentials}


def test_erasing_a_person_lists_their_credentials_as_removed(world: World) -> None:
    edge = _edge(world)
    card = _issue(world, kind="card", card_format="wiegand26", card_number="EF56")
    before = _snapshot(world, edge)
    erase = world.client.delete(f"/api/v1/people/{world.resident_person_id}",
                                headers=world.auth("admin"))
    assert erase.status_code == 204
    delta = _snapshot(world, edge, since=before.version)
    assert delta.removed_credentials == [card["id"]]


def test_a_version_from_the_future_gets_a_full_snapshot(world: World) -> None:
    edge = _edge(world)
    snapshot = _snapshot(world, edge, since=10_000)
    assert snapshot.full is True


def test_a_snapshot_feeds_the_domain_core_on_an_edge(world: World) -> None:
    """The wire snapshot converts back to domain objects and carries the PIN hash only."""
    edge = _edge(world)
    _issue(world, kind="pin", pin="246810")
    message = _snapshot(world, edge)
    (pin,) = [c.to_domain() for c in message.credentials]
    assert pin.pin_hash.startswith("$argon2id$") and "246810" not in message.model_dump_json()
