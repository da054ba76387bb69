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

__all__ = ["FaceClip", "GateFaceCheck", "GateFaceDecision", "pick_verification_frames"]


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

    def start(self, challenge: Challenge) -> FaceClip:
        """Begin a clip: feed frames with ``add`` as they are filmed, then ``finish``."""
        return FaceClip(self, challenge)

    def decide(
        self,
        subject: str,
        credential_id: str,
        frames: Sequence[Frame],
        timestamps: Sequence[float],
        unlock_secret: bytes,
        challenge: Challenge,
    ) -> GateFaceDecision:
        """Check the challenge over a whole clip, then verify k of n frontal frames."""
        if len(frames) != len(timestamps):
            raise InvalidInput(
                f"{len(frames)} frames but {len(timestamps)} timestamps",
                hint="give one capture time per frame",
            )
        clip = self.start(challenge)
        for frame, t in zip(frames, timestamps, strict=True):
            clip.add(frame, t)
        return clip.finish(subject, credential_id, unlock_secret)


class FaceClip:
    """One challenge clip, observed frame by frame while it is filmed.

    Landmarks are found as each frame arrives (cheap tracking), so after the last frame only
    the challenge check and the verification of a few frames remain. Frames are held in
    memory until ``finish`` and then dropped.
    """

    def __init__(self, check: GateFaceCheck, challenge: Challenge) -> None:
        self._check = check
        self.challenge = challenge
        self._frames: list[Frame] = []
        self.observations: list[FaceObservation] = []
        self._refusal: str | None = None

    def add(self, frame: Frame, t: float) -> None:
        if self._refusal is not None:
            return
        previous = self.observations[-1] if self.observations else None
        try:
            observation = observe(self._check.service.engine, frame, t, previous)
        except CaptureRejected as exc:
            self._refusal = exc.message
            return
        self._frames.append(frame)
        self.observations.append(observation)

    def finish(self, subject: str, credential_id: str, unlock_secret: bytes) -> GateFaceDecision:
        try:
            return self._decide(subject, credential_id, unlock_secret)
        finally:
            self._frames.clear()

    def _decide(self, subject: str, credential_id: str, unlock_secret: bytes) -> GateFaceDecision:
        if self._refusal is not None:
            live = LivenessResult(False, self._refusal)
            return GateFaceDecision(False, f"liveness failed: {self._refusal}", live, None)
        live = self._check.liveness.check(self.challenge, self.observations)
        if not live.passed:
            return GateFaceDecision(False, f"liveness failed: {live.reason}", live, None)
        chosen = pick_verification_frames(self.observations, self._check.verification_frames)
        result = self._check.service.verify(
            subject, credential_id, [self._frames[i] for i in chosen], unlock_secret
        )
        if not result.matched:
            return GateFaceDecision(False, f"face did not match: {result.reason}", live, result)
        return GateFaceDecision(True, f"live and matched: {result.reason}", live, result)
