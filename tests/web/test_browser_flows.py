"""End-to-end flows in Debian's Chromium against the live hub.

A resident invites a guest; the guest's pass is used at the gate; the guard sees it live;
the resident exports their data; a guard cannot see who is behind an event without stating a
purpose, and the resident then sees that read. Each page is screenshotted to
artifacts/screenshots/.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from doorward.hub.services import accounts
from doorward.hub.services.accounts import AuthUser
from doorward.store.models import AuditEntry
from doorward.transport.messages import EventBatch, EventMessage

from .conftest import LiveHub, shoot, unlabelled_fields

pytestmark = pytest.mark.browser

LIVE_TIMEOUT_MS = 15_000


@pytest.fixture
def browser_pages(chromium: Any, live_hub: LiveHub) -> Iterator[Any]:
    """A factory of logged-in pages, each in its own browser context (own cookies)."""
    contexts = []

    def open_as(role: str, width: int = 1280) -> Any:
        context = chromium.new_context(base_url=live_hub.base_url,
                                       viewport={"width": width, "height": 900})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(LIVE_TIMEOUT_MS)
        page.goto("/login")
        page.get_by_label("Username").fill(live_hub.username(role))
        page.get_by_label("Password").fill(live_hub.passwords[role])
        page.get_by_role("button", name="Log in").click()
        page.wait_for_load_state()
        return page

    yield open_as
    for context in contexts:
        context.close()


def _decide(live_hub: LiveHub, gate: str, body: dict[str, str]) -> dict[str, Any]:
    """Present a credential at the simulated gate through the hub's decide API."""
    headers = {"Authorization": f"Bearer {live_hub.api_token('guard')}"}
    with httpx.Client(base_url=live_hub.base_url, timeout=10) as client:
        response = client.post(f"/api/v1/gates/{gate}/decide", json=body, headers=headers)
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result


def _resident_badges_in(live_hub: LiveHub, gate: str) -> dict[str, Any]:
    """The demo resident presents their card."""
    card = live_hub.resident
    return _decide(live_hub, gate, {"kind": "card", "card_format": card.card_format,
                                    "card_number": card.card_number})


def test_a_guest_invited_in_the_portal_is_let_in_and_the_guard_sees_it_live(
    browser_pages: Any, live_hub: LiveHub, chromium: Any
) -> None:
    guard = browser_pages("guard")
    guard.goto("/console")
    guard.wait_for_selector("[data-sse-url][data-connected='true']")

    portal = browser_pages("resident", width=420)  # a phone-sized screen
    portal.goto("/portal")
    assert portal.locator("#mobile-key svg").count() == 1  # the rotating key's QR, inline
    portal.get_by_label("Guest's given name (or courier)").fill("Zoe")
    portal.get_by_label("Number of entries allowed").fill("2")
    portal.get_by_role("button", name="Create pass").click()
    code = portal.locator("#short-code").inner_text().strip()
    assert len(code) >= 6
    assert portal.locator("#issued-pass svg").count() == 1
    link = portal.get_by_label("Shareable link").input_value()
    assert "/visit/" in link
    shoot(portal, "portal-pass-issued-phone")

    # The guest opens the shared link, without any account, and gets the QR code.
    guest_context = chromium.new_context(viewport={"width": 390, "height": 800})
    try:
        guest = guest_context.new_page()
        guest.goto(link)
        guest.locator("#visit-card svg").wait_for(timeout=LIVE_TIMEOUT_MS)
        assert "Show this code at the gate" in guest.locator("#visit-card").inner_text()
        shoot(guest, "visit-guest-phone")
        # A link whose payload was tampered with shows no pass, only what is wrong.
        forged = guest_context.new_page()
        forged.goto(link[:-6] + ("AAAAAA" if not link.endswith("AAAAAA") else "BBBBBB"))
        forged.locator("#visit-card [role=alert]").wait_for(timeout=LIVE_TIMEOUT_MS)
        assert forged.locator("#visit-card svg").count() == 0
    finally:
        guest_context.close()

    # The guest types the short code at the simulated gate.
    decision = _decide(live_hub, live_hub.entry_gate, {"kind": "visitor_pass", "pass_code": code})
    assert decision["granted"], decision

    # The guard sees it without reloading: the visitor by given name and host unit, only.
    resident = live_hub.resident
    row = guard.locator("#event-rows tr", has_text=f"visitor Zoe (unit {resident.unit})").first
    row.wait_for()
    assert "granted" in row.inner_text()
    assert resident.name not in guard.locator("#event-rows").inner_text()

    # Second use, from the console's check-in form; the pass allows two entries.
    guard.get_by_label("Pass code (type it, or scan the QR)").fill(code)
    guard.get_by_role("button", name="Check in").click()
    assert "Visitor checked in" in guard.locator(".flash.ok").inner_text()
    # A third use is refused: the pass is used up.
    guard.get_by_label("Pass code (type it, or scan the QR)").fill(code)
    guard.get_by_role("button", name="Check in").click()
    assert "Visitor refused" in guard.locator(".flash.error").inner_text()

    # A resident's own entry appears live as "resident", never by name.
    guard.goto("/console")
    guard.wait_for_selector("[data-sse-url][data-connected='true']")
    assert _resident_badges_in(live_hub, live_hub.door_gate)["granted"]
    resident_row = guard.locator(f"#event-rows tr.fresh[data-gate='{live_hub.door_gate}']").first
    resident_row.wait_for()
    assert resident_row.locator("td.who").inner_text() == "resident"
    assert resident.name not in guard.locator("#event-rows").inner_text()
    shoot(guard, "console")


