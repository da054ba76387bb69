"""Run a simulated fleet end to end: hub ingest workers, fleet processes, a mid-run revocation,
then the checks (nothing lost, nothing twice, chains verify) and the figures.

Used by ``doorward sim``, by ``benchmarks/bench_soak.py`` and by the bounded test in
``tests/scale/``. The hub workers are real ``doorward hub-worker`` processes; the fleet runs in
``multiprocessing`` processes (see :mod:`doorward.sim.fleet`).
"""

from __future__ import annotations

import json
import math
import multiprocessing
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

from doorward.domain.keys import HubKeys
from doorward.errors import ConfigError, TransportError
from doorward.settings import Settings
from doorward.sim.fleet import (
    FleetProcessConfig,
    FleetResult,
    close_mqtt_client,
    mqtt_client,
    run_fleet_process,
)
from doorward.sim.fleet_hub import FleetHub, RevocationTimings
from doorward.sim.fleet_traffic import FleetLayout, SimCredential
from doorward.sim.soak_checks import ProcessSampler, count_delivery, percentile
from doorward.store.db import Database
from doorward.store.eventlog import EventLog, load_or_create_chain_key
from doorward.transport.messages import CredentialWire, SnapshotMessage
from doorward.transport.mqtt import parse_mqtt_url, topic

__all__ = ["SoakConfig", "SoakProgress", "run_soak", "worker_command"]


@dataclass(frozen=True)
class SoakConfig:
    mqtt_url: str
    data_dir: Path
    edges: int = 1000
    rate: float = 1.0
    duration: float = 600.0
    #: Where the hub workers store events; empty: start no workers (a hub elsewhere ingests).
    database_url: str = ""
    workers: int = 2
    #: Each worker's --linger-ms: wait this long for more messages before a commit.
    worker_linger_ms: float = 20.0
    processes: int = 4
    shards: int = 16
    revoke: int = 100
    #: When to revoke, as a fraction of the run.
    revoke_at: float = 0.5
    profile: str = "flat"
    gates_per_site: int = 100
    credentials_per_site: int = 200
    drain_seconds: float = 60.0
    verify_chain: bool = True
    seed: int = 1
    #: Where the edges' outbox files go (default: the data folder). On one machine, a
    #: thousand edges' fsyncs compete for one disk, which real edges never do.
    outbox_root: Path | None = None
    site_prefix: str = field(default_factory=lambda: f"soak{secrets.token_hex(3)}")


@dataclass(frozen=True)
class SoakProgress:
    elapsed: float
    generated: int
    acked: int
    phase: str


def worker_command(
    mqtt_url: str, database_url: str, data_dir: Path, share_group: str, sites: list[str],
    linger_ms: float = 0.0,
) -> list[str]:
    """``doorward hub-worker ...`` for this interpreter (the console script may not be on PATH)."""
    launcher = "import sys; from doorward.cli import main; sys.argv[0] = 'doorward'; main()"
    command = [sys.executable, "-c", launcher, "hub-worker", "--mqtt", mqtt_url,
               "--database-url", database_url, "--data-dir", str(data_dir),
               "--share-group", share_group, "--no-migrate", "--linger-ms", str(linger_ms)]
    for site in sites:
        command += ["--site", site]
    return command


