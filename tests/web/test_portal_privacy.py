"""The resident's privacy controls over real HTTP, on SQLite and PostgreSQL: face consent
follows the site's switch, erasure shreds the link to past events, and the login form is
rate-limited."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import select

from doorward.domain.model import CredentialKind
from doorward.hub.schemas import AccessRequestIn
from doorward.hub.services import accounts, decisions
from doorward.hub.services.common import subject_of
from doorward.hub.web.policy import consent_given
from doorward.store.models import CredentialRow, PersonRow, UserRow

from .conftest import LiveHub, csrf_of


@pytest.fixture
def admin_client(any_db_hub: LiveHub) -> Iterator[httpx.Client]:
    with any_db_hub.client() as client:
        any_db_hub.login(client, "admin")
        yield client


def _post(client: httpx.Client, path: str, page: str, **data: str) -> httpx.Response:
    token = csrf_of(client.get(page).text)
    return client.post(path, data={"csrf_token": token, **data})


def _new_resident_login(hub: LiveHub) -> tuple[str, str, str]:
    """A login for another resident of the community: (username, password, person id)."""
    with hub.ctx.db.read() as session:
        taken = set(session.scalars(select(UserRow.person_id)).all())
        person_id = next(p for p in session.scalars(
            select(PersonRow.id).where(PersonRow.role == "resident",
                                       PersonRow.unit_id.is_not(None))).all()
                         if p not in taken)
    username, password = f"r-{secrets.token_hex(4)}", secrets.token_urlsafe(12)
    accounts.create_user(hub.ctx, username, password, "resident", person_id)
    return username, password, person_id


def _login(client: httpx.Client, username: str, password: str) -> httpx.Response:
    form = client.get("/login")
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": csrf_of(form.text)})


def test_face_consent_follows_the_site_switch(any_db_hub: LiveHub,
                                              admin_client: httpx.Client) -> None:
    with any_db_hub.client() as resident:
        any_db_hub.login(resident, "resident")
        refused = _post(resident, "/portal/consent", "/portal/my-data", choice="opt-in")
        assert refused.status_code == 422
        assert "switched off" in refused.text

        switched = _post(admin_client, "/admin/settings/face", "/admin/settings",
                         enabled="on", dpia_reference="DPIA-7", responsible="Site manager")
        assert switched.status_code == 200
        try:
            opted_in = _post(resident, "/portal/consent", "/portal/my-data", choice="opt-in")
            assert opted_in.status_code == 200 and "opted in" in opted_in.text
            exported = resident.get("/portal/export.json").json()
            assert exported["face_consent"] is True
            assert exported["face_consent_history"][-1]["policy_version"] == "DPIA-7"

            opted_out = _post(resident, "/portal/consent", "/portal/my-data", choice="opt-out")
            assert "You opted out" in opted_out.text
            assert resident.get("/portal/export.json").json()["face_consent"] is False
        finally:
            _post(admin_client, "/admin/settings/face", "/admin/settings",
                  dpia_reference="DPIA-7", responsible="Site manager")
        assert "No face is captured" in resident.get("/privacy").text


def test_erasing_my_account_logs_me_out_and_shreds_the_link_to_my_events(
    any_db_hub: LiveHub, admin_client: httpx.Client
) -> None:
    hub = any_db_hub
    username, password, person_id = _new_resident_login(hub)
    with hub.ctx.db.read() as session:
        card = session.scalars(select(CredentialRow).where(
            CredentialRow.person_id == person_id, CredentialRow.kind == "card",
            CredentialRow.revoked.is_(False))).first()
        subject = subject_of(session, person_id)
    assert card is not None and subject is not None
    decision = decisions.decide_at_gate(hub.ctx, hub.door_gate, AccessRequestIn(
        kind=CredentialKind.CARD, card_format=card.card_format or "",
        card_number=card.card_number or ""))
    assert decision.granted

    with hub.client() as client:
        assert _login(client, username, password).status_code == 303
        _post(admin_client, "/admin/settings/face", "/admin/settings", enabled="on",
              dpia_reference="DPIA-7", responsible="Site manager")
        try:
            opted = _post(client, "/portal/consent", "/portal/my-data", choice="opt-in")
            assert opted.status_code == 200
        finally:
            _post(admin_client, "/admin/settings/face", "/admin/settings")
        assert consent_given(hub.ctx, subject)
        kept = _post(client, "/portal/erase", "/portal/my-data", confirm="erase me please")
        assert kept.status_code == 422 and "was not erased" in kept.text
        erased = _post(client, "/portal/erase", "/portal/my-data", confirm="Erase my account")
        assert erased.status_code == 303 and erased.headers["location"] == "/login"
        assert client.get("/portal").status_code == 303  # the session went with the account
        assert _login(client, username, password).status_code == 401
    assert not consent_given(hub.ctx, subject)  # face consent withdrawn, templates deleted

    # The event stays in the log, but no one can tell whose it was any more.
    with hub.client() as guard:
        hub.login(guard, "guard")
        console = guard.get("/console").text
        event_ids = [e.event_id for e in hub.ctx.eventlog.events(
            site_id=hub.ctx.site_id, gate_id=hub.door_gate, limit=50)
            if e.subject == subject]
        assert event_ids and event_ids[0] in console
        lookup = _post(guard, "/console/lookup", "/console", event_id=event_ids[0],
                       purpose="checking an old entry after an erasure request")
        assert lookup.status_code == 404
        assert "erased" in lookup.text


def test_the_login_form_is_rate_limited(any_db_hub: LiveHub) -> None:
    username = f"nobody-{secrets.token_hex(3)}"
    limit = any_db_hub.ctx.settings.login_rate_limit_per_minute
    with any_db_hub.client() as client:
        for _ in range(limit):
            wrong = _login(client, username, "wrong password")
            assert wrong.status_code == 401 and "username or password is wrong" in wrong.text
        refused = _login(client, username, "wrong password")
        assert refused.status_code == 401
        assert "too many login attempts" in refused.text


def test_a_delivery_window_can_be_opened_and_revoked(any_db_hub: LiveHub) -> None:
    hub = any_db_hub
    with hub.client() as resident:
        hub.login(resident, "resident")
        issued = _post(resident, "/portal/passes", "/portal", kind="delivery",
                       visitor_name="Parcel courier", hours="2", max_uses="1")
        assert issued.status_code == 200, issued.text
        code = re.search(r'id="short-code">([^<]+)<', issued.text)
        pass_id = re.search(r'action="/portal/passes/([^/"]+)/revoke"', issued.text)
        assert code and pass_id
        assert "delivery" in issued.text and "Parcel courier" in issued.text

        revoked = _post(resident, f"/portal/passes/{pass_id.group(1)}/revoke", "/portal")
        assert revoked.status_code == 200 and "is revoked" in revoked.text
    decision = decisions.decide_at_gate(hub.ctx, hub.entry_gate, AccessRequestIn(
        kind=CredentialKind.VISITOR_PASS, pass_code=code.group(1)))
    assert not decision.granted and decision.outcome == "revoked"


def test_a_pass_window_in_the_past_is_refused_with_a_reason(any_db_hub: LiveHub) -> None:
    with any_db_hub.client() as resident:
        any_db_hub.login(resident, "resident")
        refused = _post(resident, "/portal/passes", "/portal", kind="visitor",
                        visitor_name="Late guest", starts="2020-01-01T10:00", hours="2")
        assert refused.status_code == 422
        assert "already over" in refused.text