def test_the_resident_exports_their_data_as_json(browser_pages: Any, live_hub: LiveHub) -> None:
    assert _resident_badges_in(live_hub, live_hub.entry_gate)["granted"]
    resident = browser_pages("resident")
    resident.goto("/portal")
    assert unlabelled_fields(resident) == []
    shoot(resident, "portal")
    resident.goto("/portal/my-data")
    assert resident.locator("#my-entries tbody tr").count() >= 1
    assert unlabelled_fields(resident) == []
    shoot(resident, "portal-my-data")
    with resident.expect_download() as download_info:
        resident.get_by_role("link", name="Download my data (JSON)").click()
    path = download_info.value.path()
    text = path.read_text(encoding="utf-8")
    data = json.loads(text)
    resident = live_hub.resident
    assert data["person"]["name"] == resident.name
    assert data["person"]["unit"] == resident.unit
    assert any(e["gate_id"] == live_hub.entry_gate and e["outcome"] == "granted"
               for e in data["entries"])
    assert "card" in {c["kind"] for c in data["credentials"]}
    assert resident.card_number not in text  # only its last four digits
    assert "$argon2" not in text and "pin_hash" not in text
    assert "face_consent_history" in data and "staff_reads" in data


def test_a_guard_needs_a_stated_purpose_to_see_who_is_behind_an_event(
    browser_pages: Any, live_hub: LiveHub
) -> None:
    entered = _resident_badges_in(live_hub, live_hub.door_gate)
    assert entered["granted"], entered
    name, unit = live_hub.resident.name, live_hub.resident.unit
    guard = browser_pages("guard")
    guard.goto("/console")
    # Newest first: the first row at the garden door is the resident's card.
    newest = guard.locator(f"#event-rows tr[data-gate='{live_hub.door_gate}']").first
    assert newest.locator("td.who").inner_text() == "resident"
    newest.get_by_role("link", name="Break-glass lookup").click()
    guard.wait_for_url("**/console/lookup?event_id=*")

    # No purpose: refused, and no name on the page.
    guard.get_by_role("button", name="Reveal who it was").click()
    assert "needs a stated purpose" in guard.locator(".flash.error").inner_text()
    assert name not in guard.content()
    # A too-short purpose is refused too.
    guard.get_by_label("Purpose (at least 10 characters)").fill("because")
    guard.get_by_role("button", name="Reveal who it was").click()
    assert name not in guard.content()

    purpose = "Door forced at 14:02, checking who entered just before"
    guard.get_by_label("Purpose (at least 10 characters)").fill(purpose)
    guard.get_by_role("button", name="Reveal who it was").click()
    result = guard.locator("#lookup-result").inner_text()
    assert name in result and unit in result
    shoot(guard, "console-break-glass")

    # The resident sees that read, by whom and why.
    resident = browser_pages("resident")
    resident.goto("/portal/my-data")
    reads = resident.locator("#staff-reads").inner_text()
    assert "guard" in reads and purpose in reads


