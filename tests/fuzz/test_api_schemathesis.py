"""Schemathesis against the hub's own OpenAPI schema: every operation, as every kind of
caller (anonymous, resident, guard, admin, edge), must never answer with a 5xx.

Bounded for CI: ``DOORWARD_FUZZ_EXAMPLES`` examples per operation and caller (default 4).
docs/privacy.md gives the command for a long run.
"""

from __future__ import annotations

import os
import warnings
from typing import Any

import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.conftest import World

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

EXAMPLES = int(os.environ.get("DOORWARD_FUZZ_EXAMPLES", "4"))
#: Logging out would end the caller's session for the rest of the run; fuzz it anonymously.
_ONLY_ANONYMOUS = {("POST", "/api/v1/auth/logout")}


def _send(client: TestClient, case: Any, headers: dict[str, str]) -> int:
    kwargs = case.as_transport_kwargs(base_url="")
    merged = {**(kwargs.get("headers") or {}), **headers}
    body = kwargs.get("data")
    client.cookies.clear()
    response = client.request(
        kwargs["method"], kwargs["url"], headers=merged, params=kwargs.get("params"),
        json=kwargs.get("json"), content=body if isinstance(body, bytes | str) else None,
        follow_redirects=False,
    )
    return int(response.status_code)


def fuzz(client: TestClient, callers: dict[str, dict[str, str]],
         examples: int = EXAMPLES) -> tuple[int, int, list[str]]:
    """Run every operation of the app's schema as every caller; (operations, requests, 5xx)."""
    schema = schemathesis.openapi.from_dict(client.app.openapi())  # type: ignore[attr-defined]
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    failures: list[str] = []
    sent = 0
    for operation in operations:
        strategy = operation.as_strategy()
        for caller, headers in callers.items():
            if caller != "anonymous" and (operation.method.upper(),
                                          operation.path) in _ONLY_ANONYMOUS:
                continue

            @settings(max_examples=examples, deadline=None, database=None, derandomize=True,
                      suppress_health_check=list(HealthCheck))
            @given(case=strategy, who=st.just((caller, headers)))
            def run(case: Any, who: tuple[str, dict[str, str]]) -> None:
                nonlocal sent
                sent += 1
                status = _send(client, case, who[1])
                if status >= 500:
                    failures.append(f"{status} {case.method} {case.formatted_path} as "
                                    f"{who[0]}: {case.as_curl_command()}")

            run()
    return len(operations), sent, failures


def test_no_operation_answers_5xx_for_any_caller(world: World) -> None:
    edge = world.client.post("/api/v1/gates/main/edge-token", headers=world.auth("admin"))
    assert edge.status_code == 201, edge.text
    callers: dict[str, dict[str, str]] = {"anonymous": {}}
    for role in ("resident", "guard", "admin"):
        callers[role] = world.auth(role)
    callers["edge"] = {"Authorization": f"Bearer {edge.json()['token']}"}
    operations, sent, failures = fuzz(world.client, callers)
    assert operations > 30
    assert sent >= operations * len(callers)
    assert failures == [], "\n".join(dict.fromkeys(f.split(":")[0] for f in failures))


def test_the_harness_reports_a_5xx() -> None:
    """The fuzzer finds a route that breaks on some input, so a pass above means something."""
    app = FastAPI()

    @app.get("/fragile")
    def fragile(n: int) -> dict[str, int]:
        if n % 7 == 3:
            raise RuntimeError("boom")
        return {"n": n}

    with TestClient(app, raise_server_exceptions=False) as client:
        _, sent, failures = fuzz(client, {"anonymous": {}}, examples=60)
    assert sent > 0 and failures and failures[0].startswith("500 GET /fragile")


def test_a_nul_character_is_refused_as_input_on_both_databases(world: World) -> None:
    """PostgreSQL cannot store NUL in text: that is the client's mistake (422), not a 503."""
    admin = world.auth("admin")
    created = world.client.post("/api/v1/people", headers=admin,
                                json={"name": "Ana\u0000Example", "role": "staff"})
    login = world.client.post("/api/v1/auth/login",
                              json={"username": "ana\u0000", "password": "x"})
    lookup = world.client.get("/api/v1/people/per_%00", headers=admin)
    for response in (created, login, lookup):
        assert 400 <= response.status_code < 500, response.text
