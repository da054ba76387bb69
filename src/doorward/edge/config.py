"""What one edge needs to know to run its gate: settings and the hardware around it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from doorward.domain.memory import AccessPolicy
from doorward.edge.actuators import BinaryInput, PassageCounter, Relay

__all__ = ["EdgeConfig", "GateHardware"]


@dataclass(frozen=True, slots=True)
class EdgeConfig:
    site_id: str
    gate_id: str
    data_dir: Path
    edge_id: str = ""
    pulse_seconds: float = 5.0
    heartbeat_seconds: float = 30.0
    reader_offline_alarm_seconds: float = 10.0
    ack_timeout_seconds: float = 5.0
    policy: AccessPolicy = field(default_factory=AccessPolicy)


@dataclass(slots=True)
class GateHardware:
    relay: Relay
    door_contact: BinaryInput | None = None
    exit_button: BinaryInput | None = None
    fire_input: BinaryInput | None = None
    beam: PassageCounter | None = None
