"""Event log test helpers: a fixed chain key, a hand-driven clock, an event maker."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from doorward.transport.messages import EventMessage

CHAIN_KEY = bytes(range(32))
START = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


class ManualClock:
    """A clock the test moves by hand, so received_at (and thus purges) are predictable."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def make_event(
    n: int,
    *,
    site: str = "s1",
    gate: str = "g1",
    outcome: str = "granted",
    subject: str | None = "pseudonym-a",
    occurred_at: datetime | None = None,
    kind: str = "access",
) -> EventMessage:
    return EventMessage(
        event_id=f"evt-{site}-{n:06d}",
        site_id=site,
        gate_id=gate,
        kind=kind,  # type: ignore[arg-type]
        occurred_at=occurred_at or START + timedelta(minutes=n),
        edge_seq=n,
        outcome=outcome,
        reason="" if outcome == "granted" else "credential revoked",
        credential_kind="card",
        subject=subject,
        detail={"reader": "r1"},
    )
