"""What a simulated fleet looks like and what its gates see: sites, gates, credentials, and a
day of traffic compressed into the run (a morning and an evening peak).

Everything here is pure and deterministic for a seed, so the fleet's processes and the
process that revokes credentials mid-run build the same layout independently.

The events are what an edge records: access decisions (granted, or denied because a credential
was revoked, expired, unknown or outside its schedule), visitor and delivery passes, and
tailgating / held-open alarms. Subjects are keyed-hash pseudonyms (doorward.domain.pseudonym);
nothing about a person but that pseudonym ever appears.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

from doorward.domain.model import CredentialKind, Outcome
from doorward.domain.pseudonym import subject_id

__all__ = ["FleetLayout", "GatePlace", "SimCredential", "day_rate_factor", "draw_event"]

_SIM_PSEUDONYM_KEY = b"doorward-fleet-simulation-pseudonym-key"


@dataclass(frozen=True, slots=True)
class GatePlace:
    index: int
    site_id: str
    gate_id: str


@dataclass(frozen=True, slots=True)
class SimCredential:
    id: str
    kind: CredentialKind
    subject: str


@dataclass(frozen=True)
class FleetLayout:
    """``edges`` gates spread over sites of ``gates_per_site``; every gate of a site serves
    the same ``credentials_per_site`` credentials."""

    edges: int
    gates_per_site: int = 100
    credentials_per_site: int = 200
    seed: int = 7
    #: Site ids are ``<prefix>-001``...; a unique prefix keeps runs on one broker apart.
    site_prefix: str = "site"
    #: The hub's real credentials per site (see doorward.sim.fleet_hub), replacing the
    #: generated ones when set.
    credential_table: tuple[tuple[str, tuple[SimCredential, ...]], ...] | None = None

    @property
    def sites(self) -> int:
        return math.ceil(self.edges / self.gates_per_site)

    def site_id(self, site: int) -> str:
        return f"{self.site_prefix}-{site + 1:03d}"

    def gate(self, index: int) -> GatePlace:
        site = index // self.gates_per_site
        return GatePlace(index, self.site_id(site), f"gate-{index + 1:05d}")

    def gates(self) -> list[GatePlace]:
        return [self.gate(i) for i in range(self.edges)]

    def site_ids(self) -> list[str]:
        return [self.site_id(s) for s in range(self.sites)]

    def gates_of_site(self, site_id: str) -> list[GatePlace]:
        return [g for g in self.gates() if g.site_id == site_id]

    @cached_property
    def _credentials(self) -> dict[str, tuple[SimCredential, ...]]:
        if self.credential_table is not None:
            return dict(self.credential_table)
        rng = random.Random(self.seed)
        kinds = (CredentialKind.CARD, CredentialKind.MOBILE, CredentialKind.PIN)
        result: dict[str, tuple[SimCredential, ...]] = {}
        for site in range(self.sites):
            site_id = self.site_id(site)
            creds = []
            for n in range(self.credentials_per_site):
                person = f"{site_id}-person-{n // 2:04d}"  # two credentials per person
                kind = rng.choices(kinds, weights=(60, 30, 10))[0]
                subject = subject_id(_SIM_PSEUDONYM_KEY, person, site_id.encode())
                creds.append(SimCredential(f"{site_id}-cred-{n:05d}", kind, subject))
            result[site_id] = tuple(creds)
        return result

    def credentials(self, site_id: str) -> tuple[SimCredential, ...]:
        return self._credentials[site_id]

    @cached_property
    def _site_of(self) -> dict[str, str]:
        return {c.id: site for site, creds in self._credentials.items() for c in creds}

    def site_of_credential(self, credential_id: str) -> str:
        return self._site_of[credential_id]

    def pick_revocations(self, count: int) -> list[SimCredential]:
        """``count`` credentials spread evenly over the sites (deterministic)."""
        rng = random.Random(self.seed + 1)
        per_site = [list(self.credentials(self.site_id(s))) for s in range(self.sites)]
        for creds in per_site:
            rng.shuffle(creds)
        picked: list[SimCredential] = []
        while len(picked) < count and any(per_site):
            for creds in per_site:
                if creds and len(picked) < count:
                    picked.append(creds.pop())
        return picked


def day_rate_factor(day_fraction: float) -> float:
    """How busy a gate is at this point of the day, 1.0 on average over the day.

    A quiet night, a morning peak around 08:00 and a broader evening peak around 18:30.
    """
    hour = (day_fraction % 1.0) * 24.0
    night = 0.25
    morning = 2.6 * math.exp(-(((hour - 8.0) / 1.2) ** 2))
    evening = 2.2 * math.exp(-(((hour - 18.5) / 1.8) ** 2))
    daytime = 0.9 if 7.0 <= hour <= 22.0 else 0.0
    # The constant is the curve's mean over 24 h, so the factor averages to 1.
    return (night + morning + evening + daytime) / 1.3354


def draw_event(
    rng: random.Random,
    credentials: tuple[SimCredential, ...],
    revoked: set[str],
    now: datetime,
) -> dict[str, object]:
    """The fields of one event a gate records now (without ids and sequence numbers)."""
    roll = rng.random()
    if roll < 0.02:
        alarm = "tailgating" if rng.random() < 0.7 else "held_open"
        detail = {"count": "2"} if alarm == "tailgating" else {"seconds": "45"}
        return {"kind": "alarm", "alarm": alarm, "detail": detail, "occurred_at": now}
    if roll < 0.10:
        pass_kind = "visitor_pass" if rng.random() < 0.6 else "delivery_pass"
        used_up = rng.random() < 0.05
        return {
            "kind": "access",
            "outcome": (Outcome.PASS_USED_UP if used_up else Outcome.GRANTED).value,
            "reason": "the pass has no uses left" if used_up else "valid pass",
            "credential_kind": pass_kind,
            "pass_id": f"pass-{rng.randrange(10**8):08d}",
            "occurred_at": now,
        }
    if roll < 0.11:
        return {
            "kind": "access",
            "outcome": Outcome.UNKNOWN_CREDENTIAL.value,
            "reason": "the card is not known at this gate",
            "credential_kind": CredentialKind.CARD.value,
            "occurred_at": now,
        }
    credential = rng.choice(credentials)
    if credential.id in revoked:
        outcome, reason = Outcome.REVOKED, "the credential was revoked"
    elif roll < 0.125:
        outcome, reason = Outcome.EXPIRED, "the credential has expired"
    elif roll < 0.135:
        outcome, reason = Outcome.OUTSIDE_SCHEDULE, "outside the credential's schedule"
    else:
        outcome, reason = Outcome.GRANTED, "valid credential"
    return {
        "kind": "access",
        "outcome": outcome.value,
        "reason": reason,
        "credential_kind": credential.kind.value,
        "subject": credential.subject,
        "detail": {"reader": "r1"},
        "occurred_at": now,
    }
