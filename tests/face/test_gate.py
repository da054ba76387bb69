"""The gate's face step end to end: liveness, then 1:1 verification, on both databases."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pytest

from doorward.errors import InvalidInput
from doorward.face.embed import Frame
from doorward.face.gate import GateFaceCheck, pick_verification_frames
from doorward.face.liveness import (
    Action,
    Challenge,
    FaceObservation,
    LivenessResult,
)
from doorward.face.service import FaceService
from doorward.face.template import new_unlock_secret
from doorward.store.db import Database

from .helpers import CachingFaceEngine

pytestmark = pytest.mark.face

Photo = Callable[[str], Frame]
CHALLENGE = Challenge(steps=(Action.TURN_LEFT, Action.BLINK), issued_at=0.0)


@dataclass
class RecordingLiveness:
    """Stands in at the liveness seam (already tested on its own) and records its input."""

    passed: bool
    seen: int = 0

    def check(
        self, challenge: Challenge, frames_landmarks: Sequence[FaceObservation]
    ) -> LivenessResult:
        self.seen = sum(1 for o in frames_landmarks if o.landmarks is not None)
        return LivenessResult(self.passed, "stand-in")


@pytest.fixture
def enrolled(db: Database, engine: CachingFaceEngine, photo: Photo) -> tuple[FaceService, bytes]:
    service = FaceService(db, engine)
    secret = new_unlock_secret()
    service.record_consent("subj-g", policy_version="2026-01")
    frames = [photo(f"person02/{n}") for n in ("img26.jpg", "img42.jpg", "img45.jpg")]
    service.enrol("subj-g", "card-g", frames, secret)
    return service, secret


def _times(n: int) -> list[float]:
    return [0.2 + 0.1 * i for i in range(n)]


def test_a_still_photo_held_up_to_the_camera_is_denied(
    enrolled: tuple[FaceService, bytes], photo: Photo
) -> None:
    service, secret = enrolled
    clip = [photo("person02/img44.jpg")] * 8  # the genuine person, but a still image
    decision = GateFaceCheck(service).decide("subj-g", "card-g", clip, _times(8), secret, CHALLENGE)
    assert not decision.granted and decision.face is None
    assert "no head turn or blink" in decision.reason


def test_live_genuine_is_granted_and_live_impostor_denied(
    enrolled: tuple[FaceService, bytes], photo: Photo
) -> None:
    service, secret = enrolled
    liveness = RecordingLiveness(passed=True)
    gate = GateFaceCheck(service, liveness)
    genuine = [photo(f"person02/{n}") for n in ("img44.jpg", "img46.jpg", "img28.jpg", "img43.jpg")]
    impostor = [photo(f"person05/{n}") for n in ("img13.jpg", "img14.jpg", "img15.jpg")]
    granted = gate.decide("subj-g", "card-g", genuine, _times(4), secret, CHALLENGE)
    assert granted.granted and granted.face is not None and granted.face.matching_frames >= 2
    assert liveness.seen == 4
    denied = gate.decide("subj-g", "card-g", impostor, _times(3), secret, CHALLENGE)
    assert not denied.granted and denied.reason.startswith("face did not match")


def test_failed_liveness_skips_the_face_match(
    enrolled: tuple[FaceService, bytes], photo: Photo
) -> None:
    service, secret = enrolled
    gate = GateFaceCheck(service, RecordingLiveness(passed=False))
    frames = [photo("person02/img44.jpg")] * 3
    decision = gate.decide("subj-g", "card-g", frames, _times(3), secret, CHALLENGE)
    assert not decision.granted and decision.face is None


def test_a_second_face_during_the_challenge_is_denied(
    enrolled: tuple[FaceService, bytes], photo: Photo
) -> None:
    service, secret = enrolled
    gate = GateFaceCheck(service, RecordingLiveness(passed=True))
    frames = [photo("scenes/couple.jpg")] * 2
    decision = gate.decide("subj-g", "card-g", frames, _times(2), secret, CHALLENGE)
    assert not decision.granted and "faces in the frame" in decision.reason


def test_frames_and_times_must_pair_up(enrolled: tuple[FaceService, bytes], photo: Photo) -> None:
    service, secret = enrolled
    with pytest.raises(InvalidInput, match="timestamps"):
        GateFaceCheck(service).decide(
            "subj-g", "card-g", [photo("person02/img44.jpg")], [], secret, CHALLENGE
        )


def test_verification_frames_are_frontal_and_spread_out() -> None:
    def obs(i: int, yaw: float) -> FaceObservation:
        marks = np.array([[220, 100], [180, 100], [80, 100], [120, 100], [150 + 100 * yaw, 172]])
        return FaceObservation(float(i), None, marks.astype(float), 0.3)

    yaws = [0.3, 0.0, 0.2, 0.25, 0.01, 0.3, 0.3, 0.3, 0.02]
    assert pick_verification_frames([obs(i, y) for i, y in enumerate(yaws)], 3) == [1, 4, 8]
