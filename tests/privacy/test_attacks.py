"""Attacks, each refused. HTTP attacks go through the real app (API and pages) on SQLite and
PostgreSQL; log tampering edits the database behind the hub's back."""

from __future__ import annotations

import dataclasses
import re
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, func, insert, select, update

from doorward.domain.keys import HubKeys
from doorward.domain.passes import issue_pass, parse_pass
from doorward.hub.schemas import AccessRequestIn
from doorward.hub.services import decisions
from doorward.store.eventlog_models import EventLogEntry
from doorward.store.models import PersonRow

from .conftest import PASSWORD, Neighbour, World, append_events, days_ago


def _decide(world: World, gate: str = "main", **body: Any) -> dict[str, Any]:
    response = world.client.post(f"/api/v1/gates/{gate}/decide", json=body,
                                 headers=world.auth("guard"))
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def _issue(world: World, **body: Any) -> dict[str, Any]:
    response = world.client.post("/api/v1/credentials", headers=world.auth("admin"),
                                 json={"person_id": world.resident_person_id, **body})
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def _pass(world: World, max_uses: int = 1, hours: int = 3) -> dict[str, Any]:
    now = datetime.now(UTC)
    response = world.client.post(
        "/api/v1/passes", headers=world.auth("resident"),
        json={"kind": "visitor", "visitor_name": "Dora Guest", "max_uses": max_uses,
              "valid_from": (now - timedelta(minutes=5)).isoformat(),
              "valid_until": (now + timedelta(hours=hours)).isoformat()})
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


# ----------------------------------------------------------------------- credentials

def test_a_replayed_mobile_token_is_refused(world: World) -> None:
    _issue(world, kind="mobile")
    token = world.client.get("/api/v1/credentials/mobile/token",
                             headers=world.auth("resident")).json()["token"]
    assert _decide(world, kind="mobile", token=token)["granted"] is True
    replay = _decide(world, kind="mobile", token=token)
    assert (replay["granted"], replay["outcome"]) == (False, "replayed_token")
    at_other_gate = _decide(world, "pool", kind="mobile", token=token)
    assert at_other_gate["granted"] is False


def test_a_forged_pass_is_refused(world: World) -> None:
    genuine = _pass(world, max_uses=1)["qr_payload"]
    grant = parse_pass(genuine, world.ctx.keys.public_bytes())
    bigger = dataclasses.replace(grant, max_uses=250,
                                 valid_until=grant.valid_until + timedelta(days=365))
    forged = issue_pass(HubKeys.generate(), bigger)  # signed by someone else's key
    outcome = _decide(world, kind="visitor_pass", token=forged)
    assert (outcome["granted"], outcome["outcome"]) == (False, "invalid_token")
    flipped = genuine[:10] + ("A" if genuine[10] != "A" else "B") + genuine[11:]
    assert _decide(world, kind="visitor_pass", token=flipped)["granted"] is False
    assert _decide(world, kind="visitor_pass", pass_code="ZZZZ-ZZZZ")["granted"] is False


def test_an_expired_pass_is_refused(world: World) -> None:
    issued = _pass(world, max_uses=5, hours=2)
    later = datetime.now(UTC) + timedelta(hours=2, minutes=1)
    request = AccessRequestIn(kind="visitor_pass", token=issued["qr_payload"])  # type: ignore[arg-type]
    outcome = decisions.decide_at_gate(world.ctx, "main", request, now=later)
    assert (outcome.granted, outcome.outcome) == (False, "expired")


def test_an_over_used_pass_is_refused(world: World) -> None:
    issued = _pass(world, max_uses=2)
    for _ in range(2):
        assert _decide(world, kind="visitor_pass", token=issued["qr_payload"])["granted"]
    third = _decide(world, kind="visitor_pass", pass_code=issued["short_code"])
    assert (third["granted"], third["outcome"]) == (False, "pass_used_up")


