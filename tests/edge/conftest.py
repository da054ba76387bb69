"""Fixtures for the edge: a site's keys, a gate, and snapshots built like the hub builds them."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from doorward.domain.keys import HubKeys
from doorward.domain.model import CredentialKind, GateKind, PassKind
from doorward.domain.passes import pass_code_digest
from doorward.domain.pin import hash_pin
from doorward.edge.actuators.simulated import (
    SimulatedInput,
    SimulatedPassageCounter,
    SimulatedRelay,
)
from doorward.edge.controller import EdgeConfig, EdgeController, GateHardware
from doorward.edge.readers.simulated import SimulatedReader
from doorward.transport.link import EdgeLink
from doorward.transport.messages import CredentialWire, GateWire, PassWire, SnapshotMessage

CARD = ("wiegand26", "1234567")
PIN_ID, PIN = "4711", "2580"
PASS_CODE = "K7M3QX9P"


class Site:
    """One site's secrets and the records a gate's snapshot carries."""

    def __init__(self) -> None:
        self.site_id = f"site-{secrets.token_hex(4)}"
        self.gate_id = "gate-a"
        self.keys = HubKeys.generate()
        self.pass_code_key = secrets.token_bytes(32)
        now = datetime.now(UTC)
        self.valid_from = now - timedelta(days=1)
        self.valid_until = now + timedelta(days=1)

    def gate(self, **changes: object) -> GateWire:
        data: dict[str, object] = {
            "id": self.gate_id,
            "site_id": self.site_id,
            "name": "Main entrance",
            "kind": GateKind.TURNSTILE,
            "held_open_seconds": 2,
            "tailgate_window_seconds": 5,
        }
        data.update(changes)
        return GateWire.model_validate(data)

    def credentials(self) -> list[CredentialWire]:
        return [
            CredentialWire(
                id="cred-card",
                kind=CredentialKind.CARD,
                subject="subj-card",
                card_format=CARD[0],
                card_number=CARD[1],
            ),
            CredentialWire(
                id="cred-pin",
                kind=CredentialKind.PIN,
                subject="subj-pin",
                pin_id=PIN_ID,
                pin_hash=hash_pin(PIN),
            ),
            CredentialWire(id="cred-mobile", kind=CredentialKind.MOBILE, subject="subj-mobile"),
        ]

    def visitor_pass(self) -> PassWire:
        return PassWire(
            id="pass-1",
            kind=PassKind.VISITOR,
            host_unit="12B",
            host_subject="subj-host",
            valid_from=self.valid_from,
            valid_until=self.valid_until,
            max_uses=2,
            code_digest=pass_code_digest(PASS_CODE, self.pass_code_key),
        )

    def full_snapshot(self, version: int = 1, **changes: object) -> SnapshotMessage:
        data: dict[str, object] = {
            "site_id": self.site_id,
            "version": version,
            "full": True,
            "hub_public_key": self.keys.public_bytes().hex(),
            "pass_code_key": self.pass_code_key.hex(),
            "gates": [self.gate()],
            "credentials": self.credentials(),
            "passes": [self.visitor_pass()],
        }
        data.update(changes)
        return SnapshotMessage.model_validate(data)


@pytest.fixture
def site() -> Site:
    return Site()


class Gate:
    """A running edge controller with simulated hardware around it."""

    def __init__(self, site: Site, data_dir: Path, link: EdgeLink | None = None) -> None:
        self.site = site
        self.reader = SimulatedReader("r1")
        self.relay = SimulatedRelay()
        self.door = SimulatedInput()
        self.exit_button = SimulatedInput()
        self.fire = SimulatedInput()
        self.beam = SimulatedPassageCounter()
        self.config = EdgeConfig(
            site_id=site.site_id,
            gate_id=site.gate_id,
            data_dir=data_dir,
            reader_offline_alarm_seconds=0.5,
            heartbeat_seconds=1.0,
            ack_timeout_seconds=1.0,
        )
        self.controller = EdgeController(
            self.config,
            [self.reader],
            GateHardware(self.relay, self.door, self.exit_button, self.fire, self.beam),
            link=link,
        )

    def events(self) -> list[dict[str, object]]:
        assert self.controller.outbox is not None
        return [e.model_dump() for e in self.controller.outbox.pending(10_000)]


@pytest.fixture
def gate(site: Site, tmp_path: Path) -> Iterator[Gate]:
    running = Gate(site, tmp_path / "edge")
    running.controller.start()
    running.controller.apply_snapshot(site.full_snapshot())
    try:
        yield running
    finally:
        running.controller.stop()
