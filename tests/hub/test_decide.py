"""POST /api/v1/gates/{id}/decide runs the domain core on the hub's own snapshot."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from .conftest import World


def _issue(world: World, **body: Any) -> dict[str, Any]:
    response = world.client.post(
        "/api/v1/credentials",
        json={"person_id": world.resident_person_id, **body},
        headers=world.auth("admin"),
    )
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def _decide(world: World, gate: str = "main", **body: Any) -> dict[str, Any]:
    response = world.client.post(
        f"/api/v1/gates/{gate}/decide", json=body, headers=world.auth("guard")
    )
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def _card(number: str) -> dict[str, str]:
    return {"kind": "card", "card_format": "wiegand26", "card_number": number}


def test_card_granted_unknown_and_revoked(world: World) -> None:
    cred = _issue(world, kind="card", card_format="wiegand26", card_number="00c0ffee")
    granted = _decide(world, **_card("00C0FFEE"))
    assert granted["granted"] is True and granted["outcome"] == "granted"
    assert granted["credential_id"] == cred["id"]
    assert _decide(world, **_card("0BADCAFE"))["outcome"] == "unknown_credential"

    revoke = world.client.post(f"/api/v1/credentials/{cred['id']}/revoke",
                               headers=world.auth("admin"))
    assert revoke.json()["revoked"] is True
    denied = _decide(world, **_card("00C0FFEE"))
    assert denied["granted"] is False and denied["outcome"] == "revoked"


def test_card_limited_to_one_gate_is_refused_at_the_other(world: World) -> None:
    _issue(world, kind="card", card_format="wiegand26", card_number="0A0A", gates=["pool"])
    assert _decide(world, "pool", **_card("0A0A"))["granted"] is True
    assert _decide(world, "main", **_card("0A0A"))["outcome"] == "wrong_gate"


def test_pin_right_and_wrong(world: World) -> None:
    cred = _issue(world, kind="pin", pin="482910")
    assert cred["pin_id"] and len(cred["pin_id"]) == 6
    right = _decide(world, kind="pin", pin_id=cred["pin_id"], pin="482910", reader_id="k1")
    assert right["granted"] is True
    wrong = _decide(world, kind="pin", pin_id=cred["pin_id"], pin="000000", reader_id="k1")
    assert wrong["outcome"] == "wrong_pin"


def test_outside_schedule_is_denied(world: World) -> None:
    today = datetime.now(UTC).weekday()
    other_days = [{"weekday": d, "start_minute": 0, "end_minute": 1440}
                  for d in range(7) if d != today]
    schedule = world.client.post(
        "/api/v1/schedules", json={"name": "Not today", "windows": other_days},
        headers=world.auth("admin"),
    ).json()
    _issue(world, kind="card", card_format="wiegand26", card_number="5C4ED",
           schedule_id=schedule["id"])
    assert _decide(world, **_card("5C4ED"))["outcome"] == "outside_schedule"


def test_mobile_token_from_the_resident_endpoint_opens_once(world: World) -> None:
    _issue(world, kind="mobile")
    token = world.client.get("/api/v1/credentials/mobile/token", headers=world.auth("resident"))
    assert token.status_code == 200, token.text
    first = _decide(world, kind="mobile", token=token.json()["token"])
    assert first["granted"] is True
    replay = _decide(world, kind="mobile", token=token.json()["token"])
    assert replay["outcome"] == "replayed_token"
    forged = _decide(world, kind="mobile", token=token.json()["token"][:-4] + "AAAA")
    assert forged["outcome"] in {"invalid_token", "unknown_credential"}
    assert forged["granted"] is False


def test_resident_without_mobile_key_gets_404_problem(world: World) -> None:
    response = world.client.get("/api/v1/credentials/mobile/token",
                                headers=world.auth("resident"))
    assert response.status_code == 404
    assert "mobile key" in response.json()["detail"]


def _issue_pass(world: World, max_uses: int = 1) -> dict[str, Any]:
    now = datetime.now(UTC)
    response = world.client.post(
        "/api/v1/passes",
        json={"kind": "visitor", "visitor_name": "Bruno",
              "valid_from": (now - timedelta(minutes=5)).isoformat(),
              "valid_until": (now + timedelta(hours=3)).isoformat(), "max_uses": max_uses},
        headers=world.auth("resident"),
    )
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def test_visitor_pass_by_qr_then_used_up(world: World) -> None:
    issued = _issue_pass(world, max_uses=1)
    first = _decide(world, kind="visitor_pass", token=issued["qr_payload"])
    assert first["granted"] is True and first["pass_id"] == issued["pass"]["id"]
    second = _decide(world, kind="visitor_pass", token=issued["qr_payload"])
    assert second["outcome"] == "pass_used_up"
    listed = world.client.get("/api/v1/passes", headers=world.auth("resident")).json()
    assert [p["uses"] for p in listed] == [1]


def test_visitor_pass_by_typed_code_and_after_revocation(world: World) -> None:
    issued = _issue_pass(world, max_uses=5)
    by_code = _decide(world, kind="visitor_pass", pass_code=issued["short_code"], reader_id="k2")
    assert by_code["granted"] is True
    revoke = world.client.post(f"/api/v1/passes/{issued['pass']['id']}/revoke",
                               headers=world.auth("resident"))
    assert revoke.status_code == 200 and revoke.json()["revoked"] is True
    after = _decide(world, kind="visitor_pass", token=issued["qr_payload"])
    assert after["outcome"] == "revoked"


def test_every_decision_is_logged_without_a_name(world: World) -> None:
    _issue(world, kind="card", card_format="wiegand26", card_number="77")
    _decide(world, **_card("77"))
    _decide(world, **_card("78"))
    events = world.client.get("/api/v1/events", headers=world.auth("guard")).json()
    assert sorted(e["outcome"] for e in events) == ["granted", "unknown_credential"]
    assert "Ana" not in str(events) and all("subject" not in e for e in events)
    stats = world.client.get("/api/v1/stats/hourly", headers=world.auth("guard")).json()
    assert [(s["gate_id"], s["granted"], s["denied"]) for s in stats] == [("main", 1, 1)]
    verify = world.client.get("/api/v1/log/verify", headers=world.auth("admin")).json()
    assert verify == {"ok": True, "entries": 2, "message": "the hash chain verifies"}


def test_deciding_at_an_unknown_gate_is_a_404(world: World) -> None:
    response = world.client.post("/api/v1/gates/nope/decide", json=_card("1"),
                                 headers=world.auth("guard"))
    assert response.status_code == 404
    assert response.json()["detail"] == "gate 'nope' does not exist"


def test_a_restarted_hub_remembers_pass_uses(world: World) -> None:
    from doorward.hub.app import build_context

    issued = _issue_pass(world, max_uses=1)
    assert _decide(world, kind="visitor_pass", token=issued["qr_payload"])["granted"] is True
    restarted = build_context(world.ctx.settings, world.ctx.db)
    assert restarted.memory.uses_of(issued["pass"]["id"]) == 1
    world.client.app.state.hub = restarted  # type: ignore[attr-defined]
    again = _decide(world, kind="visitor_pass", token=issued["qr_payload"])
    assert again["outcome"] == "pass_used_up"


def test_revoking_a_pass_or_a_card_asks_every_gate_to_resync_at_once(world: World) -> None:
    from doorward.hub.services import edge_health

    def resyncs(gate_id: str) -> list[str]:
        pending = edge_health.pending_commands(world.ctx, gate_id).commands
        return [c.reason for c in pending if c.command == "resync"]

    issued = _issue_pass(world, max_uses=5)
    world.client.post(f"/api/v1/passes/{issued['pass']['id']}/revoke",
                      headers=world.auth("resident"))
    assert resyncs("main") == ["pass revoked"] and resyncs("pool") == ["pass revoked"]
    card = _issue(world, kind="card", card_format="wiegand26", card_number="91")
    world.client.post(f"/api/v1/credentials/{card['id']}/revoke", headers=world.auth("admin"))
    assert resyncs("pool") == ["pass revoked", "credential revoked"]
