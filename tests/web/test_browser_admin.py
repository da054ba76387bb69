"""The admin area and the remaining pages in Chromium: CSV import in both modes, the face
switch that needs a DPIA reference, the privacy page built from live settings, charts, a
keyboard-only login, and a screenshot of every page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from doorward.domain.model import CredentialKind
from doorward.hub.schemas import AccessRequestIn
from doorward.hub.services import decisions

from .conftest import LiveHub, shoot, unlabelled_fields

pytestmark = pytest.mark.browser

TIMEOUT_MS = 15_000
GOOD_AND_BAD_CSV = (
    b"name,unit,role\n"
    b"Dana Import,12Z,resident\n"
    b"Eli Import,12Z,wizard\n"
    b"Fay Import,,resident\n"
    b"Gus Import,,staff\n"
)


@pytest.fixture
def admin(chromium: Any, live_hub: LiveHub) -> Iterator[Any]:
    context = chromium.new_context(base_url=live_hub.base_url,
                                   viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto("/login")
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill(live_hub.passwords["admin"])
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/admin")
    for path in ("/admin", "/admin/import", "/admin/gates", "/admin/settings"):
        page.goto(path)
        assert unlabelled_fields(page) == [], path
    yield page
    context.close()


def _import(admin: Any, name: str, body: bytes, mode: str) -> Any:
    admin.goto("/admin/import")
    admin.get_by_label("CSV file").set_input_files(
        {"name": name, "mimeType": "text/csv", "buffer": body})
    admin.get_by_label(mode).check()
    admin.get_by_role("button", name="Import").click()
    job = admin.locator("#import-job:not([data-state='running'])")
    job.wait_for()
    return job


def test_csv_import_keeps_good_rows_or_nothing_and_lists_each_bad_row(admin: Any) -> None:
    job = _import(admin, "people.csv", GOOD_AND_BAD_CSV, "Import the good rows")
    assert job.get_attribute("data-state") == "finished"
    summary = admin.locator("#import-summary").inner_text()
    assert "2 imported, 2 row(s) with errors" in summary
    errors = admin.locator("#import-errors").inner_text()
    assert "row 3: unknown role 'wizard'" in errors
    assert "row 4: a resident needs a unit" in errors
    assert admin.locator("#import-progress").get_attribute("value") == "4"
    shoot(admin, "admin-import")

    job = _import(admin, "more.csv", b"name,unit\nHal Nothing,9G\nIda Nothing,\n", "All or nothing")
    assert job.get_attribute("data-state") == "rolled back"
    assert "0 imported" in admin.locator("#import-summary").inner_text()

    admin.goto("/admin")
    people = admin.locator("#people").inner_text()
    assert "Dana Import" in people and "Gus Import" in people
    assert "Eli Import" not in people and "Hal Nothing" not in people
    assert "12Z" in admin.locator("#units").inner_text()
    shoot(admin, "admin")


def test_face_switch_needs_a_dpia_and_the_privacy_page_follows_the_settings(
    admin: Any,
) -> None:
    admin.goto("/admin/settings")
    admin.get_by_label("Face verification on").check()
    admin.get_by_role("button", name="Save face setting").click()
    assert "without a DPIA reference" in admin.locator(".flash.error").inner_text()
    assert admin.locator("#face-state").inner_text() == "off"

    admin.get_by_label("Keep access events for (days, at most 90)").fill("21")
    admin.get_by_role("button", name="Save retention").click()
    admin.get_by_label("DPIA reference").fill("DPIA-2026-07")
    admin.get_by_label("Responsible person").fill("R. Manager, data protection lead")
    admin.get_by_label("Face verification on").check()
    admin.get_by_role("button", name="Save face setting").click()
    assert admin.locator("#face-state").inner_text() == "on"
    shoot(admin, "admin-settings")
    try:
        admin.goto("/privacy")
        assert "21 days" in admin.locator("#retention").inner_text()
        assert "DPIA-2026-07" in admin.locator("#face-policy").inner_text()
        shoot(admin, "privacy")
    finally:
        admin.goto("/admin/settings")
        admin.get_by_label("Face verification on").uncheck()
        admin.get_by_role("button", name="Save face setting").click()
        assert admin.locator("#face-state").inner_text() == "off"


def test_gates_schedules_and_charts_pages(admin: Any, live_hub: LiveHub) -> None:
    admin.goto("/admin/gates")
    admin.locator("#schedule_name").fill("Staff weekdays")
    admin.locator("#schedule_holidays").fill("2026-12-25 2027-01-01")
    admin.get_by_role("button", name="Add schedule").click()
    schedules = admin.locator("#schedules").inner_text()
    assert "Staff weekdays" in schedules and "2026-12-25" in schedules
    assert "Mon 07:00–19:00" in schedules
    shoot(admin, "admin-gates")

    before = _totals(admin)
    card = live_hub.resident.card_number
    for number in (card, card, card, "ABCDEF0"):  # the last one is no one's card
        _present_card(live_hub, live_hub.entry_gate, number)
    _present_card(live_hub, live_hub.door_gate, card)
    after = _totals(admin)
    entry, door = "Main entrance turnstile", "Garden door"
    assert after[entry] == (before[entry][0] + 3, before[entry][1] + 1)
    assert after[door][0] == before[door][0] + 1
    assert admin.locator("section.chart svg").count() == 2  # one per gate, nothing per person
    assert admin.locator("section.chart svg rect.granted[height]:not([height='0.0'])").count() >= 2
    shoot(admin, "charts")


def _present_card(live_hub: LiveHub, gate: str, number: str) -> None:
    data = AccessRequestIn(kind=CredentialKind.CARD, card_format=live_hub.resident.card_format,
                           card_number=number)
    decisions.decide_at_gate(live_hub.ctx, gate, data)


def _totals(admin: Any) -> dict[str, tuple[int, int]]:
    """Granted and denied per gate, as the charts page states them."""
    admin.goto("/charts")
    totals = {}
    for section in admin.locator("section.chart").all():
        gate = section.locator("h2").inner_text()
        granted, denied = re.findall(r"\d+", section.locator("p.totals").inner_text())
        totals[gate] = (int(granted), int(denied))
    return totals


def test_login_works_with_the_keyboard_alone(chromium: Any, live_hub: LiveHub) -> None:
    context = chromium.new_context(base_url=live_hub.base_url)
    try:
        page = context.new_page()
        page.goto("/login")
        shoot(page, "login")
        page.keyboard.type("guard")  # the username field has focus on load
        page.keyboard.press("Tab")
        page.keyboard.type(live_hub.passwords["guard"])
        page.keyboard.press("Enter")
        page.wait_for_url("**/console", timeout=TIMEOUT_MS)
        # Every form field on the guard's pages has a label.
        for path in ("/console", "/charts", "/privacy"):
            page.goto(path)
            assert unlabelled_fields(page) == [], path
    finally:
        context.close()
