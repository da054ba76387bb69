"""Simulated gate traffic: people present cards, phones, PINs and visitor passes at the gates.

:class:`GateTraffic` decides each presentation on the hub itself (the domain core, then the
event log). :class:`EdgeTraffic`, which ``doorward demo`` runs, presents them at each gate's
simulated reader instead, so the gate's edge decides, and acts like the people at the gate:
the door opens after a grant and closes again, a few doors are held open too long, a few
grants let two people through (tailgating), rarely a door is forced.

Start and stop are mirror images: ``start()`` launches one daemon thread, ``stop()`` ends it
and waits for it.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select

from doorward.domain.mobile_key import current_step, issue_mobile_token
from doorward.domain.model import AccessRequest, CardData, CredentialKind, Decision
from doorward.edge.actuators.simulated import (
    SimulatedInput,
    SimulatedPassageCounter,
    SimulatedRelay,
)
from doorward.edge.readers.simulated import SimulatedReader
from doorward.errors import DoorwardError
from doorward.hub.services.context import HubContext
from doorward.hub.services.decisions import decide_request
from doorward.store.models import CredentialRow, GateRow

__all__ = ["EdgeTraffic", "GateDevices", "GateTraffic"]

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
        self._pin_ids: list[str] = []
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
        self._pin_ids = [c.pin_id for c in creds if c.kind == "pin" and c.pin_id]

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


@dataclass(frozen=True)
class GateDevices:
    """The simulated things at one gate that people touch or pass."""

    reader: SimulatedReader
    relay: SimulatedRelay
    door: SimulatedInput
    beam: SimulatedPassageCounter
    held_open_seconds: float = 30.0


_Action = tuple[float, Callable[[], None]]


class EdgeTraffic(GateTraffic):
    """Presentations at the gates' simulated readers; each gate's edge decides them.

    A phone's mobile key is signed with the hub's key here, as the resident portal would do.
    PIN holders mistype (the demo does not know their PINs: only hashes are stored), so PIN
    presentations are refused and count towards the keypad's lockout.
    """

    def __init__(
        self,
        ctx: HubContext,
        gates: Mapping[str, GateDevices],
        *,
        rate_per_second: float = 0.5,
        seed: int | None = None,
        pass_payloads: Sequence[str] = (),
        pass_codes: Sequence[str] = (),
    ) -> None:
        super().__init__(ctx, rate_per_second=rate_per_second, seed=seed,
                         pass_payloads=pass_payloads, pass_codes=pass_codes)
        self.devices = dict(gates)
        self._due: list[_Action] = []
        self.presented = 0

    def present(self, gate: str, now: datetime | None = None) -> str:
        """One person at ``gate``'s reader; returns what they presented."""
        now = now or self._clock()
        reader = self.devices[gate].reader
        roll = self._rng.random()
        what = "card"
        if roll < 0.10 and self._mobiles:
            cred, step = self._rng.choice(self._mobiles), current_step(now)
            if (cred, step) not in self._used_steps:
                self._used_steps.add((cred, step))
                reader.scan_token(issue_mobile_token(self.ctx.keys, cred, step))
                return "mobile"
        if roll < 0.15 and self._payloads:
            reader.scan_token(self._rng.choice(self._payloads))
            what = "pass_qr"
        elif roll < 0.18 and self._codes:
            reader.type_keys(f"{self._rng.choice(self._codes)}#")
            what = "pass_code"
        elif roll < 0.21 and self._pin_ids:
            mistyped = f"{self._rng.randrange(10**6):06d}"
            reader.type_keys(f"{self._rng.choice(self._pin_ids)}*{mistyped}#")
            what = "pin"
        elif roll < 0.26 or not self._cards:
            reader.present_card("wiegand26", f"{self._rng.randrange(0x1000000, 0xFFFFFFF):07X}")
            what = "unknown_card"
        else:
            card = self._rng.choice(self._cards)
            reader.present_card(card.format, card.number)
        return what

    def _visit(self, at: float) -> None:
        """Someone walks up to a gate; if its strike opens, they go through."""
        gate = self._rng.choice(list(self.devices))
        devices = self.devices[gate]
        if devices.door.active:
            return  # someone is going through: the next person waits their turn
        pulses = devices.relay.count("pulse")
        if self._rng.random() < 0.005:  # rare: someone forces the door
            self._door_cycle(devices, at, people=1, open_for=2.0)
            return
        self.present(gate)
        self.presented += 1
        self._due.append((at + 0.6, lambda: self._after(devices, pulses)))

    def _after(self, devices: GateDevices, pulses_before: int) -> None:
        if devices.relay.count("pulse") <= pulses_before:
            return  # refused: they walk away
        roll = self._rng.random()
        people = 2 if roll < 0.04 else 1  # a second person slips through: tailgating
        open_for = devices.held_open_seconds + 3 if roll > 0.98 else 2.0  # held open
        self._door_cycle(devices, time.monotonic(), people=people, open_for=open_for)

    def _door_cycle(self, devices: GateDevices, at: float, *, people: int,
                    open_for: float) -> None:
        devices.door.set(True)
        devices.beam.pass_through(people)
        self._due.append((at + open_for, lambda: devices.door.set(False)))

    def _run(self) -> None:
        next_visit = time.monotonic() + self._rng.expovariate(self.rate)
        while not self._stop.wait(0.1):
            now = time.monotonic()
            due = [a for a in self._due if a[0] <= now]
            self._due = [a for a in self._due if a[0] > now]
            try:
                for _, action in due:
                    action()
                if now >= next_visit:
                    next_visit = now + self._rng.expovariate(self.rate)
                    self._visit(now)
                    if self.presented % 200 == 199:
                        self.load()
            except DoorwardError as exc:
                log.warning("simulated presentation failed: %s", exc)

    def stop(self) -> None:
        super().stop()
        self._due.clear()
        for devices in self.devices.values():  # close the doors it left open
            devices.door.set(False)
