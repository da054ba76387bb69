"""An edge's own HTTPS link and snapshot cache against this hub: snapshot down, decide
offline with the domain core, events up, a revocation arriving as a delta."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from doorward.domain.decide import decide
from doorward.domain.memory import AccessMemory
from doorward.domain.model import AccessRequest, CardData, CredentialKind, Outcome
from doorward.edge.snapshot_cache import ApplyResult, SnapshotCache
from doorward.hub.services.decisions import decision_event
from doorward.transport.http import HttpEdgeLink
from doorward.transport.link import LinkHandlers
from doorward.transport.messages import EventBatch, IngestAck, SnapshotMessage

from .conftest import World


def _post(world: World, path: str, role: str, body: dict[str, Any]) -> dict[str, Any]:
    response = world.client.post(path, json=body, headers=world.auth(role))
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def test_edge_link_snapshot_decide_offline_and_ingest(world: World, tmp_path: Path) -> None:
    person = world.resident_person_id
    card = _post(world, "/api/v1/credentials", "admin",
                 {"person_id": person, "kind": "card", "card_format": "wiegand26",
                  "card_number": "C0DE01"})
    pin = _post(world, "/api/v1/credentials", "admin",
                {"person_id": person, "kind": "pin", "pin": "135790"})
    now = datetime.now(UTC)
    visit = _post(world, "/api/v1/passes", "resident",
                  {"visitor_name": "Gil", "valid_from": now.isoformat(),
                   "valid_until": (now + timedelta(hours=2)).isoformat(), "max_uses": 3})
    token = _post(world, "/api/v1/gates/main/edge-token", "admin", {})["token"]

    snapshots: list[SnapshotMessage] = []
    acks: list[IngestAck] = []
    link = HttpEdgeLink("http://testserver", "main", token,
                        transport=world.client._transport)
    link.start(LinkHandlers(on_ack=acks.append, on_snapshot=snapshots.append))
    cache = SnapshotCache(tmp_path / "edge-cache.sqlite3")
    try:
        link.request_snapshot(cache.version)
        assert cache.apply(snapshots[-1]) is ApplyResult.APPLIED
        snapshot = cache.snapshot
        assert snapshot is not None
        memory = AccessMemory()
        requests = [
            AccessRequest("main", "r1", CredentialKind.CARD, card=CardData("wiegand26", "C0DE01")),
            AccessRequest("main", "k1", CredentialKind.PIN, pin_id=pin["pin_id"], pin="135790"),
            AccessRequest("main", "k1", CredentialKind.VISITOR_PASS,
                          pass_code=visit["short_code"]),
            AccessRequest("main", "r1", CredentialKind.VISITOR_PASS, token=visit["qr_payload"]),
        ]
        decisions = []
        for request in requests:
            decision = decide(request, snapshot, now, memory)
            memory.remember(request, decision, now)
            decisions.append(decision)
        assert [d.outcome for d in decisions] == [Outcome.GRANTED] * 4

        events = [decision_event("site-t", d, now) for d in decisions]
        link.send_events(EventBatch(edge_id="edge-main", events=events))
        assert acks[-1].accepted == [e.event_id for e in events]
        logged = world.client.get("/api/v1/events", headers=world.auth("guard")).json()
        assert len(logged) == 4

        world.client.post(f"/api/v1/credentials/{card['id']}/revoke",
                          headers=world.auth("admin"))
        link.request_snapshot(cache.version)
        assert snapshots[-1].full is False
        assert cache.apply(snapshots[-1]) is ApplyResult.APPLIED
        assert cache.snapshot is not None
        again = decide(requests[0], cache.snapshot, now, memory)
        assert again.outcome is Outcome.REVOKED
    finally:
        link.stop()
        cache.close()
