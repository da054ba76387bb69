"""A bounded soak in CI: the whole path of ``doorward sim`` and benchmarks/bench_soak.py
(fleet processes -> Mosquitto -> two hub-worker processes -> PostgreSQL), counts only.
Timing is the benchmark's business, never a test's.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from doorward.sim.soak import SoakConfig, run_soak

from .conftest import BROKER

pytestmark = [pytest.mark.mqtt, pytest.mark.postgres, pytest.mark.slow]


def test_a_short_soak_loses_nothing_and_stores_nothing_twice(
    postgres_url: str, tmp_path: Path
) -> None:
    config = SoakConfig(
        mqtt_url=BROKER, data_dir=tmp_path, edges=120, rate=1.0, duration=12.0,
        database_url=postgres_url, workers=2, processes=2, shards=6, revoke=12,
        gates_per_site=40, drain_seconds=30.0, profile="day",
    )
    report = run_soak(config)
    delivery = report["delivery"]
    assert report["events"] > 500  # 120 edges x 1/s x 12 s, give or take the Poisson draw
    assert delivery["generated"] == report["events"] == delivery["stored"]
    assert delivery["lost"] == 0 and delivery["duplicates"] == 0
    assert report["left_in_outboxes"] == 0 and report["acked"] == report["events"]
    assert report["chain"]["ok"] and report["chain"]["entries"] == report["events"]
    # Every gate of every site got the mid-run revocations; both workers took a share.
    revocation = report["revocation"]
    assert revocation["credentials"] == 12
    assert revocation["edges_affected"] == 120 and revocation["edges_missing"] == 0
    assert revocation["hub_database_ms"] is not None  # revoked through the hub's services
    assert [w["accepted"] > 0 for w in report["hub_worker_counters"]] == [True, True]
    assert sum(w["accepted"] for w in report["hub_worker_counters"]) == report["events"]
    assert report["latency_ms"]["count"] == report["events"]
