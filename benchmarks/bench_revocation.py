"""Revocation propagation: how fast a revoked card stops opening every online edge.

One process: the real hub (``create_app`` with its MQTT bridge, SQLite by default) and N real
``EdgeController``s, one per gate, linked over Mosquitto. Each round issues a card, waits
until every edge holds it (not timed), then revokes it with ``POST
/api/v1/credentials/{id}/revoke``. Timed from just before that request to the moment each
edge's snapshot no longer lets the card in (its cached credential is revoked or gone; polled
every millisecond). Path: hub database -> ``resync`` command pushed to every gate -> edge
heartbeat with its version -> hub builds the delta -> edge applies it.

Baseline, same run: the same revocation without the push (``revoke_credential`` alone), so
edges learn at their next heartbeat (``--baseline-heartbeat`` seconds, default 2; production
default 30), revoking at a random point of their heartbeat cycle.

    .venv/bin/python benchmarks/bench_revocation.py [--edges 8] [--rounds 25]
        [--baseline-rounds 5] [--database-url postgresql://postgres@127.0.0.1:5432/test]

Needs Mosquitto on 127.0.0.1:1883. Writes ``benchmarks/results/revocation.json``.
The hub, the fleet and the statistics are shared with ``bench_face_withdrawal.py``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
from argon2 import PasswordHasher

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_face_withdrawal import ROOT, Bench, report_propagation
from doorward.edge.actuators.simulated import SimulatedRelay
from doorward.edge.controller import EdgeConfig, EdgeController, GateHardware
from doorward.edge.readers.simulated import SimulatedReader
from doorward.hub.schemas import CredentialIssue, PersonCreate
from doorward.hub.services import accounts, credentials, edge_health, people
from doorward.transport.mqtt import EdgeMqttLink

RESULTS = ROOT / "benchmarks" / "results" / "revocation.json"
MQTT_URL = os.environ.get("DOORWARD_TEST_MQTT_URL", "mqtt://127.0.0.1:1883")
PASSWORD = "correct horse battery"


class RevocationBench(Bench):
    """The face bench's hub and gates; an admin login and a resident whose cards we revoke."""

    def __enter__(self) -> RevocationBench:
        super().__enter__()
        return self

    def build_world(self, edges: int) -> None:
        super().build_world(edges)
        accounts.create_user(self.ctx, "admin", PASSWORD, "admin")
        login = self.client.post("/api/v1/auth/login",
                                 json={"username": "admin", "password": PASSWORD})
        self.client.cookies.clear()
        self.admin = {"Authorization": f"Bearer {login.json()['token']}"}
        self.person = people.create_person(self.ctx, self.system,
                                           PersonCreate(name="Rita", role="resident")).id
        self.issued = 0

    @property
    def system(self) -> accounts.AuthUser:
        return accounts.AuthUser(id="bench", username="bench", role="admin", person_id=None)

    def issue_card(self) -> str:
        self.issued += 1
        return credentials.issue_credential(self.ctx, self.system, CredentialIssue(
            person_id=self.person, kind="card", card_format="wiegand26",
            card_number=f"{0xB0000000 + self.issued:08X}")).id

    def revoke(self, credential_id: str, *, push: bool) -> float:
        started = time.perf_counter()
        if push:
            response = self.client.post(f"/api/v1/credentials/{credential_id}/revoke",
                                        headers=self.admin)
            assert response.status_code == 200, response.text
        else:  # the same database change, without telling the edges
            credentials.revoke_credential(self.ctx, self.system, credential_id)
        return time.perf_counter() - started

    @contextlib.contextmanager
    def plain_fleet(self, heartbeat_seconds: float) -> Iterator[list[EdgeController]]:
        """Gates without cameras: a revocation needs none."""
        running: list[EdgeController] = []
        try:
            for gate_id in self.gate_ids:
                config = EdgeConfig(site_id=self.site, gate_id=gate_id,
                                    data_dir=self.workdir / f"rev-{gate_id}-{heartbeat_seconds}",
                                    heartbeat_seconds=heartbeat_seconds)
                edge = EdgeController(config, [SimulatedReader("r1")],
                                      GateHardware(SimulatedRelay()),
                                      link=EdgeMqttLink(MQTT_URL, self.site, gate_id))
                edge.start()
                running.append(edge)
            yield running
        finally:
            for edge in running:
                edge.stop()