class _Workers:
    """The hub worker processes: start (each says "ready" once subscribed) and stop (SIGTERM;
    each prints its counters as JSON)."""

    def __init__(self, config: SoakConfig, sites: list[str]) -> None:
        group = f"hub{secrets.token_hex(3)}"
        self.command = worker_command(config.mqtt_url, config.database_url, config.data_dir,
                                      group, sites, config.worker_linger_ms)
        self.count = config.workers
        self.procs: list[subprocess.Popen[str]] = []
        self.stats: list[dict[str, Any]] = []

    def start(self, timeout: float = 60.0) -> None:
        try:
            for _ in range(self.count):
                self.procs.append(subprocess.Popen(  # noqa: S603 - our own interpreter and args
                    self.command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
            for proc in self.procs:
                assert proc.stdout is not None
                line = proc.stdout.readline()  # "ready", or nothing if it died
                if line.strip() != "ready":
                    proc.wait(timeout)
                    err = proc.stderr.read() if proc.stderr else ""
                    raise TransportError(f"a hub worker did not start: {err.strip()[-400:]}")
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                out, _ = proc.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                out, _ = proc.communicate()
            for line in out.splitlines():
                if line.startswith("{"):
                    self.stats.append(json.loads(line))
        self.procs = []


def _revocation_messages(
    layout: FleetLayout, revoked: list[SimCredential]
) -> list[tuple[str, str, str]]:
    """(site, gate, payload) of the delta snapshot every gate of an affected site gets."""
    public_key = HubKeys.generate().public_bytes().hex()
    out: list[tuple[str, str, str]] = []
    for site in layout.site_ids():
        mine = [c for c in revoked if layout.site_of_credential(c.id) == site]
        if not mine:
            continue
        delta = SnapshotMessage(
            site_id=site, version=2, base_version=1, full=False, hub_public_key=public_key,
            credentials=[CredentialWire(id=c.id, kind=c.kind, subject=c.subject, revoked=True)
                         for c in mine],
        )
        payload = delta.model_dump_json()
        out.extend((site, g.gate_id, payload) for g in layout.gates_of_site(site))
    return out


def run_soak(
    config: SoakConfig, on_progress: Callable[[SoakProgress], None] | None = None
) -> dict[str, Any]:
    """Run the fleet; return the report (a JSON-ready dict)."""
    if config.edges < 1 or config.rate <= 0 or config.duration <= 0:
        raise ConfigError("edges, rate and duration must be positive",
                          hint="e.g. --edges 1000 --rate 1 --duration 600")
    layout = FleetLayout(config.edges, config.gates_per_site, config.credentials_per_site,
                         seed=config.seed, site_prefix=config.site_prefix)
    outbox_dir = (config.outbox_root or config.data_dir) / f"fleet-outboxes-{config.site_prefix}"
    processes = max(1, min(config.processes, config.edges))
    db: Database | None = None
    hub: FleetHub | None = None
    revocation_timings: RevocationTimings | None = None
    publish_began: float | None = None
    workers: _Workers | None = None
    sampler = ProcessSampler()
    publisher = mqtt_client(parse_mqtt_url(config.mqtt_url), "doorward-soak-hub")
    ctx = multiprocessing.get_context("spawn")
    children: list[tuple[Any, Connection]] = []
    results: list[FleetResult] = []
    try:
        if config.database_url:
            db = Database(config.database_url)
            db.migrate()
            load_or_create_chain_key(Settings(data_dir=config.data_dir))
            hub = FleetHub(db, config.data_dir, layout)
            layout = hub.populate()  # the hub's real credential ids and pseudonyms
            workers = _Workers(config, layout.site_ids())
            workers.start()
            sampler.add("hub_workers", [p.pid for p in workers.procs])
        revoked = layout.pick_revocations(config.revoke)
        target = parse_mqtt_url(config.mqtt_url)
        publisher.connect(target.host, target.port, keepalive=30)
        publisher.loop_start()
        for n in range(processes):
            part = tuple(range(n, config.edges, processes))
            fleet_config = FleetProcessConfig(
                mqtt_url=config.mqtt_url, layout=layout, edge_indexes=part,
                outbox_dir=str(outbox_dir), rate_per_edge=config.rate,
                duration_seconds=config.duration, profile=config.profile,
                shards=min(config.shards, len(part)), drain_seconds=config.drain_seconds,
                seed=config.seed * 1000 + n,
            )
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=run_fleet_process, args=(fleet_config, child), daemon=True)
            proc.start()
            child.close()
            children.append((proc, parent))
        for _proc, conn in children:
            try:
                if not conn.poll(120):
                    raise TransportError("a fleet process did not get ready in 120 s")
                message = conn.recv()
            except EOFError as exc:
                raise TransportError("a fleet process died while starting") from exc
            if message[0] != "ready":
                raise TransportError(f"a fleet process failed: {message[1]}")
        sampler.add("fleet", [proc.pid for proc, _ in children])
        sampler.add_by_name("broker", "mosquitto")
        sampler.add_by_name("database", "postgres")
        start_at = time.time() + 1.0
        for _proc, conn in children:
            conn.send(("go", start_at))
        sampler.mark_start()
        revoke_time = start_at + config.duration * config.revoke_at
        revoke_issued: float | None = None
        progress: dict[int, tuple[int, int]] = {}
        pending = {conn: n for n, (_proc, conn) in enumerate(children)}
        hard_end = start_at + config.duration + config.drain_seconds + 120
        traffic_end: float | None = None
        while pending:
            now = time.time()
            if revoke_issued is None and revoked and now >= revoke_time:
                revoke_issued = time.time()
                if hub is not None:
                    messages, revocation_timings = hub.revoke(revoked)
                else:
                    messages = _revocation_messages(layout, revoked)
                publish_began = time.time()
                for site, gate, payload in messages:
                    publisher.publish(topic(site, gate, "snapshot"), payload, qos=1)
            if traffic_end is None and now >= start_at + config.duration:
                traffic_end = now
                sampler.mark_end()
            if now > hard_end:
                raise TransportError("the fleet did not finish; see the broker and hub logs")
            for ready in wait(list(pending), timeout=0.2):
                assert isinstance(ready, Connection)
                conn = ready
                try:
                    message = conn.recv()
                except EOFError as exc:
                    raise TransportError("a fleet process died during the run") from exc
                if message[0] == "progress":
                    progress[pending[conn]] = (message[1], message[2])
                elif message[0] == "result":
                    results.append(message[1])
                    del pending[conn]
            if on_progress is not None:
                phase = "traffic" if traffic_end is None else "draining"
                on_progress(SoakProgress(now - start_at, sum(p[0] for p in progress.values()),
                                         sum(p[1] for p in progress.values()), phase))
        if traffic_end is None:
            sampler.mark_end()
        drained_at = time.time()
        if workers is not None:
            workers.stop()
        report = _report(config, layout, results, revoked, (revoke_issued, publish_began),
                         sampler, drained_at - (start_at + config.duration))
        if workers is not None:
            report["hub_worker_counters"] = workers.stats
        if revocation_timings is not None:
            report["revocation"]["hub_database_ms"] = _ms(revocation_timings.database_seconds)
            report["revocation"]["hub_deltas_ms"] = _ms(revocation_timings.deltas_seconds)
        if db is not None:
            generated: dict[str, int] = {}
            for result in results:
                generated.update(result.generated)
            delivery = count_delivery(db, generated, report["left_in_outboxes"])
            report["delivery"] = asdict(delivery)
            if config.verify_chain:
                with_key = load_or_create_chain_key(Settings(data_dir=config.data_dir))
                began = time.perf_counter()
                verify = EventLog(db, with_key).verify()
                report["chain"] = {"ok": verify.ok, "entries": verify.checked,
                                   "problem": verify.problem,
                                   "verify_seconds": round(time.perf_counter() - began, 1)}
        return report
    finally:
        if workers is not None:
            workers.stop()
        for proc, conn in children:
            conn.close()
            proc.join(10)
            if proc.is_alive():
                proc.kill()
                proc.join()
        close_mqtt_client(publisher)
        if db is not None:
            db.dispose()
        shutil.rmtree(outbox_dir, ignore_errors=True)


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value * 1000.0, 1)


