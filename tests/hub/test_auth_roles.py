"""Authentication and roles: every route family against anonymous, resident, guard, admin."""

from __future__ import annotations

import pytest

from .conftest import PASSWORD, World

# (method, path, json body, roles allowed). A body that is valid enough to pass validation,
# so a 401/403 comes from the role check, never from a 422.
FAMILIES: list[tuple[str, str, dict[str, object] | None, set[str]]] = [
    ("GET", "/api/v1/auth/me", None, {"resident", "guard", "admin"}),
    ("GET", "/api/v1/people", None, {"admin"}),
    ("GET", "/api/v1/units", None, {"admin"}),
    ("GET", "/api/v1/gates", None, {"guard", "admin"}),
    ("PATCH", "/api/v1/gates/main", {"name": "Main"}, {"admin"}),
    ("GET", "/api/v1/credentials", None, {"admin"}),
    ("GET", "/api/v1/schedules", None, {"admin"}),
    ("GET", "/api/v1/passes", None, {"resident", "admin"}),
    ("POST", "/api/v1/gates/main/decide", {"kind": "card", "card_format": "w26",
                                           "card_number": "01"}, {"guard", "admin"}),
    ("GET", "/api/v1/events", None, {"guard", "admin"}),
    ("GET", "/api/v1/stats/hourly", None, {"guard", "admin"}),
    ("GET", "/api/v1/log/verify", None, {"admin"}),
]


@pytest.mark.parametrize(("method", "path", "body", "allowed"), FAMILIES,
                         ids=[f"{m} {p}" for m, p, _, _ in FAMILIES])
def test_each_role_against_each_route_family(
    world: World, method: str, path: str, body: dict[str, object] | None, allowed: set[str]
) -> None:
    anonymous = world.client.request(method, path, json=body)
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"].startswith("application/problem+json")
    for role in ("resident", "guard", "admin"):
        response = world.client.request(method, path, json=body, headers=world.auth(role))
        if role in allowed:
            assert response.status_code < 400, (role, response.text)
        else:
            assert response.status_code == 403, (role, response.text)
            assert "role" in response.json()["detail"]


def test_edge_routes_refuse_user_tokens_and_accept_edge_tokens(world: World) -> None:
    for role in ("resident", "guard", "admin"):
        response = world.client.get("/api/v1/edge/snapshot?gate_id=main", headers=world.auth(role))
        assert response.status_code == 401
    enrol = world.client.post("/api/v1/gates/main/edge-token", headers=world.auth("admin"))
    assert enrol.status_code == 201
    edge = {"Authorization": f"Bearer {enrol.json()['token']}"}
    assert world.client.get("/api/v1/edge/snapshot?gate_id=main", headers=edge).status_code == 200
    # An edge token is not a login.
    assert world.client.get("/api/v1/auth/me", headers=edge).status_code == 401
    # Only admins enrol edges.
    refused = world.client.post("/api/v1/gates/main/edge-token", headers=world.auth("guard"))
    assert refused.status_code == 403


def test_login_sets_a_secure_httponly_strict_cookie_that_authenticates(world: World) -> None:
    client = world.client
    response = client.post("/api/v1/auth/login", json={"username": "guard", "password": PASSWORD})
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    assert client.get("/api/v1/auth/me").json()["role"] == "guard"
    assert client.post("/api/v1/auth/logout").status_code == 204
    client.cookies.clear()
    assert client.get("/api/v1/auth/me").status_code == 401


def test_logout_kills_the_token_server_side(world: World) -> None:
    headers = world.auth("guard")
    assert world.client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    assert world.client.get("/api/v1/auth/me", headers=headers).status_code == 401


def test_wrong_password_and_unknown_user_get_the_same_answer(world: World) -> None:
    wrong = world.client.post("/api/v1/auth/login", json={"username": "admin", "password": "x"})
    unknown = world.client.post("/api/v1/auth/login", json={"username": "nobody", "password": "x"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["detail"] == unknown.json()["detail"]


def test_login_attempts_are_rate_limited(world: World) -> None:
    limit = world.ctx.settings.login_rate_limit_per_minute
    codes = [
        world.client.post("/api/v1/auth/login", json={"username": "guard", "password": "no"})
        .status_code
        for _ in range(limit + 1)
    ]
    assert codes == [401] * (limit + 1)
    # Even the right password is refused until the minute passes.
    right = world.client.post("/api/v1/auth/login", json={"username": "guard",
                                                          "password": PASSWORD})
    assert right.status_code == 401
    assert "too many" in right.json()["detail"]


def test_a_garbage_bearer_token_is_refused(world: World) -> None:
    response = world.client.get("/api/v1/auth/me", headers={"Authorization": "Bearer nonsense"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