def test_pin_brute_force_locks_the_pin_out(world: World) -> None:
    pin = _issue(world, kind="pin", pin="482910")
    limit = world.ctx.settings.pin_max_failures
    for guess in range(limit):
        wrong = _decide(world, kind="pin", pin_id=pin["pin_id"], pin=f"{guess:06d}",
                        reader_id="k1")
        assert wrong["granted"] is False
    right = _decide(world, kind="pin", pin_id=pin["pin_id"], pin="482910", reader_id="k1")
    assert (right["granted"], right["outcome"]) == (False, "pin_locked_out")


# ---------------------------------------------------------------------------- access

def test_resident_a_cannot_read_resident_b(world: World, bruno: Neighbour) -> None:
    made = world.client.post("/api/v1/passes", headers=bruno.auth(), json={
        "kind": "visitor", "visitor_name": "Bruno's Guest", "max_uses": 1,
        "valid_from": datetime.now(UTC).isoformat(),
        "valid_until": (datetime.now(UTC) + timedelta(hours=1)).isoformat()})
    assert made.status_code == 201, made.text
    theirs = made.json()
    ana = world.auth("resident")
    assert world.client.get(f"/api/v1/people/{bruno.person_id}", headers=ana).status_code == 403
    assert world.client.get("/api/v1/people", headers=ana).status_code == 403
    listed = world.client.get("/api/v1/passes", headers=ana)
    assert listed.status_code == 200 and "Bruno" not in listed.text
    revoke = world.client.post(f"/api/v1/passes/{theirs['pass']['id']}/revoke", headers=ana)
    assert revoke.status_code == 404  # no hint that the pass exists
    assert world.client.get("/api/v1/events", headers=ana).status_code == 403
    _web_login(world, "ana")  # the portal's pages go by session cookie
    export = world.client.get("/portal/export.json", follow_redirects=False)
    assert export.status_code == 200 and "Bruno" not in export.text
    assert export.json()["person"]["name"] == "Ana Example"


def test_a_guard_cannot_act_as_admin(world: World) -> None:
    guard = world.auth("guard")
    attempts = [
        ("POST", "/api/v1/people", {"name": "Mallory", "role": "admin"}),
        ("GET", "/api/v1/people", None),
        ("PATCH", f"/api/v1/people/{world.resident_person_id}", {"role": "admin"}),
        ("DELETE", f"/api/v1/people/{world.resident_person_id}", None),
        ("POST", "/api/v1/people/resolve", {"subject": "0" * 32, "purpose": "just looking"}),
        ("POST", "/api/v1/credentials", {"person_id": world.resident_person_id, "kind": "card",
                                         "card_format": "wiegand26", "card_number": "1"}),
        ("POST", "/api/v1/gates", {"id": "back", "name": "Back door"}),
        ("GET", "/api/v1/log/verify", None),
    ]
    for method, path, body in attempts:
        response = world.client.request(method, path, headers=guard, json=body)
        assert response.status_code == 403, (method, path, response.text)
    forged = {"Authorization": "Bearer " + world.tokens["guard"][:-2] + "xx"}
    assert world.client.get("/api/v1/people", headers=forged).status_code == 401
    assert world.client.get("/admin", headers=guard, follow_redirects=False).status_code in {
        303, 403}


# ------------------------------------------------------------------------------ web

def _web_login(world: World, username: str) -> str:
    """Log in through the form; return a CSRF token of the logged-in session."""
    form = world.client.get("/login")
    response = world.client.post("/login", follow_redirects=False, data={
        "username": username, "password": PASSWORD, "csrf_token": _csrf(form.text)})
    assert response.status_code == 303, response.text
    return _csrf(world.client.get("/portal/my-data" if username == "ana" else "/admin").text)


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html) or re.search(
        r'<meta name="csrf-token" content="([^"]+)"', html)
    assert found, "the page has no CSRF token"
    return found.group(1)


