"""The gate's face step: liveness first, then 1:1 verification on the best frames.

Called by the edge only after a credential was presented and the access decision said
``needs_face``. Frames are the short clip filmed while the person answered the challenge.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from doorward.errors import CaptureRejected, InvalidInput
from doorward.face.capture import pose_of
from doorward.face.consensus import FaceResult
from doorward.face.embed import Frame
from doorward.face.liveness import (
    Challenge,
    ChallengeResponseLiveness,
    FaceObservation,
    LivenessCheck,
    LivenessResult,
    observe,
)
from doorward.face.service import FaceService

__all__ = ["GateFaceCheck", "GateFaceDecision", "pick_verification_frames"]


@dataclass(frozen=True, slots=True)
class GateFaceDecision:
    """Granted only when the challenge was met and the face matched its own template."""

    granted: bool
    reason: str
    liveness: LivenessResult
    face: FaceResult | None


def pick_verification_frames(observations: Sequence[FaceObservation], count: int = 3) -> list[int]:
    """Indexes of the most frontal frames, spread over the clip (one per equal slice)."""
    frontal = [
        (i, abs(pose_of(o.landmarks).yaw))
        for i, o in enumerate(observations)
        if o.landmarks is not None
    ]
    if not frontal:
        return []
    count = min(count, len(frontal))
    chosen: list[int] = []
    for k in range(count):
        chunk = frontal[k * len(frontal) // count : (k + 1) * len(frontal) // count]
        chosen.append(min(chunk, key=lambda item: item[1])[0])
    return chosen


class GateFaceCheck:
    """Liveness + 1:1 verification for one gate."""

    def __init__(
        self,
        service: FaceService,
        liveness: LivenessCheck | None = None,
        *,
        verification_frames: int = 3,
    ) -> None:
        self.service = service
        self.liveness = liveness or ChallengeResponseLiveness()
        self.verification_frames = verification_frames

    def decide(
        self,
        subject: str,
        credential_id: str,
        frames: Sequence[Frame],
        timestamps: Sequence[float],
        unlock_secret: bytes,
        challenge: Challenge,
    ) -> GateFaceDecision:
        """Check the challenge over the clip, then verify k of n frontal frames."""
        if len(frames) != len(timestamps):
            raise InvalidInput(
                f"{len(frames)} frames but {len(timestamps)} timestamps",
                hint="give one capture time per frame",
            )
        observations: list[FaceObservation] = []
        previous: FaceObservation | None = None
        try:
            for frame, t in zip(frames, timestamps, strict=True):
                previous = observe(self.service.engine, frame, t, previous)
                observations.append(previous)
        except CaptureRejected as exc:
            live = LivenessResult(False, exc.message)
            return GateFaceDecision(False, f"liveness failed: {exc.message}", live, None)
        live = self.liveness.check(challenge, observations)
        if not live.passed:
            return GateFaceDecision(False, f"liveness failed: {live.reason}", live, None)
        chosen = pick_verification_frames(observations, self.verification_frames)
        result = self.service.verify(
            subject, credential_id, [frames[i] for i in chosen], unlock_secret
        )
        if not result.matched:
            return GateFaceDecision(False, f"face did not match: {result.reason}", live, result)
        return GateFaceDecision(True, f"live and matched: {result.reason}", live, result)
