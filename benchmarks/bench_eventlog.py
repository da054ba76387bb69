"""Event log append throughput with the hash chain, on SQLite and PostgreSQL.

For each database: appends ``--events`` events in batches of ``--batch`` (how the hub ingests
an edge's EventBatch), and, as the baseline in the same run, ``--single`` events one per
append (one transaction each). Also times the chain arithmetic alone (canonical JSON + HMAC
per event, no database) and a full ``verify``, to show where the time goes. Prints events/s,
p50/p99 per append call, RSS, and writes ``benchmarks/results/eventlog.json``.

    .venv/bin/python benchmarks/bench_eventlog.py [--events 20000] [--batch 500] [--single 1000]
        [--postgres-url postgresql://postgres@127.0.0.1:5432/test] [--no-postgres]

PostgreSQL runs in a throwaway schema that is dropped afterwards; SQLite in a temp folder.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psutil
from sqlalchemy import create_engine, text

from doorward.store.db import Database, normalize_url
from doorward.store.eventlog import EventLog
from doorward.store.eventlog_chain import entry_hash
from doorward.transport.messages import EventMessage

RESULTS = Path(__file__).resolve().parent / "results" / "eventlog.json"
START = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)
KEY = secrets.token_bytes(32)


def make_events(count: int, prefix: str) -> list[EventMessage]:
    return [
        EventMessage(
            event_id=f"{prefix}-{i:09d}",
            site_id="site-1",
            gate_id=f"gate-{i % 8}",
            kind="access",
            occurred_at=START + timedelta(milliseconds=250 * i),
            edge_seq=i,
            outcome="granted" if i % 10 else "denied",
            reason="" if i % 10 else "credential revoked",
            credential_kind="card" if i % 3 else "mobile",
            subject=f"{(i * 2654435761) % (1 << 128):032x}",
            detail={"reader": f"r{i % 2}", "direction": "in"},
        )
        for i in range(count)
    ]


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def timed_appends(log: EventLog, batches: list[list[EventMessage]]) -> dict[str, Any]:
    durations: list[float] = []
    begin = time.perf_counter()
    for batch in batches:
        t0 = time.perf_counter()
        ack = log.append(batch)
        durations.append(time.perf_counter() - t0)
        assert len(ack.accepted) == len(batch)
    total = time.perf_counter() - begin
    events = sum(len(b) for b in batches)
    return {
        "events": events,
        "calls": len(batches),
        "events_per_s": round(events / total),
        "call_p50_ms": round(statistics.median(durations) * 1000, 3),
        "call_p99_ms": round(percentile(durations, 0.99) * 1000, 3),
        "per_event_us": round(total / events * 1e6, 1),
    }


def chain_only(events: list[EventMessage]) -> dict[str, Any]:
    """The chain arithmetic alone: model_dump + canonical JSON + HMAC per event."""
    received = datetime.now(UTC)
    prev = "0" * 64
    t0 = time.perf_counter()
    for seq, event in enumerate(events, 1):
        values = event.model_dump()
        values.update(seq=seq, received_at=received)
        prev = entry_hash(KEY, prev, values)
    total = time.perf_counter() - t0
    return {
        "events_per_s": round(len(events) / total),
        "per_event_us": round(total / len(events) * 1e6, 1),
    }


@contextmanager
def postgres_schema(base_url: str) -> Iterator[str]:
    schema = f"bench_{secrets.token_hex(4)}"
    admin = create_engine(normalize_url(base_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base_url else "?"
    try:
        yield f"{base_url}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def run_database(name: str, url: str, args: argparse.Namespace) -> dict[str, Any]:
    db = Database(url)
    try:
        db.migrate()
        log = EventLog(db, KEY)
        batched_events = make_events(args.events, "batch")
        batches = [
            batched_events[i : i + args.batch] for i in range(0, len(batched_events), args.batch)
        ]
        singles = [[e] for e in make_events(args.single, "single")]
        result = {
            "batched": timed_appends(log, batches),
            "unbatched_baseline": timed_appends(log, singles),
        }
        t0 = time.perf_counter()
        report = log.verify()
        elapsed = time.perf_counter() - t0
        assert report.ok and report.checked == args.events + args.single, report
        result["verify"] = {
            "entries": report.checked,
            "entries_per_s": round(report.checked / elapsed),
        }
        result["batched_vs_unbatched"] = round(
            result["batched"]["events_per_s"] / result["unbatched_baseline"]["events_per_s"], 1
        )
        print_block(name, result)
        return result
    finally:
        db.dispose()


def print_block(name: str, result: dict[str, Any]) -> None:
    print(f"\n{name}")
    for label in ("batched", "unbatched_baseline"):
        r = result[label]
        print(
            f"  {label:<20} {r['events_per_s']:>8} events/s"
            f"  per call p50 {r['call_p50_ms']:>8.2f} ms  p99 {r['call_p99_ms']:>8.2f} ms"
            f"  ({r['events']} events, {r['calls']} calls)"
        )
    print(f"  batched / unbatched  {result['batched_vs_unbatched']}x")
    print(f"  verify               {result['verify']['entries_per_s']:>8} entries/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--single", type=int, default=1_000)
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get(
            "DOORWARD_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
        ),
    )
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()

    results: dict[str, Any] = {
        "benchmark": "eventlog",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "params": {"events": args.events, "batch": args.batch, "single": args.single},
    }
    results["chain_arithmetic_only"] = chain_only(make_events(args.events, "hash"))
    print(
        f"chain arithmetic alone (dump + canonical JSON + HMAC): "
        f"{results['chain_arithmetic_only']['events_per_s']} events/s, "
        f"{results['chain_arithmetic_only']['per_event_us']} us/event"
    )
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        results["sqlite"] = run_database("SQLite (WAL, synchronous=FULL, one writer)", url, args)
    if not args.no_postgres:
        with postgres_schema(args.postgres_url) as url:
            results["postgresql"] = run_database("PostgreSQL (throwaway schema)", url, args)
    results["rss_mb"] = round(psutil.Process().memory_info().rss / 2**20, 1)
    print(f"\nRSS {results['rss_mb']} MB")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
