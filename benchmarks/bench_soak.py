"""Soak: a fleet of simulated edges through Mosquitto into PostgreSQL, on this machine.

Defaults: 1,000 edges at 1 event/s each for 10 minutes, 4 fleet processes (250 logical
edges each, one outbox file per edge), 2 ``doorward hub-worker`` processes on one PostgreSQL,
100 credentials revoked half way through the hub's services (``revoke_credential``, then one
``snapshot_message`` delta per site pushed to every gate). Reports edge-record -> hub-ack
latency (p50/p99), events lost and stored twice (both must be 0), the hash chains'
verification, the revocation's spread to every affected edge (p50/p99), and CPU and peak
RSS of the hub workers, the fleet, the broker and the database. The baseline, measured in
the same run just before the fleet starts, is one QoS 1 MQTT round trip through the same
broker and one single-row PostgreSQL commit: the floor under each event's path. Writes
``benchmarks/results/soak.json``.

    .venv/bin/python benchmarks/bench_soak.py [--edges 1000] [--rate 1] [--duration 600]
        [--workers 2] [--linger-ms 20] [--processes 4] [--revoke 100] [--profile flat|day]
        [--outboxes tmpfs|disk] [--no-verify]

Each simulated edge's outbox is the edge's real Outbox (SQLite, WAL, synchronous=FULL). By
default the files live on tmpfs: on one machine a thousand edges' fsyncs (two per event)
would otherwise compete with PostgreSQL's own on one disk, which real edges never do.
``--outboxes disk`` measures that case too.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from doorward.sim.fleet import close_mqtt_client, mqtt_client
from doorward.sim.soak import SoakConfig, run_soak
from doorward.sim.soak_checks import percentile
from doorward.store.db import normalize_url
from doorward.transport.mqtt import parse_mqtt_url

RESULTS = Path(__file__).resolve().parent / "results" / "soak.json"
SHM = Path("/dev/shm")
POSTGRES = os.environ.get("DOORWARD_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
BROKER = os.environ.get("DOORWARD_TEST_MQTT_URL", "mqtt://127.0.0.1:1883")


def mqtt_round_trips(url: str, count: int = 300) -> dict[str, float | None]:
    """QoS 1 publish -> the broker -> back to the same client, one at a time."""
    client = mqtt_client(parse_mqtt_url(url), "bench-soak-baseline")
    name = f"doorward-bench/{secrets.token_hex(4)}/echo"
    arrived = threading.Event()
    client.on_message = lambda *_: arrived.set()
    subscribed = threading.Event()
    client.on_subscribe = lambda *_: subscribed.set()
    target = parse_mqtt_url(url)
    client.connect(target.host, target.port)
    client.loop_start()
    try:
        client.subscribe(name, qos=1)
        subscribed.wait(10)
        times = []
        for _ in range(count):
            arrived.clear()
            began = time.perf_counter()
            client.publish(name, b"x" * 400, qos=1)  # about one event's JSON
            arrived.wait(5)
            times.append(time.perf_counter() - began)
    finally:
        close_mqtt_client(client)
    return _summary(times)


def postgres_commits(url: str, count: int = 300) -> dict[str, float | None]:
    """One single-row INSERT committed (synchronous_commit as configured), one at a time."""
    engine = create_engine(normalize_url(url))
    times = []
    try:
        with engine.connect() as conn:
            conn.execute(text("CREATE TEMPORARY TABLE bench_commit (n integer)"))
            conn.commit()
            for n in range(count):
                began = time.perf_counter()
                conn.execute(text("INSERT INTO bench_commit VALUES (:n)"), {"n": n})
                conn.commit()
                times.append(time.perf_counter() - began)
    finally:
        engine.dispose()
    return _summary(times)


def _summary(seconds: list[float]) -> dict[str, float | None]:
    p99 = percentile(seconds, 99)
    return {
        "p50_ms": round(statistics.median(seconds) * 1000, 2),
        "p99_ms": None if p99 is None else round(p99 * 1000, 2),
    }


def _schema_url(schema: str) -> str:
    sep = "&" if "?" in POSTGRES else "?"
    return f"{POSTGRES}{sep}options=-csearch_path%3D{schema}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--edges", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=1.0, help="events/s per edge")
    parser.add_argument("--duration", type=float, default=600.0, help="seconds of traffic")
    parser.add_argument("--workers", type=int, default=2, help="hub-worker processes")
    parser.add_argument("--linger-ms", type=float, default=20.0,
                        help="each hub worker waits this long for more messages per commit")
    parser.add_argument("--processes", type=int, default=4, help="fleet processes")
    parser.add_argument("--shards", type=int, default=16, help="threads per fleet process")
    parser.add_argument("--revoke", type=int, default=100)
    parser.add_argument("--profile", choices=("flat", "day"), default="flat")
    parser.add_argument("--no-verify", action="store_true", help="skip the chain walk")
    parser.add_argument("--outboxes", choices=("tmpfs", "disk"), default="tmpfs",
                        help="where the 1,000 edges' outbox files live: tmpfs (/dev/shm, the "
                        "default: real edges do not put 2,000 fsyncs/s on the hub's disk) or "
                        "disk (beside PostgreSQL, which then competes with them)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()

    schema = f"soak_{secrets.token_hex(4)}"
    admin = create_engine(normalize_url(POSTGRES), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    load_start = round(os.getloadavg()[0], 2)
    try:
        baseline = {
            "mqtt_qos1_round_trip": mqtt_round_trips(BROKER),
            "postgres_single_row_commit": postgres_commits(_schema_url(schema)),
        }
        print(f"baseline: MQTT QoS 1 round trip {baseline['mqtt_qos1_round_trip']}, "
              f"PostgreSQL commit {baseline['postgres_single_row_commit']}")
        with tempfile.TemporaryDirectory(prefix="doorward-soak-") as folder:
            config = SoakConfig(
                mqtt_url=BROKER, data_dir=Path(folder), edges=args.edges, rate=args.rate,
                duration=args.duration, database_url=_schema_url(schema), workers=args.workers,
                processes=args.processes, shards=args.shards, revoke=args.revoke,
                worker_linger_ms=args.linger_ms,
                profile=args.profile, verify_chain=not args.no_verify,
                drain_seconds=max(60.0, args.duration / 5),
                outbox_root=SHM if args.outboxes == "tmpfs" and SHM.is_dir() else None,
            )
            last = [0.0]

            def show(p: Any) -> None:
                if p.elapsed - last[0] >= 30:
                    last[0] = p.elapsed
                    print(f"  {p.elapsed:5.0f} s {p.phase}: {p.generated:,} recorded, "
                          f"{p.acked:,} acked", flush=True)

            report = run_soak(config, show)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
    report["baseline"] = baseline
    report["machine"] = {
        "cpus": os.cpu_count(), "python": platform.python_version(),
        "load_average_1min": {"start": load_start, "end": round(os.getloadavg()[0], 2)},
    }
    report["date"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")

    lat, rev, dl = report["latency_ms"], report["revocation"], report.get("delivery", {})
    print(f"events {report['events']:,} in {args.duration:.0f} s = "
          f"{report['throughput_per_s']}/s; lost {dl.get('lost')}, duplicates "
          f"{dl.get('duplicates')}, chain {report.get('chain', {}).get('ok')}")
    print(f"edge record -> hub ack: p50 {lat['p50']} ms, p99 {lat['p99']} ms (target <= 250)")
    print(f"revocation to every edge: p50 {rev['p50_ms']} ms, p99 {rev['p99_ms']} ms "
          f"(target <= 2000), missing {rev['edges_missing']}; of which hub database "
          f"{rev.get('hub_database_ms')} ms, deltas {rev.get('hub_deltas_ms')} ms, broker to "
          f"edges p99 {rev['propagation_p99_ms']} ms")
    print(f"where the time goes: {report['edge_breakdown_ms']}")
    for worker in report.get("hub_worker_counters", []):
        print(f"hub worker: {worker}")
    for group, usage in report["processes"].items():
        print(f"{group}: {usage['cores']} cores, {usage['cpu_seconds']} CPU s, peak RSS "
              f"{usage['rss_peak_mib']} MiB ({usage['rss_peak_per_process_mib']} per process)")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
