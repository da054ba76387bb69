"""Bad input gets a 4xx RFC 9457 problem saying what was wrong: never a 500, never a traceback."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from .conftest import World

NOW = datetime.now(UTC)
SOON = (NOW + timedelta(hours=1)).isoformat()

# (role, method, path, json body or raw text, status, field named in errors or "" , words in detail)
CASES: list[tuple[str, str, str, Any, int, str, str]] = [
    ("", "POST", "/api/v1/auth/login", {"username": "a"}, 422, "password", "Field required"),
    ("", "POST", "/api/v1/auth/login", "{not json", 422, "", "JSON"),
    ("admin", "POST", "/api/v1/units", {"label": "1A", "floor": 3}, 422, "floor", "Extra"),
    ("admin", "POST", "/api/v1/units", {"label": ""}, 422, "label", "at least 1"),
    ("admin", "POST", "/api/v1/gates", {"id": "bad id!", "name": "x"}, 422, "id", "pattern"),
    ("admin", "POST", "/api/v1/gates", {"id": "g", "name": "x", "kind": "portal"}, 422, "kind",
     "door"),
    ("admin", "PATCH", "/api/v1/gates/nope", {"name": "x"}, 404, "", "gate 'nope'"),
    ("admin", "POST", "/api/v1/schedules",
     {"name": "s", "windows": [{"weekday": 1, "start_minute": 600, "end_minute": 60}]}, 422, "",
     "windows[0] ends before it starts"),
    ("admin", "POST", "/api/v1/schedules",
     {"name": "s", "windows": [{"weekday": 9, "start_minute": 0, "end_minute": 60}]}, 422,
     "windows.0.weekday", "less than or equal to 6"),
    ("admin", "POST", "/api/v1/schedules",
     {"name": "s", "windows": [{"weekday": 1, "start_minute": 0, "end_minute": 60}],
      "timezone": "Mars/Olympus"}, 422, "", "unknown timezone"),
    ("admin", "POST", "/api/v1/schedules",
     {"name": "s", "windows": [{"weekday": 1, "start_minute": 0, "end_minute": 60}],
      "holidays": ["25/12/2026"]}, 422, "holidays.0", "date"),
    ("admin", "POST", "/api/v1/credentials", {"person_id": "{person}", "kind": "card"}, 422, "",
     "card_format and card_number"),
    ("admin", "POST", "/api/v1/credentials", {"person_id": "{person}", "kind": "pin",
                                              "pin": "12ab"}, 422, "", "4 to 8 digits"),
    ("admin", "POST", "/api/v1/credentials", {"person_id": "nobody", "kind": "mobile"}, 404, "",
     "person 'nobody'"),
    ("admin", "POST", "/api/v1/credentials", {"person_id": "{person}", "kind": "mobile",
                                              "gates": ["nope"]}, 404, "", "gate 'nope'"),
    ("admin", "POST", "/api/v1/credentials",
     {"person_id": "{person}", "kind": "mobile", "valid_from": SOON,
      "valid_until": NOW.isoformat()}, 422, "", "valid_until is not after valid_from"),
    ("admin", "POST", "/api/v1/credentials", {"person_id": "{person}", "kind": "face"}, 422,
     "kind", "card"),
    ("admin", "POST", "/api/v1/credentials/nope/revoke", None, 404, "", "credential 'nope'"),
    ("admin", "PATCH", "/api/v1/people/{person}", {"unit_id": "nope"}, 404, "", "unit 'nope'"),
    ("admin", "POST", "/api/v1/people", {"name": "X", "role": "suspect"}, 422, "role",
     "resident"),
    ("admin", "POST", "/api/v1/people/resolve", {"subject": "0123456789", "purpose": "why"},
     422, "purpose", "at least 10"),
    ("resident", "POST", "/api/v1/passes",
     {"visitor_name": "V", "valid_from": "2026-01-01T10:00:00", "valid_until": SOON}, 422, "",
     "no timezone"),
    ("resident", "POST", "/api/v1/passes",
     {"visitor_name": "V", "valid_from": (NOW - timedelta(days=3)).isoformat(),
      "valid_until": (NOW - timedelta(days=2)).isoformat()}, 422, "", "already over"),
    ("resident", "POST", "/api/v1/passes",
     {"visitor_name": "V", "valid_from": NOW.isoformat(),
      "valid_until": (NOW + timedelta(days=30)).isoformat()}, 422, "", "at most 7 days"),
    ("resident", "POST", "/api/v1/passes",
     {"visitor_name": "V", "valid_from": NOW.isoformat(), "valid_until": SOON, "max_uses": 0},
     422, "max_uses", "greater than or equal to 1"),
    ("resident", "POST", "/api/v1/passes/nope/revoke", None, 404, "", "pass 'nope'"),
    ("resident", "POST", "/api/v1/passes",
     {"visitor_name": "V", "valid_from": NOW.isoformat(), "valid_until": SOON,
      "gates": ["nope"]}, 404, "", "gate 'nope'"),
    ("admin", "PUT", "/api/v1/schedules/nope",
     {"name": "s", "windows": [{"weekday": 1, "start_minute": 0, "end_minute": 60}]}, 404, "",
     "schedule 'nope'"),
    ("admin", "DELETE", "/api/v1/units/nope", None, 404, "", "unit 'nope'"),
    ("admin", "PATCH", "/api/v1/gates/main", {"held_open_seconds": 0}, 422,
     "held_open_seconds", "greater than or equal to 1"),
    ("admin", "POST", "/api/v1/gates/nope/edge-token", None, 404, "", "gate 'nope'"),
    ("guard", "POST", "/api/v1/gates/main/decide", {"kind": "retina"}, 422, "kind", "card"),
    ("guard", "GET", "/api/v1/events?limit=0", None, 422, "limit", "greater than or equal"),
    ("guard", "GET", "/api/v1/events?since=yesterday", None, 422, "since", "datetime"),
    ("guard", "GET", f"/api/v1/stats/hourly?since={SOON}&until={NOW.isoformat()}".replace(
        "+", "%2B"), None, 422, "", "until is not after since"),
    ("guard", "GET", "/api/v1/stats/hourly?since=2026-01-01T00:00:00Z&until=2026-06-01T00:00:00Z",
     None, 422, "", "longer than 31 days"),
    ("edge", "GET", "/api/v1/edge/snapshot?gate_id=main&since=-1", None, 422, "since",
     "greater than or equal to 0"),
    ("edge", "GET", "/api/v1/edge/snapshot", None, 422, "gate_id", "Field required"),
    ("edge", "POST", "/api/v1/edge/events", {"edge_id": "e", "events": [{"event_id": "x"}]},
     422, "events.0.event_id", "at least 8"),
    ("guard", "GET", "/api/v1/no-such-thing", None, 404, "", "Not Found"),
    ("guard", "DELETE", "/api/v1/gates", None, 405, "", "Method Not Allowed"),
]


@pytest.mark.parametrize(
    ("role", "method", "path", "body", "status", "field", "words"),
    CASES,
    ids=[f"{c[1]} {c[2][:40]} {c[4]} {c[6][:20]}" for c in CASES],
)
def test_bad_input_gets_a_problem_document(
    world: World, role: str, method: str, path: str, body: Any, status: int, field: str,
    words: str,
) -> None:
    headers = dict(world.auth(role)) if role in world.tokens else {}
    if role == "edge":
        enrol = world.client.post("/api/v1/gates/main/edge-token", headers=world.auth("admin"))
        headers = {"Authorization": f"Bearer {enrol.json()['token']}"}
    path = path.replace("{person}", world.resident_person_id)
    if isinstance(body, dict):
        body = {k: (v.replace("{person}", world.resident_person_id) if isinstance(v, str) else v)
                for k, v in body.items()}
        response = world.client.request(method, path, json=body, headers=headers)
    else:
        headers["content-type"] = "application/json"
        response = world.client.request(method, path, content=body, headers=headers)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == status
    assert problem["title"] and problem["type"].startswith("urn:doorward:problem:")
    assert words.lower() in (problem["detail"] + str(problem.get("errors", ""))).lower()
    assert "Traceback" not in response.text and "File \"" not in response.text
    if status == 422:
        assert problem.get("hint")
    if field:
        named = {e["field"]: e for e in problem["errors"]}
        assert field in named, problem
        assert named[field]["message"] and named[field]["hint"]