def test_alarms_arrive_live_and_are_acknowledged_and_manual_open_needs_a_reason(
    browser_pages: Any, live_hub: LiveHub
) -> None:
    ctx = live_hub.ctx
    admin = AuthUser(id="setup", username="test-setup", role="admin", person_id=None)
    _edge_id, edge_token = accounts.create_edge_token(ctx, admin, live_hub.door_gate)
    guard = browser_pages("guard")
    guard.goto("/console")
    guard.wait_for_selector("[data-sse-url][data-connected='true']")

    # The door's edge reports it forced open: the alarm and the door state arrive live.
    now = datetime.now(UTC)
    events = [
        EventMessage(event_id=uuid.uuid4().hex, site_id=ctx.site_id, gate_id=live_hub.door_gate,
                     kind="door", occurred_at=now, edge_seq=1, detail={"state": "open"}),
        EventMessage(event_id=uuid.uuid4().hex, site_id=ctx.site_id, gate_id=live_hub.door_gate,
                     kind="alarm", occurred_at=now, edge_seq=2, alarm="door_forced",
                     reason="door opened without a grant"),
    ]
    batch = EventBatch(edge_id=_edge_id, events=events)
    with live_hub.client() as client:
        response = client.post("/api/v1/edge/events", content=batch.model_dump_json(),
                               headers={"Authorization": f"Bearer {edge_token}",
                                        "Content-Type": "application/json"})
        assert response.status_code == 200, response.text
    alarm = guard.locator("#alarm-rows li.alarm", has_text="door forced").first
    alarm.wait_for()
    door = guard.locator(f"#gate-status [data-gate='{live_hub.door_gate}']")
    door.locator("text=door open").wait_for()

    alarm.get_by_label("Comment").fill("Checked on camera: delivery cart jammed the door")
    alarm.get_by_role("button", name="Acknowledge").click()
    guard.locator("#alarm-rows li.alarm", has_text="acknowledged by guard").first.wait_for()
    shoot(guard, "console-alarm")

    # Manual open: refused without a reason, then done, logged live and audited.
    guard.locator("#open-gate").select_option(live_hub.entry_gate)
    guard.get_by_role("button", name="Open gate").click()  # the browser insists on a reason
    assert guard.locator(".flash").count() == 0
    reason = "Wheelchair user with a visitor pass, reader out of reach"
    guard.get_by_label("Reason (required, audited)").fill(reason)
    guard.get_by_role("button", name="Open gate").click()
    assert "opened" in guard.locator(".flash.ok").inner_text()
    with ctx.db.read() as session:
        purposes = session.scalars(
            select(AuditEntry.purpose).where(AuditEntry.action == "gate.manual_open")).all()
    assert reason in purposes
    row = guard.locator(f"#event-rows tr[data-gate='{live_hub.entry_gate}']").first
    assert "opened by staff" in row.inner_text()


def test_the_console_can_follow_one_gate(browser_pages: Any, live_hub: LiveHub) -> None:
    guard = browser_pages("guard", width=390)  # a guard's phone on a patrol
    guard.goto("/console")
    guard.locator("#gate-select").select_option(live_hub.door_gate)
    guard.get_by_role("button", name="Show").click()
    guard.wait_for_selector("[data-sse-url][data-connected='true']")
    assert guard.locator(f"#event-rows tr:not([data-gate='{live_hub.door_gate}'])"
                         ":not(#event-rows-empty)").count() == 0
    assert _resident_badges_in(live_hub, live_hub.entry_gate)["granted"]
    assert _resident_badges_in(live_hub, live_hub.door_gate)["granted"]
    guard.locator(f"#event-rows tr.fresh[data-gate='{live_hub.door_gate}']").first.wait_for()
    assert guard.locator(f"#event-rows tr[data-gate='{live_hub.entry_gate}']").count() == 0
    shoot(guard, "console-phone")
