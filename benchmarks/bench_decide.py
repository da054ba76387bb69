"""How long one access decision takes against a 100,000-credential snapshot.

Measures ``decide()`` per call for a card, a mobile-key token and a visitor-pass QR, with
the bare floor of each path measured in the same run as the baseline (a dict lookup for
cards, one Ed25519 verify for signed tokens), and a few argon2id PIN decisions for scale.
Prints a table and writes ``benchmarks/results/decide.json``.

    .venv/bin/python benchmarks/bench_decide.py [--credentials 100000] [--calls 20000]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from doorward.domain.decide import decide
from doorward.domain.keys import HubKeys
from doorward.domain.memory import AccessMemory
from doorward.domain.mobile_key import current_step, issue_mobile_token
from doorward.domain.model import (
    AccessRequest,
    CardData,
    Credential,
    CredentialKind,
    Gate,
    Outcome,
    PassGrant,
    PassKind,
    Schedule,
    Snapshot,
    WeeklyWindow,
)
from doorward.domain.passes import issue_pass, new_pass_code, pass_code_digest
from doorward.domain.pin import hash_pin
from doorward.domain.snapshot import build_snapshot

RESULTS = Path(__file__).resolve().parent / "results" / "decide.json"
NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)
PASS_CODE_KEY = b"bench-pass-code-key-32-bytes-xxx"


def build(keys: HubKeys, n_credentials: int, n_passes: int) -> tuple[Snapshot, list[PassGrant]]:
    rng = random.Random(7)
    gates = [Gate(f"g{i}", "site-1", f"Gate {i}") for i in range(8)]
    schedules = [Schedule("staff", tuple(WeeklyWindow(d, 6 * 60, 22 * 60) for d in range(7)))]
    credentials = []
    for i in range(n_credentials):
        kind = CredentialKind.CARD if i % 2 == 0 else CredentialKind.MOBILE
        credentials.append(
            Credential(
                id=f"cred-{i:06d}",
                kind=kind,
                subject=f"{rng.getrandbits(128):032x}",
                card=CardData("h10301", str(100_000 + i)) if kind is CredentialKind.CARD else None,
                schedule_id="staff" if i % 10 == 0 else None,
                valid_until=NOW + timedelta(days=365),
            )
        )
    passes = [
        PassGrant(
            id=f"pass-{i:05d}",
            kind=PassKind.VISITOR,
            host_unit=f"{i % 300}",
            host_subject=f"{rng.getrandbits(128):032x}",
            valid_from=NOW - timedelta(hours=1),
            valid_until=NOW + timedelta(hours=8),
            max_uses=4,
            site_id="site-1",
        )
        for i in range(n_passes)
    ]
    digests = {p.id: pass_code_digest(new_pass_code(), PASS_CODE_KEY) for p in passes}
    snapshot = build_snapshot(
        version=1,
        site_id="site-1",
        gates=gates,
        credentials=credentials,
        schedules=schedules,
        passes=passes,
        pass_code_digests=digests,
        hub_public_key=keys.public_bytes(),
        pass_code_key=PASS_CODE_KEY,
    )
    return snapshot, passes


def time_each(calls: Sequence[Callable[[], object]]) -> list[float]:
    """Per-call latency in microseconds."""
    clock = time.perf_counter_ns
    samples = []
    for call in calls:
        start = clock()
        call()
        samples.append((clock() - start) / 1000)
    return samples


def throughput(calls: Sequence[Callable[[], object]]) -> float:
    start = time.perf_counter()
    for call in calls:
        call()
    return len(calls) / (time.perf_counter() - start)


def summary(samples: list[float], rate: float) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "calls": len(samples),
        "p50_us": round(statistics.median(ordered), 2),
        "p99_us": round(ordered[int(len(ordered) * 0.99) - 1], 2),
        "max_us": round(ordered[-1], 2),
        "per_second": round(rate),
    }


def measure(calls: list[Callable[[], object]]) -> dict[str, float]:
    for call in calls[: min(200, len(calls))]:
        call()  # warm caches (key object, zoneinfo, code paths)
    samples = time_each(calls)
    return summary(samples, throughput(calls))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--credentials", type=int, default=100_000)
    parser.add_argument("--passes", type=int, default=2_000)
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--signed-calls", type=int, default=5_000)
    args = parser.parse_args()

    load_start = round(os.getloadavg()[0], 2)
    process = psutil.Process()
    rss_start = process.memory_info().rss
    keys = HubKeys.generate()
    t0 = time.perf_counter()
    snapshot, passes = build(keys, args.credentials, args.passes)
    build_seconds = time.perf_counter() - t0
    rss_snapshot = process.memory_info().rss
    memory = AccessMemory()
    rng = random.Random(11)

    card_ids = [c for c in snapshot.credentials.values() if c.kind is CredentialKind.CARD]
    mobile_ids = [c.id for c in snapshot.credentials.values() if c.kind is CredentialKind.MOBILE]
    step = current_step(NOW)

    card_requests = [
        AccessRequest("g1", "r1", CredentialKind.CARD, card=c.card)
        for c in rng.choices(card_ids, k=args.calls)
    ]
    # Distinct tokens per call, as at a real gate; decide() alone never consumes a step.
    mobile_requests = [
        AccessRequest("g1", "r1", CredentialKind.MOBILE, token=issue_mobile_token(keys, cid, step))
        for cid in rng.choices(mobile_ids, k=args.signed_calls)
    ]
    pass_payloads = {p.id: issue_pass(keys, p) for p in passes}
    pass_requests = [
        AccessRequest("g1", "r1", CredentialKind.VISITOR_PASS, token=pass_payloads[p.id])
        for p in rng.choices(passes, k=args.signed_calls)
    ]
    pin_snapshot = build_snapshot(
        version=1,
        site_id="site-1",
        gates=list(snapshot.gates.values()),
        credentials=[
            Credential(
                "pin-1", CredentialKind.PIN, "s" * 32, pin_id="0401", pin_hash=hash_pin("4821")
            )
        ],
        schedules=[],
        passes=[],
        pass_code_digests={},
        hub_public_key=keys.public_bytes(),
    )
    pin_requests = [AccessRequest("g1", "r1", CredentialKind.PIN, pin_id="0401", pin="4821")] * 30

    for request in (card_requests[0], mobile_requests[0], pass_requests[0]):
        outcome = decide(request, snapshot, NOW, memory).outcome
        assert outcome in (Outcome.GRANTED, Outcome.OUTSIDE_SCHEDULE), outcome

    public_key = Ed25519PublicKey.from_public_bytes(keys.public_bytes())
    sig_data = b"x" * 60
    sig = keys.sign(sig_data)
    cards = snapshot.cards

    def lookup(card: CardData) -> Callable[[], object]:
        return lambda: cards.get((card.format, card.number))

    def bind(request: AccessRequest, snap: Snapshot = snapshot) -> Callable[[], object]:
        return lambda: decide(request, snap, NOW, memory)

    results = {
        "card": measure([bind(r) for r in card_requests]),
        "card_baseline_dict_lookup": measure(
            [lookup(r.card) for r in card_requests if r.card is not None]
        ),
        "mobile_token": measure([bind(r) for r in mobile_requests]),
        "visitor_pass_qr": measure([bind(r) for r in pass_requests]),
        "signed_baseline_ed25519_verify": measure(
            [lambda: public_key.verify(sig, sig_data)] * args.signed_calls
        ),
        "pin_argon2id": measure([bind(r, pin_snapshot) for r in pin_requests]),
    }
    rss_end = process.memory_info().rss
    report = {
        "benchmark": "decide",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {psutil.cpu_count()} cpu",
        # The machine is shared: a busy one widens p99s, so say how busy it was.
        "load_average_1min": {"start": load_start, "end": round(os.getloadavg()[0], 2)},
        "credentials": args.credentials,
        "passes": args.passes,
        "snapshot_build_seconds": round(build_seconds, 2),
        "rss_mib": {
            "start": round(rss_start / 2**20, 1),
            "with_snapshot": round(rss_snapshot / 2**20, 1),
            "end": round(rss_end / 2**20, 1),
        },
        "results": results,
        "ratios": {
            "card_p50_over_dict_lookup": round(
                results["card"]["p50_us"] / results["card_baseline_dict_lookup"]["p50_us"], 1
            ),
            "mobile_p50_over_verify": round(
                results["mobile_token"]["p50_us"]
                / results["signed_baseline_ed25519_verify"]["p50_us"],
                2,
            ),
            "pass_p50_over_verify": round(
                results["visitor_pass_qr"]["p50_us"]
                / results["signed_baseline_ed25519_verify"]["p50_us"],
                2,
            ),
        },
    }
    print(
        f"decide() on {args.credentials:,} credentials + {args.passes:,} passes "
        f"(snapshot built in {build_seconds:.1f} s; RSS {report['rss_mib']})"
    )
    print(f"{'path':34} {'calls':>7} {'p50 µs':>9} {'p99 µs':>9} {'max µs':>9} {'per s':>9}")
    for name, row in results.items():
        print(
            f"{name:34} {row['calls']:>7} {row['p50_us']:>9.2f} {row['p99_us']:>9.2f} "
            f"{row['max_us']:>9.1f} {row['per_second']:>9,}"
        )
    print("ratios:", report["ratios"])
    print("load average (1 min):", report["load_average_1min"])
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