def _opens(edge: EdgeController, credential_id: str) -> bool:
    """Whether the edge's snapshot still holds the credential as usable."""
    snapshot = edge.cache.snapshot if edge.cache is not None else None
    if snapshot is None:
        return False
    credential = snapshot.credentials.get(credential_id)
    return credential is not None and not credential.revoked


def _wait_all(fleet: list[EdgeController], credential_id: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not all(_opens(e, credential_id) for e in fleet):
        if time.monotonic() > deadline:
            raise SystemExit(f"edges did not receive the new card within {timeout} s: "
                             f"is Mosquitto running on {MQTT_URL}?")
        time.sleep(0.005)


def _round(bench: RevocationBench, fleet: list[EdgeController], *, push: bool,
           timeout: float) -> tuple[list[float], float]:
    """Seconds from the revocation request to each edge refusing the card."""
    card = bench.issue_card()
    if push:  # the push fleet's heartbeat is too slow to bring the new card: resync (untimed)
        edge_health.issue_command(bench.ctx, bench.gate_ids, "resync", "bench: new card")
    _wait_all(fleet, card, timeout=fleet[0].config.heartbeat_seconds * 3 + 30)
    if not push:  # revoke at a random point of the edges' heartbeat cycle
        time.sleep(random.uniform(0, fleet[0].config.heartbeat_seconds))
    start = time.perf_counter()
    hub_seconds = bench.revoke(card, push=push)
    arrived: dict[int, float] = {}
    while len(arrived) < len(fleet):
        now = time.perf_counter()
        for index, edge in enumerate(fleet):
            if index not in arrived and not _opens(edge, card):
                arrived[index] = now - start
        if now - start > timeout:
            raise SystemExit(f"only {len(arrived)} of {len(fleet)} edges refused the card")
        time.sleep(0.001)
    return list(arrived.values()), hub_seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edges", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=25)
    parser.add_argument("--baseline-rounds", type=int, default=5)
    parser.add_argument("--baseline-heartbeat", type=float, default=2.0)
    parser.add_argument("--database-url", default=None, help="default: a SQLite file")
    args = parser.parse_args()
    accounts._HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)

    with tempfile.TemporaryDirectory() as tmp, RevocationBench(Path(tmp),
                                                               args.database_url) as bench:
        bench.build_world(args.edges)
        pushed: list[float] = []
        pushed_last: list[float] = []
        hub_times: list[float] = []
        with bench.plain_fleet(heartbeat_seconds=600.0) as fleet:  # only the push is in time
            for _ in range(args.rounds):
                samples, hub_seconds = _round(bench, fleet, push=True, timeout=30)
                pushed += samples
                pushed_last.append(max(samples))
                hub_times.append(hub_seconds)
        baseline: list[float] = []
        baseline_last: list[float] = []
        with bench.plain_fleet(heartbeat_seconds=args.baseline_heartbeat) as fleet:
            for _ in range(args.baseline_rounds):
                samples, _ = _round(bench, fleet, push=False,
                                    timeout=args.baseline_heartbeat * 5 + 10)
                baseline += samples
                baseline_last.append(max(samples))
        rss_mb = psutil.Process().memory_info().rss / 2**20
        backend = bench.db.engine.dialect.name

    report_propagation(
        name="revocation", results=RESULTS, args=args, backend=backend,
        headline="revocation -> card refused by",
        request="POST /api/v1/credentials/{id}/revoke",
        hub_key="hub_revoke_request_p50_ms", hub_times=hub_times, rss_mb=rss_mb,
        pushed=(pushed, pushed_last), baseline=(baseline, baseline_last),
    )

if __name__ == "__main__":
    main()
