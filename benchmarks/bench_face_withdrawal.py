"""Face consent withdrawal: how fast the sealed template disappears from every online edge.

One process: the real hub (``create_app`` with the MQTT bridge, SQLite by default) and N real
``EdgeController``s, each at its own gate, linked over Mosquitto. A resident enrols her card
through the API (real photos; embeddings cached by content, since enrolment is not what is
timed), every edge receives the template, then she withdraws with ``DELETE
/api/v1/face/consent``. Timed from just before that request to the moment each edge's
snapshot cache no longer holds the template (polled every millisecond). Path: hub database
-> ``resync`` command pushed to every gate -> edge heartbeat with its version -> hub builds
the delta -> edge applies it (and rewrites its cache file).

Baseline, same run: the same withdrawal without the push, so edges learn at their next
heartbeat (``--baseline-heartbeat`` seconds, default 2; production default 30), withdrawing
at a random point of their heartbeat cycle.

    .venv/bin/python benchmarks/bench_face_withdrawal.py [--edges 8] [--rounds 25]
        [--baseline-rounds 5] [--database-url postgresql://postgres@127.0.0.1:5432/test]

Needs Mosquitto on 127.0.0.1:1883 and ../shared/faces. Writes
``benchmarks/results/face_withdrawal.json``.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import math
import os
import platform
import random
import secrets
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil
from argon2 import PasswordHasher
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the face tests' content-caching engine and photo names

from tests.face_integration.conftest import (  # noqa: E402
    ANA_ENROL,
    FACES,
    ContentCachingEngine,
)

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from doorward.domain.model import GateKind  # noqa: E402
from doorward.edge.actuators.simulated import SimulatedRelay  # noqa: E402
from doorward.edge.controller import EdgeConfig, EdgeController, GateHardware  # noqa: E402
from doorward.edge.face_check import EdgeFaceCheck, SimulatedCamera  # noqa: E402
from doorward.edge.readers.simulated import SimulatedReader  # noqa: E402
from doorward.face import FaceService, new_unlock_secret  # noqa: E402
from doorward.hub.app import create_app  # noqa: E402
from doorward.hub.schemas import (  # noqa: E402
    CredentialIssue,
    GateCreate,
    PersonCreate,
    UnitCreate,
)
from doorward.hub.services import (  # noqa: E402
    accounts,
    credentials,
    face_enrolment,
    gates,
    people,
)
from doorward.hub.services.accounts import AuthUser  # noqa: E402
from doorward.hub.services.common import subject_of  # noqa: E402
from doorward.hub.services.context import HubContext  # noqa: E402
from doorward.hub.web import policy  # noqa: E402
from doorward.hub.web.rendering import PageUser  # noqa: E402
from doorward.settings import Settings  # noqa: E402
from doorward.store.db import Database, normalize_url  # noqa: E402
from doorward.transport.mqtt import EdgeMqttLink  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "face_withdrawal.json"
MQTT_URL = os.environ.get("DOORWARD_TEST_MQTT_URL", "mqtt://127.0.0.1:1883")
SYSTEM = AuthUser(id="bench", username="bench", role="admin", person_id=None)
PASSWORD = "correct horse battery"


class Bench:
    """The hub, a resident with a card, and a fleet of online edges."""

    def __init__(self, workdir: Path, database_url: str | None) -> None:
        self.workdir = workdir
        self.site = f"facebench-{secrets.token_hex(4)}"
        url = database_url or f"sqlite:///{workdir / 'hub.sqlite3'}"
        self._schema = ""
        if url.startswith("postgresql"):  # a throwaway schema, dropped at the end
            self._schema = f"facebench_{secrets.token_hex(4)}"
            self._admin_url = url
            self._admin(f'CREATE SCHEMA "{self._schema}"')
            url += ("&" if "?" in url else "?") + f"options=-csearch_path%3D{self._schema}"
        self.db = Database(url)
        self.db.migrate()
        settings = Settings(environment="test", data_dir=workdir / "hub", site_id=self.site,
                            mqtt_url=MQTT_URL)
        app = create_app(settings, database=self.db)
        app.state.face_engine = ContentCachingEngine()
        self.client = TestClient(app)
        self.captures = [base64.b64encode((FACES / p).read_bytes()).decode() for p in ANA_ENROL]

    def __enter__(self) -> Bench:
        self.client.__enter__()
        self.ctx: HubContext = self.client.app.state.hub  # type: ignore[attr-defined]
        return self

    def __exit__(self, *exc: object) -> None:
        self.client.__exit__(None, None, None)
        self.db.dispose()
        if self._schema:
            self._admin(f'DROP SCHEMA "{self._schema}" CASCADE')

    def _admin(self, statement: str) -> None:
        engine = create_engine(normalize_url(self._admin_url), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                conn.execute(text(statement))
        finally:
            engine.dispose()

    def build_world(self, edges: int) -> None:
        ctx = self.ctx
        unit = people.create_unit(ctx, SYSTEM, UnitCreate(label="1A"))
        ana = people.create_person(ctx, SYSTEM, PersonCreate(name="Ana", role="resident",
                                                             unit_id=unit.id))
        self.gate_ids = [f"gate-{i:02d}" for i in range(edges)]
        for gate_id in self.gate_ids:
            gates.create_gate(ctx, SYSTEM, GateCreate(id=gate_id, name=gate_id,
                                                      kind=GateKind.TURNSTILE))
        self.card = credentials.issue_credential(ctx, SYSTEM, CredentialIssue(
            person_id=ana.id, kind="card", card_format="wiegand26", card_number="00A1B2C3")).id
        policy.set_face_switch(ctx, PageUser("bench", "bench", "admin", None, ""), True,
                               "DPIA-bench", "bench")
        accounts.create_user(ctx, "ana", PASSWORD, "resident", ana.id)
        login = self.client.post("/api/v1/auth/login",
                                 json={"username": "ana", "password": PASSWORD})
        self.client.cookies.clear()
        self.headers = {"Authorization": f"Bearer {login.json()['token']}"}
        with ctx.db.read() as session:
            self.subject = subject_of(session, ana.id) or ""

    @contextlib.contextmanager
    def fleet(self, heartbeat_seconds: float) -> Iterator[list[EdgeController]]:
        running: list[EdgeController] = []
        try:
            for gate_id in self.gate_ids:
                config = EdgeConfig(site_id=self.site, gate_id=gate_id,
                                    data_dir=self.workdir / f"edge-{gate_id}-{heartbeat_seconds}",
                                    heartbeat_seconds=heartbeat_seconds)
                edge = EdgeController(config, [SimulatedReader("r1")],
                                      GateHardware(SimulatedRelay()),
                                      link=EdgeMqttLink(MQTT_URL, self.site, gate_id),
                                      face=EdgeFaceCheck(SimulatedCamera()))
                edge.start()
                running.append(edge)
            yield running
        finally:
            for edge in running:
                edge.stop()

    def enrol_everywhere(self, fleet: list[EdgeController]) -> None:
        """Consent, enrol, and wait until every edge holds the template (not timed)."""
        response = self.client.post("/api/v1/face/consent", json={}, headers=self.headers)
        assert response.status_code == 201, response.text
        body = {"credential_id": self.card,
                "unlock_secret": base64.b64encode(new_unlock_secret()).decode(),
                "captures": self.captures}
        response = self.client.post("/api/v1/face/enrolment", json=body, headers=self.headers)
        assert response.status_code == 201, response.text  # pushed to the edges
        _wait_all(fleet, self.card, present=True, timeout=30)

    def withdraw(self, *, push: bool) -> float:
        """Withdraw; returns the hub-side time in seconds."""
        started = time.perf_counter()
        if push:
            response = self.client.delete("/api/v1/face/consent", headers=self.headers)
            assert response.status_code == 200, response.text
        else:  # the same database change, without telling the edges
            FaceService(self.ctx.db, threshold=0.0).withdraw_consent(self.subject)
            with self.ctx.db.write() as session:
                face_enrolment.announce_face_change(session, self.site, self.subject)
        return time.perf_counter() - started


def _held(edge: EdgeController, card: str) -> bool:
    cache = edge.cache
    return cache is not None and cache.face_template(card) is not None


def _wait_all(fleet: list[EdgeController], card: str, *, present: bool, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while any(_held(e, card) != present for e in fleet):
        if time.monotonic() > deadline:
            raise SystemExit(f"edges did not {'receive' if present else 'drop'} the template "
                             f"within {timeout} s: is Mosquitto running on {MQTT_URL}?")
        time.sleep(0.005)


def _propagation(bench: Bench, fleet: list[EdgeController], *, push: bool,
                 timeout: float) -> tuple[list[float], float]:
    """Seconds from the withdrawal request to each edge dropping the template."""
    bench.enrol_everywhere(fleet)
    if not push:  # withdraw at a random point of the edges' heartbeat cycle
        time.sleep(random.uniform(0, fleet[0].config.heartbeat_seconds))
    start = time.perf_counter()
    hub_seconds = bench.withdraw(push=push)
    arrived: dict[int, float] = {}
    while len(arrived) < len(fleet):
        now = time.perf_counter()
        for index, edge in enumerate(fleet):
            if index not in arrived and not _held(edge, bench.card):
                arrived[index] = now - start
        if now - start > timeout:
            raise SystemExit(f"only {len(arrived)} of {len(fleet)} edges dropped the template")
        time.sleep(0.001)
    return list(arrived.values()), hub_seconds


def _p(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def _summary(samples: list[float], per_round_last: list[float]) -> dict[str, Any]:
    return {
        "samples": len(samples),
        "p50_ms": round(statistics.median(samples) * 1000, 1),
        "p99_ms": round(_p(samples, 0.99) * 1000, 1),
        "max_ms": round(max(samples) * 1000, 1),
        "last_edge_p50_ms": round(statistics.median(per_round_last) * 1000, 1),
        # edges brought up to date per second of wall time, counting each round until its last
        # edge was done
        "edges_per_second": round(len(samples) / sum(per_round_last), 1),
    }


def report_propagation(
    *, name: str, results: Path, args: argparse.Namespace, backend: str, headline: str,
    request: str, hub_key: str, hub_times: list[float], rss_mb: float,
    pushed: tuple[list[float], list[float]], baseline: tuple[list[float], list[float]],
) -> dict[str, Any]:
    """Write and print one propagation run (pushed vs heartbeat-only); shared with
    bench_revocation.py so both report the same fields the same way."""
    result: dict[str, Any] = {
        "benchmark": name,
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "command": " ".join([f"benchmarks/bench_{name}.py", *sys.argv[1:]]),
        "database": backend,
        "edges": args.edges,
        "rounds": args.rounds,
        "push": _summary(*pushed),
        hub_key: round(statistics.median(hub_times) * 1000, 1),
        "baseline_heartbeat_only": {
            "heartbeat_seconds": args.baseline_heartbeat,
            **_summary(*baseline),
        },
        "rss_mb": round(rss_mb, 1),
        "target_p99_ms": 2000,
    }
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(json.dumps(result, indent=2) + "\n")
    push, base = result["push"], result["baseline_heartbeat_only"]
    print(f"{headline} {args.edges} online edges over MQTT ({backend}), "
          f"{push['samples']} edge samples")
    print(f"  pushed (resync):  p50 {push['p50_ms']} ms  p99 {push['p99_ms']} ms  "
          f"max {push['max_ms']} ms  last edge p50 {push['last_edge_p50_ms']} ms  "
          f"{push['edges_per_second']} edges/s")
    print(f"  hub request alone ({request}): p50 {result[hub_key]} ms")
    print(f"  baseline, heartbeat every {args.baseline_heartbeat} s, no push: p50 "
          f"{base['p50_ms']} ms  p99 {base['p99_ms']} ms ({base['samples']} samples)")
    print(f"  RSS {rss_mb:.0f} MB   -> {results.relative_to(ROOT)}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edges", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=25)
    parser.add_argument("--baseline-rounds", type=int, default=5)
    parser.add_argument("--baseline-heartbeat", type=float, default=2.0)
    parser.add_argument("--database-url", default=None, help="default: a SQLite file")
    args = parser.parse_args()
    # The bench's own argon2 logins stay cheap; the hub's PIN/password cost is not measured.
    accounts._HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)

    with tempfile.TemporaryDirectory() as tmp, Bench(Path(tmp), args.database_url) as bench:
        bench.build_world(args.edges)
        pushed: list[float] = []
        pushed_last: list[float] = []
        hub_times: list[float] = []
        with bench.fleet(heartbeat_seconds=600.0) as fleet:  # only the push can be in time
            for _ in range(args.rounds):
                samples, hub_seconds = _propagation(bench, fleet, push=True, timeout=30)
                pushed += samples
                pushed_last.append(max(samples))
                hub_times.append(hub_seconds)
        baseline: list[float] = []
        baseline_last: list[float] = []
        with bench.fleet(heartbeat_seconds=args.baseline_heartbeat) as fleet:
            for _ in range(args.baseline_rounds):
                samples, _ = _propagation(bench, fleet, push=False,
                                          timeout=args.baseline_heartbeat * 5 + 10)
                baseline += samples
                baseline_last.append(max(samples))
        rss_mb = psutil.Process().memory_info().rss / 2**20
        backend = bench.db.engine.dialect.name

    report_propagation(
        name="face_withdrawal", results=RESULTS, args=args, backend=backend,
        headline="withdrawal -> template gone from", request="DELETE /api/v1/face/consent",
        hub_key="hub_withdrawal_request_p50_ms", hub_times=hub_times, rss_mb=rss_mb,
        pushed=(pushed, pushed_last), baseline=(baseline, baseline_last),
    )

if __name__ == "__main__":
    main()
