"""An edge controller at one of the world's gates, synced from the hub's real snapshots."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from doorward.domain.model import CardData, Decision
from doorward.edge.actuators.simulated import SimulatedRelay
from doorward.edge.controller import EdgeConfig, EdgeController, GateHardware
from doorward.edge.face_check import EdgeFaceCheck, SimulatedCamera
from doorward.edge.readers import ReaderInput
from doorward.edge.readers.simulated import SimulatedReader
from doorward.edge.snapshot_cache import ApplyResult
from doorward.face import Challenge, FaceObservation, LivenessResult
from doorward.hub.services.snapshots import snapshot_message

from .conftest import CARD, PIN, World


@dataclass
class AnsweredChallenge:
    """Stands in at the liveness seam (tested in tests/face) for still photos: the person
    did turn and blink. Records how many frames had a face, to prove it was consulted."""

    passed: bool = True
    seen: list[int] = field(default_factory=list)

    def check(
        self, challenge: Challenge, frames_landmarks: Sequence[FaceObservation]
    ) -> LivenessResult:
        self.seen.append(sum(1 for o in frames_landmarks if o.landmarks is not None))
        return LivenessResult(self.passed, "stand-in")


class Edge:
    """One running gate: simulated reader, relay and camera around a real EdgeController."""

    def __init__(self, world: World, gate_id: str, data_dir: Path,
                 face: EdgeFaceCheck | None) -> None:
        self.world = world
        self.gate_id = gate_id
        self.camera = face.camera if face is not None else None
        self.reader = SimulatedReader("r1")
        self.relay = SimulatedRelay()
        config = EdgeConfig(site_id=world.ctx.site_id, gate_id=gate_id, data_dir=data_dir,
                            pulse_seconds=0.05)
        self.controller = EdgeController(config, [self.reader], GateHardware(self.relay),
                                         face=face)
        self.data_dir = data_dir

    def sync(self) -> ApplyResult:
        """What the hub would push: the delta since the version this edge holds."""
        since = self.controller.snapshot_version
        return self.controller.apply_snapshot(snapshot_message(self.world.ctx, self.gate_id,
                                                               since))

    def card(self, secret: bytes = b"", number: str = CARD[1]) -> Decision:
        presented = ReaderInput("r1", "card", card=CardData(CARD[0], number), face_secret=secret)
        return self.controller.handle_input(presented).decision

    def pin(self) -> Decision:
        keys = f"{self.world.pin_id}*{PIN}"
        return self.controller.handle_input(ReaderInput("r1", "keypad", keys=keys)).decision

    def film(self, frames: Sequence[object]) -> None:
        assert isinstance(self.camera, SimulatedCamera)
        self.camera.load(frames)  # type: ignore[arg-type]

    @property
    def reads(self) -> int:
        assert isinstance(self.camera, SimulatedCamera)
        return self.camera.reads
