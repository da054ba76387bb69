"""Every page route against every role, over real HTTP to the live hub on SQLite and on
PostgreSQL; plus CSRF, security headers, and no secret, hash or template source in any page."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fastapi.routing import APIRoute

from doorward.hub.web import AREA_ROUTERS

from .conftest import LiveHub, csrf_of

ROLES = ("anonymous", "resident", "guard", "admin")
LOGIN = 303  # anonymous visitors of a protected page are sent to the login page

#: path -> expected status for (anonymous, resident, guard, admin)
PAGES: dict[str, tuple[int, int, int, int]] = {
    "/login": (200, 200, 200, 200),
    "/privacy": (200, 200, 200, 200),
    "/": (303, 303, 303, 303),
    "/portal": (LOGIN, 200, 403, 403),
    "/portal/my-data": (LOGIN, 200, 403, 403),
    "/portal/mobile-key": (LOGIN, 200, 403, 403),
    "/portal/export.json": (LOGIN, 200, 403, 403),
    "/console": (LOGIN, 403, 200, 200),
    "/console/lookup?event_id=no-such-event": (LOGIN, 403, 404, 404),
    "/charts": (LOGIN, 403, 200, 200),
    "/admin": (LOGIN, 403, 403, 200),
    "/admin/import": (LOGIN, 403, 403, 200),
    "/admin/import/no-such-job": (LOGIN, 403, 403, 404),
    "/admin/gates": (LOGIN, 403, 403, 200),
    "/admin/settings": (LOGIN, 403, 403, 200),
    "/visit/pass_0000000000000000": (200, 200, 200, 200),  # the guest's page needs no login
}

#: Form posts: path -> expected status for (anonymous, resident, guard, admin), CSRF included.
#: The bodies are empty, so a permitted role gets a "what is missing" answer (422), never a 500.
FORMS: dict[str, tuple[int, int, int, int]] = {
    "/console/gates/open": (401, 403, 422, 422),
    "/console/checkin": (401, 403, 422, 422),
    "/console/lockdown": (401, 403, 422, 422),
    "/console/lookup": (401, 403, 404, 404),
    "/admin/gates": (401, 403, 403, 422),
    "/admin/schedules": (401, 403, 403, 422),
    "/admin/settings/retention": (401, 403, 403, 422),
    "/portal/passes": (401, 422, 403, 403),
    "/portal/consent": (401, 422, 403, 403),
    "/portal/erase": (401, 422, 403, 403),
    "/portal/passes/no-such-pass/revoke": (401, 404, 403, 403),
    "/console/alarms/no-such-event/ack": (401, 403, 404, 404),
    "/admin/import": (401, 403, 403, 422),
    "/admin/settings/face": (401, 403, 403, 200),  # switching it off needs nothing
    "/login": (422, 422, 422, 422),
    "/visit/pass_0000000000000000/card": (422, 422, 422, 422),  # no signed pass posted
}
#: Tested on their own: the stream never ends, and logging out would end the clients' sessions.
SEPARATELY = {("GET", "/console/stream"), ("POST", "/logout")}


def test_the_matrix_covers_every_page_and_form_route() -> None:
    covered = {("GET", p.split("?")[0]) for p in PAGES} | {("POST", p) for p in FORMS}
    missing = []
    for area in AREA_ROUTERS:
        for route in area.routes:
            assert isinstance(route, APIRoute)
            for method in route.methods:
                hit = any(m == method and route.path_regex.match(path) for m, path in covered)
                if not hit and (method, route.path) not in SEPARATELY:
                    missing.append(f"{method} {route.path}")
    assert missing == []


def test_logging_out_ends_the_session(any_db_hub: LiveHub) -> None:
    with any_db_hub.client() as client:
        any_db_hub.login(client, "guard")
        assert client.get("/console").status_code == 200
        token = csrf_of(client.get("/console").text)
        response = client.post("/logout", data={"csrf_token": token})
        assert response.status_code == 303 and response.headers["location"] == "/login"
        assert client.get("/console").status_code == LOGIN


@pytest.fixture(scope="module")
def clients(any_db_hub: LiveHub) -> Iterator[dict[str, httpx.Client]]:
    made = {role: any_db_hub.client() for role in ROLES}
    for role in ("resident", "guard", "admin"):
        any_db_hub.login(made[role], role)
    try:
        yield made
    finally:
        for client in made.values():
            client.close()


@pytest.mark.parametrize("path", sorted(PAGES))
def test_every_page_answers_each_role_as_expected(
    clients: dict[str, httpx.Client], path: str
) -> None:
    got = tuple(clients[role].get(path).status_code for role in ROLES)
    assert got == PAGES[path], f"{path}: {dict(zip(ROLES, got, strict=True))}"


def test_anonymous_visitors_are_sent_to_login_with_the_page_to_return_to(
    clients: dict[str, httpx.Client],
) -> None:
    response = clients["anonymous"].get("/console")
    assert response.headers["location"] == "/login?next=/console"


def test_the_start_page_sends_each_role_to_its_own_area(clients: dict[str, httpx.Client]) -> None:
    homes = {role: clients[role].get("/").headers["location"] for role in ROLES}
    assert homes == {"anonymous": "/login", "resident": "/portal", "guard": "/console",
                     "admin": "/admin"}


def test_the_event_stream_is_for_staff_only(clients: dict[str, httpx.Client]) -> None:
    for role, expected in zip(ROLES, (LOGIN, 403, 200, 200), strict=True):
        with clients[role].stream("GET", "/console/stream") as response:
            assert response.status_code == expected, role
            if expected == 200:
                assert response.headers["content-type"].startswith("text/event-stream")


@pytest.mark.parametrize("path", sorted(FORMS))
def test_every_form_answers_each_role_as_expected(
    clients: dict[str, httpx.Client], path: str
) -> None:
    got = []
    for role in ROLES:
        token = csrf_of(clients[role].get("/privacy").text)
        got.append(clients[role].post(path, data={"csrf_token": token}).status_code)
    assert tuple(got) == FORMS[path], f"{path}: {dict(zip(ROLES, got, strict=True))}"


@pytest.mark.parametrize("path", sorted(FORMS))
def test_a_form_without_a_valid_csrf_token_is_refused(
    clients: dict[str, httpx.Client], any_db_hub: LiveHub, path: str
) -> None:
    role = "resident" if path.startswith("/portal") else "admin"
    client = clients[role]
    assert client.post(path, data={}).status_code == 403
    forged = client.post(path, data={"csrf_token": "0" * 64})
    assert forged.status_code == 403
    assert "security token" in forged.text


def test_a_token_from_another_session_does_not_work(
    clients: dict[str, httpx.Client], any_db_hub: LiveHub
) -> None:
    guard_token = csrf_of(clients["guard"].get("/console").text)
    # The admin's own cookie with the guard's token: bound to another session, so refused.
    response = clients["admin"].post("/console/gates/open",
                                     data={"csrf_token": guard_token,
                                           "gate_id": any_db_hub.entry_gate,
                                           "reason": "testing a stolen token"})
    assert response.status_code == 403


def test_pages_carry_security_headers_and_cookies_are_httponly(any_db_hub: LiveHub) -> None:
    with any_db_hub.client() as client:
        page = client.get("/login")
        assert "script-src 'self'" in page.headers["content-security-policy"]
        assert page.headers["x-frame-options"] == "DENY"
        assert "httponly" in page.headers["set-cookie"].lower()
        assert "samesite=strict" in page.headers["set-cookie"].lower()
        response = client.post("/login", data={"username": "resident",
                                                "password": any_db_hub.passwords["resident"],
                                                "csrf_token": csrf_of(page.text)})
        session_cookie = response.headers["set-cookie"].lower()
        assert "doorward_session=" in session_cookie
        assert "httponly" in session_cookie and "samesite=lax" in session_cookie


def test_no_page_shows_a_secret_a_hash_or_template_source(
    clients: dict[str, httpx.Client], any_db_hub: LiveHub
) -> None:
    ctx = any_db_hub.ctx
    secrets = [ctx.settings.secret_key, ctx.pseudonym_key.hex(), ctx.keys.private_bytes().hex(),
               "$argon2"]
    sessions = [c.cookies.get("doorward_session") for c in clients.values()]
    for role in ROLES:
        for path in PAGES:
            body = clients[role].get(path).text
            for secret in secrets + [s for s in sessions if s]:
                assert secret not in body, f"{path} as {role} leaks a secret"
            assert "{{" not in body and "{%" not in body, f"{path} as {role} leaks a template"
            assert "Traceback" not in body


def test_a_wrong_password_is_refused_with_a_plain_message(any_db_hub: LiveHub) -> None:
    with any_db_hub.client() as client:
        form = client.get("/login")
        response = client.post("/login", data={"username": "resident", "password": "wrong password",
                                               "csrf_token": csrf_of(form.text)})
        assert response.status_code == 401
        assert "username or password is wrong" in response.text
        assert "doorward_session" not in response.headers.get("set-cookie", "")


def test_login_never_redirects_off_site(any_db_hub: LiveHub) -> None:
    with any_db_hub.client() as client:
        form = client.get("/login")
        response = client.post("/login", data={
            "username": "guard", "password": any_db_hub.passwords["guard"],
            "csrf_token": csrf_of(form.text), "next": "//evil.example/phish",
        })
        assert response.headers["location"] == "/console"


def test_bad_form_input_says_what_is_wrong_without_a_traceback(
    clients: dict[str, httpx.Client],
) -> None:
    admin = clients["admin"]
    token = csrf_of(admin.get("/admin/settings").text)
    missing = admin.post("/admin/settings/retention", data={"csrf_token": token})
    assert missing.status_code == 422
    assert "field &#39;access_event_days&#39; is missing" in missing.text
    too_long = admin.post("/admin/settings/retention", data={
        "csrf_token": token, "access_event_days": "365", "visitor_days": "7"})
    assert too_long.status_code == 422
    assert "is invalid" in too_long.text and "90" in too_long.text
    assert "Traceback" not in missing.text + too_long.text