def test_csrf_on_a_form_is_refused(world: World) -> None:
    token = _web_login(world, "ana")
    for forged in ({}, {"csrf_token": "forged"}, {"csrf_token": token[:-3] + "abc"}):
        response = world.client.post("/portal/erase", follow_redirects=False,
                                     data={"confirm": "erase my account", **forged})
        assert response.status_code == 403, response.text
    with world.ctx.db.read() as session:
        assert session.get(PersonRow, world.resident_person_id) is not None
    # The same request with the page's token goes through: the token was the only difference.
    done = world.client.post("/portal/erase", follow_redirects=False,
                             data={"confirm": "erase my account", "csrf_token": token})
    assert done.status_code == 303


INJECTIONS = [
    "Robert'); DROP TABLE people;--",
    "{{ 7*7 }}{% raw %}x",
    "<script>alert(1)</script>",
    "=HYPERLINK(\"http://evil\")",
]


def test_sql_and_template_injection_in_names_is_stored_inert_and_rendered_escaped(
    world: World,
) -> None:
    ids = []
    for name in INJECTIONS:
        response = world.client.post("/api/v1/people", headers=world.auth("admin"),
                                     json={"name": name, "role": "staff"})
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    for person_id, name in zip(ids, INJECTIONS, strict=True):
        got = world.client.get(f"/api/v1/people/{person_id}", headers=world.auth("admin"))
        assert got.json()["name"] == name  # stored verbatim, as data
    with world.ctx.db.read() as session:
        assert session.scalar(select(func.count()).select_from(PersonRow)) == 1 + len(ids)
    _web_login(world, "admin")
    page = world.client.get("/admin").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert(1)" not in page
    assert "{{ 7*7 }}" in page and ">49<" not in page
    assert "Robert&#39;); DROP TABLE people;--" in page


def test_injection_in_csv_import_is_stored_inert_and_rendered_escaped(world: World) -> None:
    token = _web_login(world, "admin")
    rows = "name,unit,role\n" + "".join(
        f'"{n.replace(chr(34), chr(34) * 2)}",9Z,resident\n' for n in INJECTIONS)
    started = world.client.post("/admin/import", follow_redirects=False,
                                data={"csrf_token": token, "mode": "good-rows"},
                                files={"file": ("people.csv", rows.encode(), "text/csv")})
    assert started.status_code in {200, 303}, started.text
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with world.ctx.db.read() as session:
            names = set(session.scalars(select(PersonRow.name)))
        if set(INJECTIONS) <= names:
            break
        time.sleep(0.1)
    assert set(INJECTIONS) <= names
    page = world.client.get("/admin").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert(1)" not in page
    assert "{{ 7*7 }}" in page


# ------------------------------------------------------------------------ log tampering

def _verify(world: World) -> dict[str, Any]:
    response = world.client.get("/api/v1/log/verify", headers=world.auth("admin"))
    assert response.status_code == 200
    return response.json()  # type: ignore[no-any-return]


@pytest.mark.parametrize("tamper", ["edit", "delete", "insert", "reorder"])
def test_log_tampering_is_caught_by_verify(world: World, tamper: str) -> None:
    append_events(world, None, 6, days_ago(1))
    assert _verify(world)["ok"] is True
    entry = EventLogEntry
    with world.ctx.db.write() as session:
        if tamper == "edit":
            session.execute(update(entry).where(entry.seq == 3).values(outcome="denied"))
        elif tamper == "delete":
            session.execute(delete(entry).where(entry.seq == 3))
        elif tamper == "insert":
            row = session.scalars(select(entry).where(entry.seq == 6)).one()
            values = {c.name: getattr(row, c.name) for c in entry.__table__.columns}
            values.update(seq=7, event_id="ev-forged-000000", prev_hash=row.entry_hash)
            session.execute(insert(entry).values(values))
        else:
            session.execute(update(entry).where(entry.seq == 2).values(seq=-2))
            session.execute(update(entry).where(entry.seq == 4).values(seq=2))
            session.execute(update(entry).where(entry.seq == -2).values(seq=4))
    result = _verify(world)
    assert result["ok"] is False, result
