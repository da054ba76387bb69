"""Simulated gate traffic for the demo: people present cards, phones and visitor passes at the
gates; each presentation is decided by the domain core and logged through the event log, just
as a real presentation at the hub would be.

Start and stop are mirror images: ``start()`` launches one daemon thread, ``stop()`` ends it
and waits for it.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select

from doorward.domain.mobile_key import current_step, issue_mobile_token
from doorward.domain.model import AccessRequest, CardData, CredentialKind, Decision
from doorward.errors import DoorwardError
from doorward.hub.services.context import HubContext
from doorward.hub.services.decisions import decide_request
from doorward.store.models import CredentialRow, GateRow

__all__ = ["GateTraffic"]

log = logging.getLogger("doorward.sim")


@dataclass(frozen=True)
class _Card:
    format: str
    number: str
    gates: tuple[str, ...]
    revoked: bool


class GateTraffic:
    """Presentations at ``rate_per_second`` on average, until stopped."""

    def __init__(
        self,
        ctx: HubContext,
        *,
        rate_per_second: float = 0.5,
        seed: int | None = None,
        pass_payloads: Sequence[str] = (),
        pass_codes: Sequence[str] = (),
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.ctx = ctx
        self.rate = rate_per_second
        self._rng = random.Random(seed)
        self._payloads = list(pass_payloads)
        self._codes = list(pass_codes)
        self._clock = clock or (lambda: datetime.now(UTC))
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._cards: list[_Card] = []
        self._mobiles: list[str] = []
        self._gates: list[str] = []
        self._used_steps: set[tuple[str, int]] = set()
        self.decisions = 0

    def load(self) -> None:
        """Read the gates and credentials to present (card numbers are not secrets here)."""
        with self.ctx.db.read() as session:
            self._gates = list(session.scalars(
                select(GateRow.id).where(GateRow.site_id == self.ctx.site_id)
                .order_by(GateRow.id)))
            creds = session.scalars(
                select(CredentialRow).where(CredentialRow.site_id == self.ctx.site_id)).all()
        self._cards = [
            _Card(c.card_format or "", c.card_number or "", tuple(c.gates), c.revoked)
            for c in creds if c.kind == "card"
        ]
        self._mobiles = [c.id for c in creds if c.kind == "mobile" and not c.revoked]

    def _request(self, now: datetime) -> AccessRequest:
        roll = self._rng.random()
        gate = self._rng.choice(self._gates)
        if roll < 0.12 and self._mobiles:
            cred = self._rng.choice(self._mobiles)
            step = current_step(now)
            if (cred, step) not in self._used_steps:
                self._used_steps.add((cred, step))
                token = issue_mobile_token(self.ctx.keys, cred, step)
                return AccessRequest(gate, "sim", CredentialKind.MOBILE, token=token)
        if roll < 0.17 and self._payloads:
            payload = self._rng.choice(self._payloads)
            return AccessRequest(gate, "sim", CredentialKind.VISITOR_PASS, token=payload)
        if roll < 0.20 and self._codes:
            code = self._rng.choice(self._codes)
            return AccessRequest(gate, "sim-keypad", CredentialKind.VISITOR_PASS, pass_code=code)
        if roll < 0.25:  # a card this site never issued
            number = f"{self._rng.randrange(0x1000000, 0xFFFFFFF):07X}"
            unknown = CardData("wiegand26", number)
            return AccessRequest(gate, "sim", CredentialKind.CARD, card=unknown)
        card = self._rng.choice(self._cards)
        if card.gates and self._rng.random() < 0.9:
            gate = self._rng.choice(card.gates)
        presented = CardData(card.format, card.number)
        return AccessRequest(gate, "sim", CredentialKind.CARD, card=presented)

    def step(self, now: datetime | None = None) -> Decision:
        """One presentation, decided and logged."""
        if not self._gates or not self._cards:
            self.load()
        now = now or self._clock()
        decision = decide_request(self.ctx, self._request(now), now)
        self.decisions += 1
        if self.decisions % 200 == 0:
            self.load()
            self._used_steps = {s for s in self._used_steps if s[1] >= current_step(now) - 1}
        return decision

    def _run(self) -> None:
        while not self._stop.wait(self._rng.expovariate(self.rate)):
            try:
                self.step()
            except DoorwardError as exc:  # e.g. the database is busy: skip this one
                log.warning("simulated presentation failed: %s", exc)

    def start(self) -> None:
        if self._thread is not None:
            return
        self.load()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="doorward-traffic", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
