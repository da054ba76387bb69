"""End-to-end flows in Debian's Chromium against the live hub.

A resident invites a guest; the guest's pass is used at the gate; the guard sees it live;
the resident exports their data; a guard cannot see who is behind an event without stating a
purpose, and the resident then sees that read. Each page is screenshotted to
artifacts/screenshots/.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from doorward.hub.services import credentials
from doorward.hub.services.accounts import AuthUser

from .conftest import CARD_FORMAT, PASSWORD, LiveHub, shoot

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
        page.get_by_label("Username").fill(live_hub.usernames[role])
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_load_state()
        return page

    yield open_as
    for context in contexts:
        context.close()


def _api_token(live_hub: LiveHub, role: str) -> str:
    with live_hub.client() as client:
        response = client.post("/api/v1/auth/login", json={
            "username": live_hub.usernames[role], "password": PASSWORD})
        assert response.status_code == 200, response.text
        return str(response.json()["token"])


def _decide(live_hub: LiveHub, gate: str, body: dict[str, str]) -> dict[str, Any]:
    """Present a credential at the simulated gate through the hub's decide API."""
    headers = {"Authorization": f"Bearer {_api_token(live_hub, 'guard')}"}
    with httpx.Client(base_url=live_hub.base_url, timeout=10) as client:
        response = client.post(f"/api/v1/gates/{gate}/decide", json=body, headers=headers)
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result


def _resident_badges_in(live_hub: LiveHub, gate: str = "garden") -> dict[str, Any]:
    """Ana presents her card (seeded as card number 000001)."""
    return _decide(live_hub, gate, {"kind": "card", "card_format": CARD_FORMAT,
                                    "card_number": "000001"})


def _resident_walks_in(live_hub: LiveHub) -> dict[str, Any]:
    """Ana shows her rotating mobile key at the main turnstile."""
    ana = AuthUser(id="ana", username="ana", role="resident",
                   person_id=live_hub.resident_person_id)
    token = credentials.mobile_token_for(live_hub.ctx, ana)
    return _decide(live_hub, "main", {"kind": "mobile", "token": token.token})


def test_a_guest_invited_in_the_portal_is_let_in_and_the_guard_sees_it_live(
    browser_pages: Any, live_hub: LiveHub, chromium: Any
) -> None:
    guard = browser_pages("guard")
    guard.goto("/console")
    guard.wait_for_selector("[data-sse-url][data-connected='true']")

    resident = browser_pages("resident", width=420)  # a phone-sized screen
    resident.goto("/portal")
    assert resident.locator("#mobile-key svg").count() == 1  # the rotating key's QR, inline
    resident.get_by_label("Guest's given name (or courier)").fill("Zoe")
    resident.get_by_label("Number of entries allowed").fill("2")
    resident.get_by_role("button", name="Create pass").click()
    code = resident.locator("#short-code").inner_text().strip()
    assert len(code) >= 6
    assert resident.locator("#issued-pass svg").count() == 1
    link = resident.get_by_label("Shareable link").input_value()
    assert "/visit/" in link
    shoot(resident, "portal-pass-issued-phone")

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
    decision = _decide(live_hub, "main", {"kind": "visitor_pass", "pass_code": code})
    assert decision["granted"], decision

    # The guard sees it without reloading: the visitor by given name and host unit, only.
    row = guard.locator("#event-rows tr", has_text="visitor Zoe (unit 4B)").first
    row.wait_for()
    assert "granted" in row.inner_text()
    assert "Ana" not in guard.locator("#event-rows").inner_text()

    # Second use, from the console's check-in form; the pass allows two entries.
    guard.get_by_label("Pass code (type it, or scan the QR)").fill(code)
    guard.get_by_role("button", name="Check in").click()
    assert "Visitor checked in" in guard.locator(".flash.ok").inner_text()
    # A third use is refused: the pass is used up.
    guard.get_by_label("Pass code (type it, or scan the QR)").fill(code)
    guard.get_by_role("button", name="Check in").click()
    assert "Visitor refused" in guard.locator(".flash.error").inner_text()

    # A resident's own entry appears as "resident", never by name.
    guard.goto("/console")
    guard.wait_for_selector("[data-sse-url][data-connected='true']")
    _resident_walks_in(live_hub)
    resident_row = guard.locator("#event-rows tr", has_text="mobile").first
    resident_row.wait_for()
    assert resident_row.locator("td.who").inner_text() == "resident"
    shoot(guard, "console")


def test_the_resident_exports_their_data_as_json(browser_pages: Any, live_hub: LiveHub) -> None:
    assert _resident_badges_in(live_hub, "main")["granted"]
    resident = browser_pages("resident")
    resident.goto("/portal/my-data")
    assert resident.locator("#my-entries tbody tr").count() >= 1
    shoot(resident, "portal-my-data")
    with resident.expect_download() as download_info:
        resident.get_by_role("link", name="Download my data (JSON)").click()
    path = download_info.value.path()
    text = path.read_text(encoding="utf-8")
    data = json.loads(text)
    assert data["person"]["name"] == "Ana Example"
    assert data["person"]["unit"] == "4B"
    assert any(e["gate_id"] == "main" and e["outcome"] == "granted" for e in data["entries"])
    assert {c["kind"] for c in data["credentials"]} == {"mobile", "card"}
    assert "$argon2" not in text and "pin_hash" not in text


def test_a_guard_needs_a_stated_purpose_to_see_who_is_behind_an_event(
    browser_pages: Any, live_hub: LiveHub
) -> None:
    entered = _resident_badges_in(live_hub)
    assert entered["granted"], entered
    guard = browser_pages("guard")
    guard.goto("/console")
    # Newest first: the first row at the garden door is Ana's card.
    newest = guard.locator("#event-rows tr[data-gate='garden']").first
    assert newest.locator("td.who").inner_text() == "resident"
    newest.get_by_role("link", name="Break-glass lookup").click()
    guard.wait_for_url("**/console/lookup?event_id=*")

    # No purpose: refused, and no name on the page.
    guard.get_by_role("button", name="Reveal who it was").click()
    assert "needs a stated purpose" in guard.locator(".flash.error").inner_text()
    assert "Ana Example" not in guard.content()
    # A too-short purpose is refused too.
    guard.get_by_label("Purpose (at least 10 characters)").fill("because")
    guard.get_by_role("button", name="Reveal who it was").click()
    assert "Ana Example" not in guard.content()

    purpose = "Door forced at 14:02, checking who entered just before"
    guard.get_by_label("Purpose (at least 10 characters)").fill(purpose)
    guard.get_by_role("button", name="Reveal who it was").click()
    result = guard.locator("#lookup-result").inner_text()
    assert "Ana Example" in result and "4B" in result
    shoot(guard, "console-break-glass")

    # The resident sees that read, by whom and why.
    resident = browser_pages("resident")
    resident.goto("/portal/my-data")
    reads = resident.locator("#staff-reads").inner_text()
    assert "guard" in reads and purpose in reads
