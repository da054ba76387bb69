"""The demo's gates: one real :class:`EdgeController` per gate of the site, each with a
simulated reader and simulated hardware (strike, door contact, exit button, fire input, beam)
and its own data folder, talking to the hub over the HTTP(S) link with its own edge token.

The edge token is issued once per gate and kept in the gate's folder (``edge-token``, 0600),
so restarting the demo reuses it. ``start()`` and ``stop()`` undo each other; a failed start
stops the edges already running.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from doorward.edge.actuators.simulated import (
    SimulatedInput,
    SimulatedPassageCounter,
    SimulatedRelay,
)
from doorward.edge.controller import EdgeConfig, EdgeController, GateHardware
from doorward.edge.readers.simulated import SimulatedReader
from doorward.hub.services import accounts
from doorward.hub.services.context import HubContext
from doorward.sim.traffic import GateDevices
from doorward.store.models import GateRow
from doorward.transport.http import HttpEdgeLink

__all__ = ["DemoGate", "DemoGates"]

_SYSTEM = accounts.AuthUser(id="demo", username="demo-setup", role="admin", person_id=None)


@dataclass
class DemoGate:
    gate_id: str
    controller: EdgeController
    devices: GateDevices
    exit_button: SimulatedInput
    fire_input: SimulatedInput


class DemoGates:
    """Every gate of the hub's site, each with its own edge daemon, in this process."""

    def __init__(
        self,
        ctx: HubContext,
        hub_url: str,
        *,
        pulse_seconds: float = 3.0,
        heartbeat_seconds: float = 30.0,
    ) -> None:
        self.ctx = ctx
        self.hub_url = hub_url
        self.pulse_seconds = pulse_seconds
        self.heartbeat_seconds = heartbeat_seconds
        self.gates: dict[str, DemoGate] = {}

    def start(self) -> None:
        try:
            with self.ctx.db.read() as session:
                rows = session.scalars(
                    select(GateRow).where(GateRow.site_id == self.ctx.site_id)
                    .order_by(GateRow.id)).all()
            for row in rows:
                gate = self._build(row.id, float(row.held_open_seconds))
                gate.controller.start()
                self.gates[row.id] = gate
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        while self.gates:
            _, gate = self.gates.popitem()
            gate.controller.stop()

    @property
    def devices(self) -> dict[str, GateDevices]:
        return {gate_id: gate.devices for gate_id, gate in self.gates.items()}

    def _build(self, gate_id: str, held_open_seconds: float) -> DemoGate:
        folder = self.ctx.settings.data_dir / "edge" / gate_id
        edge_id, token = self._token(gate_id, folder)
        reader, relay = SimulatedReader(f"{gate_id}-reader"), SimulatedRelay()
        door, exit_button, fire = SimulatedInput(), SimulatedInput(), SimulatedInput()
        beam = SimulatedPassageCounter()
        config = EdgeConfig(
            site_id=self.ctx.site_id, gate_id=gate_id, data_dir=folder, edge_id=edge_id,
            pulse_seconds=self.pulse_seconds, heartbeat_seconds=self.heartbeat_seconds,
        )
        hardware = GateHardware(relay, door_contact=door, exit_button=exit_button,
                                fire_input=fire, beam=beam)
        link = HttpEdgeLink(self.hub_url, gate_id, token)
        controller = EdgeController(config, [reader], hardware, link=link)
        devices = GateDevices(reader, relay, door, beam, held_open_seconds)
        return DemoGate(gate_id, controller, devices, exit_button, fire)

    def _token(self, gate_id: str, folder: Path) -> tuple[str, str]:
        """The gate's saved edge token if the hub still knows it, else a new one."""
        path = folder / "edge-token"
        if path.exists():
            token = path.read_text().strip()
            known = accounts.edge_for_token(self.ctx, token)
            if known is not None and known.gate_id == gate_id:
                return known.id, token
        edge_id, token = accounts.create_edge_token(self.ctx, _SYSTEM, gate_id)
        folder.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(token)
        return edge_id, token
