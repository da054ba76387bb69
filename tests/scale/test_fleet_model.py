"""The fleet's pure parts: the day's traffic shape, the layout, the event mix, and the counting
that proves a soak lost or duplicated nothing (which must catch both when they happen)."""

from __future__ import annotations

import random
import secrets
from datetime import UTC, datetime
from pathlib import Path

from doorward.domain.pseudonym import SUBJECT_ID_CHARS
from doorward.settings import Settings
from doorward.sim.fleet_traffic import FleetLayout, day_rate_factor, draw_event
from doorward.sim.soak_checks import count_delivery, percentile
from doorward.store.db import Database
from doorward.store.eventlog import EventLog, load_or_create_chain_key
from doorward.transport.messages import EventMessage


def test_the_day_averages_to_the_configured_rate_with_two_peaks() -> None:
    samples = [day_rate_factor(i / 2880) for i in range(2880)]  # every half minute
    assert abs(sum(samples) / len(samples) - 1.0) < 0.01
    at = {hour: day_rate_factor(hour / 24) for hour in range(24)}
    assert at[8] > 2.0 and at[18] > 1.5  # morning and evening peaks
    assert at[3] < 0.3 and at[13] < at[8] / 2  # quiet night, calmer midday


def test_layout_is_deterministic_and_revocations_spread_over_sites() -> None:
    layout = FleetLayout(edges=250, gates_per_site=100, credentials_per_site=50, seed=3)
    again = FleetLayout(edges=250, gates_per_site=100, credentials_per_site=50, seed=3)
    assert layout.sites == 3 and len(layout.gates_of_site("site-003")) == 50
    assert layout.credentials("site-002") == again.credentials("site-002")
    picked = layout.pick_revocations(9)
    assert len({c.id for c in picked}) == 9
    assert sorted(c.id.split("-cred-")[0] for c in picked) == ["site-001"] * 3 + [
        "site-002"] * 3 + ["site-003"] * 3


def test_events_carry_a_pseudonym_and_revoked_credentials_are_denied() -> None:
    layout = FleetLayout(edges=1, credentials_per_site=5)
    credentials = layout.credentials("site-001")
    rng = random.Random(5)
    now = datetime.now(UTC)
    revoked = {c.id for c in credentials}
    events = [draw_event(rng, credentials, revoked, now) for _ in range(2000)]
    with_subject = [e for e in events if e.get("subject")]
    assert with_subject and all(len(str(e["subject"])) == SUBJECT_ID_CHARS for e in with_subject)
    assert {e["outcome"] for e in with_subject} == {"revoked"}
    kinds = {(e["kind"], e.get("alarm"), e.get("credential_kind")) for e in events}
    assert ("alarm", "tailgating", None) in kinds and ("alarm", "held_open", None) in kinds
    assert {"visitor_pass", "delivery_pass"} <= {k[2] for k in kinds}
    for event in events:  # every draw is a valid wire event
        EventMessage(event_id=secrets.token_hex(16), site_id="s", gate_id="g", edge_seq=1,
                     **event)  # type: ignore[arg-type]


def test_count_delivery_catches_a_lost_and_a_duplicated_event(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'hub.sqlite3'}")
    db.migrate()
    log = EventLog(db, load_or_create_chain_key(Settings(data_dir=tmp_path)))

    def event(gate: str, seq: int) -> EventMessage:
        return EventMessage(event_id=secrets.token_hex(16), site_id="s", gate_id=gate,
                            kind="access", occurred_at=datetime.now(UTC), edge_seq=seq)

    try:
        log.append([event("g1", n) for n in range(1, 6)] + [event("g2", n) for n in (1, 2)])
        assert count_delivery(db, {"g1": 5, "g2": 2}, 0).lost == 0
        lost = count_delivery(db, {"g1": 6, "g2": 2}, 0)
        assert (lost.lost, lost.duplicates) == (1, 0)
        assert count_delivery(db, {"g1": 6, "g2": 2}, 1).lost == 0  # still in an outbox
        log.append([event("g2", 2)])  # the same recorded event stored under a second id
        twice = count_delivery(db, {"g1": 5, "g2": 2}, 0)
        assert (twice.lost, twice.duplicates, twice.stored) == (0, 1, 8)
    finally:
        db.dispose()


def test_percentile_is_nearest_rank() -> None:
    values = [float(n) for n in range(1, 101)]
    assert (percentile(values, 50), percentile(values, 99), percentile([], 50)) == (50, 99, None)