def _report(
    config: SoakConfig,
    layout: FleetLayout,
    results: list[FleetResult],
    revoked: list[SimCredential],
    revoke_times: tuple[float | None, float | None],
    sampler: ProcessSampler,
    drain_seconds: float,
) -> dict[str, Any]:
    latencies = [x for r in results for x in r.latencies]
    appends = [x for r in results for x in r.append_seconds]
    waits = [x for r in results for x in r.publish_wait]
    generated = sum(sum(r.generated.values()) for r in results)
    spread: list[float] = []
    propagation: list[float] = []
    missing = 0
    revoke_issued, publish_began = revoke_times
    if revoke_issued is not None and publish_began is not None:
        wanted: dict[str, set[str]] = {site: set() for site in layout.site_ids()}
        for credential in revoked:
            wanted[layout.site_of_credential(credential.id)].add(credential.id)
        applied: dict[str, dict[str, float]] = {}
        for result in results:
            applied.update(result.revocations_applied)
        for gate in layout.gates():
            need = wanted[gate.site_id]
            if not need:
                continue
            have = applied.get(gate.gate_id, {})
            if need <= have.keys():
                spread.append(max(have[c] for c in need) - revoke_issued)
                propagation.append(max(have[c] for c in need) - publish_began)
            else:
                missing += 1
    return {
        "config": {
            "edges": config.edges, "rate_per_edge": config.rate, "duration_s": config.duration,
            "profile": config.profile, "fleet_processes": config.processes,
            "shards_per_process": config.shards, "hub_workers": config.workers,
            "worker_linger_ms": config.worker_linger_ms,
            "sites": layout.sites, "gates_per_site": config.gates_per_site,
            "outboxes_on": str(config.outbox_root or config.data_dir),
        },
        "events": generated,
        "throughput_per_s": round(generated / config.duration, 1),
        "acked": sum(r.acked for r in results),
        "left_in_outboxes": sum(r.left_in_outboxes for r in results),
        "resends": sum(r.resends for r in results),
        "duplicate_acks": sum(r.duplicate_acks for r in results),
        "drain_after_traffic_s": round(drain_seconds, 2),
        "latency_ms": {
            "count": len(latencies),
            "p50": _ms(percentile(latencies, 50)),
            "p90": _ms(percentile(latencies, 90)),
            "p99": _ms(percentile(latencies, 99)),
            "max": _ms(max(latencies, default=math.nan) if latencies else None),
        },
        "edge_breakdown_ms": {
            "outbox_append_p50": _ms(percentile(appends, 50)),
            "outbox_append_p99": _ms(percentile(appends, 99)),
            "wait_to_publish_p50": _ms(percentile(waits, 50)),
            "wait_to_publish_p99": _ms(percentile(waits, 99)),
        },
        "revocation": {
            "credentials": len(revoked),
            "edges_affected": len(spread) + missing,
            "edges_missing": missing,
            "p50_ms": _ms(percentile(spread, 50)),
            "p99_ms": _ms(percentile(spread, 99)),
            "max_ms": _ms(max(spread, default=0.0) if spread else None),
            # From the first delta published to the edge applying it: broker and edge only.
            "propagation_p50_ms": _ms(percentile(propagation, 50)),
            "propagation_p99_ms": _ms(percentile(propagation, 99)),
        },
        "processes": sampler.summary(config.duration),
    }
