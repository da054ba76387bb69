"""The hub's side of a simulated fleet: every site's gates, residents and credentials made
through the hub's own services, and a mid-run revocation done the way an admin's would be.

``populate`` returns the layout with the hub's real credential ids and pseudonyms, so the
simulated edges present credentials the hub knows and the revocation deltas name them.
``revoke`` marks credentials revoked with ``revoke_credential`` (one audited transaction
each, as the API does), then builds each affected site's delta with ``snapshot_message`` and
returns what to publish to every gate of the site.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path

from doorward.domain.model import CredentialKind
from doorward.hub.app import build_context
from doorward.hub.schemas import CredentialIssue, GateCreate, PersonCreate
from doorward.hub.services.accounts import AuthUser
from doorward.hub.services.common import subject_of
from doorward.hub.services.context import HubContext
from doorward.hub.services.credentials import add_credential, revoke_credential
from doorward.hub.services.gates import create_gate
from doorward.hub.services.people import add_person
from doorward.hub.services.snapshots import current_version, snapshot_message
from doorward.settings import Settings
from doorward.sim.fleet_traffic import FleetLayout, SimCredential
from doorward.store.db import Database

__all__ = ["FleetHub", "RevocationTimings"]

_ACTOR = AuthUser(id="fleet-sim", username="fleet-simulation", role="admin", person_id=None)


@dataclass(frozen=True)
class RevocationTimings:
    #: Seconds for the revoke_credential transactions, and for building the sites' deltas.
    database_seconds: float
    deltas_seconds: float


class FleetHub:
    def __init__(self, db: Database, data_dir: Path, layout: FleetLayout) -> None:
        self.layout = layout
        self._contexts: dict[str, HubContext] = {
            site: build_context(Settings(data_dir=data_dir, site_id=site), db)
            for site in layout.site_ids()
        }

    def populate(self) -> FleetLayout:
        """Gates, one person per two credentials, cards and mobile keys; the layout to run."""
        table: list[tuple[str, tuple[SimCredential, ...]]] = []
        for number, (site, ctx) in enumerate(self._contexts.items()):
            for gate in self.layout.gates_of_site(site):
                create_gate(ctx, _ACTOR, GateCreate(id=gate.gate_id, name=gate.gate_id))
            made: list[SimCredential] = []
            with ctx.db.write() as session:
                person_id = ""
                for n, planned in enumerate(self.layout.credentials(site)):
                    if n % 2 == 0:
                        person = add_person(session, ctx, PersonCreate(
                            name=f"Fleet resident {n // 2}"))  # stays in the hub's people table
                        person_id = person.id
                    if planned.kind.value == "card":
                        issue = CredentialIssue(person_id=person_id, kind="card",
                                                card_format="wiegand26",
                                                card_number=f"{number:03X}{n:05X}")
                    else:  # no PINs: argon2id would make setting up a big fleet slow
                        issue = CredentialIssue(person_id=person_id, kind="mobile")
                    row = add_credential(session, ctx, issue)
                    session.flush()
                    subject = subject_of(session, person_id) or planned.subject
                    made.append(SimCredential(row.id, CredentialKind(row.kind), subject))
            table.append((site, tuple(made)))
        self.layout = replace(self.layout, credential_table=tuple(table))
        return self.layout

    def revoke(
        self, credentials: list[SimCredential]
    ) -> tuple[list[tuple[str, str, str]], RevocationTimings]:
        """Revoke in the database, then (site, gate, delta JSON) for every affected gate."""
        began = time.perf_counter()
        sites: dict[str, int] = {}
        for credential in credentials:
            site = self.layout.site_of_credential(credential.id)
            ctx = self._contexts[site]
            if site not in sites:
                sites[site] = current_version(ctx)
            revoke_credential(ctx, _ACTOR, credential.id)
        revoked_at = time.perf_counter()
        messages: list[tuple[str, str, str]] = []
        for site, since in sites.items():
            gates = self.layout.gates_of_site(site)
            # Every gate of a site serves the same credentials, so one delta fits them all.
            payload = snapshot_message(self._contexts[site], gates[0].gate_id,
                                       since).model_dump_json()
            messages.extend((site, gate.gate_id, payload) for gate in gates)
        return messages, RevocationTimings(revoked_at - began, time.perf_counter() - revoked_at)
